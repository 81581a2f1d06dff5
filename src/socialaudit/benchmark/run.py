"""One benchmark run: every table the ``benchmark`` command and the report show.

The metric layers build expressions; this module executes them once, on the engine given,
over one window ending at the audit's reference time, and gathers the results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import ibis
import pandas as pd

from socialaudit.benchmark import peers, tiers
from socialaudit.errors import MetricError
from socialaudit.metrics import audit as run_audit
from socialaudit.metrics import business_hours as bh
from socialaudit.metrics import presence as pr
from socialaudit.metrics import responsiveness as rs
from socialaudit.metrics import survival as sv
from socialaudit.metrics.audit import turn_rows
from socialaudit.metrics.base import Engine, epoch_s

DEFAULT_WINDOW_DAYS = 90
UNANSWERED_PER_ORG = 25


@dataclass
class Benchmark:
    """Everything one run measured, as plain Python and pandas."""

    reference_time: str | None
    window_start: str | None
    window_days: int
    thresholds: tiers.Thresholds
    audit: dict[str, Any]
    orgs: pd.DataFrame
    tiers: list[tiers.TierResult]
    presence: pd.DataFrame
    accounts: pd.DataFrame
    business_hours: pd.DataFrame
    km_curves: pd.DataFrame
    percentiles: pd.DataFrame
    divide: pd.DataFrame
    claimed: peers.ClaimedVsMeasured
    unanswered: pd.DataFrame
    evidence_posts: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def org_rows(self) -> list[dict[str, Any]]:
        """One row per org: tier, the headline figures and their percentiles in the group."""
        return self.tables["benchmark"].to_dict("records")


def run_benchmark(
    engine: Engine,
    /,
    *,
    thresholds: tiers.Thresholds | None = None,
    sectors: dict[str, str] | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
    sla_minutes: int | None = None,
    unanswered_per_org: int = UNANSWERED_PER_ORG,
    turns: rs.TurnTables | None = None,
    with_turns: bool = True,
) -> Benchmark:
    """Measure every org over the ``window_days`` up to the reference time and benchmark them.

    The window starts at the reference time minus ``window_days``, or at the earliest post
    when that is later; turns opened before it are left out of every figure. ``turns`` are
    the store's turn tables when the caller has built them already (the dashboard shares them
    with its inbox). ``with_turns=False`` leaves out the ``turns`` table (every turn of the
    window with its text: the report exports it, the dashboard pages its inbox instead).
    """
    th = thresholds or tiers.load_thresholds()
    if int(engine.execute(engine.table("orgs").count())) == 0:
        raise MetricError(
            "No organizations in the store to benchmark. Import an export first "
            "(socialaudit import FILE) or declare them (socialaudit orgs --load orgs.toml)."
        )
    sectors = peers.load_sectors() if sectors is None else sectors
    posts = engine.table("posts")
    tt = turns or rs.build_turns(engine)
    ref = tt.reference_time
    bounds = engine.execute(
        posts.aggregate(lo=epoch_s(posts.created_at.min()), hi=epoch_s(posts.created_at.max()))
    ).iloc[0]
    end_s = 0 if pd.isna(bounds["hi"]) else int(bounds["hi"])
    first_s = end_s if pd.isna(bounds["lo"]) else int(bounds["lo"])
    start_s = max(end_s - window_days * 86_400, first_s)
    in_window = engine.cache(tt.turns.filter(epoch_s(tt.turns.opener_created_at) >= start_s))
    windowed = rs.TurnTables(reference_time=ref, turns=in_window, turn_posts=tt.turn_posts)
    audit = run_audit(engine, sla_minutes=sla_minutes, turns=windowed)

    orgs_t = engine.table("orgs")
    groups = engine.cache(peers.peer_groups(orgs_t, sectors))
    oa, accounts = engine.table("org_accounts"), engine.table("accounts")
    presence = engine.execute(
        pr.presence_scores(pr.presence(posts, oa, accounts, groups, start_s=start_s, end_s=end_s))
    )
    account_rows = engine.execute(
        pr.presence_scores(
            pr.presence(posts, oa, accounts, groups, start_s=start_s, end_s=end_s, by_account=True)
        )
    )
    evidence = engine.execute(pr.presence_evidence(posts, oa, start_s=start_s, end_s=end_s))

    intervals = bh.calendar_intervals(engine, in_window)
    business = engine.execute(
        bh.business_responsiveness(in_window, orgs_t, intervals, sla_minutes=sla_minutes)
    )
    curves = sv.kaplan_meier(engine.execute(sv.survival_counts(in_window)))
    km = sv.km_median(curves)

    org_info = engine.execute(
        orgs_t.join(groups, "org_id").select(
            "org_id", "name", "claimed_activity", "timezone", "sla_minutes", groups.peer_group
        )
    )
    tier_results = tiers.assign_tiers(audit, presence.to_dict("records"), thresholds=th)
    headline = _headline(audit, tier_results, presence, business, km, org_info)
    metric_cols = ["org_id", "peer_group", *(c for c, _ in peers.PERCENTILE_METRICS)]
    metrics_t = ibis.memtable(headline[metric_cols].astype({"peer_group": "string"}))
    percentiles = engine.execute(peers.peer_percentiles(metrics_t))
    pct_cols = [c for c in percentiles.columns if c.endswith("_pct")]
    headline = headline.merge(percentiles[["org_id", *pct_cols]], on="org_id", how="left")
    leaders = percentiles.assign(
        is_leader=percentiles["response_rate_pct"].fillna(-1) >= peers.LEADER_PERCENTILE
    )[["org_id", "is_leader"]]
    divide = engine.execute(
        peers.social_divide(in_window, groups, ibis.memtable(leaders.astype({"is_leader": bool})))
    )
    claims = dict(zip(org_info["org_id"], org_info["claimed_activity"], strict=True))
    claimed = peers.claimed_vs_measured(claims, {t.org: t.tier for t in tier_results})

    unanswered = _unanswered(engine, in_window, per_org=unanswered_per_org)
    evidence_all = _evidence_posts(engine, presence, evidence, unanswered)
    bm = Benchmark(
        reference_time=audit["reference_time"],
        window_start=_iso_s(start_s) if ref is not None else None,
        window_days=window_days,
        thresholds=th,
        audit=audit,
        orgs=org_info,
        tiers=tier_results,
        presence=presence,
        accounts=account_rows,
        business_hours=business,
        km_curves=curves,
        percentiles=percentiles,
        divide=divide,
        claimed=claimed,
        unanswered=unanswered,
        evidence_posts=evidence_all,
    )
    bm.tables = {
        "benchmark": headline,
        "tiers": _tier_table(tier_results),
        "presence": presence,
        "accounts": account_rows,
        "business_hours": business,
        "km_curves": curves,
        "divide": divide,
        "unanswered": unanswered,
        "evidence_posts": evidence_all,
    }
    if with_turns:
        bm.tables["turns"] = _all_turns(engine, in_window)
    return bm


def _iso_s(epoch: int) -> str:
    return (datetime(1970, 1, 1) + timedelta(seconds=epoch)).isoformat() + "+00:00"


def _headline(
    audit: dict[str, Any],
    tier_results: list[tiers.TierResult],
    presence: pd.DataFrame,
    business: pd.DataFrame,
    km: pd.DataFrame,
    org_info: pd.DataFrame,
) -> pd.DataFrame:
    rows = []
    by_tier = {t.org: t for t in tier_results}
    for entry in audit["orgs"]:
        t = by_tier[entry["org"]]
        figures = entry["responsiveness"]["all"]
        act = entry["responsiveness"].get("actionable")
        ci = tiers.wilson(int(figures["answered"] or 0), int(figures["turns"] or 0))
        rows.append(
            {
                "org_id": entry["org"],
                "tier": t.tier,
                "tier_label": t.label,
                **figures,
                "response_rate_ci_low": None if ci is None else ci[0],
                "response_rate_ci_high": None if ci is None else ci[1],
                "actionable_turns": None if act is None else act.get("turns"),
                "actionable_response_rate": None if act is None else act.get("response_rate"),
                "deflection_rate": tiers.deflection_of(entry),
            }
        )
    frame = pd.DataFrame(rows)
    pres = presence[
        [
            "org_id",
            "posts",
            "replies",
            "posts_per_week",
            "conversation_share",
            "mentions",
            "share_of_voice",
            "share_of_voice_ci_low",
            "share_of_voice_ci_high",
            "longest_silence_s",
            "active_days",
            "presence_score",
        ]
    ]
    frame = (
        frame.merge(org_info[["org_id", "name", "peer_group", "claimed_activity"]], on="org_id")
        .merge(pres, on="org_id", how="left")
        .merge(business, on="org_id", how="left")
        .merge(km, on="org_id", how="left")
    )
    if "km_median_s" not in frame:
        frame["km_median_s"] = None
    timed_turns = frame["turns"] - frame["negative_frt"]
    sla_k = (frame["sla_attainment"].astype("float64") * timed_turns).round()
    # Every rate carries its 95% Wilson interval: (rate column, successes, trials). Share of
    # voice brings its own from the presence table (its trials are posts, not mentions).
    for rate, k, n in (
        ("sla", sla_k, timed_turns),
        ("bh_sla", frame["bh_within_sla"], timed_turns),
        ("conversation_share", frame["replies"], frame["posts"]),
    ):
        cis = [
            None if pd.isna(kk) or pd.isna(nn) else tiers.wilson(int(kk), int(nn))
            for kk, nn in zip(k, n, strict=True)
        ]
        frame[f"{rate}_ci_low"] = [None if c is None else c[0] for c in cis]
        frame[f"{rate}_ci_high"] = [None if c is None else c[1] for c in cis]
    return frame.sort_values(["peer_group", "org_id"]).reset_index(drop=True)


def _tier_table(results: list[tiers.TierResult]) -> pd.DataFrame:
    rows = []
    for t in results:
        for r in t.evidence:
            d = r.as_dict()
            rows.append(
                {
                    "org_id": t.org,
                    "tier": t.tier,
                    "label": t.label,
                    "variant": t.variant,
                    "rule": d["rule"],
                    "value": None if d["value"] is None else str(d["value"]),
                    "threshold": str(d["threshold"]),
                    "holds": d["holds"],
                    "ci95_low": None if d["ci95"] is None else d["ci95"][0],
                    "ci95_high": None if d["ci95"] is None else d["ci95"][1],
                    "note": d["note"],
                }
            )
    return pd.DataFrame(rows)


def _unanswered(engine: Engine, turns: ibis.Table, *, per_org: int) -> pd.DataFrame:
    """The oldest unanswered turns of each org, with opener text and permalink."""
    u = turns.filter(~turns.answered)
    ranked = u.mutate(
        r=ibis.row_number().over(group_by="org_id", order_by=[ibis.desc("age_s"), "turn_id"])
    )
    top = ranked.filter(ranked.r < per_org)
    posts = engine.table("posts")
    p = posts.select("platform", turn_id=posts.post_id, permalink=posts.permalink, text=posts.text)
    j = top.left_join(p, ["platform", "turn_id"])
    j = j.select(
        "org_id",
        "platform",
        "turn_id",
        "opener_author",
        "opener_created_at",
        "age_s",
        "followups",
        j.permalink,
        j.text,
    )
    return engine.execute(j.order_by(["org_id", ibis.desc("age_s"), "turn_id"]))


def _all_turns(engine: Engine, turns: ibis.Table) -> pd.DataFrame:
    """Every turn of the window with both ends' permalinks: the posts behind every rate."""
    rows = turn_rows(turns, engine.table("posts"))
    return engine.execute(rows.order_by(["org_id", "opener_created_at", "opener_id", "platform"]))


def _evidence_posts(
    engine: Engine, presence: pd.DataFrame, latest: pd.DataFrame, unanswered: pd.DataFrame
) -> pd.DataFrame:
    """Every post a figure of the report points at, once, with text and permalink."""
    refs = [latest[["platform", "post_id"]]]
    for col in ("silence_from_post_id", "silence_to_post_id", "last_post_id"):
        refs.append(
            pd.DataFrame({"platform": "twitter", "post_id": presence[col]}).dropna()
            if "platform" not in presence
            else presence[["platform", col]].rename(columns={col: "post_id"})
        )
    ids = pd.concat(refs, ignore_index=True).dropna().drop_duplicates()
    wanted = set(ids["post_id"].astype(str))
    if unanswered is not None and len(unanswered):
        wanted -= set(unanswered["turn_id"].astype(str))
    if not wanted:
        return pd.DataFrame(
            columns=["platform", "post_id", "author_id", "created_at", "permalink", "text"]
        )
    posts = engine.table("posts")
    sel = posts.filter(posts.post_id.isin(sorted(wanted))).select(
        "platform", "post_id", "author_id", "created_at", "permalink", "text"
    )
    return engine.execute(sel.order_by(["platform", "post_id"]))


def tier_json(bm: Benchmark) -> dict[str, Any]:
    """The ``benchmark --json`` document: tiers with evidence, figures, percentiles, claims."""
    head = bm.tables["benchmark"]
    rows = {r["org_id"]: r for r in head.to_dict("records")}
    orgs = []
    for t in bm.tiers:
        r = rows.get(t.org, {})
        orgs.append(
            {
                **t.as_dict(),
                "peer_group": r.get("peer_group"),
                "figures": {
                    k: _plain(v)
                    for k, v in r.items()
                    if k not in ("org_id", "tier", "tier_label", "peer_group")
                },
            }
        )
    return {
        "reference_time": bm.reference_time,
        "window_start": bm.window_start,
        "window_days": bm.window_days,
        "metrics_version": bm.audit.get("metrics_version"),
        "thresholds": bm.thresholds.source,
        "claimed_vs_measured": {
            "sentence": bm.claimed.sentence,
            "declared": bm.claimed.declared,
            "claiming_active": bm.claimed.claiming,
            "with_tier": bm.claimed.measured,
            "rudimentary_or_below": bm.claimed.rudimentary,
            "insufficient_data": bm.claimed.insufficient,
            "orgs": list(bm.claimed.orgs),
        },
        "orgs": orgs,
    }


def _plain(v: Any) -> Any:
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "item"):
        return _plain(v.item())
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v
