"""Time the one-command report of the TWCS sample and weigh the file it writes.

Target (issue 5): ``socialaudit --db FRESH report twcs_head5k.csv --out report.html`` (import,
audit, benchmark, report and exports in one process) under 10 s, and the HTML under 5 MB.

Each round, in the same run, times as whole processes:

(a) the baseline: ``socialaudit --db FRESH import twcs_head5k.csv`` then ``audit --json``
    (what the responsiveness audit of the file costs without the report);
(b) ``socialaudit --db FRESH report twcs_head5k.csv --out DIR/report.html``.

It prints the medians of ``--runs`` rounds, the ratio report / baseline, the HTML size, and as
the last line one JSON object ``{"report_s", "baseline_s", "ratio", "html_mb"}``.

Usage::

    python benchmarks/bench_report.py [--runs 3] [--file ../shared/data/twcs/twcs_head5k.csv]
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

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "data" / "twcs" / "twcs_head5k.csv"
CLI = [sys.executable, "-m", "socialaudit"]
TARGETS = {"report_s": 10.0, "html_mb": 5.0}


def timed(args: list[str]) -> float:
    """Wall time of one whole process; fails loudly if it fails."""
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--file", type=Path, default=SAMPLE)
    opts = parser.parse_args()
    if not opts.file.exists():
        print(f"Skipped: {opts.file} is not present (the shared TWCS sample).")
        return
    baseline, report, size = [], [], 0
    for n in range(opts.runs):
        with tempfile.TemporaryDirectory(prefix="sa-bench-report-") as tmp:
            t = Path(tmp)
            db = str(t / f"base{n}.duckdb")
            baseline.append(
                timed([*CLI, "--db", db, "import", str(opts.file)])
                + timed([*CLI, "--db", db, "audit", "--json"])
            )
            out = t / "report.html"
            report.append(
                timed(
                    [*CLI, "--db", str(t / f"r{n}.duckdb"), "report", str(opts.file)]
                    + ["--out", str(out)]
                )
            )
            size = out.stat().st_size
    result = {
        "report_s": round(statistics.median(report), 2),
        "baseline_s": round(statistics.median(baseline), 2),
        "html_mb": round(size / 1e6, 2),
    }
    result["ratio"] = round(result["report_s"] / result["baseline_s"], 2)
    print(f"file: {opts.file} ({opts.runs} rounds, medians)")
    print("| import + audit (baseline) | report (one command) | ratio | HTML |")
    print("|---:|---:|---:|---:|")
    print(
        f"| {result['baseline_s']:.2f} s | {result['report_s']:.2f} s | "
        f"{result['ratio']:.2f}x | {result['html_mb']:.2f} MB |"
    )
    for key, limit in TARGETS.items():
        verdict = "met" if result[key] < limit else "NOT met"
        print(f"target {key} < {limit:g}: {verdict} ({result[key]})")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
