"""The pipeline over a lake store, embedded and on Spark local[1] / local[2]: parity and rates.

For a generated TWCS file (benchmarks/gen_twcs.py, cached in benchmarks/out), split into
``--parts`` files at record boundaries (Spark stages one file per task):

1. embedded: ``import`` the parts in order into a fresh ``delta:`` lake, then ``audit``
   (DuckDB reading the lake's files);
2. for each Spark master: ``import --engine spark`` into another fresh lake, then the audit on
   Spark reading that lake's files (no copy);
3. ``--enrich-rows N``: the first N records only, enriched embedded and on each master.

It checks that the import counts, the stored posts, the labels and the audit JSON (floats to
1e-9) are equal to the embedded run's, and prints rows per second per stage and per core,
and the bytes per row of the input, the staged Parquet and the lake's posts (the figures
docs/scale.md is computed from). Timings include Spark's start-up for the first stage only.

Run::

    SOCIALAUDIT_SHARED_DATA=/work/shared/data python benchmarks/bench_lake_spark.py \\
        --rows 2800000 --parts 4 --masters 'local[1]' 'local[2]' --enrich-rows 100000
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def generated(rows: int) -> Path:
    path = OUT / f"twcs_{rows}_s1.csv"
    cmd = [sys.executable, str(HERE / "gen_twcs.py"), "--rows", str(rows), "--out", str(path)]
    subprocess.run(cmd, check=True)
    return path


def split(path: Path, parts: int, folder: Path, limit: int | None = None) -> list[Path]:
    """Split a CSV at record boundaries (quoted newlines stay inside their record)."""
    csv.field_size_limit(sys.maxsize)
    folder.mkdir(parents=True, exist_ok=True)
    with path.open(newline="", encoding="utf-8") as f:
        records = list(csv.reader(f))
    header, body = records[0], records[1 : (limit + 1) if limit else None]
    size = math.ceil(len(body) / parts)
    out = []
    for i in range(parts):
        target = folder / f"part{i}.csv"
        with target.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(body[i * size : (i + 1) * size])
        out.append(target)
    return out


def same(got: Any, want: Any, where: str = "$") -> list[str]:
    """Differences between two audit documents (floats within 1e-9)."""
    if isinstance(want, dict):
        if not isinstance(got, dict) or list(got) != list(want):
            return [f"{where}: keys differ"]
        return [d for k in want for d in same(got[k], want[k], f"{where}.{k}")]
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return [f"{where}: lengths differ"]
        return [
            d
            for i, (g, w) in enumerate(zip(got, want, strict=True))
            for d in same(g, w, f"{where}[{i}]")
        ]
    if isinstance(want, float) and isinstance(got, float):
        ok = math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)
        return [] if ok else [f"{where}: {got} != {want}"]
    return [] if got == want and type(got) is type(want) else [f"{where}: {got!r} != {want!r}"]


def folder_bytes(path: Path, pattern: str = "*.parquet") -> int:
    return sum(p.stat().st_size for p in path.rglob(pattern))


def posts_digest(db: str) -> tuple[int, int]:
    import socialaudit

    with socialaudit.open(db, read_only=True) as s:
        n, h = s.raw.execute(
            "SELECT count(*), sum(hash(platform, post_id, author_id, created_at, text, parent_id, "
            "root_id, inbound, hashtags, mentions, links)) FROM posts"
        ).fetchall()[0]
    return int(n), int(h)


def labels_digest(db: str) -> tuple[int, int]:
    import socialaudit

    with socialaudit.open(db, read_only=True) as s:
        n, h = s.raw.execute(
            "SELECT count(*), sum(hash(e.* EXCLUDE (enriched_at))) FROM enrichments e"
            if "enriched_at" in s.frame("SELECT * FROM enrichments LIMIT 0").columns
            else "SELECT count(*), sum(hash(e)) FROM enrichments e"
        ).fetchall()[0]
    return int(n), int(h or 0)


def timed(label: str, rows: int, cores: int, fn: Any, report: list[dict]) -> Any:
    start = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - start
    report.append(
        {
            "stage": label,
            "rows": rows,
            "cores": cores,
            "seconds": round(seconds, 2),
            "rows_per_s": round(rows / seconds),
            "rows_per_core_s": round(rows / seconds / cores),
        }
    )
    print(
        f"  {label:<34} {seconds:8.1f} s  {rows / seconds:>10,.0f} rows/s  "
        f"{rows / seconds / cores:>10,.0f} rows/s/core",
        flush=True,
    )
    return value


def run(args: argparse.Namespace) -> dict[str, Any]:
    import socialaudit
    from socialaudit.enrich.runner import enrich
    from socialaudit.enrich.spark import enrich_on_spark
    from socialaudit.ingest.spark import import_on_spark
    from socialaudit.store.spark import SparkEngine, spark_session, stop_spark

    work = Path(tempfile.mkdtemp(prefix="sa-bench-lake-", dir=args.tmp))
    report: list[dict] = []
    facts: dict[str, Any] = {"rows": args.rows, "parts": args.parts}
    try:
        source = generated(args.rows)
        facts["input_bytes_per_row"] = round(source.stat().st_size / args.rows, 1)
        files = split(source, args.parts, work / "parts")
        print(f"{args.rows:,} rows in {args.parts} parts; load {os.getloadavg()[0]:.1f}")
        base = f"delta:{work / 'embedded'}"

        def embedded_import() -> list[Any]:
            with socialaudit.open(base) as s:
                return [socialaudit.import_file(f, store=s) for f in files]

        want = timed("embedded import (DuckDB -> lake)", args.rows, 1, embedded_import, report)
        want_counts = [(r.read, r.inserted, r.duplicates, r.quarantined) for r in want]

        def embedded_audit() -> dict:
            with socialaudit.open(base, read_only=True) as s:
                return socialaudit.audit(s)

        want_audit = timed("embedded audit (DuckDB on lake)", args.rows, 1, embedded_audit, report)
        want_posts = posts_digest(base)
        facts["lake_posts_bytes_per_row"] = round(
            folder_bytes(work / "embedded" / "posts") / want_posts[0], 1
        )
        checks: dict[str, bool] = {}
        for master in args.masters:
            cores = int(master.removeprefix("local[").rstrip("]"))
            stop_spark()
            spark_session(master)
            db = f"delta:{work / ('spark' + str(cores))}"

            def spark_import(db: str = db, master: str = master) -> list[Any]:
                with socialaudit.open(db) as s:
                    return import_on_spark(files, store=s, master=master)

            got = timed(f"spark {master} import", args.rows, cores, spark_import, report)
            got_counts = [(r.read, r.inserted, r.duplicates, r.quarantined) for r in got]
            checks[f"{master} import counts"] = got_counts == want_counts
            checks[f"{master} posts"] = posts_digest(db) == want_posts

            def spark_audit(db: str = db, master: str = master) -> dict:
                with (
                    socialaudit.open(db, read_only=True) as s,
                    SparkEngine.from_store(s, master=master) as engine,
                ):
                    return socialaudit.audit(engine)

            got_audit = timed(f"spark {master} audit", args.rows, cores, spark_audit, report)
            diffs = same(got_audit, want_audit)
            checks[f"{master} audit JSON"] = not diffs
            if diffs:
                print("   ", diffs[:5])
        if args.enrich_rows:
            small = split(source, 1, work / "small", limit=args.enrich_rows)
            n = args.enrich_rows
            dbs = {"embedded": f"delta:{work / 'e0'}"}
            with socialaudit.open(dbs["embedded"]) as s:
                socialaudit.import_file(small[0], store=s)
                timed("embedded enrich", n, 1, lambda s=s: enrich(s, workers=1), report)
            want_labels = labels_digest(dbs["embedded"])
            for master in args.masters:
                cores = int(master.removeprefix("local[").rstrip("]"))
                stop_spark()
                spark_session(master)
                db = f"delta:{work / ('e' + str(cores))}"
                with socialaudit.open(db) as s:
                    socialaudit.import_file(small[0], store=s)
                    timed(
                        f"spark {master} enrich",
                        n,
                        cores,
                        lambda s=s, m=master: enrich_on_spark(s, master=m),
                        report,
                    )
                checks[f"{master} labels"] = labels_digest(db) == want_labels
        return {"facts": facts, "stages": report, "parity": checks}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_800_000)
    parser.add_argument("--parts", type=int, default=4)
    parser.add_argument("--masters", nargs="+", default=["local[1]", "local[2]"])
    parser.add_argument("--enrich-rows", type=int, default=0)
    parser.add_argument("--tmp", default=None, help="where the lakes go [default: TMPDIR]")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    result = run(args)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if not all(result["parity"].values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
