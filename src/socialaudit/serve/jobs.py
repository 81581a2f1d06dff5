"""Background jobs: an import or a collection started over HTTP, with progress to poll.

Jobs run one at a time on a single worker thread (the store has one writer), each on its own
connection to the store's database, so readers keep answering from the last snapshot while a
job writes. An import is all-or-nothing (``import_file``'s transaction); a collection commits
page by page with its cursor, so a failed job keeps the pages it finished and says so.
"""

from __future__ import annotations

import contextlib
import secrets
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from socialaudit.errors import ConfigError, SocialAuditError
from socialaudit.store import Store

JobState = Literal["queued", "running", "done", "failed"]
JobKind = Literal["import", "collect", "topics"]
MAX_KEPT = 200


class Forbidden(ConfigError):
    """A path outside the allowed import folder (HTTP 403)."""


@dataclass
class Job:
    """One background job and what it has done so far."""

    id: str
    kind: JobKind
    params: dict[str, Any]
    state: JobState = "queued"
    progress: str = "queued"
    created_at: str = field(default_factory=lambda: _now())
    started_at: str | None = None
    finished_at: str | None = None
    result: dict[str, Any] | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The job as the API returns it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "params": self.params,
            "state": self.state,
            "progress": self.progress,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "result": self.result,
            "error": self.error,
        }


def allowed_path(root: Path | None, candidate: str) -> Path:
    """``candidate`` resolved, if it is a file inside ``root``; :class:`Forbidden` otherwise.

    Symlinks and ``..`` are resolved before the check, so neither can lead outside the folder.
    """
    if root is None:
        raise Forbidden(
            "Imports over HTTP are off. Start the server with --import-dir DIR and put the "
            "files to import there."
        )
    base = root.resolve()
    p = Path(candidate)
    path = (p if p.is_absolute() else base / p).resolve()
    if not path.is_relative_to(base):
        raise Forbidden(
            f"{candidate!r} is outside the import folder. Put the file in {base} and pass its "
            "name relative to it."
        )
    if not path.is_file():
        raise Forbidden(f"No file {candidate!r} in the import folder {base}.")
    return path


class JobRunner:
    """Queue, run and remember jobs; calls ``on_done`` after each one that wrote anything."""

    def __init__(
        self,
        db: str,
        *,
        on_done: Callable[[], None] = lambda: None,
        writing: Callable[[str], AbstractContextManager[None]] | None = None,
        reading: Callable[[], AbstractContextManager[Store]] | None = None,
    ) -> None:
        self.db = db
        self.on_done = on_done
        #: Hands the store over for the job (the server holds it read-only otherwise).
        self.writing = writing or (lambda _command: contextlib.nullcontext())
        #: The server's own connection, for what a job only reads (a fresh one otherwise).
        self.reading = reading or (lambda: Store(self.db, read_only=True))
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="socialaudit-job")

    def submit(
        self,
        kind: JobKind,
        params: dict[str, Any],
        work: Callable[..., Any],
        prepare: Callable[[Job], None] | None = None,
    ) -> Job:
        """Queue ``work(store, job)``; it returns the result dict."""
        job = Job(id=secrets.token_hex(8), kind=kind, params=params)
        with self._lock:
            self.jobs[job.id] = job
            if len(self.jobs) > MAX_KEPT:
                for old in [j for j in self.jobs.values() if j.state in ("done", "failed")][
                    : len(self.jobs) - MAX_KEPT
                ]:
                    del self.jobs[old.id]
        self._pool.submit(self._run, job, work, prepare)
        return job

    def get(self, job_id: str) -> Job | None:
        """The job with that id, if it is still remembered."""
        with self._lock:
            return self.jobs.get(job_id)

    def all(self) -> list[Job]:
        """Every remembered job, newest first."""
        with self._lock:
            return sorted(self.jobs.values(), key=lambda j: j.created_at, reverse=True)

    def _run(
        self, job: Job, work: Callable[..., Any], prepare: Callable[[Job], None] | None = None
    ) -> None:
        job.state, job.started_at, job.progress = "running", _now(), "running"
        what = f"{job.kind} job {job.id} ({_describe(job.params)})"
        log(f"Started the {what}.")
        started = time.perf_counter()
        try:
            if prepare is not None:  # reads and computes without taking the store
                prepare(job)
            with self.writing(f"a {job.kind} job"), Store(self.db) as store:
                job.result = work(store, job)
            job.state = "done"
            job.progress = f"done in {time.perf_counter() - started:.1f} s"
            log(f"Finished the {what} in {time.perf_counter() - started:.1f} s.")
        except SocialAuditError as exc:
            job.state, job.error, job.progress = "failed", str(exc), "failed"
            log(f"The {what} failed: {exc}")
        except Exception as exc:  # noqa: BLE001 - a job must record any failure, not vanish
            job.state, job.progress = "failed", "failed"
            job.error = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
        finally:
            job.finished_at = _now()
            self.on_done()

    def topics(self, org: str) -> Job:
        """The job fitting ``org``'s topics: the one queued, running or last run, else a new one.

        A page that needs topics the store does not have starts this; a failed fit (too few
        requests) is not retried on every visit, its error is shown instead.
        """
        with self._lock:
            for job in sorted(self.jobs.values(), key=lambda j: j.created_at, reverse=True):
                if job.kind == "topics" and job.params.get("org") == org:
                    return job

        fitted: dict[str, Any] = {}

        def prepare(job: Job) -> None:
            from socialaudit.enrich.topics import fit_topics, turn_documents

            job.progress = f"reading the requests to {org}"
            log(f"Fitting the topics of {org} (the Topics page asked for them)…")
            with self.reading() as store:
                docs = turn_documents(store, org)
            job.progress = f"fitting topics on {len(docs):,} requests to {org}"
            fitted.update(docs=docs, model=fit_topics(docs["text"].tolist()))

        def work(store: Store, job: Job) -> dict[str, Any]:
            from socialaudit.enrich.topics import store_topics

            job.progress = f"storing the topics of {org}"
            model = store_topics(store, org, fitted["docs"], fitted["model"])
            log(f"Fitted {len(model.topics):,} topics for {org}.")
            return {"org": org, "topics": len(model.topics)}

        return self.submit("topics", {"org": org}, work, prepare)

    def shutdown(self) -> None:
        """Wait for the running job and stop."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def log(line: str) -> None:
    """One line on the server's log (stderr), stamped: what a background job is doing."""
    sys.stderr.write(f"{datetime.now(UTC):%H:%M:%S} {line}\n")
    sys.stderr.flush()


def _describe(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items() if v is not None)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
