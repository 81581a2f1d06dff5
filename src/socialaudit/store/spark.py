"""Run the metric expressions on Apache Spark, over a Parquet copy of a DuckDB store.

SPEC principle 3 promises the same numbers on one machine and on many. The metrics are Ibis
expressions, so this engine only has to hand them Spark tables with the store's names and
types, and bring results back in the shape :meth:`socialaudit.store.Store.execute` gives.

PySpark is an optional extra: it is imported inside functions only, so ``make demo`` and the
core install never need Java or PySpark.

Timestamps. The store keeps UTC wall-clock times as naive ``TIMESTAMP``; DuckDB writes them
to Parquet with ``isAdjustedToUTC=false``, which Spark reads as ``TIMESTAMP_NTZ``. Ibis casts
to (and compiles literals as) Spark's session-zoned ``TIMESTAMP``, so every timestamp column
is cast to ``TIMESTAMP`` on registration under a UTC session time zone: both types then hold
the same instant, epoch seconds agree with DuckDB, and results convert back to the same naive
wall-clock values whatever the machine's local time zone is.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import pandas as pd

from socialaudit.errors import ConfigError, StoreError
from socialaudit.store.schema import SCHEMAS

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from socialaudit.store.store import Store

SPARK_EXTRA_HINT = "Spark needs the spark extra: pip install 'socialaudit[spark]'."
DEFAULT_MASTER = "local[2]"

#: Settings for the shared session. A few shuffle partitions: audit tables are small per
#: stage, and Spark's default of 200 spends most of a local run scheduling empty tasks.
#: Driver memory is fixed before the JVM starts; 4 GB leaves most of a 24 GB machine free.
SESSION_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": "4g",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
}
LOG_LEVEL = "ERROR"

_lock = threading.Lock()
_root: SparkSession | None = None


def _require_pyspark() -> None:
    """Fail with the install hint, not an ImportError, when the spark extra is missing."""
    try:
        import pyspark  # noqa: F401
        from ibis.backends import pyspark as _backend  # noqa: F401
    except ImportError:
        raise ConfigError(SPARK_EXTRA_HINT) from None


def spark_session(master: str = DEFAULT_MASTER) -> SparkSession:
    """Return the process-wide SparkSession, starting it on first use.

    Starting Spark takes seconds, so one session (one JVM) is kept per process and reused by
    every engine; each engine works in its own :meth:`SparkSession.newSession` so their
    temporary views never collide. A different ``master`` restarts the session.
    """
    _require_pyspark()
    from pyspark.sql import SparkSession

    global _root
    with _lock:
        if _root is not None and (_stopped(_root) or _root.sparkContext.master != master):
            with contextlib.suppress(Exception):
                _root.stop()
            _root = None
        if _root is None:
            builder = SparkSession.builder.master(master).appName("socialaudit")
            for key, value in SESSION_CONF.items():
                builder = builder.config(key, value)
            try:
                _root = builder.getOrCreate()
            except Exception as exc:  # noqa: BLE001 - Java missing surfaces as many types
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise ConfigError(
                    f"Cannot start Spark with master {master!r} ({first}). "
                    "Spark needs Java 17 on PATH or JAVA_HOME."
                ) from None
            _root.sparkContext.setLogLevel(LOG_LEVEL)
            # getOrCreate may hand back a session started elsewhere; these must hold anyway.
            for key in ("spark.sql.session.timeZone", "spark.sql.shuffle.partitions"):
                _root.conf.set(key, SESSION_CONF[key])
        return _root


def stop_spark() -> None:
    """Stop the shared session (optional: the JVM also ends with the process)."""
    global _root
    with _lock:
        if _root is not None:
            with contextlib.suppress(Exception):
                _root.stop()
            _root = None


def _stopped(session: SparkSession) -> bool:
    return session.sparkContext._jsc is None  # noqa: SLF001 - pyspark has no public flag


class SparkEngine:
    """The :class:`~socialaudit.metrics.base.Engine` that runs metrics on Spark.

    Build one with :meth:`from_store`; it reads a Parquet snapshot of the store taken at
    that moment, so later imports are not seen until a new engine is built.
    """

    backend_name = "pyspark"

    def __init__(self, session: SparkSession, tmpdir: Path, *, master: str = DEFAULT_MASTER):
        self.session = session
        self.master = master
        self.tmpdir = tmpdir
        self.con = ibis.pyspark.connect(session)
        self._cached: list[ibis.Table] = []
        self._closed = False

    @classmethod
    def from_store(cls, store: Store, *, master: str = DEFAULT_MASTER) -> SparkEngine:
        """Snapshot ``store`` to Parquet and register each table with Spark under its name.

        Raises
        ------
        ConfigError
            When PySpark is not installed or Spark cannot start.
        """
        _require_pyspark()
        session = spark_session(master).newSession()
        session.conf.set("spark.sql.session.timeZone", "UTC")
        tmpdir = Path(tempfile.mkdtemp(prefix="socialaudit-spark-"))
        try:
            engine = cls(session, tmpdir, master=master)
            for name in SCHEMAS:
                engine._register(store, name)
        except BaseException:
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise
        return engine

    def _register(self, store: Store, name: str) -> None:
        from pyspark.sql import functions as F
        from pyspark.sql.types import TimestampNTZType

        path = self.tmpdir / f"{name}.parquet"
        quoted = str(path).replace("'", "''")
        try:
            store.raw.execute(f"COPY (SELECT * FROM \"{name}\") TO '{quoted}' (FORMAT parquet)")
        except Exception as exc:  # noqa: BLE001 - duckdb raises several unrelated types
            raise StoreError(f"Cannot export table {name} from {store.path} to Parquet: {exc}")
        df = self.session.read.parquet(str(path))
        df = df.select(
            *[
                F.col(f.name).cast("timestamp").alias(f.name)
                if isinstance(f.dataType, TimestampNTZType)
                else F.col(f.name)
                for f in df.schema.fields
            ]
        )
        df.createOrReplaceTempView(name)

    # -- Engine protocol ----------------------------------------------------------------------
    def table(self, name: str) -> ibis.Table:
        """Return a store table (from the Parquet snapshot) as an Ibis expression."""
        from socialaudit.errors import TableNotFound

        if name not in SCHEMAS:
            raise TableNotFound(
                f"No table {name!r} in the store. Known tables: {', '.join(sorted(SCHEMAS))}."
            )
        return self.con.table(name)

    def execute(self, expr: ibis.Expr, **kwargs: Any) -> Any:
        """Run an expression: pandas for tables, a Python scalar for scalars (as on DuckDB)."""
        result = self.con.execute(expr, **kwargs)
        if isinstance(expr, ibis.expr.types.Scalar):
            return _scalar(result)
        return result

    def cache(self, expr: ibis.Table) -> ibis.Table:
        """Materialize an intermediate table in Spark memory until :meth:`close`."""
        cached = expr.cache()
        self._cached.append(cached)
        return cached

    def close(self) -> None:
        """Release cached tables and delete the Parquet snapshot; the session stays for reuse."""
        if self._closed:
            return
        self._closed = True
        for cached in self._cached:
            with contextlib.suppress(Exception):
                cached.release()
        self._cached.clear()
        for name in SCHEMAS:
            with contextlib.suppress(Exception):
                self.session.catalog.dropTempView(name)
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SparkEngine(master={self.master!r}, snapshot={str(self.tmpdir)!r})"


def _scalar(value: Any) -> Any:
    """Normalize a scalar result to what DuckDB's execute returns for the same expression."""
    if value is None or value is pd.NaT:
        return None
    return value
