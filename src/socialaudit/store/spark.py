"""Run the metric expressions on Apache Spark, over a Parquet snapshot of a DuckDB store.

SPEC principle 3 promises the same numbers on one machine and on many. The metrics are Ibis
expressions, so this engine only has to hand them Spark tables with the store's names and
types, and bring results back in exactly the shape :meth:`socialaudit.store.Store.execute`
gives (same pandas dtypes, ``None`` for NULL, the same scalar types).

PySpark is an optional extra: it is imported inside functions only, so ``make demo`` and the
core install never need Java or PySpark.

Timestamps. The store keeps UTC wall-clock times as naive ``TIMESTAMP``. DuckDB writes them to
Parquet with ``isAdjustedToUTC=false``, which Spark reads as ``TIMESTAMP_NTZ``; Ibis, however,
casts to (and compares with) Spark's session-zoned ``TIMESTAMP``. Every timestamp column is
therefore cast to ``TIMESTAMP`` on registration under a UTC session time zone, which keeps the
wall-clock value and makes epoch seconds agree with DuckDB. Results travel back as Arrow
(``UTC``-zoned) and are made naive again, never through the driver's local time zone, so the
machine's ``TZ`` cannot shift them.

The Parquet snapshot lives in a local temporary folder, so a non-local ``master`` needs that
folder on a file system its executors share. A lake store (``--db delta:PATH``,
:mod:`socialaudit.store.lake`) needs no copy: each table is read straight from the Parquet
files of the snapshot the store pinned (the Delta log's file list, from delta-rs), which a
cluster reaches wherever the lake is (an object store).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from socialaudit.errors import ConfigError, StoreError
from socialaudit.store.schema import SCHEMAS, require_table

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from socialaudit.store.store import Store

SPARK_EXTRA_HINT = "Spark needs the spark extra: pip install 'socialaudit[spark]'."
DEFAULT_MASTER = "local[2]"

#: Settings of the shared session. A few shuffle partitions because audit stages are small
#: and Spark's default of 200 spends most of a local run scheduling empty tasks. Driver
#: memory only takes effect before the JVM starts; 4 GB leaves most of a 24 GB machine free.
SESSION_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    # A cluster sets more (e.g. 2000 for a billion posts): SOCIALAUDIT_SPARK_SHUFFLE_PARTITIONS.
    "spark.sql.shuffle.partitions": os.environ.get("SOCIALAUDIT_SPARK_SHUFFLE_PARTITIONS", "4"),
    "spark.default.parallelism": os.environ.get("SOCIALAUDIT_SPARK_SHUFFLE_PARTITIONS", "4"),
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "4g",
}
#: Set on every session an engine uses, including one started elsewhere and reused here.
SQL_CONF = ("spark.sql.session.timeZone", "spark.sql.shuffle.partitions")
LOG_LEVEL = "ERROR"
_PANDAS3_WARNING = "PySpark does not yet fully support pandas"

_lock = threading.Lock()
_root: SparkSession | None = None
_view_ids = itertools.count(1)


def _require_pyspark() -> None:
    """Fail with the install hint, not an ImportError, when the spark extra is missing.

    PySpark 4.3 warns at import that it does not fully support pandas 3; the engine never
    hands pandas to Spark (results travel as Arrow), so that warning is noise here.
    """
    with _quiet_pandas3():
        try:
            import pyspark  # noqa: F401
            from ibis.backends import pyspark as _backend  # noqa: F401
        except ImportError:
            raise ConfigError(SPARK_EXTRA_HINT) from None


@contextlib.contextmanager
def _quiet_pandas3() -> Iterator[None]:
    # PySpark warns once per module it imports, some of them only when the session starts.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_PANDAS3_WARNING, category=FutureWarning)
        yield


def spark_session(master: str = DEFAULT_MASTER) -> SparkSession:
    """Return the process-wide SparkSession, starting it on first use.

    Starting Spark costs seconds, so one session (one JVM) is kept per process and shared by
    every engine; each engine then works in its own :meth:`SparkSession.newSession`, whose
    temporary views and SQL settings are its own. Asking for another ``master`` restarts it.

    Raises
    ------
    ConfigError
        When PySpark is not installed or Spark cannot start (no Java, bad master URL).
    """
    _require_pyspark()
    from pyspark.sql import SparkSession

    global _root
    with _lock:
        if _root is not None and (_is_stopped(_root) or _root.sparkContext.master != master):
            with contextlib.suppress(Exception):
                _root.stop()
            _root = None
        if _root is None:
            # Tasks that run Python (import, enrich) need this interpreter and its packages,
            # not the PATH's python3 (a cluster sets PYSPARK_PYTHON to its own).
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            builder = SparkSession.builder.master(master).appName("socialaudit")
            for key, value in SESSION_CONF.items():
                builder = builder.config(key, value)
            try:
                with _quiet_pandas3():
                    _root = builder.getOrCreate()
            except Exception as exc:  # noqa: BLE001 - a missing Java surfaces as many types
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise ConfigError(
                    f"Cannot start Spark with master {master!r} ({first}). Spark needs "
                    "Java 17: install it or point JAVA_HOME at it."
                ) from None
            _root.sparkContext.setLogLevel(LOG_LEVEL)
        return _root


def stop_spark() -> None:
    """Stop the shared session; the next engine starts a new one (the JVM stays up)."""
    global _root
    with _lock:
        if _root is not None:
            with contextlib.suppress(Exception):
                _root.stop()
            _root = None


def _is_stopped(session: SparkSession) -> bool:
    # pyspark has no public flag; a stopped context drops its Java handle.
    return session.sparkContext._jsc is None


class SparkEngine:
    """The :class:`~socialaudit.metrics.base.Engine` that runs metric expressions on Spark.

    Build one with :meth:`from_store`. It reads a snapshot of the store taken at that
    moment: posts imported later are not seen until a new engine is built.

    Examples
    --------
    >>> import socialaudit  # doctest: +SKIP
    >>> with SparkEngine.from_store(socialaudit.open("s.duckdb")) as spark:  # doctest: +SKIP
    ...     result = socialaudit.audit(spark)
    """

    #: The audit's clock when fixed (copied from the store); None = the latest post.
    reference_time: datetime | None = None

    backend_name = "pyspark"

    def __init__(
        self, session: SparkSession, snapshot: Path | None, *, master: str = DEFAULT_MASTER
    ):
        self.session = session
        self.snapshot = snapshot
        self.master = master
        self.con = ibis.pyspark.connect(session)
        self._views: list[tuple[str, DataFrame]] = []
        self._closed = False

    @classmethod
    def from_store(cls, store: Store, /, *, master: str = DEFAULT_MASTER) -> SparkEngine:
        """Snapshot every table of ``store`` to Parquet and register each under its name.

        Raises
        ------
        ConfigError
            When PySpark is not installed or Spark cannot start.
        StoreError
            When a table cannot be exported from the store.
        """
        from socialaudit.store.lake import LakeStore

        root = spark_session(master)
        session = root.newSession()
        for key in SQL_CONF:
            session.conf.set(key, SESSION_CONF[key])
        if isinstance(store, LakeStore):
            engine = cls(session, None, master=master)
            engine.reference_time = store.reference_time
            files = store.snapshot_files()
            for name in SCHEMAS:
                engine._register_files(store, name, files.get(name, []))
            return engine
        snapshot = Path(tempfile.mkdtemp(prefix="socialaudit-spark-"))
        try:
            engine = cls(session, snapshot, master=master)
            engine.reference_time = store.reference_time
            for name in SCHEMAS:
                engine._register(store, name)
        except BaseException:
            shutil.rmtree(snapshot, ignore_errors=True)
            raise
        return engine

    def _register(self, store: Store, name: str) -> None:
        assert self.snapshot is not None
        path = self.snapshot / f"{name}.parquet"
        target = str(path).replace("'", "''")
        try:
            store.raw.execute(f"COPY (SELECT * FROM \"{name}\") TO '{target}' (FORMAT parquet)")
        except Exception as exc:  # noqa: BLE001 - duckdb raises several unrelated types
            raise StoreError(
                f"Cannot export table {name} of {store.path} to {path} ({exc}). "
                "Check free space in the temporary folder (TMPDIR)."
            ) from None
        self._view(name, self.session.read.parquet(str(path)))

    def _register_files(self, store: Store, name: str, files: list[str]) -> None:
        """Register a lake table from its snapshot's files (no copy); empty: from its schema."""
        from pyspark.sql.pandas.types import from_arrow_schema

        if files:
            df = self.session.read.parquet(*[_spark_uri(f) for f in files])
        else:
            empty = store.raw.sql(f'SELECT * FROM "{name}" LIMIT 0').to_arrow_table()
            df = self.session.createDataFrame([], from_arrow_schema(empty.schema))
        self._view(name, df)

    def _view(self, name: str, df: DataFrame) -> None:
        """Register ``df`` as ``name`` with naive timestamps read as session (UTC) ones."""
        from pyspark.sql import functions as F
        from pyspark.sql.types import TimestampNTZType

        df = df.select(
            *[
                F.col(f.name).cast("timestamp").alias(f.name)
                if isinstance(f.dataType, TimestampNTZType)
                else F.col(f.name)
                for f in df.schema.fields
            ]
        )
        df.createOrReplaceTempView(name)

    # -- Engine protocol -----------------------------------------------------------------------
    def table(self, name: str) -> ibis.Table:
        """Return a store table (from the snapshot) as an unexecuted Ibis expression."""
        return self.con.table(require_table(name))

    def execute(self, expr: ibis.Expr, **kwargs: Any) -> Any:
        """Run an expression: pandas for tables, a Python scalar for scalars, as on DuckDB.

        Results come back through Arrow and Ibis's DuckDB converter, so a metric sees the
        same dtypes and NULL markers on either engine (``toPandas`` would give ``NaN`` for a
        NULL integer where DuckDB gives ``None``).
        """
        from ibis.backends.duckdb.converter import DuckDBPandasData

        table_expr = expr.as_table()
        self.con._run_pre_execute_hooks(table_expr)  # registers memtables and UDFs
        sql = self.con.compile(table_expr, **kwargs)
        arrow = _naive_utc(self.session.sql(sql).toArrow())
        df = pd.DataFrame(
            {
                name: (
                    col.to_pylist()
                    if pa.types.is_nested(col.type) or col.null_count
                    else col.to_pandas()
                )
                for name, col in zip(arrow.column_names, arrow.columns, strict=True)
            },
            index=pd.RangeIndex(arrow.num_rows),
        )
        df = DuckDBPandasData.convert_table(df, table_expr.schema())
        return expr.__pandas_result__(df)

    def to_pyarrow(self, expr: ir.Table) -> pa.Table:
        """Run a table expression and return Arrow typed by its Ibis schema, like the store.

        Only nullability flags may differ from DuckDB's (its keys are ``not null``).
        """
        from ibis.formats.pyarrow import PyArrowData

        self.con._run_pre_execute_hooks(expr)
        arrow = _naive_utc(self.session.sql(self.con.compile(expr)).toArrow())
        return PyArrowData.convert_table(arrow, expr.schema())

    def cache(self, expr: ibis.Table) -> ibis.Table:
        """Materialize an intermediate table now, cutting its lineage.

        Ibis's own ``cache()`` only marks a plan for Spark's cache manager, and the
        self-thread walk nests each round's plan inside the next. On the 5,000-post TWCS
        sample the final responsiveness query then took ~15 s (its plan printed 200,000
        lines and the cached turn table was recomputed); from a local checkpoint it takes
        ~1 s, because every later plan starts from the stored rows.
        """
        name = f"socialaudit_cached_{next(_view_ids)}"
        self.con._run_pre_execute_hooks(expr)  # memtables (peer groups, calendars) first
        df = self.session.sql(self.con.compile(expr)).localCheckpoint(eager=True)
        df.createOrReplaceTempView(name)
        self._views.append((name, df))
        return self.con.table(name)

    def close(self) -> None:
        """Drop this engine's views and delete the snapshot; the shared session stays up."""
        if self._closed:
            return
        self._closed = True
        for name in [*SCHEMAS, *(v for v, _ in self._views)]:
            with contextlib.suppress(Exception):
                self.session.catalog.dropTempView(name)
        # Dropping the last reference lets Spark's context cleaner free checkpointed blocks.
        self._views.clear()
        if self.snapshot is not None:
            shutil.rmtree(self.snapshot, ignore_errors=True)

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SparkEngine(master={self.master!r}, snapshot={str(self.snapshot)!r})"


def _spark_uri(uri: str) -> str:
    """A file URI as Hadoop's file systems name it (``s3://`` is ``s3a://`` in open Hadoop)."""
    return "s3a://" + uri.removeprefix("s3://") if uri.startswith("s3://") else uri


def _naive_utc(table: pa.Table) -> pa.Table:
    """Turn Spark's UTC-zoned Arrow timestamps into the naive UTC wall-clock the store holds."""
    fields = [
        pa.field(f.name, pa.timestamp(f.type.unit), f.nullable, f.metadata)
        if pa.types.is_timestamp(f.type) and f.type.tz is not None
        else f
        for f in table.schema
    ]
    schema = pa.schema(fields, metadata=table.schema.metadata)
    return table if schema.equals(table.schema) else table.cast(schema)
