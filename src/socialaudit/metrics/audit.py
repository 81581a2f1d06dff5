"""The audit runner: turns the metric expressions into the results users see.

This is where responsiveness expressions are executed (on whichever engine is given) and
shaped into the documented JSON (``audit --json``); presentation layers call these functions
and never compute metrics themselves.
"""

from __future__ import annotations

import math
from typing import Any

import ibis
import pandas as pd

from socialaudit.metrics import faq
from socialaudit.metrics import listening as ls
from socialaudit.metrics import responsiveness as rs
from socialaudit.metrics.base import Engine
from socialaudit.metrics.orgcheck import resolve_org
from socialaudit.metrics.platforms import responsiveness_by_platform

RATE_KEYS = (
    "turns",
    "answered",
    "response_rate",
    "frt_median_s",
    "frt_p90_s",
    "sla_attainment",
    "negative_frt",
    "backlog_24h",
    "backlog_7d",
    "backlog_30d",
)
_INT_KEYS = {"turns", "answered", "negative_frt", "backlog_24h", "backlog_7d", "backlog_30d"}


def _clean(key: str, value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if key in _INT_KEYS:
        return int(value)
    return float(value)


#: What an org's data lets the audit measure (``data_scope`` in the audit document).
DATA_SCOPE_NOTES = {
    "own posts only": "no customer posts in this data (coverage: own posts only)",
    "no posts": "no posts in this data (coverage: none)",
}


def data_scope(turns: int, own_posts: int) -> str:
    """``customer posts`` when anyone addressed the org, else what the data holds of it.

    An X archive holds only its owner's posts: its org has no turns, and a row of zeros
    would read as "never answers" rather than "nobody asked in this data".
    """
    if turns > 0:
        return "customer posts"
    return "own posts only" if own_posts > 0 else "no posts"


def own_post_counts(engine: Engine, /, *, org: str | None = None) -> dict[str, int]:
    """Posts each org's accounts wrote, by org id."""
    posts, oa = engine.table("posts"), engine.table("org_accounts")
    if org is not None:
        oa = oa.filter(oa.org_id == org)
    j = posts.join(oa, [posts.platform == oa.platform, posts.author_id == oa.account_id])
    frame = engine.execute(j.group_by("org_id").agg(n=j.count()))
    return {str(r["org_id"]): int(r["n"]) for r in frame.to_dict("records")}


def enrichment_status(engine: Engine) -> dict[str, bool]:
    """Which enrichers have results in the store (one scalar query)."""
    e = engine.table("enrichments")
    names = ("intent", "spam", "sentiment", "deflection", "resolution")
    row = engine.execute(
        e.aggregate(**{n: ls.has_results(e, n).fill_null(False) for n in names})
    ).iloc[0]
    return {n: bool(row[n]) for n in names}


def audit(
    engine: Engine,
    /,
    *,
    sla_minutes: int | None = None,
    org: str | None = None,
    turns: rs.TurnTables | None = None,
    by_platform: bool = False,
) -> dict[str, Any]:
    """Return the responsiveness audit of every org (or one) in the documented JSON shape.

    ``actionable`` is ``None`` until posts carry intent and spam enrichments: reporting the
    ``all`` figures under that name would misstate them. Deflection and resolution are
    measured on actionable turns when they exist (praise answered with "you're welcome" is
    neither help nor deflection), else on all turns; ``listening.basis`` says which. With
    ``by_platform`` each org also gets ``platforms``: the same figures for each platform it has
    accounts on.
    """
    org = resolve_org(engine, org)
    tt = turns or rs.build_turns(engine)
    orgs = engine.table("orgs")
    expr = rs.responsiveness(tt.turns, orgs, sla_minutes=sla_minutes)
    if org is not None:
        expr = expr.filter(expr.org_id == org)
    frame = engine.execute(expr)
    status = enrichment_status(engine)
    actionable: dict[str, dict[str, Any]] = {}
    listen: dict[str, dict[str, Any]] = {}
    basis = "actionable" if status["intent"] and status["spam"] else "all"
    if tt.turn_posts is not None and (status["intent"] or status["deflection"]):
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
        if basis == "actionable":
            signals = signals.filter(signals.actionable)
            act = engine.execute(rs.responsiveness(signals, orgs, sla_minutes=sla_minutes))
            actionable = {
                r["org_id"]: {key: _clean(key, r[key]) for key in RATE_KEYS}
                for r in act.to_dict("records")
            }
        lis = engine.execute(ls.listening(signals, orgs))
        listen = {r["org_id"]: _listening(r, status, basis) for r in lis.to_dict("records")}
    orgs_out = []
    own = own_post_counts(engine, org=org)
    for row in frame.to_dict("records"):
        figures = {key: _clean(key, row[key]) for key in RATE_KEYS}
        entry: dict[str, Any] = {
            "org": row["org_id"],
            "data_scope": data_scope(figures["turns"] or 0, own.get(row["org_id"], 0)),
            "responsiveness": {"all": figures, "actionable": actionable.get(row["org_id"])},
        }
        found = listen.get(row["org_id"])
        entry["deflection_rate"] = found["deflection_rate"] if found else None
        entry["resolution_rate"] = found["resolution_rate"] if found else None
        entry["listening"] = found
        orgs_out.append(entry)
    if by_platform:
        _add_platforms(engine, orgs_out, tt, sla_minutes=sla_minutes, org=org)
    return {
        "reference_time": _iso(tt.reference_time),
        "metrics_version": rs.RESPONSIVENESS.version,
        "enriched": status,
        "orgs": orgs_out,
    }


def _num(value: Any) -> float | None:
    return _clean("rate", value)


def _listening(row: dict[str, Any], status: dict[str, bool], basis: str) -> dict[str, Any]:
    """One org's listening figures; a figure whose enricher has not run is None, not 0."""
    deflect = status["deflection"]
    resolve = status["resolution"]
    sentiment = status["sentiment"]
    return {
        "basis": basis,
        "answered": int(row["answered"]),
        "deflected": int(row["deflected"]) if deflect else None,
        "deflection_rate": _num(row["deflection_rate"]) if deflect else None,
        "asks_move_channel": int(row["asks_move_channel"]) if deflect else None,
        "asks_move_channel_rate": _num(row["asks_move_channel_rate"]) if deflect else None,
        "resolved": int(row["resolved"]) if resolve else None,
        "resolution_rate": _num(row["resolution_rate"]) if resolve else None,
        "sentiment": {
            "answered": {
                "mean": _num(row["sentiment_answered"]),
                "negative_share": _num(row["negative_share_answered"]),
            },
            "unanswered": {
                "mean": _num(row["sentiment_unanswered"]),
                "negative_share": _num(row["negative_share_unanswered"]),
            },
        }
        if sentiment
        else None,
    }


def _add_platforms(
    engine: Engine,
    orgs_out: list[dict[str, Any]],
    tt: rs.TurnTables,
    *,
    sla_minutes: int | None,
    org: str | None,
) -> None:
    oa = engine.table("org_accounts")
    platforms = sorted(engine.execute(oa.select("platform").distinct())["platform"])
    expr = responsiveness_by_platform(
        tt.turns, engine.table("orgs"), oa, platforms=platforms, sla_minutes=sla_minutes
    )
    if org is not None:
        expr = expr.filter(expr.org_id == org)
    by_org: dict[str, list[dict[str, Any]]] = {}
    for row in engine.execute(expr).to_dict("records"):
        figures = {key: _clean(key, row[key]) for key in RATE_KEYS}
        by_org.setdefault(row["org_id"], []).append(
            {"platform": row["platform"], "responsiveness": {"all": figures}}
        )
    for entry in orgs_out:
        entry["platforms"] = by_org.get(entry["org"], [])


def _iso(ts: Any) -> str | None:
    if ts is None:
        return None
    stamp = pd.Timestamp(ts)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.isoformat()


def turn_rows(t: ibis.Table, posts: ibis.Table, /) -> ibis.Table:
    """Turns with their opener's and first response's permalinks and the opener's text."""
    opener = posts.select(
        "platform", turn_id=posts.post_id, opener_permalink=posts.permalink, opener_text=posts.text
    )
    reply = posts.select(
        "platform", first_response_id=posts.post_id, first_response_permalink=posts.permalink
    )
    j = t.left_join(opener, ["platform", "turn_id"]).left_join(
        reply, ["platform", "first_response_id"]
    )
    j = j.select(
        "org_id",
        "platform",
        opener_id=j.turn_id,
        opener_author=j.opener_author,
        opener_created_at=j.opener_created_at,
        opener_permalink=j.opener_permalink,
        followups=j.followups,
        answered=j.answered,
        first_response_id=j.first_response_id,
        first_response_at=j.first_response_at,
        first_response_permalink=j.first_response_permalink,
        frt_s=j.frt_s,
        age_s=j.age_s,
        opener_text=j.opener_text,
    )
    return j


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
    oldest first.
    """
    org = resolve_org(engine, org)
    tt = rs.build_turns(engine)
    t = tt.turns
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


def topics(store: Any, /, *, org: str, k: int | None = None) -> dict[str, Any]:
    """Fit ``org``'s topics (stored), then report each with its figures and example posts.

    Fitting runs on the DuckDB store (it writes); the figures are Ibis expressions.
    """
    from socialaudit.enrich.topics import build_topics

    org = resolve_org(store, org) or org
    # The turn tables come from posts and accounts only: fitting topics does not change them.
    tt = rs.build_turns(store)
    assert tt.turn_posts is not None
    model = build_topics(store, org, k=k, turns=tt)
    coherence = {t.topic_id: t.coherence for t in model.topics}
    out = topic_rows(store, tt, org=org, coherence=coherence)
    return {"org": org, "method": model.method, "coherence_npmi": model.coherence, "topics": out}


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
    """
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
    return [
        {
            "topic_id": int(row["topic_id"]),
            "label": row["label"],
            "top_terms": [str(t) for t in row["top_terms"]],
            "turns": int(row["turns"]),
            "question_share": _num(row["question_share"]),
            "answered_share": _num(row["answered_share"]),
            "frt_median_s": _num(row["frt_median_s"]),
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
        for row, ids in zip(frame.to_dict("records"), examples, strict=True)
    ]
