"""Time ``socialaudit serve`` over HTTP: the org page and the inbox, cold and warm.

Target: on the 2.8 M-row benchmark store, p95 <= 150 ms for the org page (``GET /orgs/ORG``)
and the inbox (``GET /inbox?...``), warm cache; the cold first request is reported too.

1. The store: the seeded TWCS-format file of ``--rows`` rows from ``gen_twcs.py`` (cached in
   ``benchmarks/out/``), imported with ``socialaudit --db STORE import FILE`` and enriched with
   ``socialaudit --db STORE enrich`` (so the intent and sentiment filters of the inbox have
   labels to filter on). The store is kept as ``benchmarks/out/serve_ROWS_sSEED.duckdb`` and
   reused by later runs (the output says so, with the build times of the run that built it).
2. The server: ``socialaudit --db STORE serve --port P`` as a subprocess on a free port; it is
   up once ``/static/dashboard.js`` answers (``/api/health`` waits for the cached audit).
   **Cold** is the wall time of the first ``GET /orgs/ORG`` (ORG: the org whose accounts
   wrote the most posts) sent as soon as the server is up: the server starts building the
   per-generation snapshot in the background at start-up, so this is the wait for the rest
   of that build plus the page; the time from spawn is printed too, and the build time the
   server itself measured is read back from ``/api/health`` (``snapshot_built_s``).
3. **Warm**: the orgs are the largest few by turns (``GET /api/orgs``) plus a few seeded
   random ones. Each round sends ``--requests`` requests per endpoint class, shuffled
   together with one ``httpx.Client`` (keep-alive, one request at a time): the org page over
   the orgs; the inbox page over orgs and filter combos (no filter, org, org+intent=question,
   org+sentiment=negative, older_than=7d, org+older_than=7d, page=50); their API twins
   ``/api/orgs/ORG`` and ``/api/inbox?...``; and the **baseline** ``GET /static/dashboard.js``,
   a small static file through the same server and middleware (the floor of any request).
   Every variant is requested once, unmeasured, before the first round. Each request is timed
   with ``time.perf_counter`` around the client call (body read included). Per round: p50,
   p95, p99 and max per class; reported: the median over ``--rounds`` of each, each p95 as a
   ratio to the baseline's p95 of the same round, and PASS/MISS against 150 ms.
4. The server's peak RSS (``VmHWM`` in ``/proc/PID/status``) before it is stopped.

The last line is one JSON object: ``{"rows", "cold_first_org_page_s", "cold_from_spawn_s",
"snapshot_built_s", "org_page_p95_ms", "inbox_p95_ms", "api_org_p95_ms", "api_inbox_p95_ms",
"baseline_p95_ms", "server_rss_mb"}`` (p95s: medians over rounds).

Usage::

    python benchmarks/bench_serve.py [--rows 2800000] [--requests 200] [--rounds 3]
    python benchmarks/bench_serve.py --rows 280000 --requests 50   # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_twcs  # noqa: E402  (a sibling script, not a package)

CLI = [sys.executable, "-m", "socialaudit"]
TARGET_MS = 150.0
CLASSES = ("org_page", "inbox", "api_org", "api_inbox", "baseline")
TARGETED = ("org_page", "inbox")
BASELINE_PATH = "/static/dashboard.js"
#: The org whose accounts wrote the most posts: the cold request's org, chosen before the
#: server starts (asking the server would build the snapshot).
BUSIEST_ORG_SQL = """
SELECT oa.org_id FROM posts p
JOIN org_accounts oa ON p.platform = oa.platform AND p.author_id = oa.account_id
GROUP BY oa.org_id ORDER BY count(*) DESC, oa.org_id LIMIT 1
"""


# -- the store ------------------------------------------------------------------------------------
def timed(args: list[str]) -> float:
    """Wall time of one whole process; fails loudly if it fails."""
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed


def ensure_store(rows: int, seed: int, *, rebuild: bool = False) -> tuple[Path, dict, bool]:
    """The enriched store of ``rows`` rows: built now, or reused with the times it took then.

    A store counts as built only once its sidecar ``.json`` (written after ``enrich`` ended)
    exists, so an interrupted build is redone rather than measured.
    """
    db = gen_twcs.OUT_DIR / f"serve_{rows}_s{seed}.duckdb"
    sidecar = db.with_suffix(".json")
    if not rebuild and db.exists() and sidecar.exists():
        return db, json.loads(sidecar.read_text()), True
    data = gen_twcs.ensure(rows, seed=seed)
    building = db.with_name(db.name + ".building")
    for p in (db, building, Path(f"{db}.wal"), Path(f"{building}.wal"), sidecar):
        p.unlink(missing_ok=True)
    print(f"Building {db.name}: import {data.name} ...", file=sys.stderr, flush=True)
    import_s = timed([*CLI, "--db", str(building), "import", str(data)])
    print(f"  import {import_s:.1f} s; enrich ...", file=sys.stderr, flush=True)
    enrich_s = timed([*CLI, "--db", str(building), "enrich"])
    print(f"  enrich {enrich_s:.1f} s", file=sys.stderr, flush=True)
    building.rename(db)
    info = {
        "rows": rows,
        "seed": seed,
        "import_s": round(import_s, 1),
        "enrich_s": round(enrich_s, 1),
    }
    info.update(store_counts(db))
    sidecar.write_text(json.dumps(info) + "\n")
    return db, info, False


def store_counts(db: Path) -> dict:
    """Posts, enriched posts and orgs in the store, and its size on disk."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        posts, enriched, orgs = con.execute(
            "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM enrichments), "
            "(SELECT count(*) FROM orgs)"
        ).fetchall()[0]
    finally:
        con.close()
    return {
        "posts": posts,
        "enriched": enriched,
        "orgs": orgs,
        "mb": round(db.stat().st_size / 1e6),
    }


def busiest_org(db: Path) -> str:
    """The org whose accounts wrote the most posts (read before the server opens the store)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return str(con.execute(BUSIEST_ORG_SQL).fetchall()[0][0])
    finally:
        con.close()


# -- the server -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """``socialaudit serve`` in a child process."""

    proc: subprocess.Popen
    base: str
    log: Path
    spawned: float

    @classmethod
    def start(cls, db: Path, *, timeout_s: float = 300.0) -> tuple[Server, float]:
        """Start it and wait until a request that does not build the snapshot answers."""
        port = free_port()
        log = Path(tempfile.mkstemp(prefix="sa-bench-serve-", suffix=".log")[1])
        started = time.perf_counter()
        proc = subprocess.Popen(
            [*CLI, "--db", str(db), "serve", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
        )
        server = cls(proc, f"http://127.0.0.1:{port}", log, started)
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited ({proc.returncode}): {server.tail()}")
            try:
                if httpx.get(server.base + BASELINE_PATH, timeout=5).status_code == 200:
                    return server, time.perf_counter() - started
            except httpx.TransportError:
                pass
            if time.perf_counter() - started > timeout_s:
                server.stop()
                raise SystemExit(f"the server did not answer within {timeout_s:.0f} s")
            time.sleep(0.1)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]

    def memory_mb(self) -> tuple[float, float]:
        """Peak (VmHWM) and current (VmRSS) resident memory of the server process."""
        fields = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                fields[key] = int(value.split()[0]) / 1024
        return fields.get("VmHWM", float("nan")), fields.get("VmRSS", float("nan"))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.unlink(missing_ok=True)


# -- the requests ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Variant:
    """One URL of an endpoint class."""

    cls: str
    label: str
    url: str


def variants(orgs: list[str]) -> dict[str, list[Variant]]:
    """Every URL each class cycles through."""
    combos: list[tuple[str, dict[str, str | int]]] = [("no filter", {})]
    for org in orgs:
        combos += [
            (f"org={org}", {"org": org}),
            (f"org={org}&intent=question", {"org": org, "intent": "question"}),
            (f"org={org}&sentiment=negative", {"org": org, "sentiment": "negative"}),
            (f"org={org}&older_than=7d", {"org": org, "older_than": "7d"}),
        ]
    combos += [("older_than=7d", {"older_than": "7d"}), ("page=50", {"page": 50})]

    def q(params: dict[str, str | int]) -> str:
        return f"?{urlencode(params)}" if params else ""

    return {
        "org_page": [Variant("org_page", o, f"/orgs/{o}") for o in orgs],
        "inbox": [Variant("inbox", lab, f"/inbox{q(p)}") for lab, p in combos],
        "api_org": [Variant("api_org", o, f"/api/orgs/{o}") for o in orgs],
        "api_inbox": [Variant("api_inbox", lab, f"/api/inbox{q(p)}") for lab, p in combos],
        "baseline": [Variant("baseline", "dashboard.js", BASELINE_PATH)],
    }


def get(client: httpx.Client, url: str) -> tuple[float, int, int]:
    """Seconds, status and body size of one GET (the body read in full)."""
    started = time.perf_counter()
    r = client.get(url)
    body = r.content
    return time.perf_counter() - started, r.status_code, len(body)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of a non-empty list."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-q * len(s) // 100)) - 1))
    return s[k]


@dataclass
class Round:
    """Every timing (ms) of one warm round, by class and by variant."""

    by_class: dict[str, list[float]] = field(default_factory=dict)
    by_variant: dict[Variant, list[float]] = field(default_factory=dict)

    def stat(self, cls: str, q: float) -> float:
        return percentile(self.by_class[cls], q)


def warm_round(
    client: httpx.Client, plan: dict[str, list[Variant]], n: int, rng: random.Random
) -> Round:
    """``n`` requests per class (cycling through its variants), shuffled together."""
    todo = [vs[i % len(vs)] for vs in plan.values() for i in range(n)]
    rng.shuffle(todo)
    out = Round()
    for v in todo:
        seconds, status, _ = get(client, v.url)
        if status != 200:
            raise SystemExit(f"GET {v.url} answered {status}")
        out.by_class.setdefault(v.cls, []).append(seconds * 1000)
        out.by_variant.setdefault(v, []).append(seconds * 1000)
    return out


# -- the run --------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """Command line: ``[--rows N] [--requests N] [--rounds N] [--top N] [--random N]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_800_000, help="rows [default: 2.8 M]")
    parser.add_argument("--seed", type=int, default=1, help="generator seed [default: 1]")
    parser.add_argument(
        "--requests", type=int, default=200, help="requests per class per round [default: 200]"
    )
    parser.add_argument("--rounds", type=int, default=3, help="warm rounds [default: 3]")
    parser.add_argument("--top", type=int, default=3, help="largest orgs by turns [default: 3]")
    parser.add_argument("--random", type=int, default=3, help="random other orgs [default: 3]")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the store")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.rounds < 1 or args.top + args.random < 1:
        parser.error("need at least one request, one round and one org")
    gen_twcs.OUT_DIR.mkdir(parents=True, exist_ok=True)

    db, info, reused = ensure_store(args.rows, args.seed, rebuild=args.rebuild)
    cold_org = busiest_org(db)
    load_before = os.getloadavg()[0]
    server, up_s = Server.start(db)
    try:
        with httpx.Client(base_url=server.base, timeout=3600) as client:
            cold_s, status, cold_bytes = get(client, f"/orgs/{cold_org}")
            from_spawn_s = time.perf_counter() - server.spawned
            if status != 200:
                raise SystemExit(f"cold GET /orgs/{cold_org} answered {status}: {server.tail()}")
            health_s, _, _ = get(client, "/api/health")
            health = client.get("/api/health").json()
            summary = client.get("/api/orgs").json()
            by_turns = sorted(summary, key=lambda o: (-(o["turns"] or 0), o["org_id"]))
            top = [o["org_id"] for o in by_turns[: args.top]]
            rest = sorted(o["org_id"] for o in by_turns[args.top :])
            rng = random.Random(args.seed)
            orgs = top + rng.sample(rest, min(args.random, len(rest)))
            plan = variants(orgs)
            first_hit: dict[str, float] = {}
            for vs in plan.values():  # every variant once, unmeasured
                for v in vs:
                    seconds, status, _ = get(client, v.url)
                    if status != 200:
                        raise SystemExit(f"GET {v.url} answered {status}")
                    first_hit[v.cls] = max(first_hit.get(v.cls, 0.0), seconds * 1000)
            sizes = {cls: get(client, vs[0].url)[2] for cls, vs in plan.items()}
            rounds = []
            for r in range(args.rounds):
                rounds.append(warm_round(client, plan, args.requests, rng))
                p95 = {c: rounds[-1].stat(c, 95) for c in CLASSES}
                print(
                    f"  round {r + 1}/{args.rounds}: p95 ms "
                    + ", ".join(f"{c} {v:.1f}" for c, v in p95.items()),
                    file=sys.stderr,
                    flush=True,
                )
        peak_mb, rss_mb = server.memory_mb()
    finally:
        server.stop()
    load_after = os.getloadavg()[0]

    # -- the report ------------------------------------------------------------------------------
    def med(cls: str, q: float) -> float:
        return statistics.median(r.stat(cls, q) for r in rounds)

    ratios = {
        c: statistics.median(r.stat(c, 95) / r.stat("baseline", 95) for r in rounds)
        for c in CLASSES
    }
    print(
        f"# socialaudit serve benchmark ({os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, httpx {httpx.__version__})"
    )
    print()
    how = "reused from an earlier run" if reused else "built by this run"
    print(
        f"Store: {db} ({how}): {info.get('posts', 0):,} posts, {info.get('enriched', 0):,} "
        f"enriched, {info.get('orgs', 0):,} orgs, {info.get('mb', 0):,} MB; "
        f"import {info['import_s']:.1f} s, enrich {info['enrich_s']:.1f} s"
    )
    print(f"Server up (answering {BASELINE_PATH}) {up_s:.1f} s after spawn.")
    print(
        f"Cold: first GET /orgs/{cold_org} {cold_s:.2f} s after the server was up "
        f"({from_spawn_s:.2f} s after spawn; {cold_bytes / 1e3:,.0f} kB); /api/health then "
        f"took {health_s * 1000:.0f} ms and says snapshot_built_s "
        f"{health['snapshot_built_s']:.2f} s, {health['orgs']} orgs"
    )
    print(
        "  (the server starts building the snapshot in the background at start-up, so the "
        "first request waits only for the rest of that build)"
    )
    print(f"Orgs: {', '.join(top)} (largest by turns), {', '.join(orgs[len(top) :])} (random)")
    print(
        f"Warm: {args.rounds} rounds x {args.requests} requests per class, shuffled together, "
        "one client, sequential; figures are medians over the rounds."
    )
    print()
    print(
        "| class | p50 ms | p95 ms | p99 ms | max ms | p95 / baseline p95 | body kB "
        "| first hit ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for c in CLASSES:
        print(
            f"| {c} | {med(c, 50):.1f} | {med(c, 95):.1f} | {med(c, 99):.1f} | {med(c, 100):.1f} "
            f"| {ratios[c]:.1f} | {sizes[c] / 1e3:,.1f} | {first_hit[c]:.0f} |"
        )
    print()
    print("Per variant (all rounds pooled):")
    print()
    print("| class | variant | n | p50 ms | p95 ms | max ms |")
    print("|---|---|---:|---:|---:|---:|")
    pooled: dict[Variant, list[float]] = {}
    for r in rounds:
        for v, ms in r.by_variant.items():
            pooled.setdefault(v, []).extend(ms)
    for c in CLASSES:
        for v in plan[c]:
            ms = pooled.get(v, [])
            if ms:
                print(
                    f"| {c} | {v.label} | {len(ms)} | {percentile(ms, 50):.1f} "
                    f"| {percentile(ms, 95):.1f} | {max(ms):.1f} |"
                )
    print()
    print(
        "Every round's p95 (ms): "
        + "; ".join(f"{c} " + ", ".join(f"{r.stat(c, 95):.1f}" for r in rounds) for c in CLASSES)
    )
    print(
        f"Server memory: peak {peak_mb:,.0f} MB (VmHWM), {rss_mb:,.0f} MB at the end; "
        f"load average {load_before:.1f} -> {load_after:.1f}"
    )
    print()
    print(f"Targets at {info.get('posts', args.rows):,} posts (warm p95 <= {TARGET_MS:.0f} ms):")
    for c in TARGETED:
        verdict = "PASS" if med(c, 95) <= TARGET_MS else "MISS"
        print(f"- {c}: p95 {med(c, 95):.1f} ms {verdict}")
    print(
        json.dumps(
            {
                "rows": args.rows,
                "cold_first_org_page_s": round(cold_s, 2),
                "cold_from_spawn_s": round(from_spawn_s, 2),
                "snapshot_built_s": health["snapshot_built_s"],
                "org_page_p95_ms": round(med("org_page", 95), 1),
                "inbox_p95_ms": round(med("inbox", 95), 1),
                "api_org_p95_ms": round(med("api_org", 95), 1),
                "api_inbox_p95_ms": round(med("api_inbox", 95), 1),
                "baseline_p95_ms": round(med("baseline", 95), 2),
                "server_rss_mb": round(peak_mb),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
