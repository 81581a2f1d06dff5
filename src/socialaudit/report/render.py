"""The executive report: one self-contained HTML file, plus CSV/Parquet/JSON of every table.

Presentation only: every figure comes from :func:`socialaudit.run.run`; one function per
section turns the results into the rows its part of the page shows.
Untrusted text (posts, handles, URLs) reaches the page through Jinja2's autoescaping, and
reaches the charts as JSON inside a non-executed ``<script type="application/json">`` with
``<``, ``>`` and ``&`` escaped, so no post can close a tag or run code. Plotly's JS comes from
the installed ``plotly`` package, gzip-compressed and base64-inlined (4.8 MB raw would blow the
5 MB budget on its own; compressed it is about 2 MB) and decompressed in the browser with the
standard ``DecompressionStream``: the file makes no network request when opened.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment

from socialaudit.benchmark.tiers import (
    INSUFFICIENT,
    INSUFFICIENT_COVERAGE,
    TIER_LABELS,
    WITHHELD_LABELS,
    Thresholds,
    explain,
)
from socialaudit.metrics import quality as run_quality
from socialaudit.metrics import responsiveness as rs
from socialaudit.metrics.base import REGISTRY as FAMILIES
from socialaudit.metrics.base import Engine
from socialaudit.metrics.campaigns import campaign_section
from socialaudit.metrics.orgcheck import DATA_SCOPE_NOTES
from socialaudit.report.fmt import TIER_COLORS, environment
from socialaudit.report.fmt import ci as _ci
from socialaudit.report.fmt import count as _int
from socialaudit.report.fmt import duration as _dur
from socialaudit.report.fmt import label as _label
from socialaudit.report.fmt import missing as _missing
from socialaudit.report.fmt import num as _num
from socialaudit.report.fmt import pct as _pct
from socialaudit.results import BenchmarkResult, benchmark_document, iso_utc, to_jsonable
from socialaudit.results.model import LISTENING_COLUMNS, THREADS_ONLY_WARNING, Listening, label
from socialaudit.run import DEFAULT_WINDOW_DAYS, run, topic_rows_by_org

Benchmark = BenchmarkResult

#: The metric families whose definitions the report lists, in reading order; the tier
#: rules and the peer figures follow (written from the thresholds in use).
DEFINED_FAMILIES = ("responsiveness", "survival", "business_hours", "presence")
PEER_DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "Peer percentile",
        ("percent rank within the peer group, 100 = best; null for a group of one."),
    ),
    (
        "Social divide",
        (
            "weekly pooled response rate of the leaders (top quartile of the group by response "
            "rate) minus that of the followers."
        ),
    ),
    (
        "Person score",
        (
            "an account's posts per week, conversation share, replies received and reach, each "
            "over the average of its peer group's other accounts, capped at 2, averaged, x 100."
        ),
    ),
)


def definitions(thresholds: Thresholds) -> list[tuple[str, str]]:
    """Every term the report uses: the metric families' own, the tier rules, the peer terms."""
    out = [d for name in DEFINED_FAMILIES for d in FAMILIES[name].definitions]
    out.append(("Maturity tier", explain(thresholds)))
    return [*out, *PEER_DEFINITIONS]


@dataclass(frozen=True)
class ReportFiles:
    """What :func:`write_report` wrote."""

    html: Path
    exports: Path
    html_bytes: int
    tables: tuple[str, ...]


@lru_cache(maxsize=1)
def _plotly_gz() -> str:
    from plotly.offline import get_plotlyjs

    return base64.b64encode(gzip.compress(get_plotlyjs().encode("utf-8"), 9)).decode("ascii")


def _env() -> Environment:
    return environment("socialaudit.report")


def _bar_tiers(bm: Benchmark) -> dict[str, Any]:
    counts = {k: 0 for k in [*TIER_LABELS.values(), *WITHHELD_LABELS]}
    for t in bm.tiers:
        counts[t.label] += 1
    return {
        "data": [{"type": "bar", "x": list(counts), "y": list(counts.values()),
                  "marker": {"color": TIER_COLORS}}],
        "layout": {"title": {"text": "Organizations per maturity tier"},
                   "margin": {"l": 40, "r": 10, "t": 40, "b": 60}},
    }  # fmt: skip


def _bar_rates(bm: Benchmark) -> dict[str, Any]:
    head = bm.tables["benchmark"]
    rated = head[head["turns"] > 0].sort_values("response_rate").tail(40)
    return {
        "data": [{
            "type": "bar", "orientation": "h",
            "y": [_label(o) for o in rated["org_id"]],
            "x": rated["response_rate"].astype(float).tolist(),
            "error_x": {
                "type": "data", "symmetric": False,
                "array": (rated["response_rate_ci_high"] - rated["response_rate"])
                .astype(float).tolist(),
                "arrayminus": (rated["response_rate"] - rated["response_rate_ci_low"])
                .astype(float).tolist(),
            },
        }],
        "layout": {"title": {"text": "Response rate with 95% Wilson interval"},
                   "xaxis": {"tickformat": ".0%", "range": [0, 1.05]},
                   "height": max(340, 18 * len(rated) + 80),
                   "margin": {"l": 130, "r": 10, "t": 40, "b": 40}},
    }  # fmt: skip


def _km(bm: Benchmark) -> dict[str, Any]:
    head, km = bm.tables["benchmark"], bm.km_curves
    traces = []
    for org in head.sort_values("turns", ascending=False).head(8)["org_id"].tolist():
        c = km[km["org_id"] == org]
        if c.empty:
            continue
        hours = [0.0, *(c["t_s"].astype(float) / 3600).tolist()]
        surv = [1.0, *c["survival"].astype(float).tolist()]
        traces.append({"type": "scatter", "mode": "lines", "line": {"shape": "hv"},
                       "name": _label(org), "x": hours, "y": surv})  # fmt: skip
    return {
        "data": traces,
        "layout": {"title": {"text": "Still waiting for a first response (Kaplan-Meier)"},
                   "xaxis": {"title": {"text": "hours since the turn opened"}, "type": "log"},
                   "yaxis": {"tickformat": ".0%", "range": [0, 1.02]},
                   "margin": {"l": 50, "r": 10, "t": 40, "b": 50}},
    }  # fmt: skip


def _business(bm: Benchmark) -> dict[str, Any]:
    head = bm.tables["benchmark"]
    bh = head[head["turns"] > 0].sort_values("turns", ascending=False).head(20)
    data = [{"type": "bar", "name": "24/7", "x": [_label(o) for o in bh["org_id"]],
             "y": (bh["frt_median_s"].astype(float) / 3600).tolist()}]  # fmt: skip
    if bh["bh_frt_median_s"].notna().any():
        data.append({"type": "bar", "name": "business hours",
                     "x": [_label(o) for o in bh["org_id"]],
                     "y": (bh["bh_frt_median_s"].astype(float) / 3600).tolist()})  # fmt: skip
    return {
        "data": data,
        "layout": {"title": {"text": "Median FRT (hours): on the clock vs business hours"},
                   "barmode": "group", "margin": {"l": 50, "r": 10, "t": 40, "b": 110}},
    }  # fmt: skip


def _activity(bm: Benchmark) -> dict[str, Any]:
    pres = bm.presence[bm.presence["posts"] > 0]
    return {
        "data": [{"type": "scatter", "mode": "markers",
                  "x": pres["posts_per_week"].astype(float).tolist(),
                  "y": pres["conversation_share"].astype(float).tolist(),
                  "text": [_label(o) for o in pres["org_id"]],
                  "hovertemplate": "%{text}: %{x:.1f}/week, %{y:.0%} replies"}],
        "layout": {"title": {"text": "Activity vs conversation (dialogue or megaphone)"},
                   "xaxis": {"title": {"text": "posts per week"}, "type": "log"},
                   "yaxis": {"title": {"text": "share of posts that are replies"},
                             "tickformat": ".0%"},
                   "margin": {"l": 60, "r": 10, "t": 40, "b": 50}},
    }  # fmt: skip


def _divide(bm: Benchmark) -> dict[str, Any]:
    traces = []
    for group, g in bm.divide.groupby("peer_group", sort=True):
        g = g[g["gap"].notna()]
        if g.empty:
            continue
        traces.append({"type": "scatter", "mode": "lines+markers", "name": _label(group),
                       "x": [str(w)[:10] for w in g["week"]],
                       "y": g["gap"].astype(float).tolist()})  # fmt: skip
    return {
        "data": traces,
        "layout": {"title": {"text": "The social divide: leaders' minus followers' "
                                     "weekly response rate"},
                   "yaxis": {"tickformat": ".0%"},
                   "margin": {"l": 50, "r": 10, "t": 40, "b": 50}},
    }  # fmt: skip


#: The report's charts: element id and the function that draws it from the results.
FIGURES: tuple[tuple[str, Callable[[Benchmark], dict[str, Any]]], ...] = (
    ("fig-tiers", _bar_tiers),
    ("fig-rate", _bar_rates),
    ("fig-km", _km),
    ("fig-bh", _business),
    ("fig-presence", _activity),
    ("fig-divide", _divide),
)


def _figures(bm: Benchmark) -> list[tuple[str, dict[str, Any]]]:
    return [(fid, to_jsonable(draw(bm))) for fid, draw in FIGURES]


def campaigns_frame(section: dict[str, Any]) -> pd.DataFrame:
    """One row per campaign with its headline figures (None where the data has none)."""
    rows = []
    for c in section.get("campaigns", []):
        w, up, cost = c["window"], c.get("uplift") or {}, c.get("costs") or {}
        rows.append(
            {
                "campaign": c["campaign"],
                "name": c["name"],
                "org_id": c["org"],
                "start": w["start"],
                "end": w["end"],
                "mentions": w["mentions"],
                "unique_authors": w["unique_authors"],
                "potential_reach": w["potential_reach"],
                "engagement": w["engagement"],
                "share_of_voice": (w.get("share_of_voice") or {}).get("share"),
                "mentions_before": c["before"]["mentions"],
                "uplift_ratio": up.get("ratio"),
                "spend": cost.get("spend"),
                "cpm": cost.get("cpm"),
                "cpc": cost.get("cpc"),
                "cost_per_engagement": cost.get("cost_per_engagement"),
                "cost_per_conversion": cost.get("cost_per_conversion"),
            }
        )
    return pd.DataFrame(rows)


def _money(v: Any) -> str:
    return "–" if _missing(v) else f"{float(v):,.2f}"


@dataclass(frozen=True)
class _Inputs:
    """What the sections read: the run's results and the store-wide extras."""

    bm: Benchmark
    quality: dict[str, Any]
    campaigns: dict[str, Any]
    #: Each org's stored topics with their figures (:func:`socialaudit.run.topic_rows`).
    topics: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: Why an org has no topics (too few requests), from the fit that ran before the report.
    topic_notes: dict[str, str] = field(default_factory=dict)


def _scope_notes(bm: Benchmark) -> dict[str, str]:
    """The sentence an org nobody addressed in this data gets instead of a row of zeros."""
    return {
        o.org: DATA_SCOPE_NOTES[o.data_scope]
        for o in bm.audit.orgs
        if o.data_scope in DATA_SCOPE_NOTES
    }


def _unanswered_groups(bm: Benchmark) -> dict[str, list[dict[str, Any]]]:
    return {
        org: [
            {
                "platform": r.platform,
                "turn_id": r.turn_id,
                "permalink": r.permalink,
                "opened": str(r.opener_created_at)[:16],
                "waiting": _dur(r.age_s),
                "followups": r.followups,
                "text": r.text,
            }
            for r in g.itertuples(index=False)
        ]
        for org, g in bm.unanswered.groupby("org_id", sort=True)
    }


def section_unanswered(x: _Inputs) -> dict[str, Any]:
    """The oldest unanswered turns of each org."""
    groups = _unanswered_groups(x.bm)
    return {
        "unanswered": sorted(groups.items()),
        "per_org": max((len(v) for v in groups.values()), default=0),
    }


def section_tiers(x: _Inputs) -> dict[str, Any]:
    """Each org's tier, its headline figures and the rules that decided it."""
    bm = x.bm
    waiting = set(bm.unanswered["org_id"]) if len(bm.unanswered) else set()
    coverage = {o.org: o.coverage for o in bm.audit.orgs}
    notes = _scope_notes(bm)
    rows = []
    head = bm.tables["benchmark"]
    for r in head.sort_values(["tier", "org_id"], na_position="last").to_dict("records"):
        t = bm.tier_of(r["org_id"])
        decisive = [e for e in t.evidence if e.holds is not None]
        rows.append(
            {
                "org_id": r["org_id"],
                "peer_group": r["peer_group"],
                "tier": t.tier,
                "tier_label": t.label + (" (borderline)" if t.borderline else ""),
                "turns": _int(r["turns"]),
                "rate": _ci(
                    r["response_rate"], r["response_rate_ci_low"], r["response_rate_ci_high"]
                ),
                "coverage": coverage[r["org_id"]].summary() if r["org_id"] in coverage else "–",
                "frt": _dur(r["frt_median_s"]),
                "backlog_7d": _int(r["backlog_7d"]),
                "decided": decisive[-1].rule if decisive else t.label,
                "evidence": [to_jsonable(e) for e in t.evidence],
                "unanswered": r["org_id"] in waiting,
                "scope_note": notes.get(r["org_id"]),
            }
        )
    return {"tier_rows": rows, "tier_explanation": explain(bm.thresholds)}


def section_responsiveness(x: _Inputs) -> dict[str, Any]:
    """Responsiveness per org over the window, on the clock and in business hours."""
    head = x.bm.tables["benchmark"]
    coverage = {o.org: o.coverage for o in x.bm.audit.orgs}
    notes = _scope_notes(x.bm)
    rows = [
        {
            "org_id": r["org_id"],
            "scope_note": notes.get(r["org_id"]),
            "turns": _int(r["turns"]),
            "answered": _int(r["answered"]),
            "rate": _ci(r["response_rate"], r["response_rate_ci_low"], r["response_rate_ci_high"]),
            "coverage": coverage[r["org_id"]].summary() if r["org_id"] in coverage else "–",
            "coverage_warning": (
                coverage[r["org_id"]].warning if r["org_id"] in coverage else None
            ),
            "frt": _dur(r["frt_median_s"]),
            "p90": _dur(r["frt_p90_s"]),
            "km": _dur(r["km_median_s"]),
            "sla": _ci(r["sla_attainment"], r["sla_ci_low"], r["sla_ci_high"]),
            "bh_frt": _dur(r["bh_frt_median_s"]),
            "bh_sla": _ci(r["bh_sla_attainment"], r["bh_sla_ci_low"], r["bh_sla_ci_high"]),
            "b24": _int(r["backlog_24h"]),
            "b7": _int(r["backlog_7d"]),
            "b30": _int(r["backlog_30d"]),
        }
        for r in head.sort_values("org_id").to_dict("records")
    ]
    has_business = bool(head["bh_frt_median_s"].notna().any()) if len(head) else False
    return {"resp_rows": rows, "has_business": has_business}


def section_presence(x: _Inputs) -> dict[str, Any]:
    """Presence per org, with the intervals of its shares and the posts behind them."""
    bm = x.bm
    cis = {r["org_id"]: r for r in bm.tables["benchmark"].to_dict("records")}

    def share(r: dict[str, Any], name: str) -> str:
        row = cis.get(r["org_id"], {})
        return _ci(r[name], row.get(f"{name}_ci_low"), row.get(f"{name}_ci_high"))

    def post(v: Any) -> Any:
        return None if _missing(v) else v

    rows = [
        {
            "org_id": r["org_id"],
            "platform": "twitter" if _missing(r.get("platform")) else r.get("platform"),
            "posts": _int(r["posts"]),
            "ppw": _num(r["posts_per_week"]),
            "conv": share(r, "conversation_share"),
            "active_days": _int(r["active_days"]),
            "silence": _dur(r["longest_silence_s"]),
            # A silence is bounded by a post or by the window's edge (no post id): say which.
            "silence_from": post(r["silence_from_post_id"]),
            "silence_to": post(r["silence_to_post_id"]),
            "score": _num(r["presence_score"], 0),
            "engagement": _pct(r["engagement_rate"]),
            "reach": _int(r["potential_reach"]),
            "impressions": _int(r["impressions"]),
            "mentions": _int(r["mentions"]),
            "sov": share(r, "share_of_voice"),
            "last": post(r["last_post_id"]),
        }
        for r in bm.presence.to_dict("records")
    ]
    platforms = dict(zip(bm.evidence_posts["post_id"], bm.evidence_posts["platform"], strict=False))
    for row in rows:
        if row["last"] in platforms:
            row["platform"] = platforms[row["last"]]
    return {"presence_rows": rows}


def section_people(x: _Inputs) -> dict[str, Any]:
    """Each org account's presence score: its mean percentile within its peer group."""
    return {
        "people_rows": [
            {
                "handle": r["handle"],
                "peer_group": r["peer_group"],
                "score": _num(r["presence_score"], 0),
                "ppw": f"{_num(r['posts_per_week'])} ({_num(r['posts_per_week_pct'], 0)})",
                "conv": f"{_pct(r['conversation_share'])} ({_num(r['conversation_share_pct'], 0)})",
                "recv": f"{_int(r['replies_received'])} ({_num(r['replies_received_pct'], 0)})",
                "reach": f"{_int(r['potential_reach'])} ({_num(r['potential_reach_pct'], 0)})",
                "below": r["below_middle"] or "–",
            }
            for r in x.bm.accounts.to_dict("records")
        ]
    }


def section_evidence(x: _Inputs) -> dict[str, Any]:
    """Every post a figure points at, with its permalink."""
    return {
        "evidence_rows": [
            {
                "platform": r["platform"],
                "post_id": r["post_id"],
                "author_id": r["author_id"],
                "created": str(r["created_at"])[:16],
                "permalink": r["permalink"],
                "text": r["text"],
            }
            for r in x.bm.evidence_posts.to_dict("records")
        ]
    }


def section_peers(x: _Inputs) -> dict[str, Any]:
    """Percentiles within the peer group and the social divide per week."""
    head = x.bm.tables["benchmark"]
    pct_cols = [c for c in head.columns if c.endswith("_pct")]
    return {
        "pct_cols": [c.removesuffix("_pct") for c in pct_cols],
        "pct_rows": [
            {
                "org_id": r["org_id"],
                "peer_group": r["peer_group"],
                "tier": "–" if _missing(r["tier"]) else int(r["tier"]),
                "cells": [_num(r[c], 0) for c in pct_cols],
            }
            for r in head.to_dict("records")
        ],
        "divide_rows": [
            {
                "peer_group": r["peer_group"],
                "week": str(r["week"])[:10],
                "lt": _int(r["leaders_turns"]),
                "lr": _pct(r["leaders_rate"]),
                "ft": _int(r["followers_turns"]),
                "fr": _pct(r["followers_rate"]),
                "gap": _pct(r["gap"]),
            }
            for r in x.bm.divide.to_dict("records")
        ],
    }


def section_summary(x: _Inputs) -> dict[str, Any]:
    """The cards and findings at the top."""
    bm = x.bm
    head = bm.tables["benchmark"]
    turns = int(head["turns"].sum()) if len(head) else 0
    answered = int(head["answered"].sum()) if len(head) else 0
    tier_counts: list[tuple[int | str, str, int]] = [
        (n, name, sum(1 for t in bm.tiers if t.tier == n)) for n, name in TIER_LABELS.items()
    ]
    insufficient = sum(1 for t in bm.tiers if t.tier is None and t.label == INSUFFICIENT)
    thin = sum(1 for t in bm.tiers if t.label == INSUFFICIENT_COVERAGE)
    tier_counts.append(("–", INSUFFICIENT, insufficient))
    tier_counts.append(("–", INSUFFICIENT_COVERAGE, thin))
    lines = []
    if "all" in {t.variant for t in bm.tiers}:
        lines.append(
            "Actionable turns are not measured (posts not enriched): tiers use all turns, and "
            "tier 4 is withheld wherever the deflection rate is not measured."
        )
    lines.append(
        f"{insufficient:,} organizations have fewer than "
        f"{bm.thresholds.min_actionable_turns} turns in the window: insufficient data for a "
        "tier above 1."
    )
    silent = _scope_notes(bm)
    if silent:
        lines.append(
            f"{len(silent):,} organizations have no customer posts in this data (coverage: own "
            f"posts only), so no rate is measured for them: {', '.join(sorted(silent))}."
        )
    if thin:
        lines.append(
            f"{thin:,} organizations were collected without their inbound posts (coverage "
            f"threads_only on every platform): their rates are {THREADS_ONLY_WARNING}, and "
            f"no tier above 1 is given ({INSUFFICIENT_COVERAGE})."
        )
    return {
        "summary": {
            "orgs": f"{len(head):,}",
            "turns": f"{turns:,}",
            "answered_pct": _pct(answered / turns if turns else None),
            "backlog_7d": f"{int(head['backlog_7d'].sum()) if len(head) else 0:,}",
            "tiers": tier_counts,
            "lines": lines,
        }
    }


def section_listening(x: _Inputs) -> dict[str, Any]:
    """Actionable turns and the listening rates per org ("–": not measured)."""
    rows = x.bm.audit.listening_rows().to_dict("records")
    return {
        "listening_headers": [label(Listening, name) for name in LISTENING_COLUMNS],
        "listening_rows": [
            {
                "org_id": r["org_id"],
                "turns": _int(r["actionable_turns"]),
                "rate": _pct(r["actionable_response_rate"]),
                "frt": _dur(r["actionable_frt_median_s"]),
                "cells": [_pct(r[name]) for name in LISTENING_COLUMNS],
                "neg_answered": _pct(r["negative_share_answered"]),
                "neg_unanswered": _pct(r["negative_share_unanswered"]),
            }
            for r in rows
        ],
    }


#: How many topics of each org the report lists (the exports hold them all).
TOPICS_PER_ORG = 8


def section_topics(x: _Inputs) -> dict[str, Any]:
    """What customers raise with each org, biggest topics first, FAQ candidates marked."""
    groups = []
    for org, rows in sorted(x.topics.items()):
        top = sorted(rows, key=lambda t: (-t["turns"], t["topic_id"]))[:TOPICS_PER_ORG]
        groups.append(
            (
                org,
                [
                    {
                        "label": t["label"],
                        "terms": ", ".join(t["top_terms"][:6]),
                        "turns": _int(t["turns"]),
                        "questions": _pct(t["question_share"]),
                        "answered": _pct(t["answered_share"]),
                        "frt": _dur(t["frt_median_s"]),
                        "faq": t["faq_candidate"],
                        "example": (t["examples"] or [{}])[0],
                    }
                    for t in top
                ],
            )
        )
    return {"topic_groups": groups, "topic_notes": sorted(x.topic_notes.items())}


def topics_frame(topics: dict[str, list[dict[str, Any]]]) -> pd.DataFrame:
    """Every org's topics as one table (the report's ``topics`` export)."""
    rows = [
        {
            "org_id": org,
            **{k: v for k, v in t.items() if k not in ("examples", "coherence_npmi")},
            "top_terms": ", ".join(t["top_terms"]),
        }
        for org, found in sorted(topics.items())
        for t in found
    ]
    return pd.DataFrame(rows)


def section_campaigns(x: _Inputs) -> dict[str, Any]:
    """Every campaign's window figures, uplift and costs."""
    return {
        "campaign_rows": [
            {
                **r,
                "sov": _pct(r["share_of_voice"]),
                "uplift": "–" if _missing(r["uplift_ratio"]) else f"{r['uplift_ratio']:+.0%}",
                "reach": _int(r["potential_reach"]),
                "spend": _money(r["spend"]),
                "cpm": _money(r["cpm"]),
                "cpc": _money(r["cpc"]),
                "cpe": _money(r["cost_per_engagement"]),
                "cpconv": _money(r["cost_per_conversion"]),
            }
            for r in campaigns_frame(x.campaigns).to_dict("records")
        ],
        "campaign_formulas": sorted(x.campaigns.get("formulas", {}).items()),
    }


def section_quality(x: _Inputs) -> dict[str, Any]:
    """Data-quality counts and the quarantine by reason."""
    q = x.quality
    return {
        "quality": [(k, v) for k, v in q.items() if not isinstance(v, dict | list)]
        + [(f"quarantined: {k}", v) for k, v in (q.get("quarantine_by_reason") or {}).items()]
    }


#: One function per section of the report, in page order.
SECTIONS: tuple[Callable[[_Inputs], dict[str, Any]], ...] = (
    section_summary,
    section_tiers,
    section_responsiveness,
    section_unanswered,
    section_presence,
    section_people,
    section_evidence,
    section_peers,
    section_quality,
    section_listening,
    section_topics,
    section_campaigns,
)


def _context(
    bm: Benchmark,
    quality: dict[str, Any],
    *,
    title: str,
    exports: str,
    campaigns: dict[str, Any] | None = None,
    topics: dict[str, list[dict[str, Any]]] | None = None,
    topic_notes: dict[str, str] | None = None,
) -> dict[str, Any]:
    inputs = _Inputs(
        bm=bm,
        quality=quality,
        campaigns=campaigns or {},
        topics=topics or {},
        topic_notes=topic_notes or {},
    )
    context: dict[str, Any] = {
        "title": title,
        "bm": bm,
        "reference_time": None if bm.reference_time is None else iso_utc(bm.reference_time),
        "window_start": None if bm.window_start is None else iso_utc(bm.window_start),
        "window": bm.audit.window_text(),
        "metrics_version": bm.audit.metrics_version,
        "definitions": definitions(bm.thresholds),
        "exports_dir": exports,
        "figures": _figures(bm),
        "plotly_gz": _plotly_gz(),
    }
    for section in SECTIONS:
        context.update(section(inputs))
    return context


def render_html(
    bm: Benchmark,
    quality: dict[str, Any],
    /,
    *,
    title: str,
    exports: str,
    campaigns: dict[str, Any] | None = None,
    topics: dict[str, list[dict[str, Any]]] | None = None,
    topic_notes: dict[str, str] | None = None,
) -> str:
    """The report as one HTML string."""
    context = _context(
        bm, quality, title=title, exports=exports, campaigns=campaigns, topics=topics,
        topic_notes=topic_notes,
    )  # fmt: skip
    return _env().get_template("report.html.j2").render(**context)


def export_tables(
    bm: Benchmark, folder: Path, /, *, extra: dict[str, pd.DataFrame] | None = None
) -> tuple[str, ...]:
    """Write every table the report shows as CSV, Parquet and JSON into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = {**bm.tables, **(extra or {})}
    for name, frame in tables.items():
        # CRLF rows (RFC 4180): with "\n" alone, a bare "\r" in post text would go unquoted.
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\r\n")
        frame.to_parquet(folder / f"{name}.parquet", index=False)
        _write_json(folder / f"{name}.json", to_jsonable(frame))
    _write_json(folder / "summary.json", benchmark_document(bm))
    return (*tables, "summary")


def _write_json(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")


def write_report(
    bm: Benchmark,
    out: Path,
    /,
    *,
    quality: dict[str, Any],
    title: str,
    campaigns: dict[str, Any] | None = None,
    topics: dict[str, list[dict[str, Any]]] | None = None,
    topic_notes: dict[str, str] | None = None,
) -> ReportFiles:
    """Write ``out`` (HTML) and its exports folder ``<out stem>_data`` beside it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    exports = out.with_name(f"{out.stem}_data")
    extra = {"listening": bm.audit.listening_rows()}
    if campaigns and campaigns.get("campaigns"):
        extra["campaigns"] = campaigns_frame(campaigns)
    if topics:
        extra["topics"] = topics_frame(topics)
    tables = export_tables(bm, exports, extra=extra)
    html = render_html(
        bm, quality, title=title, exports=exports.name, campaigns=campaigns, topics=topics,
        topic_notes=topic_notes,
    )  # fmt: skip
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return ReportFiles(html=out, exports=exports, html_bytes=out.stat().st_size, tables=tables)


def build_report(
    engine: Engine,
    out: Path,
    /,
    *,
    thresholds: Thresholds | None = None,
    sectors: dict[str, str] | None = None,
    window_days: int | None = DEFAULT_WINDOW_DAYS,
    sla_minutes: int | None = None,
    title: str = "Social engagement audit",
    topic_notes: dict[str, str] | None = None,
) -> ReportFiles:
    """Measure, benchmark and write the report of everything in the engine's store.

    The topics section shows the topics stored (fit the missing ones first with
    :func:`socialaudit.enrich.topics.fit_missing_topics`; ``topic_notes`` are its notes).
    """
    tt = rs.build_turns(engine)
    bm = run(
        engine, thresholds=thresholds, sectors=sectors, window_days=window_days,
        sla_minutes=sla_minutes, turns=tt,
    )  # fmt: skip
    return write_report(
        bm,
        out,
        quality=run_quality(engine),
        title=title,
        campaigns=campaign_section(engine, sectors=sectors),
        topics=stored_topics(engine, tt),
        topic_notes=topic_notes,
    )


def stored_topics(engine: Engine, turns: rs.TurnTables) -> dict[str, list[dict[str, Any]]]:
    """Every org's stored topics with their figures (orgs without topics left out)."""
    found = topic_rows_by_org(engine, turns)
    return {org: found[org] for org in sorted(found) if found[org]}
