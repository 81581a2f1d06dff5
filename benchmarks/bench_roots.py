"""What deriving ``root_id`` adds to an import: TWCS import with and without the root walk.

In the same run, round after round, a seeded TWCS file is imported into a fresh store (a)
with :func:`socialaudit.ingest.core.derive_roots` replaced by a no-op and (b) as shipped.
Prints the median seconds of each and the ratio b / a, then one JSON line.

Usage::

    python benchmarks/bench_roots.py [--rows 280000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=280_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    data = HERE / "out" / f"twcs_{args.rows}.csv"
    if not data.exists():
        subprocess.run(
            [
                sys.executable,
                str(HERE / "gen_twcs.py"),
                "--rows",
                str(args.rows),
                "--out",
                str(data),
                "--seed",
                "1",
            ],
            check=True,
        )
    import socialaudit
    from socialaudit.ingest import core

    shipped = core.derive_roots
    times: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(args.runs):
        for label, fn in (("without", lambda con: None), ("with", shipped)):
            core.derive_roots = fn
            with tempfile.TemporaryDirectory() as tmp:
                store = socialaudit.open(Path(tmp) / "s.duckdb")
                started = time.perf_counter()
                socialaudit.import_file(data, store=store)
                times[label].append(time.perf_counter() - started)
                if label == "with":
                    unresolved = store.frame(
                        "SELECT count(*) AS n FROM posts WHERE root_id IS NULL"
                    ).n[0]
                store.close()
    core.derive_roots = shipped
    a, b = statistics.median(times["without"]), statistics.median(times["with"])
    print(
        f"rows {args.rows:,}: import without roots {a:.2f} s, with roots {b:.2f} s "
        f"(x{b / a:.2f}); posts left without a root (chain reaches a missing post): "
        f"{unresolved:,}"
    )
    print(json.dumps({"rows": args.rows, "without_s": a, "with_s": b, "ratio": b / a}))


if __name__ == "__main__":
    main()
