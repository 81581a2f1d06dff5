"""Delta Lake (delta-rs) or Iceberg (pyiceberg) for the lake store: the measurement behind it.

The lake store commits once per import and every reader first lists the current snapshot's
files. So this times what the store does: append a posts-shaped batch as one commit, N times,
then list the current snapshot and count it with DuckDB's ``read_parquet`` over that list.
Iceberg needs a catalog: the smallest one, pyiceberg's SQL catalog on SQLite, is used.

Run: python benchmarks/bench_lake_formats.py [--batches 20] [--rows 50000]
(pyiceberg is not a dependency: the Iceberg half is skipped, and says so, when it is absent).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa


def batch(con: duckdb.DuckDBPyConnection, start: int, rows: int) -> pa.Table:
    """Posts-shaped rows: ids, a timestamp, text, a list column and counts."""
    return con.sql(
        f"""SELECT 'twitter' AS platform, CAST(i AS VARCHAR) AS post_id,
               CAST(i % 5000 AS VARCHAR) AS author_id,
               TIMESTAMP '2017-10-01' + to_seconds(i) AS created_at,
               '@AcmeHelp post number ' || i || ' with some words in it' AS text,
               CAST(i - 1 AS VARCHAR) AS parent_id, ['tag'] AS hashtags,
               CAST(i % 7 AS BIGINT) AS like_count, CAST(1 AS BIGINT) AS import_id
        FROM range({start}, {start + rows}) r(i)"""
    ).to_arrow_table()


def count_files(con: duckdb.DuckDBPyConnection, files: list[str]) -> int:
    return int(con.execute("SELECT count(*) FROM read_parquet(?)", [files]).fetchall()[0][0])


def run_delta(root: Path, tables: list[pa.Table]) -> tuple[float, float, int]:
    from deltalake import DeltaTable, write_deltalake

    uri = str(root / "delta_posts")
    t0 = time.perf_counter()
    for t in tables:
        write_deltalake(uri, t, mode="append")
    commit = time.perf_counter() - t0
    t0 = time.perf_counter()
    files = DeltaTable(uri).file_uris()
    n = count_files(duckdb.connect(), files)
    return commit, time.perf_counter() - t0, n


def run_iceberg(root: Path, tables: list[pa.Table]) -> tuple[float, float, int]:
    from pyiceberg.catalog.sql import SqlCatalog

    catalog = SqlCatalog(
        "bench", uri=f"sqlite:///{root}/catalog.db", warehouse=f"file://{root}/warehouse"
    )
    catalog.create_namespace("sa")
    table = catalog.create_table("sa.posts", schema=tables[0].schema)
    t0 = time.perf_counter()
    for t in tables:
        table.append(t)
    commit = time.perf_counter() - t0
    t0 = time.perf_counter()
    table = catalog.load_table("sa.posts")
    files = [task.file.file_path.removeprefix("file://") for task in table.scan().plan_files()]
    n = count_files(duckdb.connect(), files)
    return commit, time.perf_counter() - t0, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    con = duckdb.connect()
    tables = [batch(con, i * args.rows, args.rows) for i in range(args.batches)]
    total = args.batches * args.rows
    print(f"{args.batches} commits of {args.rows:,} posts-shaped rows ({total:,} rows)")
    print(f"{'format':<22} {'mean ms per commit':>30} {'list + count s':>15} {'rows':>10}")
    runners = {"delta (deltalake)": run_delta, "iceberg (pyiceberg)": run_iceberg}
    for name, runner in runners.items():
        root = Path(tempfile.mkdtemp(prefix="sa-lakefmt-"))
        try:
            commit, read, n = runner(root, tables)
        except ImportError as exc:
            print(f"{name:<22} skipped: {exc.name} is not installed")
            continue
        finally:
            shutil.rmtree(root, ignore_errors=True)
        assert n == total, (name, n, total)
        print(f"{name:<22} {1000 * commit / args.batches:>30.1f} {read:>15.3f} {n:>10,}")


if __name__ == "__main__":
    main()
