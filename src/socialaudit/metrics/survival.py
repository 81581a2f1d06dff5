"""Time to first response as a survival curve (Kaplan-Meier), so unanswered turns count.

A median over answered turns forgets every question that was never answered. Here each turn
is followed until its first response (an event at FRT) or, when unanswered, until the
reference time (censored at its age). The per-(org, time) counts are an Ibis aggregation; the
product-limit step over those few thousand rows is a vectorised numpy pass.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd

from socialaudit.metrics.base import MetricFamily, register

CURVE_COLUMNS = ["org_id", "t_s", "at_risk", "events", "censored", "survival"]

SURVIVAL = MetricFamily(
    name="survival",
    title="Time to first response (Kaplan-Meier)",
    description=(
        "Share of turns still waiting for a first response after t, with unanswered turns "
        "censored at the reference time instead of dropped."
    ),
    requires=("posts", "org_accounts", "orgs"),
    definitions=(
        (
            "KM median",
            (
                "the time by which half the turns had a first response, from the Kaplan-Meier "
                "curve with unanswered turns censored at the reference time; empty when more than "
                "half were never answered."
            ),
        ),
    ),
)


@register(SURVIVAL)
def survival_counts(turns: ibis.Table, /) -> ibis.Table:
    """Events and censorings per (org, time): the input of the product-limit estimator.

    Negative-FRT turns are left out, as they are from every timing statistic (SPEC 5).
    """
    t = turns.filter(~(turns.answered & (turns.frt_s < 0)))
    t = t.mutate(t_s=ibis.ifelse(t.answered, t.frt_s, t.age_s))
    return (
        t.group_by(["org_id", "t_s"])
        .agg(events=t.answered.cast("int64").sum(), censored=(~t.answered).cast("int64").sum())
        .order_by(["org_id", "t_s"])
    )


def kaplan_meier(counts: pd.DataFrame, /) -> pd.DataFrame:
    """Product-limit survival S(t) per org from :func:`survival_counts`'s executed rows.

    At each time, the turns at risk are those not yet answered nor censored before it; ties of
    events and censorings at one time count censorings as still at risk (the usual convention).
    """
    if counts.empty:
        return pd.DataFrame(columns=CURVE_COLUMNS)
    c = counts.sort_values(["org_id", "t_s"]).reset_index(drop=True)
    total = (c["events"] + c["censored"]).astype("int64")
    by_org = c.groupby("org_id", sort=False)
    n = by_org["events"].transform("sum") + by_org["censored"].transform("sum")
    leaving_before = total.groupby(c["org_id"], sort=False).cumsum() - total
    at_risk = (n - leaving_before).to_numpy(dtype="float64")
    factor = 1.0 - c["events"].to_numpy(dtype="float64") / at_risk
    log_f = np.log(np.clip(factor, 1e-300, None))
    log_f[factor <= 0] = -np.inf
    survival = np.exp(pd.Series(log_f).groupby(c["org_id"], sort=False).cumsum().to_numpy())
    return pd.DataFrame(
        {
            "org_id": c["org_id"],
            "t_s": c["t_s"].astype("int64"),
            "at_risk": at_risk.astype("int64"),
            "events": c["events"].astype("int64"),
            "censored": c["censored"].astype("int64"),
            "survival": survival,
        }
    )


def km_median(curve: pd.DataFrame, /) -> pd.DataFrame:
    """The first time S(t) <= 0.5 per org: a median FRT that counts unanswered turns.

    Null when more than half the turns were never answered (the curve stays above 0.5).
    """
    if curve.empty:
        return pd.DataFrame(columns=["org_id", "km_median_s"])
    below = curve[curve["survival"] <= 0.5].groupby("org_id")["t_s"].min()
    orgs = pd.Index(curve["org_id"].unique(), name="org_id")
    return below.reindex(orgs).rename("km_median_s").reset_index()
