"""How time and memory grow with the data: import, audit, enrich and the dashboard's cold start.

For each size (default 0.28 M, 1 M, 2.8 M and 10 M rows) a seeded TWCS-format file is
generated (or reused from ``benchmarks/out/``) and, in one run, these child processes are
timed one after the other on a fresh store (wall clock around spawn and wait; peak RSS from
the child's own rusage, as in ``bench_import_audit.py``):

- ``import``: ``socialaudit --db FRESH import FILE``;
- ``audit``: ``socialaudit --db THAT audit --no-enrich --json`` (the default 90-day window);
- ``cold``: the dashboard's cold start, a fresh process that opens the store and builds what
  the first page needs (:class:`socialaudit.serve.snapshot.SnapshotCache`, as ``serve`` does
  at start-up), interpreter start-up included: the first start after an import;
- ``restart``: the same again, with nothing new in the store (the snapshot the cold start
  persisted is read back instead of rebuilt);
- ``enrich``: ``socialaudit --db THAT enrich`` (every enricher, default models).

Each step's growth is the exponent ``b`` of a least-squares fit of ``time = a * rows**b`` in
log-log space over the sizes (``b = 1``: linear; fixed costs make small sizes relatively dear,
so ``b`` below 1 is usual); the same for peak RSS. A step passes when ``b <= 1.1`` (linear
within the noise of a shared machine). The chart (``--chart``, default
``docs/img/growth.svg``, shown in the README) plots both on log-log axes with a dashed
linear reference; it is an SVG written here (no plotting library needed).

The 10 M point and ``enrich`` at scale take long (enrich: minutes per million posts on two
cores): ``--sizes`` and ``--steps`` choose what runs, and ``--enrich-max`` (default 1 M)
skips enrich above that size. The last line is one JSON object with every measurement and
the fitted exponents.

Usage::

    python benchmarks/bench_growth.py [--sizes 0.28M,1M,2.8M,10M] [--enrich-max 1M]
    python benchmarks/bench_growth.py --steps import,audit,cold,restart   # no enrich
    python benchmarks/bench_growth.py --sizes 280k,1M --enrich-max 1M   # a quick run
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_twcs  # noqa: E402  (a sibling script, not a package)
from bench_import_audit import (  # noqa: E402
    Measured,
    _check,
    _remove_db,
    _size,
    _socialaudit,
    run_measured,
    sizes,
)

DEFAULT_SIZES = (280_000, 1_000_000, 2_800_000, 10_000_000)
STEPS = ("import", "audit", "cold", "restart", "enrich")
MAX_EXPONENT = 1.1
CHART = Path(__file__).resolve().parent.parent / "docs" / "img" / "growth.svg"
#: The dashboard's start-up in a child process: open the store, build the first snapshot.
COLD_SCRIPT = """
import sys, time
from socialaudit.run import DEFAULT_WINDOW_DAYS
from socialaudit.serve.snapshot import SnapshotCache
from socialaudit.store import Store
store = Store(sys.argv[1], read_only=True)
started = time.perf_counter()
SnapshotCache(store, window_days=DEFAULT_WINDOW_DAYS).current()
print(f"{time.perf_counter() - started:.3f}")
store.close()
"""


@dataclass
class Point:
    """One size: the measurement of each step that ran."""

    rows: int
    steps: dict[str, Measured] = field(default_factory=dict)
    load: tuple[float, float] = (0.0, 0.0)


def measure(rows: int, steps: list[str], *, seed: int, work: Path, enrich_max: int) -> Point:
    """Run the chosen steps once on a fresh store of ``rows`` rows."""
    path = gen_twcs.ensure(rows, seed=seed)
    cli = _socialaudit()
    db = work / f"growth_{rows}.duckdb"
    _remove_db(db)
    point = Point(rows=rows)
    before = os.getloadavg()[0]
    commands = {
        "import": [*cli, "--db", str(db), "import", str(path)],
        "audit": [*cli, "--db", str(db), "audit", "--no-enrich", "--json"],
        "cold": [sys.executable, "-c", COLD_SCRIPT, str(db)],
        "restart": [sys.executable, "-c", COLD_SCRIPT, str(db)],
        "enrich": [*cli, "--db", str(db), "enrich"],
    }
    for step in STEPS:  # in this order: each step needs the store the import made
        if step not in steps and step != "import":
            continue
        if step == "enrich" and rows > enrich_max:
            continue
        m = _check(run_measured(commands[step], keep_stdout=step == "cold"), step)
        point.steps[step] = m
        print(
            f"  {rows:,} rows: {step} {m.seconds:.2f} s, peak RSS {m.peak_rss_mb:,.0f} MB",
            file=sys.stderr,
        )
    _remove_db(db)
    point.load = (before, os.getloadavg()[0])
    return point


def exponent(xs: list[float], ys: list[float]) -> float | None:
    """The least-squares slope of log(y) on log(x): ``y ~ x**b``; None below two points."""
    if len(xs) < 2:
        return None
    lx = [math.log(x) for x in xs]
    ly = [math.log(max(y, 1e-9)) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    var = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / var


def series(points: list[Point], step: str, attr: str) -> tuple[list[float], list[float]]:
    """(rows, value) for the sizes where ``step`` ran."""
    pts = [(p.rows, getattr(p.steps[step], attr)) for p in points if step in p.steps]
    return [float(r) for r, _ in pts], [float(v) for _, v in pts]


# -- the chart ----------------------------------------------------------------------------------

COLORS = {
    "import": "#1f77b4",
    "audit": "#d62728",
    "cold": "#2ca02c",
    "restart": "#8c564b",
    "enrich": "#9467bd",
}
LABELS = {
    "import": "import",
    "audit": "audit",
    "cold": "dashboard cold start",
    "restart": "dashboard restart",
    "enrich": "enrich",
}


def _panel(points: list[Point], steps: list[str], attr: str, title: str, x0: float) -> list[str]:
    """One log-log panel as SVG elements, its plot area starting at ``x0``."""
    w, h, top, left = 330.0, 230.0, 40.0, x0 + 55.0
    data = {s: series(points, s, attr) for s in steps}
    xs = [x for s in data.values() for x in s[0]]
    ys = [y for s in data.values() for y in s[1] if y > 0]
    if not xs or not ys:
        return []
    lx0, lx1 = math.log10(min(xs)) - 0.05, math.log10(max(xs)) + 0.05
    ly0, ly1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    if ly1 == ly0:
        ly1 += 1

    def px(x: float) -> float:
        return left + (math.log10(x) - lx0) / (lx1 - lx0) * w

    def py(y: float) -> float:
        return top + h - (math.log10(max(y, 1e-9)) - ly0) / (ly1 - ly0) * h

    out = [
        (
            f'<text x="{left + w / 2:.0f}" y="22" text-anchor="middle" font-weight="bold">'
            f"{title}</text>"
        ),
        f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#999"/>',
    ]
    for e in range(int(ly0), int(ly1) + 1):
        y = py(10.0**e)
        label = f"{10.0**e:g}"
        out.append(f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    for x in sorted(set(xs)):
        out.append(
            f'<text x="{px(x):.1f}" y="{top + h + 16}" text-anchor="middle">{x / 1e6:g} M</text>'
        )
    out.append(f'<text x="{left + w / 2:.0f}" y="{top + h + 34}" text-anchor="middle">rows</text>')
    for s, (sx, sy) in data.items():
        if not sx:
            continue
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(sx, sy, strict=True))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{COLORS[s]}" stroke-width="2"/>')
        out += [
            f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{COLORS[s]}"/>'
            for x, y in zip(sx, sy, strict=True)
        ]
        # The linear reference through the step's smallest point.
        ref = [(x, sy[0] * x / sx[0]) for x in (sx[0], sx[-1])]
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in ref)
        out.append(
            f'<polyline points="{pts}" fill="none" stroke="{COLORS[s]}" stroke-width="1" '
            'stroke-dasharray="4 3" opacity="0.6"/>'
        )
    return out


def chart(points: list[Point], steps: list[str], fits: dict[str, dict[str, float | None]]) -> str:
    """The growth chart: time and peak RSS against rows, log-log, with linear references."""
    parts = [
        (
            '<svg xmlns="http://www.w3.org/2000/svg" width="820" height="380" '
            'font-family="sans-serif" font-size="11">'
        ),
        '<rect width="100%" height="100%" fill="white"/>',
        *_panel(points, steps, "seconds", "Time (s)", 0.0),
        *_panel(points, steps, "peak_rss_mb", "Peak RSS (MB)", 410.0),
    ]
    for i, s in enumerate(x for x in steps if any(x in p.steps for p in points)):
        b = fits[s]["seconds"]
        label = LABELS[s] + (f" (time ~ rows^{b:.2f})" if b is not None else "")
        x, y = 60 + (i % 3) * 250, 318 + (i // 3) * 16
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="3" fill="{COLORS[s]}"/>')
        parts.append(f'<text x="{x + 16}" y="{y + 5}">{label}</text>')
    parts.append(
        '<text x="60" y="368" fill="#666">dashed: linear growth from the smallest size; '
        "a solid line below its dashed one grows slower than linearly</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


# -- report -------------------------------------------------------------------------------------


def report(points: list[Point], steps: list[str], chart_path: Path | None) -> int:
    """Print the table, the fitted exponents, the chart's path and the JSON line."""
    print(f"# socialaudit growth curve ({os.cpu_count()} CPUs)")
    print()
    print("| rows | " + " | ".join(f"{s} s | {s} MB" for s in steps) + " | load |")
    print("|---:|" + "---:|---:|" * len(steps) + "---|")
    for p in points:
        cells = []
        for s in steps:
            m = p.steps.get(s)
            cells += [f"{m.seconds:.2f}", f"{m.peak_rss_mb:,.0f}"] if m else ["-", "-"]
        print(f"| {p.rows:,} | " + " | ".join(cells) + f" | {p.load[0]:.1f} -> {p.load[1]:.1f} |")
    fits: dict[str, dict[str, float | None]] = {
        s: {attr: exponent(*series(points, s, attr)) for attr in ("seconds", "peak_rss_mb")}
        for s in steps
    }
    print()
    print(f"Fitted exponents b (value ~ rows^b; linear: b = 1; pass: b <= {MAX_EXPONENT}):")
    failed = False
    for s in steps:
        for attr, name in (("seconds", "time"), ("peak_rss_mb", "peak RSS")):
            b = fits[s][attr]
            if b is None:
                print(f"- {s} {name}: fewer than two sizes ran")
                continue
            ok = b <= MAX_EXPONENT
            failed |= not ok
            print(f"- {s} {name}: b = {b:.2f} {'PASS' if ok else 'FAIL'}")
    if chart_path is not None:
        chart_path.parent.mkdir(parents=True, exist_ok=True)
        chart_path.write_text(chart(points, steps, fits), encoding="utf-8")
        print(f"\nChart: {chart_path}")
    print(
        json.dumps(
            {
                "points": [
                    {
                        "rows": p.rows,
                        **{
                            f"{s}_{k}": round(getattr(m, a), 2)
                            for s, m in p.steps.items()
                            for k, a in (("s", "seconds"), ("rss_mb", "peak_rss_mb"))
                        },
                    }
                    for p in points
                ],
                "exponents": {
                    s: {k: None if v is None else round(v, 3) for k, v in f.items()}
                    for s, f in fits.items()
                },
            }
        )
    )
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Command line: ``[--sizes ...] [--steps ...] [--enrich-max 1M] [--chart PATH|none]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=sizes,
        default=list(DEFAULT_SIZES),
        help="comma-separated row counts [default: 0.28M,1M,2.8M,10M]",
    )
    parser.add_argument(
        "--steps",
        type=lambda s: [x.strip() for x in s.split(",") if x.strip()],
        default=list(STEPS),
        help="which of import,audit,cold,restart,enrich to time [default: all]",
    )
    parser.add_argument(
        "--enrich-max", type=_size, default=1_000_000, help="skip enrich above this many rows"
    )
    parser.add_argument("--seed", type=int, default=1, help="generator seed [default: 1]")
    parser.add_argument(
        "--chart", default=str(CHART), help=f"where to write the SVG ('none': skip) [{CHART}]"
    )
    args = parser.parse_args(argv)
    unknown = set(args.steps) - set(STEPS)
    if unknown or not args.sizes:
        parser.error(f"unknown steps {sorted(unknown)}; choose from {', '.join(STEPS)}")
    steps = [s for s in STEPS if s in args.steps or s == "import"]
    gen_twcs.OUT_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-growth-", dir=gen_twcs.OUT_DIR) as work:
        points = [
            measure(n, steps, seed=args.seed, work=Path(work), enrich_max=args.enrich_max)
            for n in args.sizes
        ]
    chart_path = None if args.chart == "none" else Path(args.chart)
    return report(points, steps, chart_path)


if __name__ == "__main__":
    sys.exit(main())
