"""The REST API under ``/api``: read endpoints over the cached audit, and background jobs.

Endpoints only translate HTTP to :class:`~socialaudit.serve.service.Service` calls and back;
the figures come from the metrics layer. Errors are JSON ``{"message", "hint"}`` (see
``app.py``), and every response model is in ``/openapi.json``.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request

from socialaudit import __version__
from socialaudit.durations import parse_age
from socialaudit.metrics.inbox import INTENTS, SENTIMENTS
from socialaudit.serve import models as m
from socialaudit.serve.handoff import CONTROL_HEADER
from socialaudit.serve.jobs import Forbidden, Job, JobRunner, allowed_path
from socialaudit.serve.service import NotFound, Service

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": m.ErrorBody, "description": "Bad parameter"},
    401: {"model": m.ErrorBody, "description": "Token missing or wrong"},
    404: {"model": m.ErrorBody, "description": "No such org, campaign or job"},
    403: {"model": m.ErrorBody, "description": "Outside the import folder, or no control secret"},
    422: {"model": m.ErrorBody, "description": "Parameter out of range or of the wrong type"},
    503: {"model": m.ErrorBody, "description": "The store is being written; retry in a moment"},
}

router = APIRouter(prefix="/api", responses=ERRORS)


def service(request: Request) -> Service:
    """The app's service (one store, one cache)."""
    return request.app.state.service


def runner(request: Request) -> JobRunner:
    """The app's job runner."""
    return request.app.state.jobs


Svc = Annotated[Service, Depends(service)]
Jobs = Annotated[JobRunner, Depends(runner)]
#: Org ids come from the data and may be long or hold any character (issue 14).
OrgId = Annotated[str, Query(min_length=1, max_length=10_000, description="An org_id.")]


@router.get("/health", response_model=m.Health, tags=["meta"])
def health(svc: Svc) -> dict[str, Any]:
    """The store served, its generation and how long the cached audit took to build."""
    snap = svc.snapshot()
    return {
        "status": "ok",
        "store": svc.db,
        "generation": snap.generation,
        "snapshot_built_s": round(snap.built_s, 3),
        "snapshot_reused": snap.reused,
        "orgs": len(snap.org_ids),
        "version": __version__,
    }


@router.get("/orgs", response_model=list[m.OrgSummary], tags=["orgs"])
def orgs(svc: Svc) -> list[dict[str, Any]]:
    """Every organization with its tier and headline figures over the benchmark window."""
    return svc.orgs()


@router.get("/org", response_model=m.OrgDetail, tags=["orgs"])
def org_by_id(
    svc: Svc, org_id: Annotated[str, Query(alias="id", min_length=1, max_length=10_000)]
) -> dict[str, Any]:
    """``/api/orgs/{org_id}`` for any id (``/``, ``%``, control characters): in the query."""
    return svc.org(org_id)


@router.get("/orgs/{org_id}", response_model=m.OrgDetail, tags=["orgs"])
def org(org_id: str, svc: Svc) -> dict[str, Any]:
    """One organization: tier with evidence, audit, presence, weekly trend, FRT distribution."""
    return svc.org(org_id)


@router.get("/audit", response_model=m.AuditDoc, tags=["orgs"])
def audit(svc: Svc, org: OrgId | None = None) -> dict[str, Any]:
    """The responsiveness audit of every turn in the store (as ``socialaudit audit --json``)."""
    return svc.audit(org)


@router.get("/inbox", response_model=m.InboxPage, tags=["inbox"])
def inbox(
    svc: Svc,
    org: OrgId | None = None,
    platform: Annotated[str | None, Query(max_length=50)] = None,
    intent: Annotated[Literal[INTENTS] | None, Query()] = None,  # type: ignore[valid-type]
    sentiment: Annotated[Literal[SENTIMENTS] | None, Query()] = None,  # type: ignore[valid-type]
    older_than: Annotated[
        str | None, Query(description="Only turns waiting longer than this: 90m, 24h, 7d, 2w.")
    ] = None,
    newer_than: Annotated[
        str | None, Query(description="Only turns waiting at most this long.")
    ] = None,
    spam: Annotated[bool, Query(description="Include turns whose opener is spam.")] = True,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Unanswered turns, oldest first, filtered by org, platform, intent, sentiment and age."""
    return svc.inbox(
        org=org,
        platform=platform or None,
        intent=intent,
        sentiment=sentiment,
        min_age_s=parse_age(older_than, "older_than"),
        max_age_s=parse_age(newer_than, "newer_than"),
        include_spam=spam,
        page=page,
        per_page=per_page,
    )


@router.get("/orgs/{org_id}/topics", response_model=m.TopicsDoc, tags=["listening"])
def topics(org_id: str, request: Request, svc: Svc, jobs: Jobs) -> dict[str, Any]:
    """The org's topics and FAQ candidates; missing ones are fitted in the background."""
    return topics_doc(request, svc, jobs, org_id)


def topics_doc(request: Request, svc: Service, jobs: JobRunner, org_id: str) -> dict[str, Any]:
    """The topics document, starting the fit when the store has none for the org yet.

    While the job runs the document says ``fitting`` (the page shows it and reloads); a failed
    fit says why in ``hint``.
    """
    doc = svc.topics(org_id)
    if doc["fitted"] or not request.app.state.fit_topics:
        return doc
    job = jobs.topics(doc["org"])
    if job.state in ("queued", "running"):
        return {
            **doc,
            "fitting": True,
            "hint": f"Fitting the topics of {doc['org']}… This page reloads by itself.",
        }
    if job.state == "failed":
        return {**doc, "hint": f"The topics of {doc['org']} could not be fitted: {job.error}"}
    return doc


@router.get("/orgs/{org_id}/network", response_model=m.NetworkDoc, tags=["network"])
def network(
    org_id: str, svc: Svc, limit: Annotated[int, Query(ge=1, le=100)] = 10
) -> dict[str, Any]:
    """The org's conversation network, relevant network and trusted voices."""
    return svc.network(org_id, limit=limit)


@router.get("/campaigns", response_model=m.CampaignsDoc, tags=["campaigns"])
def campaigns(svc: Svc) -> dict[str, Any]:
    """Every campaign: mentions, reach, engagement, uplift and costs."""
    return svc.campaigns()


@router.get("/campaigns/{campaign_id}", response_model=m.CampaignDoc, tags=["campaigns"])
def campaign(campaign_id: str, svc: Svc) -> dict[str, Any]:
    """One campaign with its daily series."""
    return svc.campaign(campaign_id)


@router.get("/benchmark", response_model=m.BenchmarkDoc, tags=["benchmark"])
def benchmark(svc: Svc) -> dict[str, Any]:
    """Tiers with their evidence, peer percentiles and claimed vs measured activity."""
    return svc.benchmark()


@router.get("/quality", response_model=m.QualityDoc, tags=["data"])
def quality(svc: Svc) -> dict[str, Any]:
    """Clock skew, orphans, duplicates, quarantine by reason, direction contradictions."""
    return svc.quality()


@router.get("/imports", response_model=list[m.ImportRow], tags=["data"])
def imports(svc: Svc) -> list[dict[str, Any]]:
    """Every import, newest first."""
    return svc.imports()


@router.post("/imports", response_model=m.JobDoc, status_code=202, tags=["jobs"])
def start_import(body: m.ImportRequest, request: Request, jobs: Jobs) -> dict[str, Any]:
    """Import a file from the server's import folder in the background; poll ``/api/jobs/ID``."""
    path = allowed_path(request.app.state.import_dir, body.path)

    def work(store: Any, job: Job) -> dict[str, Any]:
        from socialaudit.ingest import import_file

        job.progress = f"importing {path.name}"
        result = import_file(
            path,
            store=store,
            format=body.format,
            mapping=body.map,
            platform=body.platform,
            time_format=body.time_format,
        )
        return {
            "import_id": result.import_id,
            "read": result.read,
            "inserted": result.inserted,
            "duplicates": result.duplicates,
            "quarantined": result.quarantined,
            "summary": result.summary(),
        }

    params = body.model_dump(exclude_none=True)
    return jobs.submit("import", params, work).as_dict()


@router.post("/collections", response_model=m.JobDoc, status_code=202, tags=["jobs"])
def start_collection(body: m.CollectRequest, jobs: Jobs) -> dict[str, Any]:
    """Collect from a platform's public API in the background; poll ``/api/jobs/ID``."""

    def work(store: Any, job: Job) -> dict[str, Any]:
        from socialaudit.collect import collect

        def progress(totals: Any, label: str) -> None:
            job.progress = f"{totals.pages:,} pages, {totals.inserted:,} new posts" + (
                f" ({label})" if label else ""
            )

        result = collect(
            body.platform,
            body.target,
            store=store,
            base_url=body.api_url,
            max_pages=body.max_pages,
            progress=progress,
        )
        return {
            "pages": result.pages,
            "read": result.read,
            "inserted": result.inserted,
            "duplicates": result.duplicates,
            "quarantined": result.quarantined,
            "requests": result.requests,
            "resumed": result.resumed,
            "import_ids": list(result.import_ids),
            "summary": result.summary(),
        }

    return jobs.submit("collect", body.model_dump(exclude_none=True), work).as_dict()


def _control(request: Request) -> None:
    """Only a holder of the server file's control secret may take the store (same OS user)."""
    expected = request.app.state.control
    given = request.headers.get(CONTROL_HEADER, "")
    if not expected or not secrets.compare_digest(given.encode(), expected.encode()):
        raise Forbidden(
            f"Taking the store needs the {CONTROL_HEADER} secret of the server file next to "
            "the store; the CLI sends it by itself."
        )


@router.post("/store/pause", response_model=m.StoreState, tags=["store"])
def pause_store(body: m.PauseRequest, request: Request, svc: Svc) -> dict[str, Any]:
    """Let a local CLI command write the store: the server closes it until ``/store/resume``."""
    _control(request)
    svc.pause(pid=body.pid, command=body.command)
    return {"paused_by": svc.paused_by}


@router.post("/store/resume", response_model=m.StoreState, tags=["store"])
def resume_store(body: m.ResumeRequest, request: Request, svc: Svc) -> dict[str, Any]:
    """The CLI command is done writing: the server reopens the store and rebuilds."""
    _control(request)
    svc.resume(body.pid)
    return {"paused_by": svc.paused_by}


@router.get("/jobs", response_model=list[m.JobDoc], tags=["jobs"])
def list_jobs(jobs: Jobs) -> list[dict[str, Any]]:
    """Every job this server remembers, newest first."""
    return [j.as_dict() for j in jobs.all()]


@router.get("/jobs/{job_id}", response_model=m.JobDoc, tags=["jobs"])
def job(job_id: str, jobs: Jobs) -> dict[str, Any]:
    """A job's state and progress; ``result`` once done, ``error`` if it failed."""
    found = jobs.get(job_id)
    if found is None:
        raise NotFound(f"No job {job_id!r}. GET /api/jobs lists the jobs this server remembers.")
    return found.as_dict()
