"""socialaudit against the pandas notebook an analyst would write, side by side in one run.

What users do today without socialaudit: load the TWCS-format CSV with pandas and compute the
SPEC section 5 responsiveness figures per organization by hand. :func:`notebook` is that
notebook, written the way a competent analyst writes pandas: vectorised throughout (joins
with ``merge``, ``map`` lookups, ``groupby`` aggregates, the self-thread walk as pointer
jumping with ``Series.map``), no loop over rows, and it reads the file the careful way
(``lineterminator="\\n"``, so a bare ``\\r`` inside a tweet does not split its record).

The figures compared, per organization, over all the data (``--window all``, no enrichment):
turns, answered, response rate, first-response-time median and p90 (linear interpolation),
SLA attainment at 60 minutes, negative FRTs, unanswered backlog older than 24 h / 7 d / 30 d,
and the unanswered-after-7-days counts. Both sides must give the same numbers (integers
exactly, fractions to 1e-9) or the benchmark fails.

For each size, in the same run and round after round, three child processes are timed
(wall clock around spawn and wait, peak RSS from the child's own rusage):

(a) the notebook: ``python bench_pandas.py --notebook FILE`` (read the CSV, compute);
(b) ``socialaudit --db FRESH import FILE``;
(c) ``socialaudit --db THAT audit --no-enrich --json --window all``.

Two ratios are reported: notebook / audit (the question asked again of data already
stored: what a team does every day) and notebook / (import + audit) (the first time, file
to figures). The target (>= 10x) is for the first; both are printed, with the load average.

Usage::

    python benchmarks/bench_pandas.py [--sizes 280000,2800000] [--runs 3]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gen_twcs  # noqa: E402  (a sibling script, not a package)
from bench_import_audit import (  # noqa: E402
    Measured,
    _check,
    _remove_db,
    _socialaudit,
    run_measured,
    sizes,
)

DEFAULT_SIZES = (280_000, 2_800_000)
TARGET_RATIO = 10.0
SLA_S = 60 * 60
DAY = 86_400
BACKLOG = {"backlog_24h": DAY, "backlog_7d": 7 * DAY, "backlog_30d": 30 * DAY}
#: The mention rule of the SPEC: whole handles, '@' not preceded by a word character or '@'.
MENTION_RE = r"(?:^|[^A-Za-z0-9_@])@([A-Za-z0-9_]+)"
FIGURES = (
    "turns",
    "answered",
    "response_rate",
    "frt_median_s",
    "frt_p90_s",
    "sla_attainment",
    "negative_frt",
    *BACKLOG,
    "aged_7d",
    "late_7d",
)


# -- the notebook -------------------------------------------------------------------------------


def notebook(path: Path) -> pd.DataFrame:
    """The SPEC section 5 responsiveness figures per organization, in plain pandas."""
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, lineterminator="\n")

    def clean_id(s: pd.Series) -> pd.Series:
        s = s.str.strip().str.replace(r"\.0$", "", regex=True)
        return s.mask(s == "")

    posts = pd.DataFrame(
        {
            "id": clean_id(raw["tweet_id"]),
            "author": raw["author_id"].str.strip(),
            "t": pd.to_datetime(
                raw["created_at"].str.strip(), format="%a %b %d %H:%M:%S %z %Y", utc=True
            ),
            "parent": clean_id(raw["in_response_to_tweet_id"]),
            "inbound": raw["inbound"].str.strip().str.lower() == "true",
            "text": raw["text"],
        }
    ).drop_duplicates("id", keep="first")
    del raw
    posts["t"] = posts["t"].dt.floor("s").dt.as_unit("s").astype("int64")  # epoch seconds
    brands = posts.loc[~posts["inbound"], "author"].unique()
    is_brand = posts["author"].isin(brands)

    # Who wrote each post's parent (NaN: no parent, or the parent is not in the file).
    author_of = pd.Series(posts["author"].to_numpy(), index=posts["id"].to_numpy())
    posts["parent_author"] = posts["parent"].map(author_of)

    # Turns: a self-reply belongs to the turn of the top of its same-author chain.
    selfs = posts[posts["parent_author"] == posts["author"]]
    up = pd.Series(selfs["parent"].to_numpy(), index=selfs["id"].to_numpy())
    while True:
        nxt = up.map(up)
        if nxt.isna().all():
            break
        up = nxt.fillna(up)
    posts["turn"] = posts["id"].map(up).fillna(posts["id"])
    turn_of = pd.Series(posts["turn"].to_numpy(), index=posts["id"].to_numpy())

    # Org replies to any post of a turn; the first one (by time, then id) answers it.
    replies = posts.loc[is_brand & posts["parent"].notna(), ["author", "id", "t", "parent"]]
    replies = replies.assign(turn=replies["parent"].map(turn_of)).dropna(subset=["turn"])
    replies = replies.rename(columns={"author": "org"})
    first = (
        replies.sort_values(["t", "id"])
        .drop_duplicates(["org", "turn"])
        .rename(columns={"t": "first_t"})[["org", "turn", "first_t"]]
    )

    # The org's inbox: openers replying to it, turns mentioning it, turns it answered.
    openers = posts[posts["id"] == posts["turn"]]
    by_parent = openers.loc[openers["parent_author"].isin(brands), ["parent_author", "turn"]]
    by_parent = by_parent.rename(columns={"parent_author": "org"})
    handles = pd.Series(brands, index=pd.Index(brands).str.lower())
    mentioned = (
        posts[["turn", "text"]]
        .assign(handle=posts["text"].str.findall(MENTION_RE))[["turn", "handle"]]
        .explode("handle")
    )
    mentioned = mentioned.assign(org=mentioned["handle"].str.lower().map(handles)).dropna(
        subset=["org"]
    )
    members = pd.concat(
        [by_parent, mentioned[["org", "turn"]], replies[["org", "turn"]]]
    ).drop_duplicates()

    t = members.merge(
        openers[["turn", "author", "t", "inbound"]].rename(
            columns={"author": "opener", "t": "opened"}
        ),
        on="turn",
    )
    t = t[(t["opener"] != t["org"]) & t["inbound"]]
    t = t.merge(first, on=["org", "turn"], how="left")
    ref = posts["t"].max()
    t["answered"] = t["first_t"].notna()
    t["frt"] = t["first_t"] - t["opened"]
    t["age"] = ref - t["opened"]
    timed = t["answered"] & (t["frt"] >= 0)
    t = t.assign(
        timed_frt=t["frt"].where(timed),
        negative=t["answered"] & (t["frt"] < 0),
        within=timed & (t["frt"] <= SLA_S),
        aged_7d=t["age"] >= 7 * DAY,
        **{name: ~t["answered"] & (t["age"] > s) for name, s in BACKLOG.items()},
    )
    t["late_7d"] = t["aged_7d"] & (~t["answered"] | (t["frt"] > 7 * DAY))
    g = t.groupby("org")
    out = pd.DataFrame(
        {
            "turns": g.size(),
            "answered": g["answered"].sum(),
            "frt_median_s": g["timed_frt"].quantile(0.5),
            "frt_p90_s": g["timed_frt"].quantile(0.9),
            "negative_frt": g["negative"].sum(),
            "within": g["within"].sum(),
            **{name: g[name].sum() for name in (*BACKLOG, "aged_7d", "late_7d")},
        }
    ).reindex(pd.Index(sorted(brands), name="org"))
    counts = [c for c in out.columns if c not in ("frt_median_s", "frt_p90_s")]
    out[counts] = out[counts].fillna(0).astype("int64")
    out["response_rate"] = out["answered"] / out["turns"].replace(0, np.nan)
    out["sla_attainment"] = out["within"] / (out["turns"] - out["negative_frt"]).replace(0, np.nan)
    return out[list(FIGURES)]


# -- socialaudit's figures and the comparison ---------------------------------------------------


def socialaudit_figures(audit_json: str) -> pd.DataFrame:
    """The same figures from ``socialaudit audit --json``."""
    rows = []
    for o in json.loads(audit_json)["orgs"]:
        r = dict(o["responsiveness"]["all"])
        late = o["unanswered_after_7d"]["all"]
        rows.append({"org": o["org"], **r, "aged_7d": late["aged"], "late_7d": late["late"]})
    return pd.DataFrame(rows).set_index("org").sort_index()[list(FIGURES)]


def compare(ours: pd.DataFrame, theirs: pd.DataFrame) -> list[str]:
    """Every disagreement, as one line each (empty: the figures agree)."""
    problems = []
    for org in sorted(set(ours.index) ^ set(theirs.index)):
        problems.append(f"{org}: only in {'socialaudit' if org in ours.index else 'pandas'}")
    for org in sorted(set(ours.index) & set(theirs.index)):
        for name in FIGURES:
            a, b = ours.at[org, name], theirs.at[org, name]
            if _missing(a) and _missing(b):
                continue
            if _missing(a) or _missing(b) or not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9):
                problems.append(f"{org} {name}: socialaudit {a} != pandas {b}")
    return problems


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


# -- timing -------------------------------------------------------------------------------------


def bench_size(rows: int, *, runs: int, seed: int, work: Path) -> dict[str, object]:
    """Time the notebook, the import and the audit ``runs`` times each, interleaved."""
    path = gen_twcs.ensure(rows, seed=seed)
    cli = _socialaudit()
    nb: list[Measured] = []
    imp: list[Measured] = []
    aud: list[Measured] = []
    before = os.getloadavg()[0]
    problems: list[str] = []
    for r in range(runs):
        m = _check(
            run_measured([sys.executable, __file__, "--notebook", str(path)]), "pandas notebook"
        )
        nb.append(m)
        theirs = pd.read_json(io.StringIO(m.stdout), orient="split")
        db = work / f"store_{rows}.duckdb"
        _remove_db(db)
        imp.append(_check(run_measured([*cli, "--db", str(db), "import", str(path)]), "import"))
        m = _check(
            run_measured(
                [*cli, "--db", str(db), "audit", "--no-enrich", "--json", "--window", "all"]
            ),
            "audit",
        )
        aud.append(m)
        _remove_db(db)
        problems = compare(socialaudit_figures(m.stdout), theirs)
        print(
            f"  {rows:,} rows, run {r + 1}/{runs}: pandas {nb[-1].seconds:.2f} s, "
            f"import {imp[-1].seconds:.2f} s, audit {aud[-1].seconds:.2f} s, "
            f"{'figures agree' if not problems else f'{len(problems)} disagreements'}",
            file=sys.stderr,
        )
        if problems:
            break

    def med(ms: list[Measured]) -> float:
        return statistics.median(x.seconds for x in ms)

    return {
        "rows": rows,
        "orgs": len(theirs),
        "pandas_s": med(nb),
        "import_s": med(imp),
        "audit_s": med(aud),
        "pandas_rss_mb": max(x.peak_rss_mb for x in nb),
        "socialaudit_rss_mb": max(x.peak_rss_mb for x in imp + aud),
        "load": (before, os.getloadavg()[0]),
        "problems": problems,
    }


def report(results: list[dict[str, object]]) -> int:
    """Print the table, the agreement check and the final JSON line; 1 if figures disagree."""
    print(f"# socialaudit vs a pandas notebook ({os.cpu_count()} CPUs, pandas {pd.__version__})")
    print()
    print(
        "| rows | orgs | pandas notebook s | socialaudit audit s | import s | pandas / audit "
        "| pandas / (import + audit) | peak RSS MB pandas | peak RSS MB socialaudit |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        p, a, i = float(r["pandas_s"]), float(r["audit_s"]), float(r["import_s"])  # type: ignore[arg-type]
        print(
            f"| {r['rows']:,} | {r['orgs']} | {p:.2f} | {a:.2f} | {i:.2f} | {p / a:.1f}x "
            f"| {p / (i + a):.2f}x | {r['pandas_rss_mb']:,.0f} | {r['socialaudit_rss_mb']:,.0f} |"
        )
    print()
    failed = 0
    for r in results:
        lo, hi = r["load"]  # type: ignore[misc]
        problems: list[str] = r["problems"]  # type: ignore[assignment]
        verdict = (
            f"all {len(FIGURES)} figures agree for every org"
            if not problems
            else f"{len(problems)} DISAGREEMENTS, e.g. {problems[:3]}"
        )
        print(f"- {r['rows']:,} rows: {verdict}; load average {lo:.1f} -> {hi:.1f}")
        failed |= bool(problems)
    large = results[-1]
    ratio = float(large["pandas_s"]) / float(large["audit_s"])  # type: ignore[arg-type]
    print()
    print(
        f"Target at {large['rows']:,} rows: pandas / audit >= {TARGET_RATIO:.0f}x: "
        f"{ratio:.1f}x {'PASS' if ratio >= TARGET_RATIO else 'FAIL'}"
    )
    print(
        json.dumps(
            {
                "rows": large["rows"],
                "pandas_s": round(float(large["pandas_s"]), 3),  # type: ignore[arg-type]
                "audit_s": round(float(large["audit_s"]), 3),  # type: ignore[arg-type]
                "import_s": round(float(large["import_s"]), 3),  # type: ignore[arg-type]
                "pandas_over_audit": round(ratio, 2),
                "figures_agree": not large["problems"],
            }
        )
    )
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Command line: ``[--sizes N,N] [--runs 3] [--seed 1]`` (``--notebook FILE``: one child)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        type=sizes,
        default=list(DEFAULT_SIZES),
        help="comma-separated row counts, e.g. 280000,2.8M [default: 0.28M,2.8M]",
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per size [default: 3]")
    parser.add_argument("--seed", type=int, default=1, help="generator seed [default: 1]")
    parser.add_argument("--notebook", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.notebook:
        print(notebook(args.notebook).to_json(orient="split", double_precision=15))
        return 0
    if args.runs < 1 or not args.sizes:
        parser.error("need at least one size and one run")
    gen_twcs.OUT_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-pandas-", dir=gen_twcs.OUT_DIR) as work:
        results = [
            bench_size(n, runs=args.runs, seed=args.seed, work=Path(work)) for n in args.sizes
        ]
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
