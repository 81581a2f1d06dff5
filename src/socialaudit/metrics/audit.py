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

from socialaudit.errors import MetricError
from socialaudit.metrics import faq
from socialaudit.metrics import listening as ls
from socialaudit.metrics import responsiveness as rs
from socialaudit.metrics.base import Engine
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


def _check_org(engine: Engine, org: str | None) -> None:
    if org is None:
        return
    orgs = engine.table("orgs")
    if int(engine.execute(orgs.filter(orgs.org_id == org).count())) == 0:
        known = engine.execute(orgs.select("org_id").order_by("org_id").limit(8))
        hint = ", ".join(known["org_id"]) if len(known) else "none yet"
        raise MetricError(
            f"No organization {org!r} in the store (some are: {hint}). "
            "Run `socialaudit orgs` to list them."
        )


def enrichment_status(engine: Engine) -> dict[str, bool]:
    """Which enrichers have results in the store (one scalar query)."""
    e = engine.table("enrichments")
    names = ("intent", "spam", "sentiment", "deflection", "resolution")
    row = engine.execute(
        e.aggregate(**{n: ls.has_results(e, n).fill_null(False) for n in names})
    ).iloc[0]
    return {n: bool(row[n]) for n in names}


ENRICHERS = ("language", "spam", "sentiment", "intent", "deflection", "resolution")


def enricher_versions(engine: Engine) -> dict[str, dict[str, Any]]:
    """Per enricher: the model the store runs it with and how many posts each version labelled.

    Two audits agree only when they read the same versions; ``audit --json`` prints this so
    they can be compared (a mixed store, e.g. mid-way through a re-label, shows two versions).
    """
    e = engine.table("enrichments")
    chosen = engine.execute(engine.table("enricher_models"))
    models = dict(zip(chosen["enricher"], chosen["model"], strict=True))
    out: dict[str, dict[str, Any]] = {}
    for name in ENRICHERS:
        done = e.filter(e[f"{name}_version"].notnull())
        counts = engine.execute(
            done.group_by(version=done[f"{name}_version"]).aggregate(posts=done.count())
        )
        out[name] = {
            "model": models.get(name, "default"),
            "versions": {
                str(v): int(n)
                for v, n in sorted(zip(counts["version"], counts["posts"], strict=True))
            },
        }
    return out


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
    _check_org(engine, org)
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
    for row in frame.to_dict("records"):
        figures = {key: _clean(key, row[key]) for key in RATE_KEYS}
        entry: dict[str, Any] = {
            "org": row["org_id"],
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
        "enrichers": enricher_versions(engine),
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
    _check_org(engine, org)
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

    _check_org(store, org)
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
