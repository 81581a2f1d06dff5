"""Listening benchmark: each enricher's speed, and enriching the 2.8 M-row file end to end.

1. posts/s of every default enricher on the 5,000 real posts of the TWCS sample (or, when the
   shared data is absent, on the generated file's first 5,000 posts), median of ``--runs``,
   one core, called on one Arrow batch as ``socialaudit enrich`` does;
2. the time ``socialaudit enrich`` takes on a store holding the generated TWCS-format file of
   ``--rows`` rows (default 2.8 M; target <= 15 min), with rows and seconds per enricher and
   peak RSS, in a child process.

Quality figures (F1 against gold sets, floors side by side) are printed by the ``eval_*``
scripts beside this one; ``make bench`` runs them all.

Usage: python benchmarks/bench_listening.py [--rows 2800000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_twcs  # noqa: E402  (a sibling script, not a package)
import socialaudit  # noqa: E402
from socialaudit.enrich.catalog import DEFAULT_ENRICHERS, load  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SOCIALAUDIT_SHARED_DATA") or ROOT.parent / "shared" / "data")
SAMPLE = DATA / "twcs" / "twcs_head5k.csv"
TARGET_S = 15 * 60

CHILD = """
import json, sys, time, resource
import socialaudit
from socialaudit.enrich.runner import enrich
store = socialaudit.open(sys.argv[1])
start = time.perf_counter()
result = enrich(store)
total = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": total, "rows": result.rows, "per": result.seconds, "rss_mb": rss}))
"""


def sample_batch(path: Path) -> pa.Table:
    """5,000 posts with the columns the runner gives enrichers."""
    store = socialaudit.open(":memory:")
    if path == SAMPLE:
        socialaudit.import_file(path, store=store)
    else:
        head = Path(tempfile.mkdtemp()) / "head.csv"
        with path.open(encoding="utf-8", newline="") as src, head.open("w", newline="") as dst:
            for i, line in enumerate(src):
                if i > 5000:
                    break
                dst.write(line)
        socialaudit.import_file(head, store=store)
    return store.raw.sql(
        "SELECT platform, post_id, text, author_id, false AS is_org FROM posts LIMIT 5000"
    ).to_arrow_table()


def speed(batch: pa.Table, runs: int) -> dict[str, float]:
    """Median posts/s of each default enricher over ``runs`` calls on the same batch."""
    out = {}
    for name in DEFAULT_ENRICHERS:
        enricher = load(name)
        enricher.run(batch.slice(0, 10))  # load models before timing
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            enricher.run(batch)
            times.append(time.perf_counter() - start)
        out[name] = batch.num_rows / statistics.median(times)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_800_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    data = gen_twcs.ensure(args.rows)
    source = SAMPLE if SAMPLE.exists() else data
    if source != SAMPLE:
        print(f"(shared data absent: speeds measured on {data.name} instead of the TWCS sample)")
    rates = speed(sample_batch(source), args.runs)
    print(f"posts/s per enricher (one core, median of {args.runs}, 5,000 posts of {source.name}):")
    for name, rate in rates.items():
        print(f"  {name:<12}{rate:>12,.0f}")

    work = Path(tempfile.mkdtemp(prefix="sa-bench-enrich-"))
    db = work / "bench.duckdb"
    start = time.perf_counter()
    with socialaudit.open(db) as store:
        socialaudit.import_file(data, store=store)
        posts = store.count("posts")
    print(f"imported {posts:,} posts in {time.perf_counter() - start:.1f} s")
    env = dict(os.environ)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(db)], capture_output=True, text=True, env=env, check=True
    )
    result = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"socialaudit enrich on {posts:,} posts: {result['seconds'] / 60:.1f} min")
    for name, rows in result["rows"].items():
        seconds = result["per"][name]
        print(
            f"  {name:<12}{rows:>12,} posts {seconds:>8.1f} s {rows / max(seconds, 1e-9):>10,.0f}/s"
        )
    verdict = "met" if result["seconds"] <= TARGET_S else "MISSED"
    print(f"target <= {TARGET_S // 60} min: {verdict}; peak RSS {result['rss_mb']:,.0f} MB")
    print(
        json.dumps(
            {
                "rows": posts,
                "enrich_s": round(result["seconds"], 1),
                "peak_rss_mb": round(result["rss_mb"]),
                "posts_per_s": {k: round(v) for k, v in rates.items()},
            }
        )
    )
    db.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
