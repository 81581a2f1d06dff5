"""The dashboard: server-rendered pages over the same service the API uses.

Jinja2 with autoescaping renders every page; nothing untrusted is marked safe. Charts are
Plotly specs written as JSON into ``<script type="application/json">`` elements (escaped so no
post can close them) and drawn by ``static/dashboard.js`` with the Plotly build that ships in
the installed ``plotly`` package, served from ``/static``: no inline script, no CDN, no build
step, and the Content-Security-Policy forbids anything else.
"""

from __future__ import annotations

from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment
from starlette.responses import Response

from socialaudit import __version__
from socialaudit.benchmark.tiers import INSUFFICIENT, TIER_LABELS, WITHHELD_LABELS, explain
from socialaudit.durations import parse_age
from socialaudit.metrics.inbox import INTENTS, SENTIMENTS
from socialaudit.metrics.orgcheck import DATA_SCOPE_NOTES
from socialaudit.report import fmt
from socialaudit.results.model import HEADLINE_LISTENING, listening_cards
from socialaudit.serve import api
from socialaudit.serve.service import Service

router = APIRouter(include_in_schema=False)


def _env() -> Environment:
    env = fmt.environment("socialaudit.serve")
    env.filters.update(
        dur=fmt.duration,
        pct=fmt.pct,
        ci=fmt.ci,
        num=fmt.num,
        count=fmt.count,
    )
    env.globals.update(
        version=__version__,
        tier_labels=TIER_LABELS,
        headline_listening=HEADLINE_LISTENING,
        org_url=org_url,
        data_scope_notes=DATA_SCOPE_NOTES,
    )
    return env


def org_url(org_id: Any, page: str = "") -> str:
    """The id-safe link to an org's page: the id travels in the query string, encoded.

    Ids come from the data, so they can hold ``/``, ``%``, ``..``, control characters or
    RTL marks; in a path they would be split, decoded or normalized away (issue 14). The
    ``/orgs/{org_id}`` paths still answer for ids without such characters.
    """
    suffix = f"/{page}" if page else ""
    return f"/org{suffix}?" + urlencode({"id": str(org_id)})


ENV = _env()


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page, with the navigation and the store's reference time."""
    svc = getattr(request.app.state, "service", None)
    html = ENV.get_template(template).render(
        request=request,
        path=request.url.path,
        paused_by=None if svc is None else svc.paused_by,
        **context,
    )
    return HTMLResponse(html, status_code=status)


def error_page(request: Request, status: int, message: str, hint: str | None) -> Response:
    """An error as a page (the API answers JSON instead)."""
    return render(request, "error.html.j2", status=status, status_code=status, message=message,
                  hint=hint)  # fmt: skip


def _svc(request: Request) -> Service:
    return request.app.state.service


def _chart(fid: str, data: list[dict[str, Any]], layout: dict[str, Any]) -> dict[str, Any]:
    base = {"margin": {"l": 60, "r": 10, "t": 40, "b": 50}, "height": 320}
    return {"id": fid, "spec": {"data": data, "layout": {**base, **layout}}}


def _group_heading(o: dict[str, Any]) -> str:
    """A peer group with where it came from, as every view shows it."""
    source = o.get("peer_group_source")
    if source in (None, "none"):
        return f"{o['peer_group'] or '–'} (no peer group)"
    return f"{o['peer_group']} ({source})"


@router.get("/", response_class=HTMLResponse)
def overview(request: Request) -> HTMLResponse:
    """Tier per org and the ranking within each peer group."""
    svc = _svc(request)
    snap = svc.snapshot()
    orgs = svc.orgs(snap=snap)
    found = Counter(o["tier_label"] or INSUFFICIENT for o in orgs)
    counts = {label: found[label] for label in [*TIER_LABELS.values(), *WITHHELD_LABELS]}
    groups: dict[str, list[dict[str, Any]]] = {}
    for o in orgs:
        groups.setdefault(_group_heading(o), []).append(o)
    for rows in groups.values():
        rows.sort(key=lambda o: (-(o["response_rate"] or -1), o["org_id"]))
    rated = sorted(
        (o for o in orgs if o["response_rate"] is not None), key=lambda o: o["response_rate"]
    )[-40:]
    charts = [
        _chart(
            "fig-tiers",
            [{"type": "bar", "x": list(counts), "y": list(counts.values()),
              "marker": {"color": fmt.TIER_COLORS}}],
            {"title": {"text": "Organizations per maturity tier"}},
        ),
        _chart(
            "fig-rates",
            [{"type": "bar", "orientation": "h",
              "y": [fmt.label(o["org_id"]) for o in rated],
              "x": [o["response_rate"] for o in rated],
              "error_x": {"type": "data", "symmetric": False,
                          "array": [(o["response_rate_ci_high"] or 0) - o["response_rate"]
                                    for o in rated],
                          "arrayminus": [o["response_rate"] - (o["response_rate_ci_low"] or 0)
                                         for o in rated]}}],
            {"title": {"text": "Response rate with 95% Wilson interval"},
             "xaxis": {"tickformat": ".0%", "range": [0, 1.05]},
             "height": max(320, 18 * len(rated) + 80), "margin": {"l": 140, "r": 10, "t": 40,
                                                                  "b": 40}},
        ),
    ]  # fmt: skip
    return render(
        request,
        "overview.html.j2",
        title="Overview",
        orgs=orgs,
        groups=sorted(groups.items()),
        charts=charts,
        bm=snap.bm,
        claimed=None if snap.bm is None else snap.bm.claimed,
        orgs_hint=svc.orgs_hint(snap),
    )


#: An org id as a query parameter: any text at all (issue 14), within a sane length.
QueryOrgId = Annotated[str, Query(alias="id", min_length=1, max_length=10_000)]


@router.get("/org", response_class=HTMLResponse)
def org_page_by_id(org_id: QueryOrgId, request: Request) -> HTMLResponse:
    """The org page for any id (``/org?id=...``): see :func:`org_url`."""
    return org_page(org_id, request)


@router.get("/org/topics", response_class=HTMLResponse)
def topics_page_by_id(org_id: QueryOrgId, request: Request) -> HTMLResponse:
    """The topics page for any id (``/org/topics?id=...``)."""
    return topics_page(org_id, request)


@router.get("/org/network", response_class=HTMLResponse)
def network_page_by_id(org_id: QueryOrgId, request: Request) -> HTMLResponse:
    """The network page for any id (``/org/network?id=...``)."""
    return network_page(org_id, request)


@router.get("/orgs/{org_id}", response_class=HTMLResponse)
def org_page(org_id: str, request: Request) -> HTMLResponse:
    """Responsiveness over time, FRT distribution, backlog, deflection, sentiment, tier."""
    svc = _svc(request)
    snap = svc.snapshot()  # once per request: the fingerprint check is a query
    doc = svc.org(org_id, snap=snap)
    weeks = doc["weekly"]
    frt = doc["frt_distribution"]
    charts = [
        _chart(
            "fig-weekly",
            [{"type": "scatter", "mode": "lines+markers", "name": "response rate",
              "x": [w["week"] for w in weeks], "y": [w["response_rate"] for w in weeks]},
             {"type": "bar", "name": "turns opened", "yaxis": "y2", "opacity": 0.35,
              "x": [w["week"] for w in weeks], "y": [w["turns"] for w in weeks]}],
            {"title": {"text": "Weekly: turns opened and the share answered"},
             "yaxis": {"tickformat": ".0%", "range": [0, 1.05]},
             "yaxis2": {"overlaying": "y", "side": "right", "showgrid": False},
             "legend": {"orientation": "h", "y": -0.2},
             "margin": {"l": 60, "r": 50, "t": 40, "b": 60}},
        ),
        _chart(
            "fig-weekly-frt",
            [{"type": "scatter", "mode": "lines+markers", "name": "median FRT (h)",
              "x": [w["week"] for w in weeks],
              "y": [None if w["frt_median_s"] is None else w["frt_median_s"] / 3600
                    for w in weeks]}],
            {"title": {"text": "Weekly median first-response time (hours)"}},
        ),
        _chart(
            "fig-frt",
            [{"type": "bar", "x": [b["bucket"] for b in frt],
              "y": [b["answered_turns"] for b in frt]}],
            {"title": {"text": "First-response time distribution (answered turns)"}},
        ),
    ]  # fmt: skip
    # Before enrichment the audit has no listening figures: show them as not measured.
    lis = doc["audit"].get("listening") or {"sentiment": None}
    sent = lis.get("sentiment")
    if sent:
        charts.append(
            _chart(
                "fig-sentiment",
                [{"type": "bar", "x": ["answered", "unanswered"],
                  "y": [sent["answered"]["negative_share"], sent["unanswered"]["negative_share"]],
                  "marker": {"color": ["#2563eb", "#b42318"]}}],
                {"title": {"text": "Share of negative openers: answered vs unanswered"},
                 "yaxis": {"tickformat": ".0%"}},
            )
        )  # fmt: skip
    inbox = svc.inbox(org=org_id, per_page=10, snap=snap)
    return render(
        request,
        "org.html.j2",
        title=org_id,
        doc=doc,
        all=doc["audit"]["responsiveness"]["all"],
        actionable=doc["audit"]["responsiveness"].get("actionable"),
        listening=lis,
        listening_cards=[(title, lis.get(name), note) for name, title, note in listening_cards()],
        tier_explanation="" if snap.bm is None else explain(snap.bm.thresholds),
        window=snap.audit.window_text(),
        charts=charts,
        inbox=inbox,
    )


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(
    request: Request,
    org: Annotated[str | None, Query(max_length=10_000)] = None,
    platform: Annotated[str | None, Query(max_length=50)] = None,
    intent: Annotated[Literal[("", *INTENTS)] | None, Query()] = None,  # type: ignore[valid-type]
    sentiment: Annotated[Literal[("", *SENTIMENTS)] | None, Query()] = None,  # type: ignore[valid-type]
    older_than: Annotated[str | None, Query(max_length=20)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> HTMLResponse:
    """The unanswered inbox with filters and permalinks: the page a care team works from."""
    svc = _svc(request)
    filters = {
        "org": org or None,
        "platform": platform or None,
        "intent": intent or None,
        "sentiment": sentiment or None,
        "older_than": older_than or None,
    }
    snap = svc.snapshot()
    result = svc.inbox(
        snap=snap,
        org=filters["org"],
        platform=filters["platform"],
        intent=filters["intent"],
        sentiment=filters["sentiment"],
        min_age_s=parse_age(filters["older_than"], "older_than"),
        page=page,
        per_page=per_page,
    )
    kept = {k: v for k, v in filters.items() if v}

    def page_url(n: int) -> str:
        return "/inbox?" + urlencode({**kept, "page": n, "per_page": per_page})

    return render(
        request,
        "inbox.html.j2",
        title="Unanswered inbox",
        result=result,
        filters=filters,
        org_ids=snap.org_ids,
        platforms=snap.platforms,
        intents=INTENTS,
        sentiments=SENTIMENTS,
        enriched=snap.audit.enriched,
        prev_url=page_url(page - 1) if page > 1 else None,
        next_url=page_url(page + 1) if page < result["pages"] else None,
    )


@router.get("/orgs/{org_id}/topics", response_class=HTMLResponse)
def topics_page(org_id: str, request: Request) -> HTMLResponse:
    """Topics and FAQ candidates; fitted in the background on the first visit if missing."""
    doc = api.topics_doc(request, _svc(request), request.app.state.jobs, org_id)
    topics = doc["topics"]
    charts = []
    if topics:
        top = sorted(topics, key=lambda t: t["turns"])[-20:]
        charts.append(
            _chart(
                "fig-topics",
                [{"type": "bar", "orientation": "h",
                  "y": [fmt.label(t["label"] or t["topic_id"]) for t in top],
                  "x": [t["turns"] for t in top],
                  "marker": {"color": ["#b42318" if t["faq_candidate"] else "#2563eb"
                                       for t in top]}}],
                {"title": {"text": "Turns per topic (red: FAQ candidate)"},
                 "height": max(320, 22 * len(top) + 80),
                 "margin": {"l": 220, "r": 10, "t": 40, "b": 40}},
            )
        )  # fmt: skip
    return render(request, "topics.html.j2", title=f"{org_id}: topics", doc=doc, charts=charts)


@router.get("/orgs/{org_id}/network", response_class=HTMLResponse)
def network_page(org_id: str, request: Request) -> HTMLResponse:
    """Graph size, relevant network and trusted voices."""
    doc = _svc(request).network(org_id)
    voices = doc.get("trusted_voices") or []
    charts = []
    if voices:
        top = voices[:15][::-1]
        charts.append(
            _chart(
                "fig-voices",
                [{"type": "bar", "orientation": "h",
                  "y": [fmt.label(v.get("voice") or "?") for v in top],
                  "x": [v.get("pagerank") for v in top]}],
                {"title": {"text": "Trusted voices by PageRank"},
                 "height": max(320, 22 * len(top) + 80),
                 "margin": {"l": 160, "r": 10, "t": 40, "b": 40}},
            )
        )  # fmt: skip
    return render(
        request, "network.html.j2", title=f"{org_id}: network", org_id=org_id, doc=doc,
        voices=voices, charts=charts,
    )  # fmt: skip


@router.get("/campaigns", response_class=HTMLResponse)
def campaigns_page(request: Request) -> HTMLResponse:
    """Every campaign's headline figures."""
    doc = _svc(request).campaigns()
    return render(request, "campaigns.html.j2", title="Campaigns", doc=doc)


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(campaign_id: str, request: Request) -> HTMLResponse:
    """One campaign: its daily mentions against the window before, and its costs."""
    doc = _svc(request).campaign(campaign_id)
    days = doc.get("daily") or []
    charts = [
        _chart(
            "fig-campaign-daily",
            [{"type": "bar", "name": "mentions", "x": [str(d.get("day")) for d in days],
              "y": [d.get("mentions") for d in days]},
             {"type": "scatter", "mode": "lines", "name": "unique authors",
              "x": [str(d.get("day")) for d in days],
              "y": [d.get("unique_authors") for d in days]}],
            {"title": {"text": "Daily mentions during the campaign"},
             "legend": {"orientation": "h"}},
        )
    ]  # fmt: skip
    return render(request, "campaign.html.j2", title=doc["name"] or campaign_id, doc=doc,
                  charts=charts)  # fmt: skip


@router.get("/quality", response_class=HTMLResponse)
def quality_page(request: Request) -> HTMLResponse:
    """Data-quality counts and every import."""
    svc = _svc(request)
    q = svc.quality()
    return render(
        request,
        "quality.html.j2",
        title="Data quality",
        flags=[(k, v) for k, v in q.items() if not isinstance(v, dict | list)],
        reasons=sorted((q.get("quarantine_by_reason") or {}).items()),
        outliers=q.get("time_outlier_posts") or [],
        imports=svc.imports(),
    )


@router.get("/static/plotly.min.js")
def plotly_js() -> FileResponse:
    """Plotly's JS from the installed ``plotly`` package (no CDN)."""
    path = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
    return FileResponse(
        path, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"}
    )


def mount_static(app: FastAPI) -> None:
    """Serve the dashboard's own JS and CSS."""
    folder = Path(str(resources.files("socialaudit.serve") / "static"))
    app.mount("/static", StaticFiles(directory=folder), name="static")
