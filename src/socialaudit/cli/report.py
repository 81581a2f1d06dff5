"""``socialaudit benchmark`` and ``socialaudit report``: tiers, peers and the executive report."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

import socialaudit as sa
from socialaudit.cli import app, guarded, open_store, state
from socialaudit.cli.listen import (
    enrich_if_needed,
    enrich_store,
    fit_topics_where_missing,
)
from socialaudit.cli.options import (
    CsvFlag,
    EngineOpt,
    JsonFlag,
    SectorsOpt,
    SparkMasterOpt,
    pick_format,
)
from socialaudit.cli.output import (
    console,
    duration,
    emit,
    err_console,
    jsonable,
    percent,
    records,
)
from socialaudit.durations import parse_window
from socialaudit.errors import ConfigError
from socialaudit.run import DEFAULT_WINDOW_DAYS

TiersOpt = Annotated[
    Path | None,
    typer.Option("--tiers", help="A tiers.toml overriding the shipped tier thresholds."),
]
WindowOpt = Annotated[
    str,
    typer.Option(
        "--window",
        help="How far back from the reference time to look (e.g. 30d; all: all the data). "
        "The same default for audit, benchmark, report and serve.",
    ),
]
#: The one default window of every surface (socialaudit.run.DEFAULT_WINDOW_DAYS).
DEFAULT_WINDOW = f"{DEFAULT_WINDOW_DAYS}d"


def _options(tiers: Path | None, sectors: Path | None, window: str) -> dict[str, Any]:
    from socialaudit.benchmark.peers import load_sectors
    from socialaudit.benchmark.tiers import load_thresholds

    days = parse_window(window)
    return {
        "thresholds": load_thresholds(tiers),
        "sectors": load_sectors(sectors),
        "window_days": days,
        "sla_minutes": state.sla_minutes,
    }


def _whole(value: Any) -> str:
    """A percentile or score as a whole number (0-100)."""
    value = jsonable(value)
    return "–" if value is None else f"{float(value):.0f}"


def _tier(value: Any) -> str:
    return "–" if value is None or value != value else str(int(value))


NoEnrichOpt = Annotated[
    bool,
    typer.Option(
        "--no-enrich",
        help="Do not label new posts (nor fit missing topics) first: tiers then fall back to "
        "all turns.",
    ),
]


@app.command()
@guarded
def benchmark(
    tiers: TiersOpt = None,
    sectors: SectorsOpt = None,
    window: WindowOpt = DEFAULT_WINDOW,
    people: Annotated[
        bool, typer.Option("--people", help="Show each account's score against its peers.")
    ] = False,
    account: Annotated[
        str | None,
        typer.Option("--account", help="With --people: only this handle (case-insensitive)."),
    ] = None,
    no_enrich: NoEnrichOpt = False,
    engine: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = "local[2]",
    json_: JsonFlag = False,
    csv_: CsvFlag = False,
) -> None:
    """Tier every organization (0-4, with evidence) and rank it within its peer group.

    Example: socialaudit benchmark --tiers my_tiers.toml --json
    """
    from socialaudit.results import benchmark_document

    fmt = pick_format(json_, csv_)
    from socialaudit.cli.commands import _engine

    if not no_enrich:
        enrich_if_needed(engine=engine, spark_master=spark_master)
    with _engine(engine, spark_master) as source:
        bm = sa.run(source, **_options(tiers, sectors, window))
    if people or account is not None:
        rows = records(bm.accounts)
        if account is not None:
            rows = [r for r in rows if str(r["handle"]).lower() == account.lstrip("@").lower()]
            if not rows:
                raise ConfigError(
                    f"No organization account {account!r} in the store. "
                    "Run `socialaudit benchmark --people` to list them."
                )
        emit(
            fmt,
            rows,
            [
                ("handle", "account"),
                ("peer_group", "group"),
                ("presence_score", "score"),
                ("posts_per_week", "posts/wk"),
                ("posts_per_week_pct", "pct"),
                ("conversation_share", "conv share"),
                ("conversation_share_pct", "pct"),
                ("replies_received", "replies recv"),
                ("replies_received_pct", "pct"),
                ("potential_reach", "reach"),
                ("potential_reach_pct", "pct"),
                ("below_middle", "lower half on"),
            ],
            title="Presence score: mean percentile within the peer group (50 = the middle)",
            formatters={
                c: _whole
                for c in (
                    "presence_score",
                    "posts_per_week_pct",
                    "conversation_share_pct",
                    "replies_received_pct",
                    "potential_reach_pct",
                )
            },
            untrusted=("handle", "peer_group"),
        )
        return
    rows = records(bm.tables["benchmark"])
    emit(
        fmt,
        rows,
        [
            ("org_id", "org"),
            ("peer_group", "group"),
            ("peer_group_source", "from"),
            ("tier", "tier"),
            ("tier_label", "label"),
            ("tier_borderline", "borderline"),
            ("turns", "turns"),
            ("response_rate", "rate"),
            ("frt_median_s", "FRT median"),
            ("km_median_s", "KM median"),
            ("bh_frt_median_s", "FRT biz h"),
            ("backlog_7d", ">7d"),
            ("unanswered_7d_share", "late 7d"),
            ("posts_per_week", "posts/wk"),
            ("response_rate_pct", "rate pct"),
        ],
        title=f"Benchmark over {bm.audit.window_text()}. {bm.claimed.sentence}",
        formatters={
            "tier": _tier,
            "response_rate": percent,
            "unanswered_7d_share": percent,
            "frt_median_s": duration,
            "km_median_s": duration,
            "bh_frt_median_s": duration,
        },
        untrusted=("org_id", "peer_group"),
        json_data=benchmark_document(bm),
    )


@app.command()
@guarded
def report(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Exports to import into the store first (optional)."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    orgs: Annotated[
        Path | None, typer.Option("--orgs", help="Declare organizations from an orgs.toml first.")
    ] = None,
    tiers: TiersOpt = None,
    sectors: SectorsOpt = None,
    window: WindowOpt = DEFAULT_WINDOW,
    title: Annotated[str, typer.Option("--title", help="The report's title.")] = (
        "Social engagement audit"
    ),
    no_enrich: NoEnrichOpt = False,
    engine: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = "local[2]",
) -> None:
    """Write the executive report: one self-contained HTML file, plus CSV/Parquet/JSON tables.

    Example: socialaudit --db audit.duckdb report twcs.csv --out report.html
    """
    from socialaudit.report import build_report

    started = time.perf_counter()
    opts = _options(tiers, sectors, window)
    with open_store() as store:
        for path in files or []:
            err_console.print(Text(sa.import_file(path, store=store).summary()), soft_wrap=True)
        if orgs is not None:
            n = sa.load_orgs(orgs, store=store)
            err_console.print(Text(f"Declared {n:,} organizations from {orgs}."))
        notes = None
        if not no_enrich:
            enrich_store(store, engine=engine, spark_master=spark_master)
            notes = fit_topics_where_missing(store)
        if engine == "duckdb":
            written = build_report(store, out, title=title, topic_notes=notes, **opts)
    if engine != "duckdb":
        from socialaudit.cli.commands import _engine

        with _engine(engine, spark_master) as source:
            written = build_report(source, out, title=title, topic_notes=notes, **opts)
    console.print(
        Text(
            f"Wrote {written.html} ({written.html_bytes / 1e6:.2f} MB) and "
            f"{len(written.tables)} tables as CSV, Parquet and JSON in {written.exports}/ "
            f"in {time.perf_counter() - started:.1f} s."
        ),
        soft_wrap=True,
    )
