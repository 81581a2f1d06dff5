"""Peer groups, per-metric percentiles within them, the social divide and claimed vs measured.

Percentiles and the divide are Ibis expressions over small per-org and per-turn tables, so
they run wherever the turns do; the claimed-vs-measured sentence is arithmetic over the tier
results.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import ibis

from socialaudit.metrics.base import group_percentile
from socialaudit.metrics.peer_groups import (  # noqa: F401 - the benchmark's public names
    NO_GROUP,
    SECTORS_ENV,
    load_sectors,
    org_peer_groups,
    peer_groups,
)
from socialaudit.results.model import ClaimedVsMeasured

#: (metric column, higher is better) pairs the benchmark ranks orgs on.
PERCENTILE_METRICS: tuple[tuple[str, bool], ...] = (
    ("response_rate", True),
    ("frt_median_s", False),
    ("sla_attainment", True),
    ("km_median_s", False),
    ("posts_per_week", True),
    ("conversation_share", True),
    ("share_of_voice", True),
)
#: Top quartile of the response-rate percentile within the group: the leaders of the divide.
LEADER_PERCENTILE = 75.0


def peer_percentiles(
    metrics: ibis.Table, /, *, columns: Sequence[tuple[str, bool]] = PERCENTILE_METRICS
) -> ibis.Table:
    """Each org's percentile (0-100, 100 = best) on every metric, within its peer group.

    See :func:`~socialaudit.metrics.base.group_percentile`: tied orgs share the best rank they
    tie for (every retail org answering 100% of its turns is at 100), and orgs without the
    metric, and groups of one, get null.
    """
    pcts = {
        f"{col}_pct": group_percentile(
            metrics[col], metrics.peer_group, higher_is_better=higher_better
        )
        for col, higher_better in columns
        if col in metrics.columns
    }
    return metrics.mutate(**pcts).order_by(["peer_group", "org_id"])


def social_divide(turns: ibis.Table, groups: ibis.Table, leaders: ibis.Table, /) -> ibis.Table:
    """Weekly response rate of the leaders vs the followers of each peer group, and the gap.

    ``leaders`` has ``org_id, is_leader``. Rates pool the turns opened that week (answered /
    opened); ``gap`` = leaders' rate - followers' rate, null for a week where either side
    opened no turn.
    """
    t = turns.join(groups, "org_id").left_join(leaders, "org_id")
    t = t.mutate(
        week=t.opener_created_at.truncate("W").cast("date"),
        side=ibis.ifelse(t.is_leader.fill_null(False), "leaders", "followers"),
    )
    agg = t.group_by(["peer_group", "week"]).agg(
        leaders_turns=(t.side == "leaders").cast("int64").sum(),
        leaders_answered=((t.side == "leaders") & t.answered).cast("int64").sum(),
        followers_turns=(t.side == "followers").cast("int64").sum(),
        followers_answered=((t.side == "followers") & t.answered).cast("int64").sum(),
    )
    lr = agg.leaders_answered.cast("float64") / agg.leaders_turns.nullif(0).cast("float64")
    fr = agg.followers_answered.cast("float64") / agg.followers_turns.nullif(0).cast("float64")
    return agg.select(
        "peer_group",
        "week",
        "leaders_turns",
        "followers_turns",
        leaders_rate=lr,
        followers_rate=fr,
        gap=lr - fr,
    ).order_by(["peer_group", "week"])


_CLAIM = re.compile(r"\b(very |highly )?(active|responsive|engaged|engaging)\b", re.I)
_NEGATED = re.compile(r"\b(not|in-?active|un-?responsive|rarely|never)\b", re.I)


def claims_active(claim: Any) -> bool:
    """Whether a ``claimed_activity`` text says the org is active or responsive."""
    if not isinstance(claim, str):
        return False
    return bool(_CLAIM.search(claim)) and not _NEGATED.search(claim)


def claimed_vs_measured(
    claims: dict[str, Any], tiers: dict[str, int | None], /
) -> ClaimedVsMeasured:
    """Compare what orgs claim (org -> claimed_activity) with their tiers (org -> tier)."""
    declared = [o for o, c in claims.items() if isinstance(c, str) and c.strip()]
    claiming = [o for o in declared if claims_active(claims[o])]
    measured = [o for o in claiming if tiers.get(o) is not None]
    rud = sorted(o for o in measured if (tiers[o] or 0) <= 2)
    return ClaimedVsMeasured(
        declared=len(declared),
        claiming=len(claiming),
        measured=len(measured),
        rudimentary=len(rud),
        insufficient=len(claiming) - len(measured),
        orgs=tuple(rud),
    )
