"""Time ``socialaudit import`` and ``audit`` against a bare DuckDB load of the same file.

For each size (default 0.28 M, 1 M and 2.8 M rows) a seeded TWCS-format file is generated
(or reused from ``benchmarks/out/``), then, in the same run and round after round:

(a) the floor: a bare DuckDB load into a fresh DuckDB file in a subprocess,
    ``CREATE TABLE t AS SELECT * FROM read_csv(path, all_varchar=true)`` (no parsing of
    values, no checks). DuckDB's sniffer rejects the bare ``\\r`` that real TWCS copies carry
    in unquoted text; when the exact statement errors, a lenient variant is used and the
    output says which;
(b) ``socialaudit --db FRESH.duckdb import FILE``;
(c) ``socialaudit --db THAT.duckdb audit --no-enrich --json > /dev/null`` (enrichment has
    its own benchmark, ``bench_listening.py``).

Each is timed as a whole process (``time.perf_counter`` around spawn and wait; the median of
``--runs``), and its peak RSS is read from the child's own rusage (``os.wait4``). The output
is a Markdown table, a growth check, the targets, and as the last line one JSON object for
the largest size: ``{"rows", "import_s", "audit_s", "duckdb_load_s", "peak_rss_mb"}``.

Usage::

    python benchmarks/bench_import_audit.py [--sizes 280000,1000000,2800000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_twcs  # noqa: E402  (a sibling script, not a package)

DEFAULT_SIZES = (280_000, 1_000_000, 2_800_000)
FLOOR_SQL = "CREATE TABLE t AS SELECT * FROM read_csv({path}, all_varchar=true)"
LENIENT_FLOOR_SQL = (
    "CREATE TABLE t AS SELECT * FROM read_csv({path}, all_varchar=true, "
    "strict_mode=false, ignore_errors=true)"
)
# Run in a child process so its time and peak RSS are the load's alone.
LOAD_SCRIPT = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute(sys.argv[2])
print(con.execute("SELECT count(*) FROM t").fetchall()[0][0])
con.close()
"""
TARGETS = {"import/load": 2.0, "audit/load": 1.0, "peak_rss_mb": 2048.0, "growth": 1.0}


@dataclass(frozen=True)
class Measured:
    """One child process: wall time, peak RSS, exit code and what it printed."""

    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


@dataclass
class SizeResult:
    """Every run at one size."""

    rows: int
    path: Path
    load: list[Measured] = field(default_factory=list)
    imports: list[Measured] = field(default_factory=list)
    audits: list[Measured] = field(default_factory=list)
    floor_rows: int | None = None
    import_summary: str = ""
    load_avg: tuple[float, float] = (0.0, 0.0)

    @staticmethod
    def _median(runs: list[Measured]) -> float:
        return statistics.median(m.seconds for m in runs)

    @property
    def load_s(self) -> float:
        return self._median(self.load)

    @property
    def import_s(self) -> float:
        return self._median(self.imports)

    @property
    def audit_s(self) -> float:
        return self._median(self.audits)

    @property
    def import_rss_mb(self) -> float:
        return max(m.peak_rss_mb for m in self.imports)

    @property
    def audit_rss_mb(self) -> float:
        return max(m.peak_rss_mb for m in self.audits)

    @property
    def load_rss_mb(self) -> float:
        return max(m.peak_rss_mb for m in self.load)


def run_measured(cmd: list[str], *, keep_stdout: bool = True) -> Measured:
    """Run ``cmd`` to completion; return its wall time and its own peak RSS.

    ``os.wait4`` reaps the child and returns its rusage, whose ``ru_maxrss`` (KiB on Linux)
    is that process's high-water mark; ``RUSAGE_CHILDREN`` deltas cannot give a maximum.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out if keep_stdout else subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            seconds=seconds,
            peak_rss_mb=usage.ru_maxrss / 1024,
            returncode=proc.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


def _remove_db(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _socialaudit() -> list[str]:
    exe = Path(sys.executable).parent / "socialaudit"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "socialaudit"]


def _check(m: Measured, what: str) -> Measured:
    if m.returncode != 0:
        raise SystemExit(f"{what} failed with exit code {m.returncode}:\n{m.stderr.strip()}")
    return m


def choose_floor(path: Path, work: Path) -> tuple[str, str | None]:
    """Return the floor statement template, and why the exact one was not used (if so)."""
    db = work / "floor_probe.duckdb"
    _remove_db(db)
    sql = FLOOR_SQL.format(path=_sql_str(str(path)))
    m = run_measured([sys.executable, "-c", LOAD_SCRIPT, str(db), sql])
    _remove_db(db)
    if m.returncode == 0:
        return FLOOR_SQL, None
    lines = [ln for ln in m.stderr.strip().splitlines() if "Error" in ln]
    return LENIENT_FLOOR_SQL, (lines[-1] if lines else m.stderr.strip()[-200:])


def bench_size(rows: int, *, runs: int, seed: int, floor_sql: str, work: Path) -> SizeResult:
    """Run the floor load, the import and the audit ``runs`` times each, interleaved."""
    path = gen_twcs.ensure(rows, seed=seed)
    result = SizeResult(rows=rows, path=path)
    cli = _socialaudit()
    before = os.getloadavg()[0]
    for r in range(runs):
        floor_db = work / f"floor_{rows}.duckdb"
        _remove_db(floor_db)
        sql = floor_sql.format(path=_sql_str(str(path)))
        m = _check(run_measured([sys.executable, "-c", LOAD_SCRIPT, str(floor_db), sql]), "load")
        result.load.append(m)
        result.floor_rows = int(m.stdout.strip().splitlines()[-1])
        _remove_db(floor_db)

        db = work / f"store_{rows}.duckdb"
        _remove_db(db)
        m = _check(run_measured([*cli, "--db", str(db), "import", str(path)]), "import")
        result.imports.append(m)
        result.import_summary = m.stderr.strip().splitlines()[-1] if m.stderr.strip() else ""

        m = run_measured(
            [*cli, "--db", str(db), "audit", "--no-enrich", "--json"], keep_stdout=False
        )
        result.audits.append(_check(m, "audit"))
        _remove_db(db)
        print(
            f"  {rows:,} rows, run {r + 1}/{runs}: load {result.load[-1].seconds:.2f} s, "
            f"import {result.imports[-1].seconds:.2f} s, audit {result.audits[-1].seconds:.2f} s",
            file=sys.stderr,
        )
    # Other work on the machine skews timings; the 1-minute load average makes it visible.
    result.load_avg = (before, os.getloadavg()[0])
    return result


def startup_s(runs: int) -> float:
    """Median wall time of ``socialaudit --help``: the fixed cost in every CLI timing."""
    cli = _socialaudit()
    return statistics.median(
        _check(run_measured([*cli, "--help"]), "--help").seconds for _ in range(max(runs, 3))
    )


def report(
    results: list[SizeResult], *, floor_sql: str, floor_why: str | None, start_s: float
) -> None:
    """Print the table, growth check, targets and the final JSON line."""
    import duckdb

    print(
        f"# socialaudit import/audit benchmark ({os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, DuckDB {duckdb.__version__})"
    )
    print()
    print(f"Floor statement: `{floor_sql.format(path='path')}`")
    if floor_why:
        print(
            f"(The exact floor `{FLOOR_SQL.format(path='path')}` failed on these files: "
            f"{floor_why})"
        )
    print(f"CLI start-up (`socialaudit --help`, included in every CLI time): {start_s:.2f} s")
    print()
    print(
        "| rows | duckdb_load_s | import_s | import/load | audit_s | audit/load "
        "| peak RSS MB import | peak RSS MB audit |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.rows:,} | {r.load_s:.2f} | {r.import_s:.2f} | {r.import_s / r.load_s:.2f} "
            f"| {r.audit_s:.2f} | {r.audit_s / r.load_s:.2f} | {r.import_rss_mb:,.0f} "
            f"| {r.audit_rss_mb:,.0f} |"
        )
    print()
    for r in results:
        print(
            f"- {r.rows:,} rows ({r.path.stat().st_size / 1e6:,.0f} MB): floor loaded "
            f"{r.floor_rows:,} rows, peak RSS {r.load_rss_mb:,.0f} MB; load average "
            f"{r.load_avg[0]:.1f} -> {r.load_avg[1]:.1f}; import said: {r.import_summary}"
        )
        runs = "; ".join(
            f"{name} " + ", ".join(f"{m.seconds:.2f}" for m in ms)
            for name, ms in (("load", r.load), ("import", r.imports), ("audit", r.audits))
        )
        print(f"  - every run (s): {runs}")
    small, large = results[0], results[-1]
    growth: dict[str, float] = {}
    if len(results) > 1:
        print()
        print(
            f"Growth check (time per row at {large.rows:,} / time per row at {small.rows:,}; "
            "<= 1 is linear or better):"
        )
        for name, attr in (("duckdb_load", "load_s"), ("import", "import_s"), ("audit", "audit_s")):
            a, b = getattr(small, attr), getattr(large, attr)
            growth[name] = (b / large.rows) / (a / small.rows)
            print(
                f"- {name}: {growth[name]:.2f} ({a:.2f} s -> {b:.2f} s "
                f"for x{large.rows / small.rows:.1f} rows)"
            )
    peak = max(large.import_rss_mb, large.audit_rss_mb)
    checks = [
        ("import <= 2x bare load", large.import_s / large.load_s, TARGETS["import/load"]),
        ("audit <= 1x bare load", large.audit_s / large.load_s, TARGETS["audit/load"]),
        ("peak RSS <= 2 GB (MB)", peak, TARGETS["peak_rss_mb"]),
    ]
    checks += [
        (f"{n} growth <= 1", g, TARGETS["growth"]) for n, g in growth.items() if n != "duckdb_load"
    ]
    print()
    print(f"Targets at {large.rows:,} rows:")
    for name, value, limit in checks:
        print(f"- {name}: {value:,.2f} {'PASS' if value <= limit else 'FAIL'}")
    print(
        json.dumps(
            {
                "rows": large.rows,
                "import_s": round(large.import_s, 3),
                "audit_s": round(large.audit_s, 3),
                "duckdb_load_s": round(large.load_s, 3),
                "peak_rss_mb": round(peak, 1),
            }
        )
    )


def _size(text: str) -> int:
    text = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def sizes(text: str) -> list[int]:
    """``--sizes`` of every benchmark: "280000,1M,2.8M" -> sorted row counts."""
    return sorted(_size(x) for x in text.split(",") if x.strip())


def main(argv: list[str] | None = None) -> int:
    """Command line: ``[--sizes N,N,...] [--runs 3] [--seed 1]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=sizes,
        default=list(DEFAULT_SIZES),
        help="comma-separated row counts, e.g. 280000,1M,2.8M [default: 0.28M,1M,2.8M]",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per size [default: 3]")
    parser.add_argument("--seed", type=int, default=1, help="generator seed [default: 1]")
    args = parser.parse_args(argv)
    if args.runs < 1 or not args.sizes:
        parser.error("need at least one size and one run")
    gen_twcs.OUT_DIR.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-", dir=gen_twcs.OUT_DIR))
    try:
        first = gen_twcs.ensure(args.sizes[0], seed=args.seed)
        floor_sql, floor_why = choose_floor(first, work)
        start_s = startup_s(args.runs)
        results = [
            bench_size(n, runs=args.runs, seed=args.seed, floor_sql=floor_sql, work=work)
            for n in args.sizes
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(results, floor_sql=floor_sql, floor_why=floor_why, start_s=start_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
