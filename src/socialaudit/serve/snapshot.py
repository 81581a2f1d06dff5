"""The dashboard's cache: one run's results per *generation* of the store.

A generation is a fingerprint of what the audit depends on (imports, orgs, campaigns,
enrichments, topics, and the store's write counter). :class:`SnapshotCache` builds one
:class:`Snapshot` per generation with :func:`socialaudit.run.run` and hands it to every request
until the fingerprint changes (a new import, or any other write); slower per-org views are
kept in the same snapshot so that they are invalidated together.

The results of a snapshot are also kept on disk beside the store (``STORE.snapshot``, see
:func:`save_results`), keyed by the generation: a restart with nothing new reads them back
instead of re-running the audit (issue 18), and any write makes them stale.

DuckDB connections are not safe to share between threads: every store access goes through
``lock``. Background jobs open their own connection to the same database (DuckDB shares one
instance per file within a process), so a long import does not block readers.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from socialaudit import __version__
from socialaudit.metrics import inbox as ib
from socialaudit.metrics import responsiveness as rs
from socialaudit.metrics.campaigns import campaign_section
from socialaudit.metrics.peer_groups import load_sectors
from socialaudit.metrics.quality import quality as run_quality
from socialaudit.results import AuditResult, BenchmarkResult
from socialaudit.run import run, run_audit
from socialaudit.store import Store
from socialaudit.store.store import is_lake

#: The fingerprint of what the audit depends on: one row per figure, each a count or a max
#: over a small table. As sub-queries of one SELECT, DuckDB plans them as a cross product
#: (200 ms for nine); as a UNION ALL they take a few ms.
GENERATION_SQL = """
SELECT 1 AS k, CAST(count(*) AS VARCHAR) FROM imports
UNION ALL SELECT 2, CAST(max(import_id) AS VARCHAR) FROM imports
UNION ALL SELECT 3, CAST(max(finished_at) AS VARCHAR) FROM imports
UNION ALL SELECT 4, CAST(count(*) AS VARCHAR) FROM orgs
UNION ALL SELECT 5, CAST(count(*) AS VARCHAR) FROM org_accounts
UNION ALL SELECT 6, CAST(count(*) AS VARCHAR) FROM campaigns
UNION ALL SELECT 7, CAST(count(*) AS VARCHAR) FROM campaign_costs
UNION ALL SELECT 8, CAST(count(*) AS VARCHAR) FROM enrichments
UNION ALL SELECT 9, CAST(count(*) AS VARCHAR) FROM topics
UNION ALL SELECT 10, CAST(max(recorded_at) AS VARCHAR) FROM coverage
UNION ALL SELECT 11, CAST(count(*) AS VARCHAR) FROM store_writes
"""


def fingerprint(store: Store) -> str:
    """The store's current generation (a read; the caller holds the lock)."""
    rows = store.raw.execute(GENERATION_SQL).fetchall()
    return "|".join("" if v is None else str(v) for _, v in sorted(rows))


@dataclass
class Snapshot:
    """Everything the pages and endpoints read, for one store generation.

    ``inbox`` is materialized on first use (the unanswered turns with their texts), so a
    snapshot read back from disk costs nothing until a page shows the inbox.
    """

    generation: str
    built_s: float
    bm: BenchmarkResult | None
    audit: AuditResult
    quality: dict[str, Any]
    campaigns: dict[str, Any]
    weekly: pd.DataFrame
    frt: pd.DataFrame
    platforms: list[str]
    turns: rs.TurnTables
    make_inbox: Callable[[], ibis.Table]
    lazy: dict[tuple[str, str], Any] = field(default_factory=dict)
    #: Read back from the file of the same generation rather than built.
    reused: bool = False

    @functools.cached_property
    def inbox(self) -> ibis.Table:
        """The unanswered turns with texts and labels, as a table of the store's session."""
        return self.make_inbox()

    @functools.cached_property
    def org_ids(self) -> list[str]:
        """Every org of the benchmark, sorted (every request with an org checks it)."""
        if self.bm is None:
            return []
        return sorted(self.bm.orgs["org_id"].astype(str))


#: What a snapshot file holds besides the results; a file of another version is ignored.
SNAPSHOT_FORMAT = 2
RESULT_FIELDS = ("bm", "audit", "quality", "campaigns", "weekly", "frt", "platforms")


def _inbox_maker(store: Store, tt: rs.TurnTables) -> Callable[[], ibis.Table]:
    def make() -> ibis.Table:
        return store.cache(
            ib.inbox_rows(tt.turns, store.table("posts"), store.table("enrichments"))
        )

    return make


def build_snapshot(store: Store, generation: str, *, window_days: int) -> Snapshot:
    """Run everything the dashboard shows, once, for ``generation``."""
    started = time.perf_counter()
    tt = rs.build_turns(store)
    has_orgs = store.count("orgs") > 0
    bm = run(store, window_days=window_days, turns=tt, with_turns=False) if has_orgs else None
    oa = store.table("org_accounts")
    snap = Snapshot(
        generation=generation,
        built_s=0.0,
        bm=bm,
        audit=run_audit(store, window_days=window_days, turns=tt),
        quality=run_quality(store, turns=tt),
        campaigns=campaign_section(store) if has_orgs else {"campaigns": []},
        weekly=store.execute(ib.weekly(tt.turns)),
        frt=store.execute(ib.frt_buckets(tt.turns)),
        platforms=sorted(store.execute(oa.select("platform").distinct())["platform"]),
        turns=tt,
        make_inbox=_inbox_maker(store, tt),
    )
    snap.built_s = time.perf_counter() - started
    return snap


def snapshot_path(store: Store) -> Path | None:
    """Where the store's snapshot file lives (None for an in-memory or a lake store)."""
    if store.path == ":memory:" or is_lake(store.path):
        return None
    return Path(f"{store.path}.snapshot")


def _key(generation: str, window_days: int) -> dict[str, Any]:
    # The sector list in use decides peer groups and percentiles, and can change between
    # runs without a write (SOCIALAUDIT_SECTORS=none switches it off): part of the key.
    sectors = hashlib.sha256(repr(sorted(load_sectors().items())).encode()).hexdigest()
    return {
        "format": SNAPSHOT_FORMAT,
        "version": __version__,
        "generation": generation,
        "window_days": window_days,
        "sectors": sectors,
    }


def save_results(store: Store, snap: Snapshot, *, window_days: int) -> None:
    """Write ``snap``'s results beside the store, replacing the file atomically.

    Best effort: a store in a read-only folder just rebuilds on every restart. The file is
    the user's own (mode 0600); :func:`load_results` reads only such a file, since unpickling
    runs code.
    """
    path = snapshot_path(store)
    if path is None:
        return
    payload = {
        "key": _key(snap.generation, window_days),
        "built_s": snap.built_s,
        # The inbox rows too: joining every unanswered turn to its text again took seconds.
        "inbox": store.to_pyarrow(snap.inbox),
        **{name: getattr(snap, name) for name in RESULT_FIELDS},
    }
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            pickle.dump(payload, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        tmp.unlink(missing_ok=True)


def load_results(store: Store, generation: str, *, window_days: int) -> Snapshot | None:
    """The snapshot of ``generation`` read back from its file, or None (absent, stale, foreign).

    The turn tables come from the store (cheap when they are persisted); the inbox rows from
    the file, into a temporary table on first use.
    """
    path = snapshot_path(store)
    if path is None or not path.is_file():
        return None
    st = path.stat()
    # Only a file of this user that nobody else can write: unpickling runs code.
    if st.st_uid != os.getuid() or st.st_mode & 0o022:
        return None
    try:
        with path.open("rb") as f:
            payload = pickle.load(f)  # noqa: S301 - our own file, checked above
    except Exception:  # noqa: BLE001 - any unreadable file is simply rebuilt
        return None
    if not isinstance(payload, dict) or payload.get("key") != _key(generation, window_days):
        return None
    tt = rs.build_turns(store)
    rows = payload["inbox"]
    return Snapshot(
        generation=generation,
        built_s=float(payload["built_s"]),
        turns=tt,
        make_inbox=lambda: store.cache(ibis.memtable(rows)),
        reused=True,
        **{name: payload[name] for name in RESULT_FIELDS},
    )


class SnapshotCache:
    """The snapshot of the store's current generation, rebuilt when the store changes."""

    def __init__(self, store: Store | None, *, window_days: int) -> None:
        #: None while the service has handed the store to a writer.
        self.store = store
        self.window_days = window_days
        self.lock = threading.RLock()
        self._snap: Snapshot | None = None
        self.builds = 0

    def _store(self) -> Store:
        if self.store is None:
            from socialaudit.serve.service import StoreUnavailable

            raise StoreUnavailable(
                "The store is being written by another process. Reload in a moment: the "
                "dashboard comes back as soon as it is done."
            )
        return self.store

    def generation(self) -> str:
        """The store's current fingerprint."""
        with self.lock:
            return fingerprint(self._store())

    def current(self) -> Snapshot:
        """The snapshot of the current generation, built now if the store has changed.

        While a writer holds the store the last snapshot answers (what needs only its
        in-memory results still works); without one, ``StoreUnavailable``.
        """
        with self.lock:
            if self.store is None and self._snap is not None:
                return self._snap
            gen = self.generation()
            if self._snap is None or self._snap.generation != gen:
                # The old snapshot's tables go first: Ibis would otherwise hand back its stale
                # cached tables for the same expressions over the changed store.
                self._snap = None
                store = self._store()
                store.drop_cached()
                snap = load_results(store, gen, window_days=self.window_days)
                if snap is None:
                    snap = build_snapshot(store, gen, window_days=self.window_days)
                    self.builds += 1
                    save_results(store, snap, window_days=self.window_days)
                self._snap = snap
            return self._snap

    def last(self) -> Snapshot | None:
        """The snapshot built last, whatever the store's generation now (None: none yet)."""
        with self.lock:
            return self._snap

    def invalidate(self) -> None:
        """Forget the snapshot (a job wrote to the store)."""
        with self.lock:
            self._snap = None

    def lazy(self, snap: Snapshot, key: tuple[str, str], compute: Callable[[], Any]) -> Any:
        """A slower view of ``snap``, computed on first request and kept with it."""
        with self.lock:
            if key not in snap.lazy:
                snap.lazy[key] = compute()
            return snap.lazy[key]
