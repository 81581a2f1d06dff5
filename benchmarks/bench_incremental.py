"""Time an audit after a 1% import against a full import plus audit, and dashboard restarts.

Issue 18: a store that grows by 1% a day must not pay the full price each time.

1. Data: the seeded TWCS-format file of ``--rows`` + 1% rows from ``gen_twcs.py`` (cached in
   ``benchmarks/out/``), split by record: a seeded random 1% of the records (``--rows / 100``)
   is the *increment*, the rest the *base*. Random records, not the file's tail: the new posts
   then reply into old conversations, answer old turns and arrive as late parents.
2. **Full**: ``socialaudit --db FRESH import BASE`` then ``audit --no-enrich --json``.
3. **Incremental**: a copy of that store, ``import INCREMENT`` then the same audit.
   The figure of merit is ``(increment import + audit) / (full import + audit)`` (target
   <= 5%); the audit alone after the increment is reported as a share too.
4. **Restarts** (``socialaudit serve``, as in ``bench_serve.py``): the first ``GET /orgs/ORG``
   after starting the server on the base store twice (the first start builds and persists the
   dashboard snapshot; the second must reuse it), then on the store after the increment. The
   target for both restarts is 5 s from spawn to the first page.
5. With ``--check``: one more import of base + increment into a fresh store, whose audit JSON
   must equal the incremental one (the tests check this on small data; this is the 2.8 M run).

Every step is a whole process, timed with ``time.perf_counter`` around spawn and wait. The
last line is one JSON object with every figure.

Usage::

    python benchmarks/bench_incremental.py [--rows 2800000] [--check]
    python benchmarks/bench_incremental.py --rows 280000   # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_serve  # noqa: E402  (a sibling script, not a package)
import gen_twcs  # noqa: E402

CLI = [sys.executable, "-m", "socialaudit"]
TARGET_SHARE = 0.05
TARGET_RESTART_S = 5.0


def records(data: bytes) -> list[bytes]:
    """The CSV records of a TWCS file: newlines inside quotes (and bare CRs) stay inside."""
    out: list[bytes] = []
    cur: list[bytes] = []
    quotes = 0
    for line in data.split(b"\n"):
        cur.append(line)
        quotes += line.count(b'"')
        if quotes % 2 == 0:
            out.append(b"\n".join(cur))
            cur, quotes = [], 0
    return [r for r in out if r]


def split(rows: int, seed: int, out: Path) -> tuple[Path, Path, Path]:
    """Write the base (99%) and increment (1%) files of a ``rows`` + 1% file; return all 3."""
    inc_rows = rows // 100
    whole = gen_twcs.ensure(rows + inc_rows, seed=seed)
    base, inc = out / "base.csv", out / "increment.csv"
    header, *body = records(whole.read_bytes())
    picked = set(random.Random(seed).sample(range(len(body)), inc_rows))
    with base.open("wb") as b, inc.open("wb") as i:
        b.write(header + b"\n")
        i.write(header + b"\n")
        for n, rec in enumerate(body):
            (i if n in picked else b).write(rec + b"\n")
    return whole, base, inc


def timed(args: list[str], *, stdout: Path | None = None) -> float:
    """Wall time of one whole process; fails loudly if it fails."""
    started = time.perf_counter()
    with (stdout or Path(os.devnull)).open("wb") as sink:
        done = subprocess.run(args, stdout=sink, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.decode()}")
    return elapsed


def audit(db: Path, out: Path) -> float:
    """Time ``audit --no-enrich --json`` on ``db``, its JSON written to ``out``."""
    return timed([*CLI, "--db", str(db), "audit", "--no-enrich", "--json"], stdout=out)


def first_page_s(db: Path, org: str) -> dict[str, float]:
    """Start ``serve`` on ``db``: seconds from spawn to the first org page, and the build."""
    server, up_s = bench_serve.Server.start(db)
    try:
        started = time.perf_counter()
        r = httpx.get(f"{server.base}/orgs/{org}", timeout=600)
        r.raise_for_status()
        page_s = time.perf_counter() - started
        health = httpx.get(f"{server.base}/api/health", timeout=60).json()
        return {
            "from_spawn_s": round(time.perf_counter() - server.spawned - 0.0, 2),
            "up_s": round(up_s, 2),
            "page_s": round(page_s, 2),
            "snapshot_built_s": health.get("snapshot_built_s"),
            "snapshot_reused": health.get("snapshot_reused"),
        }
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_800_000, help="base rows [2.8 M]")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--check", action="store_true", help="also compare with a rebuild")
    parser.add_argument("--no-serve", action="store_true", help="skip the restart figures")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="sa-bench-incr-", dir=gen_twcs.OUT_DIR))
    try:
        return run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> int:
    whole, base, inc = split(args.rows, args.seed, work)
    print(
        f"# Incremental import + audit ({platform.node()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}); base {args.rows:,} rows, increment "
        f"{args.rows // 100:,} rows (random 1% of {whole.name})",
        flush=True,
    )
    full_db = work / "full.duckdb"
    full_import = timed([*CLI, "--db", str(full_db), "import", str(base)])
    full_audit = audit(full_db, work / "full.json")
    org = bench_serve.busiest_org(full_db)
    restarts: dict[str, dict[str, float]] = {}
    if not args.no_serve:
        restarts["first_start"] = first_page_s(full_db, org)
        restarts["restart_nothing_new"] = first_page_s(full_db, org)
    incr_db = work / "incr.duckdb"
    shutil.copy(full_db, incr_db)
    incr_import = timed([*CLI, "--db", str(incr_db), "import", str(inc)])
    incr_audit = audit(incr_db, work / "incr.json")
    if not args.no_serve:
        restarts["restart_after_1pct"] = first_page_s(incr_db, org)
    full_total = full_import + full_audit
    share = (incr_import + incr_audit) / full_total
    figures = {
        "rows": args.rows,
        "increment_rows": args.rows // 100,
        "full_import_s": round(full_import, 2),
        "full_audit_s": round(full_audit, 2),
        "incr_import_s": round(incr_import, 2),
        "incr_audit_s": round(incr_audit, 2),
        "incr_share": round(share, 4),
        "incr_audit_share": round(incr_audit / full_total, 4),
        "load": round(os.getloadavg()[0], 1),
    }
    print("\n| step | full (s) | after 1% (s) |\n|---|---:|---:|")
    print(f"| import | {full_import:.1f} | {incr_import:.1f} |")
    print(f"| audit | {full_audit:.1f} | {incr_audit:.1f} |")
    verdict = "PASS" if share <= TARGET_SHARE else "MISS"
    print(
        f"\n(1% import + audit) / (full import + audit) = {share:.1%} "
        f"(target <= {TARGET_SHARE:.0%}: {verdict}); the audit alone after the 1% import: "
        f"{incr_audit / full_total:.1%}."
    )
    for name, r in restarts.items():
        ok = "PASS" if r["from_spawn_s"] <= TARGET_RESTART_S else "MISS"
        target = "" if name == "first_start" else f" (target <= {TARGET_RESTART_S:.0f} s: {ok})"
        print(
            f"serve {name}: first org page {r['from_spawn_s']:.1f} s after spawn (up "
            f"{r['up_s']:.1f} s, page {r['page_s']:.1f} s; snapshot built "
            f"{r['snapshot_built_s']} s, reused: {r['snapshot_reused']}){target}"
        )
        figures[f"{name}_first_page_s"] = r["from_spawn_s"]
    if args.check:
        fresh = work / "fresh.duckdb"
        timed([*CLI, "--db", str(fresh), "import", str(base)])
        timed([*CLI, "--db", str(fresh), "import", str(inc)])
        fresh_json = work / "fresh.json"
        audit(fresh, fresh_json)
        same = same_audit(work / "incr.json", fresh_json)
        print(f"audit after the increment == audit of a fresh store: {same}")
        figures["identical_to_rebuild"] = same
    print(json.dumps(figures))
    return 0


def same_audit(a: Path, b: Path) -> bool:
    """Whether two audit JSON documents agree on everything but when they were run."""

    def load(p: Path) -> dict:
        doc = json.loads(p.read_text())
        doc.pop("generated_at", None)
        return doc

    return load(a) == load(b)


if __name__ == "__main__":
    raise SystemExit(main())
