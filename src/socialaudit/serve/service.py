"""What the API and the dashboard ask, answered from the cached results of one run.

Every figure comes from :func:`socialaudit.run.run` through the per-generation cache of
:mod:`socialaudit.serve.snapshot`; this module only handles requests: it checks ids, filters,
pages and shapes each endpoint's document from the results.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import ibis

from socialaudit.errors import MetricError, MigrationError
from socialaudit.metrics import inbox as ib
from socialaudit.metrics.campaigns import campaign_report
from socialaudit.metrics.orgcheck import missing_orgs_hint
from socialaudit.results import benchmark_document, to_jsonable
from socialaudit.run import DEFAULT_WINDOW_DAYS, topic_rows
from socialaudit.serve.snapshot import GENERATION_SQL, Snapshot, SnapshotCache
from socialaudit.store import Store
from socialaudit.store.orgs import did_you_mean, match_org

__all__ = ["GENERATION_SQL", "INBOX_WHERE", "NotFound", "Service", "Snapshot"]

#: The inbox filter of :func:`socialaudit.metrics.inbox.filter_inbox` as one parameterised
#: statement over the snapshot's materialized inbox. The Ibis expression is the definition
#: (and what runs elsewhere); this is its hot path for the server, where compiling the
#: expression on every request cost more than the query. A test holds the two equal.
INBOX_WHERE = """
WHERE ($org IS NULL OR org_id = $org)
  AND ($platform IS NULL OR platform = $platform)
  AND ($intent IS NULL OR coalesce(list_contains(intents, $intent), false))
  AND ($sentiment IS NULL OR sentiment_label = $sentiment)
  AND ($min_age IS NULL OR age_s > $min_age)
  AND ($max_age IS NULL OR age_s <= $max_age)
  AND ($spam OR NOT coalesce(is_spam, false))
"""


F = TypeVar("F", bound=Callable[..., Any])


class NotFound(MetricError):
    """An org, campaign or job the store does not have (HTTP 404)."""


class StoreUnavailable(MetricError):
    """The server has handed the store to a writer for a moment (HTTP 503; retry soon)."""


@dataclass
class _Frozen:
    """What the last snapshot still reads from the store, copied to memory for a writer's turn.

    The snapshot's inbox is a table in the server's connection, and the imports list is read
    on each request: both would be gone with the connection while a writer holds the store.
    """

    generation: str
    #: An in-memory store holding the inbox as a registered Arrow table.
    store: Store
    inbox: str
    imports: list[dict[str, Any]]

    @classmethod
    def of(cls, store: Store, snap: Snapshot) -> _Frozen:
        """Copy ``snap``'s inbox and the store's imports out of ``store``."""
        memory = Store(":memory:")
        name = "_sa_frozen_inbox"
        memory.raw.register(name, store.to_pyarrow(snap.inbox))
        return cls(snap.generation, memory, name, _import_rows(store))


def _import_rows(store: Store) -> list[dict[str, Any]]:
    frame = store.execute(store.table("imports").order_by(ibis.desc("import_id")))
    rows: list[dict[str, Any]] = to_jsonable(frame)
    return rows


def _locked(method: F) -> F:
    """Hold the store lock from reading the snapshot to the last query on its tables.

    Otherwise a rebuild between the two (a job landed) could drop the tables being queried.
    """

    @functools.wraps(method)
    def wrapper(self: Service, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class Service:
    """A store opened for serving, and the per-generation cache over it."""

    def __init__(
        self,
        db: str | Path,
        *,
        window_days: int = DEFAULT_WINDOW_DAYS,
        warm: bool = True,
        read_only: bool = True,
    ) -> None:
        self.db = str(db)
        #: Rebuild in the background as soon as the store is back after a write.
        self.warm_after_write = warm
        #: Held read-only, other processes (the CLI beside a dashboard left running) can read
        #: the store too; writers get it handed over (:meth:`pause`). Read-write when this
        #: process writes it itself all along (``serve --watch``).
        self.read_only = read_only
        self.store: Store | None = _open_for_serving(self.db, read_only=read_only)
        self.window_days = window_days
        self.cache = SnapshotCache(self.store, window_days=window_days)
        self.lock = self.cache.lock
        #: The processes that asked for the store (PID -> command) and have not given it
        #: back; the store reopens once none is left (or alive).
        self._holders: dict[int, str] = {}
        self._holders_lock = threading.Lock()
        self._reopener: threading.Thread | None = None
        self._reopened = threading.Event()
        self._reopened.set()
        #: The last snapshot's store-side parts while a writer holds the store.
        self._frozen: _Frozen | None = None

    # -- handing the store to a writer ----------------------------------------------------------
    @property
    def paused_by(self) -> str | None:
        """Who holds the store while the server has let go of it (None: the server has it)."""
        with self._holders_lock:
            held = [f"{command} (PID {pid})" for pid, command in self._holders.items()]
        return ", ".join(held) or None

    def conn(self) -> Store:
        """The open store; :class:`StoreUnavailable` while a writer holds it."""
        if self.store is None:
            raise StoreUnavailable(
                f"The store is being written by {self.paused_by or 'another process'}. "
                "Reload in a moment: the dashboard comes back as soon as it is done."
            )
        return self.store

    def pause(self, *, pid: int, command: str) -> None:
        """Close the store so process ``pid`` can write it; reopen once every holder resumed.

        Waits for the request or build in progress. Pages already built keep answering
        from memory. A holder whose process ends without resuming counts as resumed.
        """
        if not self.read_only:
            raise StoreUnavailable(
                "This server writes the store itself (serve --watch), so it cannot hand it "
                "over. Stop the server to run writing commands, or serve without --watch."
            )
        with self.lock:
            if self.store is not None:
                snap = self.cache.last()
                if snap is not None:
                    self._frozen = _Frozen.of(self.store, snap)
                self.store.close()
                self.store = None
                self.cache.store = None
            with self._holders_lock:
                self._holders[pid] = command
            self._reopened.clear()
            if self._reopener is None:
                self._reopener = threading.Thread(
                    target=self._reopen_when_done, name="socialaudit-reopen", daemon=True
                )
                self._reopener.start()

    def resume(self, pid: int) -> None:
        """Process ``pid`` is done writing; the store reopens when no holder is left."""
        with self._holders_lock:
            self._holders.pop(pid, None)

    def wait_reopened(self, timeout: float | None = None) -> bool:
        """Block until the store is open again (tests and jobs use it)."""
        return self._reopened.wait(timeout)

    def _holders_left(self) -> bool:
        from socialaudit.serve.handoff import pid_alive

        with self._holders_lock:
            for pid in list(self._holders):
                if pid != os.getpid() and not pid_alive(pid):
                    del self._holders[pid]
            return bool(self._holders)

    def _reopen_when_done(self) -> None:
        from socialaudit.serve.handoff import open_when_free

        while True:
            while self._holders_left():
                time.sleep(0.2)
            store = open_when_free(self.db, read_only=True, wait_s=float("inf"))
            with self.lock:
                if self._holders_left():  # someone asked again meanwhile: let go again
                    store.close()
                    continue
                self.store = store
                self.cache.store = store
                self.cache.invalidate()
                self._thaw()
                self._reopener = None
                self._reopened.set()
            break
        if self.warm_after_write:
            self.warm_in_background()

    def _thaw(self) -> None:
        if self._frozen is not None:
            self._frozen.store.close()
            self._frozen = None

    def _frozen_for(self, snap: Snapshot) -> _Frozen | None:
        """The in-memory copy of ``snap``'s tables while a writer holds the store, else None."""
        frozen = self._frozen
        if self.store is None and frozen is not None and frozen.generation == snap.generation:
            return frozen
        return None

    @contextlib.contextmanager
    def reading(self) -> Iterator[Store]:
        """The server's connection for a job's reads, held under the lock like a request."""
        with self.lock:
            yield self.conn()

    @contextlib.contextmanager
    def writing(self, command: str) -> Iterator[None]:
        """Let go of the store while this process writes it (a background job)."""
        if not self.read_only:  # this process holds it read-write: the job shares it
            yield
            return
        self.pause(pid=os.getpid(), command=command)
        try:
            yield
        finally:
            self.resume(os.getpid())
            self.wait_reopened()

    @property
    def builds(self) -> int:
        """How many snapshots were built (a warm request builds none)."""
        return self.cache.builds

    def generation(self) -> str:
        """The store's current fingerprint."""
        return self.cache.generation()

    def snapshot(self) -> Snapshot:
        """The snapshot of the current generation, built now if the store has changed."""
        return self.cache.current()

    def invalidate(self) -> None:
        """Forget the snapshot (a job wrote to the store)."""
        self.cache.invalidate()

    def warm(self) -> None:
        """Build the snapshot now, so the first visitor does not wait for it.

        Runs in a background thread at start-up and after each job; a failure here is left
        for the next request to raise and show.
        """
        try:
            self.snapshot()
        except Exception:  # noqa: BLE001, S110 - the request that needs it reports it
            pass

    def warm_in_background(self) -> threading.Thread:
        """Start :meth:`warm` in a daemon thread."""
        thread = threading.Thread(target=self.warm, name="socialaudit-warm", daemon=True)
        thread.start()
        return thread

    def _lazy(self, snap: Snapshot, key: tuple[str, str], compute: Callable[[], Any]) -> Any:
        return self.cache.lazy(snap, key, compute)

    # -- reads ----------------------------------------------------------------------------------
    def require_org(self, snap: Snapshot, org: str) -> str:
        """The stored id ``org`` names (any case); :class:`NotFound` with a hint otherwise."""
        found = match_org(org, snap.org_ids)
        if found is None:
            raise NotFound(
                f"No organization {org!r} in the store{did_you_mean(org, snap.org_ids)}. "
                "GET /api/orgs lists them."
            )
        return found

    def orgs(self, *, snap: Snapshot | None = None) -> list[dict[str, Any]]:
        """Every org with its tier, peer group and headline figures."""
        snap = snap or self.snapshot()
        if snap.bm is None:
            return []
        bm = snap.bm
        rows: list[dict[str, Any]] = self._lazy(
            snap, ("orgs", ""), lambda: to_jsonable(bm.summaries())
        )
        return rows

    @_locked
    def orgs_hint(self, snap: Snapshot) -> str | None:
        """What to do when the store has no organizations: the CLI's hint (None: it has some).

        Names the most-addressed accounts and the command that declares them; None as well
        while a writer holds the store and the hint was never built.
        """
        if snap.bm is not None:
            return None
        if self.store is None and ("orgs_hint", "") not in snap.lazy:
            return None
        hint: str | None = self._lazy(
            snap, ("orgs_hint", ""), lambda: missing_orgs_hint(self.conn())
        )
        return hint

    def audit(self, org: str | None = None) -> dict[str, Any]:
        """The audit document of every turn in the store, exactly as ``audit --json``."""
        snap = self.snapshot()
        if org is not None:
            org = self.require_org(snap, org)
        doc: dict[str, Any] = self._lazy(
            snap,
            ("audit", org or ""),
            lambda: to_jsonable(snap.audit if org is None else snap.audit.only(org)),
        )
        return doc

    def org(self, org: str, *, snap: Snapshot | None = None) -> dict[str, Any]:
        """One org's page: audit, tier with evidence, presence, weekly trend, FRT buckets.

        Built from the snapshot's results once per generation, then served from memory.
        """
        snap = snap or self.snapshot()
        org = self.require_org(snap, org)
        return self._lazy(snap, ("org", org), lambda: self._org_doc(snap, org))

    def _org_doc(self, snap: Snapshot, org: str) -> dict[str, Any]:
        assert snap.bm is not None
        bm = snap.bm
        head = bm.tables["benchmark"]
        row = to_jsonable(head[head["org_id"] == org].iloc[0].to_dict())
        weekly = snap.weekly[snap.weekly["org_id"] == org]
        frt = snap.frt[snap.frt["org_id"] == org]
        counts = dict(zip(frt["bucket"].astype(int), frt["n"].astype(int), strict=True))
        doc = {
            "org_id": org,
            "name": row.get("name"),
            "peer_group": row.get("peer_group"),
            "peer_group_source": row.get("peer_group_source"),
            "reference_time": bm.reference_time,
            "window_start": bm.window_start,
            "window_days": bm.window_days,
            "tier": bm.tier_of(org),
            "figures": {k: v for k, v in row.items() if k != "org_id"},
            "audit": snap.audit.org(org),
            "presence": bm.presence[bm.presence["org_id"] == org],
            "weekly": weekly[["week", "turns", "answered", "response_rate", "frt_median_s"]],
            "frt_distribution": [
                {"bucket": label, "answered_turns": counts.get(i, 0)}
                for i, label in enumerate(ib.bucket_labels())
            ],
        }
        out: dict[str, Any] = to_jsonable(doc)
        return out

    @_locked
    def inbox(
        self,
        *,
        org: str | None = None,
        platform: str | None = None,
        intent: str | None = None,
        sentiment: str | None = None,
        min_age_s: int | None = None,
        max_age_s: int | None = None,
        include_spam: bool = True,
        page: int = 1,
        per_page: int = 50,
        snap: Snapshot | None = None,
    ) -> dict[str, Any]:
        """One page of unanswered turns, oldest first, and how many match in all.

        Filter values are bound parameters of :data:`INBOX_WHERE`, never SQL text.
        """
        snap = snap or self.snapshot()
        if org is not None:
            org = self.require_org(snap, org)
        params: dict[str, Any] = {
            "org": org,
            "platform": platform,
            "intent": intent,
            "sentiment": sentiment,
            "min_age": min_age_s,
            "max_age": max_age_s,
            "spam": include_spam,
        }
        columns = snap.inbox.columns
        frozen = self._frozen_for(snap)
        if frozen is not None:  # a writer holds the store: the last snapshot's copy answers
            con, table = frozen.store.raw, frozen.inbox
        else:
            con, table = self.conn().raw, snap.inbox.get_name()
        total = int(
            con.execute(f"SELECT count(*) FROM {table} {INBOX_WHERE}", params).fetchall()[0][0]
        )
        found = con.execute(
            f"SELECT {', '.join(columns)} FROM {table} {INBOX_WHERE} "
            "ORDER BY age_s DESC, turn_id, org_id, platform LIMIT $limit OFFSET $offset",
            {**params, "limit": per_page, "offset": (page - 1) * per_page},
        ).fetchall()
        items = [
            {
                "org_id": r["org_id"],
                "platform": r["platform"],
                "turn_id": r["turn_id"],
                "opener_author": to_jsonable(r["opener_author"]),
                "opened_at": to_jsonable(r["opener_created_at"]),
                "waiting_s": int(r["age_s"]),
                "followups": int(r["followups"]),
                "permalink": to_jsonable(r["permalink"]),
                "text": to_jsonable(r["text"]),
                "intents": _plain_list(r["intents"]),
                "sentiment": to_jsonable(r["sentiment"]),
                "sentiment_label": to_jsonable(r["sentiment_label"]),
                "spam": to_jsonable(r["is_spam"]),
            }
            for r in (dict(zip(columns, row, strict=True)) for row in found)
        ]
        return {
            "reference_time": to_jsonable(snap.turns.reference_time),
            "total": total,
            "page": page,
            "per_page": per_page,
            "pages": max(1, math.ceil(total / per_page)),
            "items": items,
        }

    def benchmark(self) -> dict[str, Any]:
        """The ``benchmark --json`` document: tiers with evidence, percentiles, claims."""
        snap = self.snapshot()
        if snap.bm is None:
            raise NotFound(
                "No organizations in the store to benchmark. Import an export first "
                "(POST /api/imports or socialaudit import FILE)."
            )
        return benchmark_document(snap.bm)

    def quality(self) -> dict[str, Any]:
        """Data-quality counts of the whole store."""
        return self.snapshot().quality

    def campaigns(self) -> dict[str, Any]:
        """Every campaign with its window figures, uplift and costs."""
        return to_jsonable(self.snapshot().campaigns)

    @_locked
    def campaign(self, campaign_id: str) -> dict[str, Any]:
        """One campaign in full: daily mentions, buzz, sentiment mix, costs."""
        snap = self.snapshot()
        known = [c["campaign"] for c in snap.campaigns.get("campaigns", [])]
        if campaign_id not in known:
            raise NotFound(
                f"No campaign {campaign_id!r} in the store "
                f"(known: {', '.join(known[:8]) or 'none'}). Declare campaigns with "
                "`socialaudit campaign --load campaigns.toml`."
            )
        return self._lazy(
            snap,
            ("campaign", campaign_id),
            lambda: to_jsonable(campaign_report(self.conn(), campaign_id)),
        )

    @_locked
    def network(self, org: str, *, limit: int = 10) -> dict[str, Any]:
        """An org's conversation network, relevant network and trusted voices."""
        from socialaudit.metrics.network_audit import network

        snap = self.snapshot()
        org = self.require_org(snap, org)
        return self._lazy(
            snap,
            ("network", f"{org}\x00{limit}"),
            lambda: to_jsonable(network(self.conn(), org, limit=limit)),
        )

    @_locked
    def topics(self, org: str) -> dict[str, Any]:
        """An org's stored topics with their figures and example posts (no refitting)."""
        snap = self.snapshot()
        org = self.require_org(snap, org)

        def compute() -> dict[str, Any]:
            topics = to_jsonable(topic_rows(self.conn(), snap.turns, org=org))
            hint = f"No topics stored for {org}: run `socialaudit topics {org}` to fit them."
            return {"org": org, "fitted": bool(topics), "fitting": False,
                    "hint": None if topics else hint, "topics": topics}  # fmt: skip

        return self._lazy(snap, ("topics", org), compute)

    def imports(self) -> list[dict[str, Any]]:
        """Every import, newest first, with its reconciled counts.

        While a writer holds the store: the imports as they were when it took it.
        """
        with self.lock:
            if self.store is None and self._frozen is not None:
                return self._frozen.imports
            return _import_rows(self.conn())

    def close(self, *, timeout: float = 5.0) -> bool:
        """Close the store, unless a snapshot build still holds it after ``timeout`` seconds.

        Stopping the server (Ctrl-C) during a long cold build should not wait for it: the build
        only reads, so leaving the connection to the process exit loses nothing. Returns
        whether the store was closed.
        """
        if not self.lock.acquire(timeout=timeout):
            return False
        try:
            self.cache.invalidate()
            self._thaw()
            if self.store is not None:
                self.store.close()
                self.store = self.cache.store = None
            return True
        finally:
            self.lock.release()


def _open_for_serving(db: str, *, read_only: bool) -> Store:
    """The store, migrated first if needed (which takes it read-write once)."""
    if not read_only:
        return Store(db)
    try:
        return Store(db, read_only=True)
    except MigrationError:
        Store(db).close()
        return Store(db, read_only=True)


def _plain_list(v: Any) -> list[str] | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return [str(x) for x in v]
