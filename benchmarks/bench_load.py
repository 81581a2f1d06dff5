"""Load the server on loopback: 200 concurrent requests, also while an import rebuilds the cache.

Target (issue 14): zero errors. Reported: p50 and p95 latency and the error count per phase.

1. The store: the synthetic market (``socialaudit.synthetic.generate_market``, seed 7, in a
   temporary folder), imported with its ``orgs.toml``; or, with ``--rows N``, the seeded
   TWCS-format file of ``gen_twcs.py`` (cached in ``benchmarks/out/``). A second file for the
   import job is written into the server's ``--import-dir``: the market's posts again under
   new ids (a realistic second export: all new rows, so the store's generation changes and
   the server rebuilds its cached snapshot).
2. The server: ``socialaudit --db STORE serve --port P --import-dir DIR`` as a subprocess on
   127.0.0.1; it is ready once ``/api/health`` answers 200 (the cached audit is built).
3. **Idle**: one burst of ``--concurrency`` requests sent at once (``asyncio.gather`` over one
   ``httpx.AsyncClient`` allowing that many connections), half ``GET /`` (the overview page)
   and half ``GET /api/audit``. Each request is timed around the call, body included.
4. **During import**: ``POST /api/imports`` starts the job, and bursts like the one above are
   sent back to back until the job has finished and the cache is rebuilt (at least one burst,
   at most ``--max-bursts``); requests that wait for the rebuild count, with their wait.
5. An error is a transport error, a timeout (``--timeout`` s) or any status but 200.

The last line is one JSON object: ``{"concurrency", "idle": {"requests", "errors", "p50_ms",
"p95_ms"}, "during_import": {... , "bursts", "job_state"}}``. Exit status 1 when any request
failed.

Usage::

    python benchmarks/bench_load.py [--concurrency 200] [--rows N]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

CLI = [sys.executable, "-m", "socialaudit"]
PATHS = ("/", "/api/audit")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_store(folder: Path, rows: int | None) -> tuple[Path, Path]:
    """The store, and the source file the import job re-imports under new ids."""
    db = folder / "load.duckdb"
    if rows:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import gen_twcs  # a sibling script, not a package

        source = gen_twcs.ensure(rows, seed=14)
        subprocess.run([*CLI, "--db", str(db), "import", str(source)], check=True)
    else:
        from socialaudit.synthetic import generate_market

        generate_market(folder, seed=7)
        source = folder / "market.csv"
        subprocess.run(
            [*CLI, "--db", str(db), "import", str(source), "--orgs", str(folder / "orgs.toml")],
            check=True,
        )
    return db, source


def renumbered(source: Path, out: Path) -> None:
    """The TWCS rows of ``source`` with every tweet id (and reference to one) made new."""
    with (
        source.open(newline="", encoding="utf-8") as fin,
        out.open("w", newline="", encoding="utf-8") as fout,
    ):
        reader = csv.DictReader(fin)
        assert reader.fieldnames is not None
        writer = csv.DictWriter(fout, fieldnames=reader.fieldnames, lineterminator="\n")
        writer.writeheader()
        for row in reader:
            for key in ("tweet_id", "in_response_to_tweet_id", "response_tweet_id"):
                if row.get(key):
                    row[key] = ",".join("9" + v for v in row[key].split(","))
            writer.writerow(row)


class Server:
    """``socialaudit serve`` in a child process."""

    def __init__(self, db: Path, import_dir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkstemp(prefix="sa-load-", suffix=".log")[1])
        self.proc = subprocess.Popen(
            [*CLI, "--db", str(db), "serve", "--port", str(self.port), "--import-dir",
             str(import_dir)],
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("wb"),
        )  # fmt: skip

    def wait_ready(self, timeout_s: float = 600) -> None:
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.base + "/api/health", timeout=120).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit("the server did not become ready")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def one(client: httpx.AsyncClient, path: str) -> tuple[float, str | None]:
    started = time.perf_counter()
    try:
        res = await client.get(path)
        await res.aread()
        error = None if res.status_code == 200 else f"{path}: HTTP {res.status_code}"
    except httpx.HTTPError as exc:
        error = f"{path}: {type(exc).__name__}"
    return time.perf_counter() - started, error


async def burst(client: httpx.AsyncClient, n: int) -> list[tuple[float, str | None]]:
    return await asyncio.gather(*(one(client, PATHS[i % len(PATHS)]) for i in range(n)))


def summary(results: list[tuple[float, str | None]]) -> dict:
    times = sorted(t * 1000 for t, _ in results)
    errors = [e for _, e in results if e]
    return {
        "requests": len(results),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, int(0.95 * len(times)) - 1)], 1),
    }


async def run(base: str, n: int, timeout: float, max_bursts: int) -> dict:
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(base_url=base, timeout=timeout, limits=limits) as client:
        idle = await burst(client, n)
        job = (await client.post("/api/imports", json={"path": "second.csv"})).json()
        during: list[tuple[float, str | None]] = []
        bursts = 0
        state = job.get("state")
        while bursts < max_bursts:
            during += await burst(client, n)
            bursts += 1
            state = (await client.get(f"/api/jobs/{job['id']}")).json().get("state")
            if state not in ("queued", "running"):
                # One more burst: the first requests after the job rebuild the cache.
                during += await burst(client, n)
                bursts += 1
                break
    return {
        "concurrency": n,
        "idle": summary(idle),
        "during_import": {**summary(during), "bursts": bursts, "job_state": state},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument(
        "--rows", type=int, default=None, help="gen_twcs rows instead of the market"
    )
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--max-bursts", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sa-load-") as tmp:
        folder = Path(tmp)
        imports = folder / "imports"
        imports.mkdir()
        db, source = build_store(folder, args.rows)
        renumbered(source, imports / "second.csv")
        server = Server(db, imports)
        try:
            server.wait_ready()
            result = asyncio.run(run(server.base, args.concurrency, args.timeout, args.max_bursts))
        finally:
            server.stop()
    for phase in ("idle", "during_import"):
        r = result[phase]
        print(
            f"{phase}: {r['requests']:,} requests, {r['errors']:,} errors, "
            f"p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms",
            file=sys.stderr,
        )
    print(json.dumps(result))
    if result["idle"]["errors"] or result["during_import"]["errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
