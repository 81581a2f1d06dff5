"""What the API and the dashboard ask: the metrics layer's results, cached per import generation.

Every figure comes from the metrics and benchmark layers; this module only decides *when* to
run them. One :class:`Snapshot` holds the benchmark run, quality, campaigns, weekly trends and a
materialized inbox for one *generation* of the store (a fingerprint of its imports, orgs,
campaigns, enrichments and topics). A request whose generation matches the snapshot's reads it;
a new import (or any other write) changes the fingerprint and the next request rebuilds it.
Slower per-org views (network, topics, one campaign) are computed on first request and kept in
the same snapshot, so they are invalidated together.

DuckDB connections are not safe to share between threads: every store access goes through
``self.lock``. Background jobs open their own connection to the same database (DuckDB shares
one instance per file within a process), so a long import does not block readers.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import ibis
import pandas as pd

from socialaudit.benchmark.run import Benchmark, run_benchmark, tier_json
from socialaudit.errors import MetricError, MigrationError
from socialaudit.metrics import inbox as ib
from socialaudit.metrics import responsiveness as rs
from socialaudit.metrics.audit import audit as run_audit
from socialaudit.metrics.audit import topic_rows
from socialaudit.metrics.campaigns import campaign_report, campaign_section
from socialaudit.metrics.quality import quality as run_quality
from socialaudit.store import Store
from socialaudit.store.orgs import did_you_mean, match_org

#: The fingerprint of what the audit depends on: one row per figure, each a count or a max
#: over a small table (or DuckDB's stored row count). As sub-queries of one SELECT, DuckDB
#: plans them as a cross product (200 ms for nine); as a UNION ALL they take a few ms.
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
"""

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
class Snapshot:
    """Everything the pages and endpoints read, for one store generation."""

    generation: str
    built_s: float
    bm: Benchmark | None
    audit: dict[str, Any]
    quality: dict[str, Any]
    campaigns: dict[str, Any]
    weekly: pd.DataFrame
    frt: pd.DataFrame
    inbox: ibis.Table
    platforms: list[str]
    turns: rs.TurnTables
    lazy: dict[tuple[str, str], Any] = field(default_factory=dict)

    @functools.cached_property
    def org_ids(self) -> list[str]:
        """Every org of the benchmark, sorted (every request with an org checks it)."""
        if self.bm is None:
            return []
        return sorted(self.bm.orgs["org_id"].astype(str))


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

    def __init__(self, db: str | Path, *, window_days: int = 90, warm: bool = True) -> None:
        self.db = str(db)
        #: Rebuild in the background as soon as the store is back after a write.
        self.warm_after_write = warm
        # Migrate once read-write, then hold the store read-only: other processes (the CLI
        # next to a dashboard left running) can then read it too.
        try:
            self.store: Store | None = Store(self.db, read_only=True)
        except MigrationError:
            Store(self.db).close()
            self.store = Store(self.db, read_only=True)
        self.window_days = window_days
        self.lock = threading.RLock()
        self._snap: Snapshot | None = None
        self.builds = 0
        #: The processes that asked for the store (PID -> command) and have not given it
        #: back; the store reopens once none is left (or alive).
        self._holders: dict[int, str] = {}
        self._holders_lock = threading.Lock()
        self._reopener: threading.Thread | None = None
        self._reopened = threading.Event()
        self._reopened.set()

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
        with self.lock:
            if self.store is not None:
                self.store.close()
                self.store = None
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
                self._snap = None
                self._reopener = None
                self._reopened.set()
            break
        if self.warm_after_write:
            self.warm_in_background()

    @contextlib.contextmanager
    def writing(self, command: str) -> Iterator[None]:
        """Let go of the store while this process writes it (a background job)."""
        self.pause(pid=os.getpid(), command=command)
        try:
            yield
        finally:
            self.resume(os.getpid())
            self.wait_reopened()

    # -- generations ----------------------------------------------------------------------------
    def generation(self) -> str:
        """The store's current fingerprint."""
        with self.lock:
            rows = self.conn().raw.execute(GENERATION_SQL).fetchall()
        return "|".join("" if v is None else str(v) for _, v in sorted(rows))

    def snapshot(self) -> Snapshot:
        """The snapshot of the current generation, built now if the store has changed.

        While a writer holds the store, the last snapshot answers (what needs only its
        in-memory figures still works); without one, :class:`StoreUnavailable`.
        """
        with self.lock:
            if self.store is None and self._snap is not None:
                return self._snap
            gen = self.generation()
            if self._snap is None or self._snap.generation != gen:
                # The old snapshot's tables go first: Ibis would otherwise hand back its stale
                # cached tables for the same expressions over the changed store.
                self._snap = None
                self.conn().drop_cached()
                self._snap = self._build(gen)
            return self._snap

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

    def _build(self, gen: str) -> Snapshot:
        started = time.perf_counter()
        store = self.conn()
        tt = rs.build_turns(store)
        has_orgs = store.count("orgs") > 0
        bm = (
            run_benchmark(store, window_days=self.window_days, turns=tt, with_turns=False)
            if has_orgs
            else None
        )
        inbox = store.cache(
            ib.inbox_rows(tt.turns, store.table("posts"), store.table("enrichments"))
        )
        oa = store.table("org_accounts")
        snap = Snapshot(
            generation=gen,
            built_s=0.0,
            bm=bm,
            audit=run_audit(store, turns=tt),
            quality=run_quality(store, turns=tt),
            campaigns=campaign_section(store) if has_orgs else {"campaigns": []},
            weekly=store.execute(ib.weekly(tt.turns)),
            frt=store.execute(ib.frt_buckets(tt.turns)),
            inbox=inbox,
            platforms=sorted(store.execute(oa.select("platform").distinct())["platform"]),
            turns=tt,
        )
        snap.built_s = time.perf_counter() - started
        self.builds += 1
        return snap

    def _lazy(self, snap: Snapshot, key: tuple[str, str], compute: Callable[[], Any]) -> Any:
        with self.lock:
            if key not in snap.lazy:
                snap.lazy[key] = compute()
            return snap.lazy[key]

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
        head = snap.bm.tables["benchmark"]
        return [
            {
                "org_id": r["org_id"],
                "name": _plain(r.get("name")),
                "peer_group": _plain(r.get("peer_group")),
                "peer_group_source": _plain(r.get("peer_group_source")),
                # A tier column with a missing value is float in pandas: 2.0 is tier 2.
                "tier": _int(r.get("tier")),
                "tier_label": _plain(r.get("tier_label")),
                "turns": _plain(r.get("turns")),
                "answered": _plain(r.get("answered")),
                "response_rate": _plain(r.get("response_rate")),
                "response_rate_ci_low": _plain(r.get("response_rate_ci_low")),
                "response_rate_ci_high": _plain(r.get("response_rate_ci_high")),
                "frt_median_s": _plain(r.get("frt_median_s")),
                "backlog_7d": _plain(r.get("backlog_7d")),
                "deflection_rate": _plain(r.get("deflection_rate")),
                "response_rate_pct": _plain(r.get("response_rate_pct")),
                "claimed_activity": _plain(r.get("claimed_activity")),
            }
            for r in head.sort_values(["peer_group", "org_id"]).to_dict("records")
        ]

    def audit(self, org: str | None = None) -> dict[str, Any]:
        """The audit document of every turn in the store, exactly as ``audit --json``."""
        snap = self.snapshot()
        doc = snap.audit
        if org is None:
            return doc
        org = self.require_org(snap, org)
        return {**doc, "orgs": [o for o in doc["orgs"] if o["org"] == org]}

    def org(self, org: str, *, snap: Snapshot | None = None) -> dict[str, Any]:
        """One org's page: audit, tier with evidence, presence, weekly trend, FRT buckets.

        Built from the snapshot's tables once per generation, then served from memory.
        """
        snap = snap or self.snapshot()
        org = self.require_org(snap, org)
        return self._lazy(snap, ("org", org), lambda: self._org_doc(snap, org))

    def _org_doc(self, snap: Snapshot, org: str) -> dict[str, Any]:
        assert snap.bm is not None
        bm = snap.bm
        tier = next(t for t in bm.tiers if t.org == org)
        head = bm.tables["benchmark"]
        row = head[head["org_id"] == org].iloc[0].to_dict()
        pres = bm.presence[bm.presence["org_id"] == org]
        weekly = snap.weekly[snap.weekly["org_id"] == org]
        frt = snap.frt[snap.frt["org_id"] == org]
        counts = dict(zip(frt["bucket"].astype(int), frt["n"].astype(int), strict=True))
        labels = ib.bucket_labels()
        entry = next(o for o in snap.audit["orgs"] if o["org"] == org)
        return {
            "org_id": org,
            "name": _plain(row.get("name")),
            "peer_group": _plain(row.get("peer_group")),
            "peer_group_source": _plain(row.get("peer_group_source")),
            "reference_time": bm.reference_time,
            "window_start": bm.window_start,
            "window_days": bm.window_days,
            "tier": tier.as_dict(),
            "figures": {k: _plain(v) for k, v in row.items() if k not in ("org_id",)},
            "audit": entry,
            "presence": [{k: _plain(v) for k, v in r.items()} for r in pres.to_dict("records")],
            "weekly": [
                {
                    "week": _plain(r["week"]),
                    "turns": int(r["turns"]),
                    "answered": int(r["answered"]),
                    "response_rate": _plain(r["response_rate"]),
                    "frt_median_s": _plain(r["frt_median_s"]),
                }
                for r in weekly.to_dict("records")
            ],
            "frt_distribution": [
                {"bucket": label, "answered_turns": counts.get(i, 0)}
                for i, label in enumerate(labels)
            ],
        }

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
        table, columns = snap.inbox.get_name(), snap.inbox.columns
        con = self.conn().raw
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
                "opener_author": _plain(r["opener_author"]),
                "opened_at": _plain(r["opener_created_at"]),
                "waiting_s": int(r["age_s"]),
                "followups": int(r["followups"]),
                "permalink": _plain(r["permalink"]),
                "text": _plain(r["text"]),
                "intents": _plain_list(r["intents"]),
                "sentiment": _plain(r["sentiment"]),
                "sentiment_label": _plain(r["sentiment_label"]),
                "spam": _plain(r["is_spam"]),
            }
            for r in (dict(zip(columns, row, strict=True)) for row in found)
        ]
        return {
            "reference_time": _plain(snap.turns.reference_time),
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
        return _clean(tier_json(snap.bm))

    def quality(self) -> dict[str, Any]:
        """Data-quality counts of the whole store."""
        return self.snapshot().quality

    def campaigns(self) -> dict[str, Any]:
        """Every campaign with its window figures, uplift and costs."""
        return _clean(self.snapshot().campaigns)

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
            lambda: _clean(campaign_report(self.conn(), campaign_id)),
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
            lambda: _clean(network(self.conn(), org, limit=limit)),
        )

    @_locked
    def topics(self, org: str) -> dict[str, Any]:
        """An org's stored topics with their figures and example posts (no refitting)."""
        snap = self.snapshot()
        org = self.require_org(snap, org)

        def compute() -> dict[str, Any]:
            topics = _clean(topic_rows(self.conn(), snap.turns, org=org))
            hint = f"No topics stored for {org}: run `socialaudit topics {org}` to fit them."
            return {"org": org, "fitted": bool(topics), "fitting": False,
                    "hint": None if topics else hint, "topics": topics}  # fmt: skip

        return self._lazy(snap, ("topics", org), compute)

    def imports(self) -> list[dict[str, Any]]:
        """Every import, newest first, with its reconciled counts."""
        with self.lock:
            store = self.conn()
            frame = store.execute(store.table("imports").order_by(ibis.desc("import_id")))
        return [{k: _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]

    def close(self, *, timeout: float = 5.0) -> bool:
        """Close the store, unless a snapshot build still holds it after ``timeout`` seconds.

        Stopping the server (Ctrl-C) during a long cold build should not wait for it: the build
        only reads, so leaving the connection to the process exit loses nothing. Returns
        whether the store was closed.
        """
        if not self.lock.acquire(timeout=timeout):
            return False
        try:
            self._snap = None
            if self.store is not None:
                self.store.close()
                self.store = None
            return True
        finally:
            self.lock.release()


def _plain(v: Any) -> Any:
    """A pandas/NumPy value as JSON-ready Python (NaN, NA and NaT become None)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, pd.Timestamp):
        if v.tzinfo is None:
            v = v.tz_localize("UTC")
        return v.isoformat()
    if isinstance(v, datetime):
        return (v if v.tzinfo is not None else v.replace(tzinfo=UTC)).isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if hasattr(v, "item") and not hasattr(v, "__len__"):
        return _plain(v.item())
    return v


def _int(v: Any) -> int | None:
    plain = _plain(v)
    return None if plain is None else int(plain)


def _plain_list(v: Any) -> list[str] | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    return [str(x) for x in v]


def _clean(value: Any) -> Any:
    """Nested JSON with non-finite floats and pandas scalars made plain."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return _plain(value)
