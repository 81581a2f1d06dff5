"""``import --engine spark FILES...``: the existing importers run inside Spark tasks.

Parsing is the costly, embarrassingly parallel part of an import, so each Spark task takes one
file and runs that format's own :meth:`~socialaudit.ingest.base.Importer.stage` and
:meth:`~socialaudit.ingest.base.Importer.positions` in a private in-memory DuckDB (the same
code, the same rejects and reasons), and writes the staged tables as Parquet. The driver then
commits the files in the order given, each exactly as :func:`~socialaudit.ingest.core.import_file`
commits a stage: self-reply and cycle screening against what is stored, de-duplication by
``(platform, post_id)`` against the store and across the earlier files, quarantine, the
``read = inserted + duplicates + quarantined`` check, bookkeeping, and one store commit per
file. So counts and rows equal the embedded import of the same files in the same order.

The staged Parquet goes to a local temporary folder, which suits ``local[N]``; on a cluster
the tasks would write it under the lake (docs/scale.md describes that step and the commit
moving into Spark for a billion posts).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import duckdb
import pyarrow as pa

from socialaudit.errors import SourceError
from socialaudit.ingest import base, core
from socialaudit.store import Store
from socialaudit.store.store import DEFAULT_MEMORY_LIMIT

#: What a staging task reports per file (the tables themselves are Parquet files).
TASK_SCHEMA = pa.schema(
    [
        ("file_no", pa.int64()),
        ("read", pa.int64()),
        ("sha256", pa.string()),
        ("accounts", pa.bool_()),
        ("raw_records", pa.bool_()),
        ("error", pa.string()),
    ]
)


def import_on_spark(
    paths: Sequence[str | Path],
    /,
    *,
    store: Store,
    format: str | None = None,  # noqa: A002 - the user-facing word
    mapping: Mapping[str, str] | None = None,
    platform: str | None = None,
    time_format: str | None = None,
    master: str = "local[2]",
) -> list[core.ImportResult]:
    """Stage ``paths`` in Spark tasks, then commit them in order; one result per file.

    Raises
    ------
    SourceError
        A file is missing or not in its format (nothing of it, or of later files, is stored).
    """
    from socialaudit.store.spark import spark_session

    options = base.ImportOptions(
        mapping=dict(mapping or {}), platform=platform, time_format=time_format
    )
    files = [Path(p).resolve() for p in paths]
    importers = [core.choose_importer(src, format, options) for src in files]
    root = Path(tempfile.mkdtemp(prefix="socialaudit-spark-import-"))
    try:
        session = spark_session(master)
        jobs = session.createDataFrame(
            [
                (i, str(src), imp.name, str(root))
                for i, (src, imp) in enumerate(zip(files, importers, strict=True))
            ],
            "file_no long, path string, format string, out string",
        ).repartition(len(files), "file_no")
        from pyspark.sql.pandas.types import from_arrow_schema

        done = jobs.mapInArrow(_stage_task(options), from_arrow_schema(TASK_SCHEMA)).toArrow()
        reports = sorted(done.to_pylist(), key=lambda r: int(r["file_no"]))
        results = []
        for report, src, importer in zip(reports, files, importers, strict=True):
            if report["error"]:
                raise SourceError(str(report["error"]))
            results.append(_commit(store, importer, src, root / str(report["file_no"]), report))
        return results
    finally:
        for importer in importers:
            importer.close()
        shutil.rmtree(root, ignore_errors=True)


def _stage_task(
    options: base.ImportOptions,
) -> Callable[[Iterable[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The task: stage each file of the batch with its importer and write the tables."""

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for job in batch.to_pylist():
                yield pa.RecordBatch.from_pylist([_stage_one(job, options)], TASK_SCHEMA)

    return run


def _stage_one(job: dict[str, object], options: base.ImportOptions) -> dict[str, object]:
    file_no = int(job["file_no"])  # type: ignore[call-overload]
    out = Path(str(job["out"])) / str(file_no)
    out.mkdir(parents=True, exist_ok=True)
    importer = base.get_importer(str(job["format"]))
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        # Bounded like the store's own DuckDB: a big file spills instead of filling the task.
        limit = os.environ.get("SOCIALAUDIT_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT
        con.execute("SET memory_limit = ?", [limit])
        staged = importer.stage(con, Path(str(job["path"])), options)
        # The file order of the rows travels as a column (rowids do not survive Parquet).
        con.execute(
            "CREATE TEMP TABLE _sa_ridded AS SELECT *, "
            f"rowid - (SELECT min(rowid) FROM {staged.rows}) AS _sa_rid FROM {staged.rows}"
        )
        importer.positions(con)
        tables = {"stage": "_sa_ridded", "rejects": staged.rejects, "pos": "_sa_pos"}
        if staged.accounts is not None:
            tables["accounts"] = staged.accounts
        if staged.raw_records is not None:
            tables["raw_records"] = staged.raw_records
        for part, table in tables.items():
            target = str(out / f"{part}.parquet").replace("'", "''")
            con.execute(f"COPY (SELECT * FROM {table}) TO '{target}' (FORMAT parquet)")
        return {
            "file_no": file_no,
            "read": staged.read,
            "sha256": staged.sha256,
            "accounts": staged.accounts is not None,
            "raw_records": staged.raw_records is not None,
            "error": None,
        }
    except SourceError as exc:
        return {
            "file_no": file_no,
            "read": 0,
            "sha256": "",
            "accounts": False,
            "raw_records": False,
            "error": str(exc),
        }
    finally:
        importer.close()
        con.close()


def _commit(
    store: Store, importer: base.Importer, src: Path, folder: Path, report: dict[str, object]
) -> core.ImportResult:
    """Commit one staged file exactly as the embedded import commits its stage."""
    started = time.perf_counter()
    started_at = core._utcnow()
    staged = base.Staged(
        read=int(report["read"]),  # type: ignore[call-overload]
        sha256=str(report["sha256"]),
        accounts="_sa_accounts_in" if report["accounts"] else None,
        raw_records="_sa_raw_in" if report["raw_records"] else None,
        positioned=True,  # the task numbered every record (``_sa_pos`` is loaded below)
    )
    names = {
        "stage": staged.rows,
        "rejects": staged.rejects,
        "pos": "_sa_pos",
        "accounts": staged.accounts,
        "raw_records": staged.raw_records,
    }
    with store.transaction() as con:
        for part, name in names.items():
            if name is None:
                continue
            path = str(folder / f"{part}.parquet").replace("'", "''")
            order = " ORDER BY _sa_rid" if part == "stage" else ""
            select = "* EXCLUDE (_sa_rid)" if part == "stage" else "*"
            con.execute(
                f"CREATE TEMP TABLE {name} AS SELECT {select} FROM read_parquet('{path}'){order}"
            )
        result = core.commit(con, importer, staged, src, started_at, None)
    return replace(result, seconds=time.perf_counter() - started)
