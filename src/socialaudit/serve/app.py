"""The ASGI application: the REST API, the dashboard, the security middleware, the errors.

:func:`create_app` is what ``socialaudit serve`` runs under Uvicorn and what tests drive with
FastAPI's ``TestClient``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from socialaudit import __version__
from socialaudit.errors import SocialAuditError
from socialaudit.serve import api, pages, security
from socialaudit.serve.handoff import ServerInfo, remove_server_file, write_server_file
from socialaudit.serve.jobs import Forbidden, JobRunner
from socialaudit.serve.service import NotFound, Service, StoreUnavailable

_SENTENCE_END = re.compile(r"(?<=[.)])\s+(?=[A-Z`(])")


def split_message(text: str) -> tuple[str, str | None]:
    """Our errors read "What went wrong. How to fix it.": the first sentence, and the rest."""
    parts = _SENTENCE_END.split(text.strip(), maxsplit=1)
    return parts[0], (parts[1] if len(parts) > 1 else None)


def _status(exc: SocialAuditError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, StoreUnavailable):
        return 503
    return 400 if exc.exit_code == 2 else 500


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api") or "text/html" not in request.headers.get(
        "accept", ""
    )


def create_app(
    db: str | Path,
    /,
    *,
    token: str | None = None,
    allowed_hosts: frozenset[str] | None = None,
    import_dir: Path | None = None,
    window_days: int = 90,
    warm: bool = True,
    control: str | None = None,
    server_info: ServerInfo | None = None,
    fit_topics: bool = True,
    read_only: bool = True,
) -> FastAPI:
    """The app over the store at ``db``.

    ``token``: required on every request when set. ``allowed_hosts``: accepted ``Host``
    headers (``None``: any). ``import_dir``: the only folder ``POST /api/imports`` reads
    from (``None``: imports over HTTP are off). ``warm``: build the cached audit in the
    background as soon as the server starts, and again after each job. ``control``: the
    secret of the server file that lets a CLI writer ask for the store (``None``: refused).
    ``server_info``: written as the server file while the app runs (removed on shutdown,
    before Uvicorn re-raises the signal that stopped it). ``fit_topics``: fit an org's
    topics in the background when its Topics page (or endpoint) finds none stored.
    ``read_only``: hold the store read-only (the CLI can read it meanwhile); False when this
    process writes it itself (``serve --watch``).
    """
    svc = Service(db, window_days=window_days, warm=warm, read_only=read_only)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if server_info is not None:
            write_server_file(server_info)
        if warm:
            svc.warm_in_background()
        try:
            yield
        finally:
            if server_info is not None:
                remove_server_file(server_info.db, server_info.pid)
            app.state.jobs.shutdown()
            svc.close()

    app = FastAPI(
        title="socialaudit",
        version=__version__,
        description=(
            "How organizations really engage on social media, measured from their public record:"
            " responsiveness, the unanswered inbox, listening, topics, network, campaigns and "
            "tiers against their peers. Every figure comes from the socialaudit metrics layer."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = svc
    # A job takes the store from the service and gives it back: the service drops its
    # snapshot then (and rebuilds it when warm), so nothing is left to do when a job is done.
    app.state.jobs = JobRunner(svc.db, writing=svc.writing, reading=svc.reading)
    app.state.control = control
    app.state.fit_topics = fit_topics
    app.state.import_dir = import_dir
    app.state.token = token
    app.middleware("http")(security.middleware(token, allowed_hosts))

    @app.exception_handler(SocialAuditError)
    async def _known(request: Request, exc: SocialAuditError) -> Response:
        status = _status(exc)
        message, hint = split_message(str(exc))
        if _wants_json(request):
            return JSONResponse({"message": message, "hint": hint}, status_code=status)
        return pages.error_page(request, status, message, hint)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body"))
            problems.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
        message = "Bad parameter: " + "; ".join(problems)
        hint = "See /openapi.json for each endpoint's parameters and their allowed values."
        if _wants_json(request):
            return JSONResponse({"message": message, "hint": hint}, status_code=422)
        return pages.error_page(request, 422, message, hint)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = str(exc.detail)
        hint = "GET /api/health checks the server; /openapi.json lists every endpoint."
        if exc.status_code == 404:
            message = f"Nothing at {request.url.path}."
        if _wants_json(request):
            return JSONResponse(
                {"message": message, "hint": hint},
                status_code=exc.status_code,
                headers=getattr(exc, "headers", None),
            )
        return pages.error_page(request, exc.status_code, message, "Start from the overview.")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Starlette logs the traceback after this handler answers; the client gets one line.
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        message = f"Unexpected error: {type(exc).__name__}: {first}"
        hint = "This is a bug in socialaudit: the server log has the traceback; please report it."
        if _wants_json(request):
            response: Response = JSONResponse({"message": message, "hint": hint}, status_code=500)
        else:
            response = pages.error_page(request, 500, message, hint)
        # This handler runs outside the middleware stack: add the security headers here too.
        for key, value in security.HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    app.include_router(api.router)
    app.include_router(pages.router)
    pages.mount_static(app)
    return app
