"""The one run path: execute the metric expressions once and return typed results.

``metrics/`` builds expressions; ``benchmark/`` decides tiers and peer figures from executed
aggregates; this module runs them on the engine given (the DuckDB store or Spark) and fills
the dataclasses of :mod:`socialaudit.results`. The CLI, the report, the API and the dashboard
all call :func:`run` (or its audit half, :func:`run_audit`) and only format what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import ibis
import pandas as pd

from socialaudit.benchmark import peers, tiers
from socialaudit.metrics import business_hours as bh
from socialaudit.metrics import coverage as cov
from socialaudit.metrics import faq
from socialaudit.metrics import listening as ls
from socialaudit.metrics import presence as pr
from socialaudit.metrics import responsiveness as rs
from socialaudit.metrics import survival as sv
from socialaudit.metrics.audit import turn_rows
from socialaudit.metrics.base import Engine, epoch_s
from socialaudit.metrics.orgcheck import data_scope, own_post_counts, require_orgs, resolve_org
from socialaudit.metrics.platforms import responsiveness_by_platform
from socialaudit.results.jsonable import to_jsonable
from socialaudit.results.model import (
    HEADLINE_LISTENING,
    AuditResult,
    BenchmarkResult,
    Coverage,
    EnricherRun,
    Figures,
    LateShare,
    Listening,
    OrgAudit,
    PlatformAudit,
    PlatformCoverage,
    PlatformResponsiveness,
    Responsiveness,
    UnansweredAfter7d,
    Window,
)

DEFAULT_WINDOW_DAYS = 90
UNANSWERED_PER_ORG = 25
ENRICHERS = ("intent", "spam", "sentiment", "deflection", "resolution")


def check_org(engine: Engine, org: str | None) -> str | None:
    """The stored id ``org`` names, in any case; :class:`MetricError` (did you mean) if none."""
    return resolve_org(engine, org)


def enrichment_status(engine: Engine) -> dict[str, bool]:
    """Which enrichers have results in the store (one scalar query)."""
    e = engine.table("enrichments")
    row = engine.execute(
        e.aggregate(**{n: ls.has_results(e, n).fill_null(False) for n in ENRICHERS})
    ).iloc[0]
    return {n: bool(row[n]) for n in ENRICHERS}


#: Every enricher with a ``<name>_version`` column in ``enrichments``.
VERSIONED = ("language", "spam", "sentiment", "intent", "deflection", "resolution")


def enricher_versions(engine: Engine) -> dict[str, EnricherRun]:
    """Per enricher: the model the store runs it with and how many posts each version labelled.

    ``audit --json`` prints it so two audits can be compared: they read the same labels
    exactly when these agree (a store mid-way through a re-label shows two versions).
    """
    e = engine.table("enrichments")
    chosen = engine.execute(engine.table("enricher_models"))
    models = dict(zip(chosen["enricher"], chosen["model"], strict=True))
    out: dict[str, EnricherRun] = {}
    for name in VERSIONED:
        done = e.filter(e[f"{name}_version"].notnull())
        counts = engine.execute(
            done.group_by(version=done[f"{name}_version"]).aggregate(posts=done.count())
        )
        versions = sorted(zip(counts["version"], counts["posts"], strict=True))
        out[name] = EnricherRun(
            model=models.get(name, "default"), versions={str(v): int(n) for v, n in versions}
        )
    return out


def _timestamp(value: Any) -> datetime | None:
    if value is None or value is pd.NaT:
        return None
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert(UTC)
    out: datetime = stamp.to_pydatetime()
    return out


def run_audit(
    engine: Engine,
    /,
    *,
    window_days: int | None = DEFAULT_WINDOW_DAYS,
    sla_minutes: int | None = None,
    org: str | None = None,
    turns: rs.TurnTables | None = None,
    by_platform: bool = False,
) -> AuditResult:
    """The responsiveness and listening audit of every org (or one) over the window.

    The window is the one rule of every surface (:func:`window`): the ``window_days`` up to
    the reference time (None: all the data). ``actionable`` is None until posts carry intent
    and spam enrichments: reporting the ``all`` figures under that name would misstate them.
    Deflection and resolution are measured on actionable turns when they exist (praise
    answered with "you're welcome" is neither help nor deflection), else on all turns;
    ``listening.basis`` says which.
    """
    org = check_org(engine, org)
    full = turns or rs.build_turns(engine)
    span = window(engine, full, window_days)
    tt = full.with_turns(span.turns)
    return _audit(engine, tt, span, sla_minutes=sla_minutes, org=org, by_platform=by_platform)


def _audit(
    engine: Engine,
    tt: rs.TurnTables,
    span: Span,
    *,
    sla_minutes: int | None,
    org: str | None,
    by_platform: bool,
) -> AuditResult:
    orgs = engine.table("orgs")
    expr = rs.responsiveness(tt.turns, orgs, sla_minutes=sla_minutes)
    if org is not None:
        expr = expr.filter(expr.org_id == org)
    frame = engine.execute(expr)
    status = enrichment_status(engine)
    lis = _listening(engine, tt, status, sla_minutes=sla_minutes, org=org)
    platforms = _platforms(engine, tt, sla_minutes=sla_minutes, org=org) if by_platform else None
    late_all = _late(engine, tt.turns)
    own = _own_posts(engine, org)
    coverage = org_coverage(engine, org=org)
    entries = tuple(
        OrgAudit(
            org=row["org_id"],
            data_scope=data_scope(int(row["turns"] or 0), own.get(row["org_id"], 0)),
            responsiveness=Responsiveness(
                all=Figures.from_row(row), actionable=lis.actionable.get(row["org_id"])
            ),
            listening=lis.listening.get(row["org_id"]),
            platforms=None if platforms is None else tuple(platforms.get(row["org_id"], [])),
            unanswered_after_7d=UnansweredAfter7d(
                all=late_all[row["org_id"]], actionable=lis.late.get(row["org_id"])
            ),
            coverage=coverage.get(row["org_id"], Coverage()),
        )
        for row in frame.to_dict("records")
    )
    return AuditResult(
        reference_time=_timestamp(tt.reference_time),
        metrics_version=rs.RESPONSIVENESS.version,
        enriched=status,
        orgs=entries,
        window=span.described if tt.reference_time is not None else None,
        enrichers=enricher_versions(engine),
    )


def _late(engine: Engine, turns: ibis.Table) -> dict[str, LateShare]:
    frame = engine.execute(rs.unanswered_after(turns, engine.table("orgs")))
    return {r["org_id"]: LateShare.from_row(r) for r in frame.to_dict("records")}


def _own_posts(engine: Engine, org: str | None) -> dict[str, int]:
    oa = engine.table("org_accounts")
    if org is not None:
        oa = oa.filter(oa.org_id == org)
    frame = engine.execute(own_post_counts(engine.table("posts"), oa))
    return {str(r["org_id"]): int(r["posts"]) for r in frame.to_dict("records")}


def org_coverage(engine: Engine, /, *, org: str | None = None) -> dict[str, Coverage]:
    """Each org's inbound coverage per platform (:func:`metrics.coverage.org_coverage`)."""
    expr = cov.org_coverage(
        engine.table("coverage"), engine.table("org_accounts"), engine.table("posts")
    )
    if org is not None:
        expr = expr.filter(expr.org_id == org)
    found: dict[str, dict[str, PlatformCoverage]] = {}
    for row in engine.execute(expr).to_dict("records"):
        found.setdefault(row["org_id"], {})[row["platform"]] = PlatformCoverage(
            inbound=row["inbound"],
            covered_from=_timestamp(row["covered_from"]),
            covered_to=_timestamp(row["covered_to"]),
        )
    return {o: Coverage(platforms) for o, platforms in found.items()}


@dataclass(frozen=True)
class _Listened:
    """Per org: actionable figures, their late share, and the listening figures."""

    actionable: dict[str, Figures] = field(default_factory=dict)
    late: dict[str, LateShare] = field(default_factory=dict)
    listening: dict[str, Listening] = field(default_factory=dict)


def _listening(
    engine: Engine,
    tt: rs.TurnTables,
    status: dict[str, bool],
    *,
    sla_minutes: int | None,
    org: str | None,
) -> _Listened:
    """Actionable figures and listening figures per org (empty until posts are enriched)."""
    # Status first: the stored turns build their turn posts only when something reads them.
    if not (status["intent"] or status["deflection"]) or tt.turn_posts is None:
        return _Listened()
    basis = "actionable" if status["intent"] and status["spam"] else "all"
    signals = engine.cache(
        ls.turn_signals(
            tt.turns,
            tt.turn_posts,
            engine.table("posts"),
            engine.table("org_accounts"),
            engine.table("enrichments"),
        )
    )
    if org is not None:
        signals = signals.filter(signals.org_id == org)
    orgs = engine.table("orgs")
    actionable: dict[str, Figures] = {}
    late: dict[str, LateShare] = {}
    if basis == "actionable":
        signals = signals.filter(signals.actionable)
        act = engine.execute(rs.responsiveness(signals, orgs, sla_minutes=sla_minutes))
        actionable = {r["org_id"]: Figures.from_row(r) for r in act.to_dict("records")}
        late = _late(engine, signals)
    lis = engine.execute(ls.listening(signals, orgs))
    return _Listened(
        actionable,
        late,
        {r["org_id"]: Listening.from_row(r, status, basis) for r in lis.to_dict("records")},
    )


def _platforms(
    engine: Engine, tt: rs.TurnTables, *, sla_minutes: int | None, org: str | None
) -> dict[str, list[PlatformAudit]]:
    oa = engine.table("org_accounts")
    platforms = sorted(engine.execute(oa.select("platform").distinct())["platform"])
    expr = responsiveness_by_platform(
        tt.turns, engine.table("orgs"), oa, platforms=platforms, sla_minutes=sla_minutes
    )
    if org is not None:
        expr = expr.filter(expr.org_id == org)
    by_org: dict[str, list[PlatformAudit]] = {}
    for row in engine.execute(expr).to_dict("records"):
        by_org.setdefault(row["org_id"], []).append(
            PlatformAudit(row["platform"], PlatformResponsiveness(Figures.from_row(row)))
        )
    return by_org


def audit(
    engine: Engine,
    /,
    *,
    window_days: int | None = DEFAULT_WINDOW_DAYS,
    sla_minutes: int | None = None,
    org: str | None = None,
    turns: rs.TurnTables | None = None,
    by_platform: bool = False,
) -> dict[str, Any]:
    """The ``audit --json`` document: :func:`run_audit` as JSON."""
    out: dict[str, Any] = to_jsonable(
        run_audit(
            engine,
            window_days=window_days,
            sla_minutes=sla_minutes,
            org=org,
            turns=turns,
            by_platform=by_platform,
        )
    )
    return out


@dataclass(frozen=True)
class Span:
    """A window in epoch seconds, the turns opened in it, and how results name it."""

    start_s: int
    end_s: int
    turns: ibis.Table
    described: Window


def window(engine: Engine, tt: rs.TurnTables, window_days: int | None) -> Span:
    """The one window rule of every surface (audit, benchmark, report, dashboard).

    The window ends at the reference time (the latest post) and starts ``window_days``
    before it, or at the earliest post when that is later (``window_days=None``: all the
    data); turns opened before it are left out of every figure.
    """
    posts = engine.table("posts")
    bounds = engine.execute(
        posts.aggregate(lo=epoch_s(posts.created_at.min()), hi=epoch_s(posts.created_at.max()))
    ).iloc[0]
    end_s = 0 if pd.isna(bounds["hi"]) else int(bounds["hi"])
    first_s = end_s if pd.isna(bounds["lo"]) else int(bounds["lo"])
    start_s = first_s if window_days is None else max(end_s - window_days * 86_400, first_s)
    # A filter, not a materialized copy: the turns are a stored (or cached) table already, and
    # copying a million rows cost more than filtering them again in each query.
    in_window = (
        tt.turns
        if window_days is None
        else tt.turns.filter(epoch_s(tt.turns.opener_created_at) >= start_s)
    )
    has_data = tt.reference_time is not None
    described = Window(
        start=_epoch(start_s) if has_data else None,
        end=_timestamp(tt.reference_time),
        days=window_days,
    )
    return Span(start_s, end_s, in_window, described)


def run(
    engine: Engine,
    /,
    *,
    window_days: int | None = DEFAULT_WINDOW_DAYS,
    sla_minutes: int | None = None,
    thresholds: tiers.Thresholds | None = None,
    sectors: dict[str, str] | None = None,
    turns: rs.TurnTables | None = None,
    with_turns: bool = True,
    unanswered_per_org: int = UNANSWERED_PER_ORG,
) -> BenchmarkResult:
    """Measure every org over the ``window_days`` up to the reference time and benchmark them.

    ``turns`` are the store's turn tables when the caller has built them already (the
    dashboard shares them with its inbox). ``with_turns=False`` leaves out the ``turns`` table
    (every turn of the window with its text: the report exports it, the dashboard pages its
    inbox instead).
    """
    th = thresholds or tiers.load_thresholds()
    require_orgs(engine)
    sectors = peers.load_sectors() if sectors is None else sectors
    tt = turns or rs.build_turns(engine)
    span = window(engine, tt, window_days)
    start_s, end_s, in_window = span.start_s, span.end_s, span.turns
    windowed = tt.with_turns(in_window)
    audit_result = _audit(
        engine, windowed, span, sla_minutes=sla_minutes, org=None, by_platform=False
    )
    groups = engine.cache(peers.peer_groups(engine.table("orgs"), sectors))
    presence, accounts, latest = _presence(engine, groups, start_s, end_s)
    business = engine.execute(
        bh.business_responsiveness(
            in_window,
            engine.table("orgs"),
            bh.calendar_intervals(engine, in_window),
            sla_minutes=sla_minutes,
        )
    )
    curves = sv.kaplan_meier(engine.execute(sv.survival_counts(in_window)))
    org_info = engine.execute(
        engine.table("orgs")
        .join(groups, "org_id")
        .select(
            "org_id",
            "name",
            "claimed_activity",
            "timezone",
            "sla_minutes",
            groups.peer_group,
            groups.peer_group_source,
        )
    )
    tier_results = tuple(
        tiers.assign_tiers(audit_result, presence.to_dict("records"), thresholds=th)
    )
    headline = _headline(
        audit_result, tier_results, presence, business, sv.km_median(curves), org_info
    )
    headline, percentiles, divide = _peers(engine, headline, in_window, groups)
    claims = dict(zip(org_info["org_id"], org_info["claimed_activity"], strict=True))
    claimed = peers.claimed_vs_measured(claims, {t.org: t.tier for t in tier_results})
    unanswered = _unanswered(engine, in_window, per_org=unanswered_per_org)
    evidence_all = _evidence_posts(engine, presence, latest, unanswered)
    tables = {
        "benchmark": headline,
        "tiers": _tier_table(tier_results),
        "presence": presence,
        "accounts": accounts,
        "business_hours": business,
        "km_curves": curves,
        "divide": divide,
        "unanswered": unanswered,
        "evidence_posts": evidence_all,
    }
    if with_turns:
        tables["turns"] = _all_turns(engine, in_window)
    return BenchmarkResult(
        reference_time=audit_result.reference_time,
        window_start=span.described.start,
        window_days=window_days,
        thresholds=th,
        audit=audit_result,
        orgs=org_info,
        tiers=tier_results,
        presence=presence,
        accounts=accounts,
        business_hours=business,
        km_curves=curves,
        percentiles=percentiles,
        divide=divide,
        claimed=claimed,
        unanswered=unanswered,
        evidence_posts=evidence_all,
        tables=tables,
    )


def _epoch(seconds: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)


def _presence(
    engine: Engine, groups: ibis.Table, start_s: int, end_s: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per-org presence and presence scores, per-account scores, and the latest posts."""
    posts, oa, accounts = (engine.table(n) for n in ("posts", "org_accounts", "accounts"))
    presence = engine.execute(
        pr.presence_scores(pr.presence(posts, oa, accounts, groups, start_s=start_s, end_s=end_s))
    )
    account_rows = engine.execute(
        pr.presence_scores(
            pr.presence(posts, oa, accounts, groups, start_s=start_s, end_s=end_s, by_account=True)
        )
    )
    latest = engine.execute(pr.presence_evidence(posts, oa, start_s=start_s, end_s=end_s))
    return presence, account_rows, latest


def _peers(
    engine: Engine, headline: pd.DataFrame, in_window: ibis.Table, groups: ibis.Table
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Percentiles within the peer group (merged into the headline) and the social divide."""
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
    return headline, percentiles, divide


_PRESENCE_HEADLINE = [
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


def _headline(
    audit_result: AuditResult,
    tier_results: tuple[tiers.TierResult, ...],
    presence: pd.DataFrame,
    business: pd.DataFrame,
    km: pd.DataFrame,
    org_info: pd.DataFrame,
) -> pd.DataFrame:
    """One row per org: tier, responsiveness with intervals, presence, business hours, KM."""
    rows = []
    by_tier = {t.org: t for t in tier_results}
    for entry in audit_result.orgs:
        t = by_tier[entry.org]
        figures = to_jsonable(entry.responsiveness.all)
        act = entry.responsiveness.actionable
        ci = tiers.wilson(int(figures["answered"] or 0), int(figures["turns"] or 0))
        late = entry.unanswered_after_7d
        share = None if late is None else (late.actionable or late.all)
        late_ci = None if share is None else tiers.wilson(share.late, share.aged)
        rows.append(
            {
                "org_id": entry.org,
                "tier": t.tier,
                "tier_label": t.label,
                "tier_borderline": t.borderline,
                **figures,
                "response_rate_ci_low": None if ci is None else ci[0],
                "response_rate_ci_high": None if ci is None else ci[1],
                "actionable_turns": None if act is None else act.turns,
                "actionable_response_rate": None if act is None else act.response_rate,
                HEADLINE_LISTENING: entry.listening_figures()[HEADLINE_LISTENING],
                "unanswered_7d_share": None if share is None else share.share,
                "unanswered_7d_ci_low": None if late_ci is None else late_ci[0],
                "unanswered_7d_ci_high": None if late_ci is None else late_ci[1],
                "coverage_warning": entry.coverage.warning,
            }
        )
    frame = (
        pd.DataFrame(rows)
        .merge(
            org_info[["org_id", "name", "peer_group", "peer_group_source", "claimed_activity"]],
            on="org_id",
        )
        .merge(presence[_PRESENCE_HEADLINE], on="org_id", how="left")
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


def _tier_table(results: tuple[tiers.TierResult, ...]) -> pd.DataFrame:
    """One row per (org, rule): the tier evidence as a table."""
    rows = []
    for t in results:
        for r in t.evidence:
            d = to_jsonable(r)
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


def turns(
    engine: Engine,
    /,
    *,
    org: str | None = None,
    unanswered_older_than_s: int | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """One row per (org, turn) with permalinks: the per-conversation export.

    With ``unanswered_older_than_s`` only unanswered turns strictly older than that remain,
    oldest first. A store with posts but no organizations has no turns: that stops with the
    accounts to declare (:func:`~socialaudit.metrics.orgcheck.require_orgs`), not an empty list.
    """
    require_orgs(engine)
    org = check_org(engine, org)
    t = rs.build_turns(engine).turns
    if org is not None:
        t = t.filter(t.org_id == org)
    if unanswered_older_than_s is not None:
        t = rs.unanswered(t, older_than_s=unanswered_older_than_s)
    j = turn_rows(t, engine.table("posts"))
    order = (
        [ibis.desc("age_s"), "opener_id", "org_id", "platform"]
        if unanswered_older_than_s is not None
        else ["org_id", "opener_created_at", "opener_id", "platform"]
    )
    j = j.order_by(order)
    if limit is not None:
        j = j.limit(limit)
    return engine.execute(j)


def topic_rows(
    engine: Engine,
    turns: rs.TurnTables,
    /,
    *,
    org: str,
    coherence: dict[int, float] | None = None,
) -> list[dict[str, Any]]:
    """``org``'s stored topics, each with its figures and example posts (text, permalink).

    ``coherence``: NPMI per topic id when the topics were just fitted; None otherwise.
    Reads the stored topics only: fitting them is enrichment (:mod:`socialaudit.enrich.topics`).
    """
    return topic_rows_by_org(engine, turns, org=org, coherence=coherence).get(org, [])


def topic_rows_by_org(
    engine: Engine,
    turns: rs.TurnTables,
    /,
    *,
    org: str | None = None,
    coherence: dict[int, float] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Stored topics per org (every org's when ``org`` is None), in two queries in all."""
    assert turns.turn_posts is not None
    expr = faq.topic_figures(
        turns.turns,
        turns.turn_posts,
        engine.table("enrichments"),
        engine.table("topics"),
        org=org,
    )
    frame = engine.execute(expr)
    posts = engine.table("posts")
    examples = [list(ids) if ids is not None else [] for ids in frame["examples"]]
    wanted = sorted({i for ids in examples for i in ids})
    found = engine.execute(
        posts.filter(posts.post_id.isin(wanted)).select("post_id", "text", "permalink")
    )
    by_id = {r["post_id"]: r for r in found.to_dict("records")}
    out: dict[str, list[dict[str, Any]]] = {}
    for row, ids in zip(frame.to_dict("records"), examples, strict=True):
        out.setdefault(str(row["org_id"]), []).append(
            {
                "topic_id": int(row["topic_id"]),
                "label": row["label"],
                "top_terms": [str(t) for t in row["top_terms"]],
                "turns": int(row["turns"]),
                "question_share": to_jsonable(row["question_share"]),
                "answered_share": to_jsonable(row["answered_share"]),
                "frt_median_s": to_jsonable(row["frt_median_s"]),
                "faq_candidate": bool(row["faq"]),
                "coherence_npmi": (coherence or {}).get(int(row["topic_id"])),
                "examples": [
                    {
                        "post_id": i,
                        "text": by_id.get(i, {}).get("text"),
                        "permalink": by_id.get(i, {}).get("permalink"),
                    }
                    for i in ids
                ],
            }
        )
    return out


def topics(store: Any, /, *, org: str, k: int | None = None) -> dict[str, Any]:
    """Fit ``org``'s topics (an enrichment: it writes them), then report each with its figures.

    Fitting runs on the DuckDB store; the figures are Ibis expressions over what it stored.
    """
    from socialaudit.enrich.topics import build_topics

    org = check_org(store, org) or org
    # The turn tables come from posts and accounts only: fitting topics does not change them.
    tt = rs.build_turns(store)
    assert tt.turn_posts is not None
    model = build_topics(store, org, k=k, turns=tt)
    coherence = {t.topic_id: t.coherence for t in model.topics}
    out = topic_rows(store, tt, org=org, coherence=coherence)
    return {"org": org, "method": model.method, "coherence_npmi": model.coherence, "topics": out}
