"""The lake store: every table of a store held as a Delta Lake table, one atomic commit per write.

``--db delta:PATH`` opens it; PATH is a local folder or an object-store URI
(``s3://bucket/audit``, ``gs://``, ``az://``; credentials come from the environment, as
delta-rs reads them: ``AWS_ACCESS_KEY_ID``, ``AWS_REGION``, ``GOOGLE_APPLICATION_CREDENTIALS``...).

Layout::

    PATH/<table>/   one Delta table per store table (posts, accounts, imports, quarantine,
                    raw_records, enrichments, ..., _socialaudit_migrations): whatever tables
                    the migrations create, so a new table needs no change here
    PATH/_lake/     the store's own commit log: one row per store commit naming the Delta
                    version of every table that belongs to it

Why a second log. A Delta commit is atomic for one table, but one import writes posts,
accounts, raw records, quarantine, imports and coverage. The writer therefore commits the
tables it changed first and then appends one row to ``_lake``; that append (an atomic
put-if-absent of one log file) is the store's single commit point. Readers pin every table at
the versions named by the latest ``_lake`` row, so a writer killed between two table commits
leaves table versions that nobody reads, and the next writer first restores such a table to
its pinned version (``DeltaTable.restore``) before appending to it.

How the existing code runs on it. The store's logic is SQL on DuckDB (staging, checks,
de-duplication, root derivation, migrations). A lake store opens a scratch DuckDB database in a
temporary folder. Read-only, every table is a view over the pinned snapshot's Parquet files
(DuckDB's ``read_parquet`` over ``DeltaTable.file_uris()``, or the Arrow dataset delta-rs gives
for an object store): DuckDB reads the lake directly and nothing is copied. Read-write, the
tables are loaded, the unchanged code runs, and each committed transaction publishes the tables
whose contents changed (a row-hash fingerprint): rows only added are appended, anything else
rewrites that table. Idempotence by ``(platform, post_id)`` and the
``read = inserted + duplicates + quarantined`` check are the DuckDB import's own.

One writer at a time: a local lake takes a lock file; on an object store the writer checks at
commit that no other store commit landed since it opened (and publishes nothing if one did).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import duckdb
import pyarrow as pa

from socialaudit.errors import ConfigError, MigrationError, StoreBusy, StoreError, StoreNotFound
from socialaudit.store.migrations import MIGRATIONS
from socialaudit.store.schema import MIGRATIONS as MIGRATIONS_TABLE
from socialaudit.store.store import LAKE_PREFIX, Store

LAKE_HINT = "The lake store needs the lake extra: pip install 'socialaudit[lake]'."
#: The store's commit log inside the lake folder (not a store table).
COMMITS = "_lake"
#: Rows per Arrow batch when a table streams from DuckDB into a Delta write.
BATCH_ROWS = 256_000


@dataclass(frozen=True)
class Head:
    """One store commit: its number and the Delta version of each table in it."""

    lake_version: int
    tables: dict[str, int]


class Lake:
    """A lake folder or URI: its tables, its commit log, and the files of a pinned snapshot."""

    def __init__(self, uri: str, storage_options: dict[str, str] | None = None):
        self.uri = uri.rstrip("/")
        self.storage_options = storage_options

    @classmethod
    def from_db(cls, db: str | os.PathLike[str]) -> Lake:
        """The lake a ``--db delta:PATH`` value names (a relative PATH is from the cwd)."""
        text = str(db)[len(LAKE_PREFIX) :]
        # The CLI holds --db as a Path, which folds "s3://" into "s3:/": unfold it.
        text = re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*):/(?!/)", r"\1://", text)
        if not text:
            raise ConfigError("--db delta: needs a folder or URI, e.g. delta:./lake.")
        if text.startswith("file://"):
            text = text.removeprefix("file://")
        if "://" not in text:
            text = str(Path(text).expanduser().resolve())
        return cls(text)

    @property
    def is_local(self) -> bool:
        """Whether the lake is a local folder (then readers get plain file paths)."""
        return "://" not in self.uri

    def table_uri(self, name: str) -> str:
        """Where one store table's Delta table lives (a sub-folder named like the table)."""
        return f"{self.uri}/{name}"

    def _delta(self, name: str, version: int | None = None) -> Any:
        from deltalake import DeltaTable

        return DeltaTable(
            self.table_uri(name), version=version, storage_options=self.storage_options
        )

    def exists(self) -> bool:
        """Whether the lake has at least one store commit."""
        _require_deltalake()
        from deltalake import DeltaTable

        return bool(
            DeltaTable.is_deltatable(self.table_uri(COMMITS), storage_options=self.storage_options)
        )

    def head(self) -> Head | None:
        """The latest store commit, or None for a lake with none yet."""
        if not self.exists():
            return None
        log = self._delta(COMMITS).to_pyarrow_table(columns=["lake_version", "tables"])
        rows = log.to_pylist()
        last = max(rows, key=lambda r: int(r["lake_version"]))
        tables = json.loads(last["tables"])
        return Head(int(last["lake_version"]), {k: int(v) for k, v in tables.items()})

    def files(self, name: str, version: int) -> list[str]:
        """The Parquet files of ``name`` at ``version`` (local paths or object-store URIs)."""
        table = self._delta(name, version)
        readers = set(getattr(table.protocol(), "reader_features", None) or [])
        if "deletionVectors" in readers:
            raise StoreError(
                f"Table {name} of {self.uri} uses deletion vectors, which the store's file-list "
                "reader cannot apply. Run OPTIMIZE/purge on it with the writer that made them."
            )
        return [str(uri) for uri in table.file_uris()]

    def dataset(self, name: str, version: int) -> Any:
        """The pinned table as an Arrow dataset (reads an object store without DuckDB's httpfs)."""
        return self._delta(name, version).to_pyarrow_dataset()

    def write(
        self, name: str, data: pa.RecordBatchReader, *, pinned: int | None, append: bool
    ) -> int:
        """Commit ``data`` to one table (appended, or replacing it); return its new version.

        A table whose latest version is past the pinned one holds commits of a writer that died
        before its store commit: they are undone first, so nobody ever reads them.
        """
        from deltalake import write_deltalake

        uri = self.table_uri(name)
        if pinned is not None:
            table = self._delta(name)
            if table.version() != pinned:
                table.restore(pinned)
        write_deltalake(
            uri,
            data,
            mode="append" if append else "overwrite",
            schema_mode=None if append else "overwrite",
            storage_options=self.storage_options,
        )
        return int(self._delta(name).version())

    def commit(self, tables: dict[str, int], *, after: Head | None, what: str) -> Head:
        """Append the store commit naming ``tables``: the moment the write becomes visible.

        ``after`` is the head the writer started from; if another commit landed since, this
        one is refused (the table versions it wrote are never read, and are undone later).
        """
        from deltalake import write_deltalake

        now = self.head()
        if (now.lake_version if now else 0) != (after.lake_version if after else 0):
            raise StoreBusy(
                f"Another writer committed to {self.uri} while this command ran; "
                "nothing of this command was stored. Run it again."
            )
        head = Head((after.lake_version if after else 0) + 1, dict(tables))
        row = pa.table(
            {
                "lake_version": pa.array([head.lake_version], pa.int64()),
                "committed_at": pa.array([_utcnow()], pa.timestamp("us")),
                "tables": [json.dumps(head.tables, sort_keys=True)],
                "what": [what],
            }
        )
        write_deltalake(
            self.table_uri(COMMITS), row, mode="append", storage_options=self.storage_options
        )
        return head

    @contextlib.contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Hold the one-writer lock of a local lake (no-op on an object store)."""
        if not self.is_local:
            yield
            return
        Path(self.uri).mkdir(parents=True, exist_ok=True)
        handle: IO[str] = open(Path(self.uri) / "_lake.lock", "a")  # noqa: SIM115
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StoreBusy(
                    f"Store delta:{self.uri} is being written by another process. Wait for it "
                    "to finish or use another --db."
                ) from None
            yield
        finally:
            handle.close()


class LakeStore(Store):
    """A :class:`Store` whose tables live in a lake (see the module notes for how and why).

    Metrics, importers and enrichers see the same DuckDB connection and table names as on a
    DuckDB file, so every command works unchanged.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        read_only: bool = False,
        memory_limit: str | None = None,
    ):
        _require_deltalake()
        self.path = str(path)
        self._cached: list[str] = []
        self._cache_seq = 0
        self._ready = False
        self._depth = 0
        self.read_only = read_only
        self.lake = Lake.from_db(path)
        self._scratch = Path(tempfile.mkdtemp(prefix="socialaudit-lake-"))
        self._lock = contextlib.ExitStack()
        try:
            if not read_only:
                self._lock.enter_context(self.lake.writer_lock())
            self.head = self.lake.head()
            if read_only and self.head is None:
                raise StoreNotFound(
                    f"No store at {self.path}. Run `socialaudit --db {self.path} import FILE` "
                    "first."
                )
            self._connect(
                str(self._scratch / "scratch.duckdb"), read_only=False, memory_limit=memory_limit
            )
            self._fingerprints: dict[str, tuple[int, int]] = {}
            self._load()
            if read_only:
                if self.pending_migrations():
                    raise MigrationError(
                        f"Store {self.path} is at schema version {self.schema_version()}; "
                        "open it once without read-only to migrate it."
                    )
            else:
                self.migrate()
            self._ready = True
            self.publish("migrate")
        except BaseException:
            self._discard()
            raise

    # -- loading the pinned snapshot ---------------------------------------------------------
    def _load(self) -> None:
        """Recreate the lake's schema in the scratch database and attach its rows.

        The migrations the lake has applied run first (on empty tables), so rows load into the
        schema they were written with; ``migrate()`` then upgrades them like a DuckDB file.
        """
        tables = self.head.tables if self.head else {}
        applied: set[int] = set()
        if MIGRATIONS_TABLE in tables:
            source = self._source(MIGRATIONS_TABLE, tables[MIGRATIONS_TABLE])
            if source is not None:
                rows = self.raw.execute(f"SELECT version FROM {source}").fetchall()
                applied = {int(v) for (v,) in rows}
        known = {version for version, _ in MIGRATIONS}
        if applied - known:
            raise MigrationError(
                f"Store {self.path} has schema version {max(applied)}, newer than this "
                f"socialaudit ({max(known)}). Upgrade socialaudit."
            )
        self.raw.execute(
            f"CREATE TABLE {MIGRATIONS_TABLE} "
            "(version BIGINT PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)"
        )
        for version, module in MIGRATIONS:
            if version in applied:
                module.apply(self.raw)
        present = set(self._base_tables())
        for name, version in sorted(tables.items()):
            source = self._source(name, version)
            if name not in present or source is None:
                continue
            select = self._select(name, source)
            if self.read_only and name != MIGRATIONS_TABLE:
                self.raw.execute(f'DROP TABLE "{name}"')
                self.raw.execute(f'CREATE VIEW "{name}" AS {select}')
            else:
                self.raw.execute(f'INSERT INTO "{name}" {select}')
        if not self.read_only:
            self._fingerprints = {name: self._fingerprint(name) for name in self._base_tables()}

    def _source(self, name: str, version: int) -> str | None:
        """A FROM clause reading ``name`` at ``version``, or None when it has no files."""
        if self.lake.is_local:
            files = self.lake.files(name, version)
            if not files:
                return None
            listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            return f"read_parquet([{listed}], union_by_name = true)"
        view = f"_sa_lake_{name}_{version}"
        self.raw.register(view, self.lake.dataset(name, version))
        return f'"{view}"'

    def _columns(self, name: str) -> list[tuple[str, str]]:
        rows = self.raw.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = ? AND table_schema = 'main' ORDER BY ordinal_position",
            [name],
        ).fetchall()
        return [(str(c), str(t)) for c, t in rows]

    def _select(self, name: str, source: str) -> str:
        """SELECT the snapshot's rows in the store table's column order and exact types."""
        cols = ", ".join(f'CAST("{c}" AS {t}) AS "{c}"' for c, t in self._columns(name))
        return f"SELECT {cols} FROM {source}"

    def _base_tables(self) -> list[str]:
        rows = self.raw.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary "
            "AND schema_name = 'main' AND database_name = current_database() "
            "AND NOT starts_with(table_name, '_sa_') ORDER BY table_name"
        ).fetchall()
        return [str(n) for (n,) in rows]

    def _fingerprint(self, name: str) -> tuple[int, int]:
        count, digest = self.raw.execute(
            f'SELECT count(*), coalesce(sum(hash(t)), 0) FROM "{name}" t'
        ).fetchall()[0]
        return int(count), int(digest)

    # -- publishing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """As :meth:`Store.transaction`, then publish what it changed as one store commit."""
        self._depth += 1
        try:
            with super().transaction() as con:
                yield con
        finally:
            self._depth -= 1
        self.publish("write")

    def publish(self, what: str) -> Head | None:
        """Commit every table whose rows changed, then the store commit that pins them.

        Called after each transaction and on close (for writes made outside one). An empty new
        lake is not created: a failed first import leaves nothing behind.
        """
        if self.read_only or not self._ready or self._depth:
            return None
        tables = self._base_tables()
        now = {name: self._fingerprint(name) for name in tables}
        changed = [name for name in tables if now[name] != self._fingerprints.get(name)]
        if not changed:
            return None
        if self.head is None and not any(
            now[name][0] for name in tables if name != MIGRATIONS_TABLE
        ):
            return None
        versions = dict(self.head.tables if self.head else {})
        for name in changed:
            versions[name] = self._write(name, versions.get(name))
        self.head = self.lake.commit(versions, after=self.head, what=what)
        self._fingerprints = now
        return self.head

    def _write(self, name: str, pinned: int | None) -> int:
        """Commit one table: append the rows it gained, or rewrite it if any row changed."""
        cols = ", ".join(f'"{c}"' for c, _ in self._columns(name))
        source = self._source(name, pinned) if pinned is not None else None
        append = pinned is not None and self._same_schema(name, pinned)
        query = f'SELECT {cols} FROM "{name}"'
        if append and source is not None:
            old = self._select(name, source)
            removed = self.raw.execute(
                f'SELECT count(*) FROM ({old} EXCEPT ALL SELECT {cols} FROM "{name}")'
            ).fetchall()[0][0]
            append = not removed
            if append:
                query = f'SELECT {cols} FROM "{name}" EXCEPT ALL {old}'
        reader = self.raw.sql(query).to_arrow_reader(BATCH_ROWS)
        nullable = pa.schema([f.with_nullable(True) for f in reader.schema])
        return self.lake.write(name, reader.cast(nullable), pinned=pinned, append=append)

    def _same_schema(self, name: str, pinned: int) -> bool:
        fields = self.lake._delta(name, pinned).schema().fields
        return [f.name for f in fields] == [c for c, _ in self._columns(name)]

    # -- lifecycle ----------------------------------------------------------------------------
    def snapshot_files(self) -> dict[str, list[str]]:
        """The Parquet files of every table at this store's pinned commit (for Spark)."""
        tables = self.head.tables if self.head else {}
        return {name: self.lake.files(name, version) for name, version in tables.items()}

    def close(self) -> None:
        """Publish what is left unpublished, then drop the scratch database."""
        try:
            if self._ready and not self.read_only:
                self.publish("close")
        finally:
            self._discard()

    def _discard(self) -> None:
        self._ready = False
        self.drop_cached(drop=False)
        if hasattr(self, "con"):
            with contextlib.suppress(Exception):
                self.con.disconnect()
        self._lock.close()
        shutil.rmtree(self._scratch, ignore_errors=True)

    def __repr__(self) -> str:
        return f"LakeStore({self.path!r})"


def _require_deltalake() -> None:
    try:
        import deltalake  # noqa: F401
    except ImportError:
        raise ConfigError(LAKE_HINT) from None


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
