"""The store: one DuckDB file reached through Ibis. The only module that opens connections."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pandas as pd
import pyarrow as pa

from socialaudit.errors import MigrationError, StoreBusy, StoreError, StoreNotFound
from socialaudit.store.enrichments import LabelStage, replace_topics
from socialaudit.store.migrations import MIGRATIONS
from socialaudit.store.schema import MIGRATIONS as MIGRATIONS_TABLE
from socialaudit.store.schema import require_table

DEFAULT_PATH = "socialaudit.duckdb"
#: DuckDB's own default is 80% of RAM, so a 2.8 M-row import would hold every intermediate
#: table in memory (about 4 GB). With a cap it spills to disk instead and stays near 1.7 GB
#: peak for a few percent more time. Override with SOCIALAUDIT_MEMORY_LIMIT (e.g. "8GB").
DEFAULT_MEMORY_LIMIT = "1500MB"
#: ``--db delta:PATH`` selects the lake store (a Delta Lake folder or object-store URI).
LAKE_PREFIX = "delta:"


def is_lake(path: str | os.PathLike[str]) -> bool:
    """Whether a ``--db`` value names a lake store rather than a DuckDB file."""
    return str(path).startswith(LAKE_PREFIX)


def store_exists(path: str | os.PathLike[str]) -> bool:
    """Whether a store is already at ``path`` (a DuckDB file, or a lake with a commit)."""
    if str(path) == ":memory:":
        return True
    if is_lake(path):
        from socialaudit.store.lake import Lake

        return Lake.from_db(path).exists()
    return Path(path).exists()


class Store:
    """A migrated socialaudit store.

    Metrics receive ``ibis.Table`` expressions from :meth:`table` and never execute them;
    callers that need values go through :meth:`execute` / :meth:`to_pyarrow`, so one place
    decides how results leave the database.
    """

    backend_name = "duckdb"
    #: The audit's clock when set (``--reference-time``); otherwise the latest post (SPEC 5).
    #: A class default the CLI sets once for every store it opens; ``open()`` sets one store's.
    reference_time: datetime | None = None
    #: Whether write transactions are counted in ``store_writes`` (see :meth:`transaction`):
    #: set once :meth:`migrate` has made that table (migration 9).
    _counts_writes: bool = False

    def __init__(
        self,
        path: str | os.PathLike[str] = DEFAULT_PATH,
        *,
        read_only: bool = False,
        memory_limit: str | None = None,
    ):
        self.path = str(path)
        self._cached: list[str] = []
        self._cache_seq = 0
        if self.path != ":memory:":
            p = Path(self.path)
            if p.is_dir():
                raise StoreError(f"{self.path} is a folder. Pass a file path with --db.")
            if read_only and not p.exists():
                raise StoreNotFound(
                    f"No store at {self.path}. "
                    f"Run `socialaudit --db {self.path} import FILE` first."
                )
        self._connect(self.path, read_only=read_only, memory_limit=memory_limit)
        if not read_only:
            self.migrate()
        elif self.pending_migrations():
            raise MigrationError(
                f"Store {self.path} is at schema version {self.schema_version()}; "
                "open it once without read-only to migrate it."
            )

    def __new__(cls, path: str | os.PathLike[str] = DEFAULT_PATH, **kwargs: Any) -> Store:
        """``Store("delta:PATH")`` opens a lake store (:mod:`.lake`); anything else a file."""
        if cls is Store and is_lake(path):
            from socialaudit.store.lake import LakeStore

            return super().__new__(LakeStore)
        return super().__new__(cls)

    def _connect(self, database: str, *, read_only: bool, memory_limit: str | None) -> None:
        """Open the DuckDB database behind the store, with the session settings it needs."""
        try:
            self.con = ibis.duckdb.connect(database=database, read_only=read_only)
        except duckdb.IOException as exc:
            msg = str(exc)
            if "lock" in msg.lower():
                raise StoreBusy(
                    f"Store {self.path} is in use by another process. Wait for it to finish "
                    "or use another --db."
                ) from None
            raise StoreError(
                f"Cannot open {self.path} as a store ({msg.splitlines()[0]}). "
                "Check the path or pass another --db."
            ) from None
        except duckdb.Error as exc:
            raise StoreError(
                f"Cannot open {self.path} as a store ({str(exc).splitlines()[0]}). "
                "Is it a DuckDB file? Pass another --db."
            ) from None
        self.raw: duckdb.DuckDBPyConnection = self.con.con
        self.raw.execute("SET TimeZone = 'UTC'")
        # Our own status line says what is happening; DuckDB's bar would garble stderr.
        self.raw.execute("SET enable_progress_bar = false")
        limit = memory_limit or os.environ.get("SOCIALAUDIT_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
        try:
            self.raw.execute("SET memory_limit = ?", [limit])
        except duckdb.Error:
            raise StoreError(
                f"Cannot use memory limit {limit!r}. Write it like 1500MB or 8GB."
            ) from None

    # -- schema ---------------------------------------------------------------------------------
    def schema_version(self) -> int:
        """Return the highest migration applied (0 for a new file)."""
        exists = self.raw.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
            [MIGRATIONS_TABLE],
        ).fetchall()[0][0]
        if not exists:
            return 0
        return int(
            self.raw.execute(
                f"SELECT coalesce(max(version), 0) FROM {MIGRATIONS_TABLE}"
            ).fetchall()[0][0]
        )

    def pending_migrations(self) -> list[int]:
        """Versions this socialaudit has that the store has not applied yet, in order."""
        exists = self.raw.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
            [MIGRATIONS_TABLE],
        ).fetchall()[0][0]
        applied: set[int] = set()
        if exists:
            rows = self.raw.execute(f"SELECT version FROM {MIGRATIONS_TABLE}").fetchall()
            applied = {int(v) for (v,) in rows}
        return [version for version, _ in MIGRATIONS if version not in applied]

    def migrate(self) -> int:
        """Apply pending migrations, each in its own transaction; return how many ran."""
        self.raw.execute(
            f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
            "(version BIGINT PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)"
        )
        current = self.schema_version()
        latest = MIGRATIONS[-1][0]
        if current > latest:
            raise MigrationError(
                f"Store {self.path} has schema version {current}, newer than this socialaudit "
                f"({latest}). Upgrade socialaudit."
            )
        ran = 0
        # By the set of versions applied, not the highest one: numbers are reserved per
        # issue, so a migration can land after a higher-numbered one already in stores.
        pending = set(self.pending_migrations())
        for version, module in MIGRATIONS:
            if version not in pending:
                continue
            try:
                with self.transaction():
                    module.apply(self.raw)
                    self.raw.execute(
                        f"INSERT INTO {MIGRATIONS_TABLE} VALUES (?, ?, ?)",
                        [version, module.NAME, _utcnow()],
                    )
            except duckdb.Error as exc:
                raise MigrationError(
                    f"Migration {version} ({module.NAME}) failed on {self.path}: {exc}"
                ) from exc
            ran += 1
        self._counts_writes = True
        return ran

    # -- access ---------------------------------------------------------------------------------
    def table(self, name: str) -> ibis.Table:
        """Return a store table as an (unexecuted) Ibis expression."""
        return self.con.table(require_table(name))

    def execute(self, expr: ibis.Expr, **kwargs: Any) -> Any:
        """Run an expression and return pandas (tables) or a Python scalar."""
        return self.con.execute(expr, **kwargs)

    def to_pyarrow(self, expr: ibis.Expr) -> pa.Table:
        """Run a table expression and return Arrow."""
        return self.con.to_pyarrow(expr)

    def cache(self, expr: ibis.Table) -> ibis.Table:
        """Materialize an intermediate result so an iterative algorithm does not recompute it.

        A temporary table the store names and tracks itself (Ibis's own ``.cache()`` keys its
        tables by expression, which hands back a stale table after the store changes, and can
        only be cleared through its private attributes).
        """
        self._cache_seq += 1
        name = f"_sa_cache_{os.getpid()}_{id(self):x}_{self._cache_seq}"
        table = self.con.create_table(name, expr, temp=True)
        self._cached.append(name)
        return table

    # -- writes of listening results ----------------------------------------------------------
    def label_stage(self, columns: dict[str, str]) -> LabelStage:
        """A stage for one enricher's results: a :class:`~.enrichments.LabelStage`."""
        return LabelStage(self, columns)

    def replace_topics(
        self, org: str, topics: pa.Table, assigned: pa.Table, *, version: str
    ) -> list[int]:
        """Replace ``org``'s topics and its posts' topic labels atomically; the new topic ids."""
        return replace_topics(self, org, topics, assigned, version=version)

    def count(self, name: str) -> int:
        """Return the number of rows in a store table."""
        return int(self.execute(self.table(name).count()))

    def frame(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run parameterised SQL on the store (for store-internal bookkeeping only)."""
        return self.raw.execute(sql, params or []).df()

    def enricher_models(self) -> dict[str, str]:
        """The model chosen for each enricher with ``enrich --model`` (absent: the default)."""
        rows = self.raw.execute("SELECT enricher, model FROM enricher_models").fetchall()
        return {str(name): str(model) for name, model in rows}

    def choose_enricher_model(self, enricher: str, model: str) -> None:
        """Record the model ``enricher`` runs with from now on ("default" forgets the choice)."""
        with self.transaction():
            self.raw.execute("DELETE FROM enricher_models WHERE enricher = ?", [enricher])
            if model != "default":
                self.raw.execute(
                    "INSERT INTO enricher_models VALUES (?, ?, ?)", [enricher, model, _utcnow()]
                )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing block: committed on success, rolled back on any exception.

        DuckDB's write-ahead log makes this hold under ``kill -9`` too: an uncommitted
        transaction is discarded when the file is next opened.
        """
        self.raw.execute("BEGIN TRANSACTION")
        try:
            yield self.raw
            if self._counts_writes:
                # The store's generation moves with every write (an append: concurrent
                # writers never conflict on it), so whatever is kept per generation, like
                # the dashboard's snapshot file, goes stale.
                self.raw.execute("INSERT INTO store_writes VALUES (?)", [_utcnow()])
        except BaseException:
            self.raw.execute("ROLLBACK")
            raise
        self.raw.execute("COMMIT")

    def drop_cached(self, *, drop: bool = True) -> None:
        """Forget (and with ``drop``, drop) every table :meth:`cache` materialized.

        A long-lived reader (the server) calls this before recomputing, so the old results'
        tables do not pile up.
        """
        names, self._cached = self._cached, []
        if drop:
            for name in names:
                with contextlib.suppress(duckdb.Error):
                    self.raw.execute(f'DROP TABLE IF EXISTS "{name}"')

    def close(self) -> None:
        """Close the connection (checkpointing the write-ahead log).

        Cached intermediate tables are temporary and vanish with the connection.
        """
        self.drop_cached(drop=False)
        with contextlib.suppress(Exception):
            self.con.disconnect()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.path!r})"


def open(  # noqa: A001
    path: str | os.PathLike[str] = DEFAULT_PATH,
    *,
    read_only: bool = False,
    reference_time: datetime | None = None,
) -> Store:
    """Open (creating and migrating if needed) the store at ``path``.

    ``reference_time`` (naive UTC) fixes the audit's clock for this store.
    """
    store = Store(path, read_only=read_only)
    if reference_time is not None:
        store.reference_time = reference_time
    return store


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
