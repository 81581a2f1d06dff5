"""The executive report: one self-contained HTML file, plus CSV/Parquet/JSON of every table.

Presentation only: every figure comes from :func:`socialaudit.benchmark.run.run_benchmark`.
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
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment

from socialaudit.benchmark.run import Benchmark, run_benchmark
from socialaudit.benchmark.tiers import TIER_LABELS, Thresholds
from socialaudit.metrics import quality as run_quality
from socialaudit.metrics.base import Engine
from socialaudit.metrics.campaigns import campaign_section
from socialaudit.report.fmt import TIER_COLORS, environment
from socialaudit.report.fmt import ci as _ci
from socialaudit.report.fmt import count as _int
from socialaudit.report.fmt import duration as _dur
from socialaudit.report.fmt import json_default as _json_default
from socialaudit.report.fmt import label as _label
from socialaudit.report.fmt import missing as _missing
from socialaudit.report.fmt import num as _num
from socialaudit.report.fmt import pct as _pct

DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "Turn",
        (
            "an inbound post that opens a request, plus the same author's replies to it; follow-"
            "ups are not counted again."
        ),
    ),
    (
        "Answered / FRT",
        (
            "a post by the org replies to a post of the turn; first-response time is the earliest"
            " such reply minus the opener. Negative FRTs (clock skew) are left out of timing."
        ),
    ),
    (
        "Response rate",
        (
            "answered turns / turns, with a 95% Wilson interval. 'all' uses every turn; "
            "'actionable' (the headline when posts are enriched) excludes spam and keeps "
            "questions and complaints."
        ),
    ),
    (
        "FRT median, p90",
        ("linear interpolation over answered turns with FRT >= 0."),
    ),
    (
        "KM median",
        (
            "the time by which half the turns had a first response, from the Kaplan-Meier curve "
            "with unanswered turns censored at the reference time; empty when more than half were"
            " never answered."
        ),
    ),
    (
        "SLA attainment",
        (
            "turns answered within the org's SLA (default 60 min) / turns, unanswered turns "
            "counting as misses. In business hours: the same, counting only the seconds the org "
            "is open (time zone, weekly shifts, holidays)."
        ),
    ),
    (
        "Backlog",
        (
            "unanswered turns strictly older than 24 h / 7 d / 30 d at the reference time (the "
            "latest post in the data, not the wall clock)."
        ),
    ),
    (
        "Presence",
        (
            "posts per week over the window, conversation share (replies / posts), active days, "
            "longest silence (between two posts, or since the last one), engagement rate by "
            "follower (mean over original posts of interactions / followers), potential reach "
            "(sum of followers of the posting accounts: an upper bound), share of voice (posts "
            "addressed to the org / those addressed to its peer group)."
        ),
    ),
    (
        "Maturity tier",
        (
            "0 absent (no posts in the window); 1 dormant (fewer posts per week than the "
            "threshold and no replies); 2 rudimentary (response rate < 50%, or median FRT > 24 h,"
            " or any turn unanswered > 7 days); 3 engaged (>= 50% and median <= 24 h); 4 leader "
            "(>= 80%, median <= 1 h, deflection <= 25%, nothing unanswered > 7 days). No tier "
            "above 1 below the minimum number of actionable turns. Thresholds: tiers.toml."
        ),
    ),
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


def _figures(bm: Benchmark) -> list[tuple[str, dict[str, Any]]]:
    head = bm.tables["benchmark"]
    figs: list[tuple[str, dict[str, Any]]] = []
    counts = {k: 0 for k in [*TIER_LABELS.values(), "insufficient data"]}
    for t in bm.tiers:
        counts[t.label] += 1
    figs.append(
        (
            "fig-tiers",
            {
                "data": [{"type": "bar", "x": list(counts), "y": list(counts.values()),
                          "marker": {"color": TIER_COLORS}}],
                "layout": {"title": {"text": "Organizations per maturity tier"},
                           "margin": {"l": 40, "r": 10, "t": 40, "b": 60}},
            },
        )
    )  # fmt: skip
    rated = head[head["turns"] > 0].sort_values("response_rate")
    rated = rated.tail(40)
    figs.append(
        (
            "fig-rate",
            {
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
            },
        )
    )  # fmt: skip
    by_turns = head.sort_values("turns", ascending=False).head(8)["org_id"].tolist()
    km = bm.km_curves
    traces = []
    for org in by_turns:
        c = km[km["org_id"] == org]
        if c.empty:
            continue
        hours = [0.0, *(c["t_s"].astype(float) / 3600).tolist()]
        surv = [1.0, *c["survival"].astype(float).tolist()]
        traces.append({"type": "scatter", "mode": "lines", "line": {"shape": "hv"},
                       "name": _label(org), "x": hours, "y": surv})  # fmt: skip
    figs.append(
        (
            "fig-km",
            {
                "data": traces,
                "layout": {"title": {"text": "Still waiting for a first response (Kaplan-Meier)"},
                           "xaxis": {"title": {"text": "hours since the turn opened"},
                                     "type": "log"},
                           "yaxis": {"tickformat": ".0%", "range": [0, 1.02]},
                           "margin": {"l": 50, "r": 10, "t": 40, "b": 50}},
            },
        )
    )  # fmt: skip
    bh = head[head["turns"] > 0].sort_values("turns", ascending=False).head(20)
    bh_data = [{"type": "bar", "name": "24/7", "x": [_label(o) for o in bh["org_id"]],
                "y": (bh["frt_median_s"].astype(float) / 3600).tolist()}]  # fmt: skip
    if bh["bh_frt_median_s"].notna().any():
        bh_data.append({"type": "bar", "name": "business hours",
                        "x": [_label(o) for o in bh["org_id"]],
                        "y": (bh["bh_frt_median_s"].astype(float) / 3600).tolist()})  # fmt: skip
    figs.append(
        (
            "fig-bh",
            {
                "data": bh_data,
                "layout": {"title": {"text": "Median FRT (hours): on the clock vs business hours"},
                           "barmode": "group", "margin": {"l": 50, "r": 10, "t": 40, "b": 110}},
            },
        )
    )  # fmt: skip
    pres = bm.presence[bm.presence["posts"] > 0]
    figs.append(
        (
            "fig-presence",
            {
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
            },
        )
    )  # fmt: skip
    div = bm.divide
    traces = []
    for group, g in div.groupby("peer_group", sort=True):
        g = g[g["gap"].notna()]
        if g.empty:
            continue
        traces.append({"type": "scatter", "mode": "lines+markers", "name": _label(group),
                       "x": [str(w)[:10] for w in g["week"]],
                       "y": g["gap"].astype(float).tolist()})  # fmt: skip
    figs.append(
        (
            "fig-divide",
            {
                "data": traces,
                "layout": {"title": {"text": "The social divide: leaders' minus followers' "
                                             "weekly response rate"},
                           "yaxis": {"tickformat": ".0%"},
                           "margin": {"l": 50, "r": 10, "t": 40, "b": 50}},
            },
        )
    )  # fmt: skip
    return figs


def _clean_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def listening_frame(bm: Benchmark) -> pd.DataFrame:
    """Per org: actionable turns, deflection, resolution and sentiment (None: not measured)."""
    rows = []
    for o in bm.audit.get("orgs", []):
        act = o["responsiveness"].get("actionable") or {}
        lis = o.get("listening") or {}
        sent = lis.get("sentiment") or {}
        rows.append(
            {
                "org_id": o["org"],
                "actionable_turns": act.get("turns"),
                "actionable_answered": act.get("answered"),
                "actionable_response_rate": act.get("response_rate"),
                "actionable_frt_median_s": act.get("frt_median_s"),
                "deflection_rate": o.get("deflection_rate"),
                "asks_move_channel_rate": lis.get("asks_move_channel_rate"),
                "resolution_rate": o.get("resolution_rate"),
                "negative_share_answered": (sent.get("answered") or {}).get("negative_share"),
                "negative_share_unanswered": (sent.get("unanswered") or {}).get("negative_share"),
            }
        )
    return pd.DataFrame(rows)


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


def _context(
    bm: Benchmark,
    quality: dict[str, Any],
    *,
    title: str,
    exports: str,
    campaigns: dict[str, Any] | None = None,
) -> dict[str, Any]:
    head = bm.tables["benchmark"]
    tiers_by_org = {t.org: t for t in bm.tiers}
    unanswered_groups = {
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
    tier_rows, resp_rows = [], []
    for r in head.sort_values(["tier", "org_id"], na_position="last").to_dict("records"):
        t = tiers_by_org[r["org_id"]]
        decisive = [e for e in t.evidence if e.holds is not None]
        tier_rows.append(
            {
                "org_id": r["org_id"],
                "peer_group": r["peer_group"],
                "tier": t.tier,
                "tier_label": t.label,
                "turns": _int(r["turns"]),
                "rate": _ci(
                    r["response_rate"], r["response_rate_ci_low"], r["response_rate_ci_high"]
                ),
                "frt": _dur(r["frt_median_s"]),
                "backlog_7d": _int(r["backlog_7d"]),
                "decided": decisive[-1].rule if decisive else t.label,
                "evidence": [e.as_dict() for e in t.evidence],
                "unanswered": r["org_id"] in unanswered_groups,
            }
        )
    for r in head.sort_values("org_id").to_dict("records"):
        resp_rows.append(
            {
                "org_id": r["org_id"],
                "turns": _int(r["turns"]),
                "answered": _int(r["answered"]),
                "rate": _ci(
                    r["response_rate"], r["response_rate_ci_low"], r["response_rate_ci_high"]
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
        )
    cis = {r["org_id"]: r for r in head.to_dict("records")}
    presence_rows = [
        {
            "org_id": r["org_id"],
            "platform": "twitter" if _missing(r.get("platform")) else r.get("platform"),
            "posts": _int(r["posts"]),
            "ppw": _num(r["posts_per_week"]),
            "conv": _ci(
                r["conversation_share"],
                cis.get(r["org_id"], {}).get("conversation_share_ci_low"),
                cis.get(r["org_id"], {}).get("conversation_share_ci_high"),
            ),
            "active_days": _int(r["active_days"]),
            "silence": _dur(r["longest_silence_s"]),
            # A silence is bounded by a post or by the window's edge: say which.
            "silence_from": None
            if _missing(r["silence_from_post_id"])
            else r["silence_from_post_id"],
            "silence_to": None if _missing(r["silence_to_post_id"]) else r["silence_to_post_id"],
            "score": _num(r["presence_score"], 0),
            "engagement": _pct(r["engagement_rate"]),
            "reach": _int(r["potential_reach"]),
            "impressions": _int(r["impressions"]),
            "mentions": _int(r["mentions"]),
            "sov": _ci(
                r["share_of_voice"],
                cis.get(r["org_id"], {}).get("share_of_voice_ci_low"),
                cis.get(r["org_id"], {}).get("share_of_voice_ci_high"),
            ),
            "last": None if _missing(r["last_post_id"]) else r["last_post_id"],
        }
        for r in bm.presence.to_dict("records")
    ]
    platforms = dict(zip(bm.evidence_posts["post_id"], bm.evidence_posts["platform"], strict=False))
    for row in presence_rows:
        if row["last"] in platforms:
            row["platform"] = platforms[row["last"]]
    people_rows = [
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
        for r in bm.accounts.to_dict("records")
    ]
    evidence_rows = [
        {
            "platform": r["platform"],
            "post_id": r["post_id"],
            "author_id": r["author_id"],
            "created": str(r["created_at"])[:16],
            "permalink": r["permalink"],
            "text": r["text"],
        }
        for r in bm.evidence_posts.to_dict("records")
    ]
    pct_cols = [c for c in head.columns if c.endswith("_pct")]
    pct_rows = [
        {
            "org_id": r["org_id"],
            "peer_group": r["peer_group"],
            "tier": "–" if _missing(r["tier"]) else int(r["tier"]),
            "cells": [_num(r[c], 0) for c in pct_cols],
        }
        for r in head.to_dict("records")
    ]
    divide_rows = [
        {
            "peer_group": r["peer_group"],
            "week": str(r["week"])[:10],
            "lt": _int(r["leaders_turns"]),
            "lr": _pct(r["leaders_rate"]),
            "ft": _int(r["followers_turns"]),
            "fr": _pct(r["followers_rate"]),
            "gap": _pct(r["gap"]),
        }
        for r in bm.divide.to_dict("records")
    ]
    turns = int(head["turns"].sum()) if len(head) else 0
    answered = int(head["answered"].sum()) if len(head) else 0
    tier_counts: list[tuple[int | str, str, int]] = [
        (n, label, sum(1 for t in bm.tiers if t.tier == n)) for n, label in TIER_LABELS.items()
    ]
    tier_counts.append(("–", "insufficient data", sum(1 for t in bm.tiers if t.tier is None)))
    lines = []
    variants = {t.variant for t in bm.tiers}
    if "all" in variants:
        lines.append(
            "Actionable turns are not measured (posts not enriched): tiers use all turns, and "
            "tier 4 is withheld wherever the deflection rate is not measured."
        )
    lines.append(
        f"{sum(1 for t in bm.tiers if t.tier is None):,} organizations have fewer than "
        f"{bm.thresholds.min_actionable_turns} turns in the window: insufficient data for a "
        "tier above 1."
    )
    return {
        "title": title,
        "bm": bm,
        "metrics_version": bm.audit.get("metrics_version", "v1"),
        "summary": {
            "orgs": f"{len(head):,}",
            "turns": f"{turns:,}",
            "answered_pct": _pct(answered / turns if turns else None),
            "backlog_7d": f"{int(head['backlog_7d'].sum()) if len(head) else 0:,}",
            "tiers": tier_counts,
            "lines": lines,
        },
        "tier_rows": tier_rows,
        "resp_rows": resp_rows,
        "has_business": bool(head["bh_frt_median_s"].notna().any()) if len(head) else False,
        "unanswered": sorted(unanswered_groups.items()),
        "per_org": max((len(v) for v in unanswered_groups.values()), default=0),
        "presence_rows": presence_rows,
        "people_rows": people_rows,
        "evidence_rows": evidence_rows,
        "pct_cols": [c.removesuffix("_pct") for c in pct_cols],
        "pct_rows": pct_rows,
        "divide_rows": divide_rows,
        "quality": [(k, v) for k, v in quality.items() if not isinstance(v, dict)]
        + [
            (f"quarantined: {k}", v) for k, v in (quality.get("quarantine_by_reason") or {}).items()
        ],
        "listening_rows": [
            {
                "org_id": r["org_id"],
                "turns": _int(r["actionable_turns"]),
                "rate": _pct(r["actionable_response_rate"]),
                "frt": _dur(r["actionable_frt_median_s"]),
                "deflected": _pct(r["deflection_rate"]),
                "asks": _pct(r["asks_move_channel_rate"]),
                "resolved": _pct(r["resolution_rate"]),
                "neg_answered": _pct(r["negative_share_answered"]),
                "neg_unanswered": _pct(r["negative_share_unanswered"]),
            }
            for r in listening_frame(bm).to_dict("records")
        ],
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
            for r in campaigns_frame(campaigns or {}).to_dict("records")
        ],
        "campaign_formulas": sorted((campaigns or {}).get("formulas", {}).items()),
        "definitions": DEFINITIONS,
        "exports_dir": exports,
        "figures": [(fid, _clean_json(spec)) for fid, spec in _figures(bm)],
        "plotly_gz": _plotly_gz(),
    }


def render_html(
    bm: Benchmark,
    quality: dict[str, Any],
    /,
    *,
    title: str,
    exports: str,
    campaigns: dict[str, Any] | None = None,
) -> str:
    """The report as one HTML string."""
    return (
        _env()
        .get_template("report.html.j2")
        .render(**_context(bm, quality, title=title, exports=exports, campaigns=campaigns))
    )


def export_tables(bm: Benchmark, folder: Path, /) -> tuple[str, ...]:
    """Write every table the report shows as CSV, Parquet and JSON into ``folder``."""
    from socialaudit.benchmark.run import tier_json

    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in bm.tables.items():
        # CRLF rows (RFC 4180): with "\n" alone, a bare "\r" in post text would go unquoted.
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\r\n")
        frame.to_parquet(folder / f"{name}.parquet", index=False)
        frame.to_json(folder / f"{name}.json", orient="records", date_format="iso", indent=1)
    (folder / "summary.json").write_text(
        json.dumps(_clean_json(tier_json(bm)), default=_json_default, indent=1), encoding="utf-8"
    )
    return (*bm.tables, "summary")


def write_report(
    bm: Benchmark,
    out: Path,
    /,
    *,
    quality: dict[str, Any],
    title: str,
    campaigns: dict[str, Any] | None = None,
) -> ReportFiles:
    """Write ``out`` (HTML) and its exports folder ``<out stem>_data`` beside it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    exports = out.with_name(f"{out.stem}_data")
    bm.tables["listening"] = listening_frame(bm)
    if campaigns and campaigns.get("campaigns"):
        bm.tables["campaigns"] = campaigns_frame(campaigns)
    tables = export_tables(bm, exports)
    html = render_html(bm, quality, title=title, exports=exports.name, campaigns=campaigns)
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
    window_days: int = 90,
    sla_minutes: int | None = None,
    title: str = "Social engagement audit",
) -> ReportFiles:
    """Measure, benchmark and write the report of everything in the engine's store."""
    bm = run_benchmark(
        engine, thresholds=thresholds, sectors=sectors, window_days=window_days,
        sla_minutes=sla_minutes,
    )  # fmt: skip
    return write_report(
        bm, out, quality=run_quality(engine), title=title, campaigns=campaign_section(engine)
    )
