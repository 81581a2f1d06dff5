"""The commands over a store: import, orgs, audit, unanswered, turns, quality."""

from __future__ import annotations

import shutil
import sys
import tempfile
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

import socialaudit as sa
from socialaudit.cli import app, guarded, open_store, state
from socialaudit.cli.options import (
    CsvFlag,
    EngineOpt,
    Format,
    JsonFlag,
    Limit,
    SectorsOpt,
    SparkMasterOpt,
    parse_duration,
    parse_map,
    pick_format,
)
from socialaudit.cli.output import (
    console,
    duration,
    emit,
    err_console,
    percent,
    records,
)
from socialaudit.cli.report import DEFAULT_WINDOW, WindowOpt
from socialaudit.durations import parse_window
from socialaudit.errors import ConfigError, SourceError
from socialaudit.metrics.orgcheck import DATA_SCOPE_NOTES, missing_orgs_hint, require_orgs
from socialaudit.metrics.peer_groups import load_sectors, org_peer_groups
from socialaudit.results import Figures, Listening, to_jsonable
from socialaudit.results.model import AUDIT_LISTENING, label
from socialaudit.store.orgs import declare_org

RATE_KEYS = tuple(f.name for f in fields(Figures))

ENGINES = ("duckdb", "spark")


def _engine(engine: str, spark_master: str) -> Any:
    if engine == "duckdb":
        return sa.open(state.db, read_only=True)
    if engine == "spark":
        from socialaudit.store.spark import SparkEngine

        # The engine reads its own Parquet copy (a lake: the pinned files); the store can close.
        with open_store(read_only=True) as store:
            return SparkEngine.from_store(store, master=spark_master)
    raise ConfigError(f"Unknown engine {engine!r}. Use duckdb or spark.")


@app.command("import")
@guarded
def import_(
    files: Annotated[
        list[str],
        typer.Argument(help="The exports to import, in order (one commit each), or - for stdin."),
    ],
    format: Annotated[  # noqa: A002
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="twcs, csv, jsonl, x_v2, x_v1, x_archive, mastodon, mastodon_outbox, bluesky, "
            "reddit, pushshift, youtube, youtube_csv or zeeschuimer [default: detected].",
        ),
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="field=COLUMN for csv/jsonl (repeat), e.g. text=CONTENT."),
    ] = None,
    platform: Annotated[
        str | None, typer.Option("--platform", help="Platform name for generic files.")
    ] = None,
    time_format: Annotated[
        str | None,
        typer.Option(
            "--time-format",
            help="strptime format of the time column; naive times are read as UTC.",
        ),
    ] = None,
    orgs: Annotated[
        Path | None, typer.Option("--orgs", help="Also declare organizations from an orgs.toml.")
    ] = None,
    org: Annotated[
        list[str] | None,
        typer.Option(
            "--org",
            help="Declare this account (a handle in the data) an organization; repeat for more. "
            "The import is undone if the data has no such account.",
        ),
    ] = None,
    engine: EngineOpt = "duckdb",
    spark_master: SparkMasterOpt = "local[2]",
) -> None:
    """Import exports into the store, each all or nothing.

    With --engine spark the files are parsed in Spark tasks (one per file) and committed in
    order, with the same counts, duplicates and quarantine as the embedded import.
    Example: socialaudit import mentions.jsonl --org AcmeHelp
    """
    mapping = parse_map(map_ or [])
    for file in files:
        if file != "-" and not Path(file).exists():
            raise SourceError(f"File {file} does not exist. Check the path.")
    if engine not in ENGINES:
        raise ConfigError(f"Unknown engine {engine!r}. Use duckdb or spark.")
    if engine == "spark" and "-" in files:
        raise SourceError("--engine spark reads files, not stdin. Save the input to a file first.")
    if engine == "spark":
        _import_on_spark(files, format, mapping, platform, time_format, spark_master)
        files = []
    declared: list[str] = []

    def declare(con: Any) -> None:
        declared.extend(declare_org(con, handle) for handle in org or [])

    with open_store() as store:
        for i, file in enumerate(files):
            last = i == len(files) - 1
            with _input_path(file) as path:
                shown = "stdin" if file == "-" else Path(file).name
                status = f"Importing {shown} into {state.db}…"
                with err_console.status(status) if err_console.is_terminal else _null():
                    result = sa.import_file(
                        path,
                        store=store,
                        format=format,
                        mapping=mapping,
                        platform=platform,
                        time_format=time_format,
                        source_name="stdin" if file == "-" else None,
                        on_commit=declare if org and last else None,
                    )
            err_console.print(Text(result.summary()), soft_wrap=True)
        if org and not files:
            with store.transaction() as con:
                declare(con)
        if declared:
            err_console.print(Text(f"Declared organizations: {', '.join(declared)}."))
        if orgs is not None:
            n = sa.load_orgs(orgs, store=store)
            err_console.print(Text(f"Declared {n:,} organizations from {orgs}."))


def _import_on_spark(
    files: list[str],
    format: str | None,  # noqa: A002 - the user-facing word
    mapping: dict[str, str],
    platform: str | None,
    time_format: str | None,
    master: str,
) -> None:
    """Stage the files in Spark tasks and commit them in order (see ingest.spark)."""
    from socialaudit.ingest.spark import import_on_spark

    with open_store() as store:
        results = import_on_spark(
            files,
            store=store,
            format=format,
            mapping=mapping,
            platform=platform,
            time_format=time_format,
            master=master,
        )
    for result in results:
        err_console.print(Text(result.summary()), soft_wrap=True)


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


class _input_path:
    """A path for FILE, spooling stdin to a temporary file when FILE is '-'."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.tmp: tempfile.TemporaryDirectory[str] | None = None

    def __enter__(self) -> Path:
        if self.file != "-":
            return Path(self.file)
        self.tmp = tempfile.TemporaryDirectory(prefix="socialaudit-stdin-")
        path = Path(self.tmp.name) / "stdin"
        with path.open("wb") as out:
            shutil.copyfileobj(sys.stdin.buffer, out)
        return path

    def __exit__(self, *exc: object) -> None:
        if self.tmp is not None:
            self.tmp.cleanup()


@app.command()
@guarded
def orgs(
    load: Annotated[
        Path | None, typer.Option("--load", help="Declare organizations from an orgs.toml first.")
    ] = None,
    add: Annotated[
        list[str] | None,
        typer.Option("--add", help="Declare this account (a handle in the data) an organization."),
    ] = None,
    sectors: SectorsOpt = None,
    json_: JsonFlag = False,
    csv_: CsvFlag = False,
) -> None:
    """List organizations (derived from the data or declared in orgs.toml).

    Example: socialaudit orgs --load orgs.toml
    """
    fmt = pick_format(json_, csv_)
    writes = load is not None or bool(add)
    # Declaring before importing is fine (--load creates the store); --add needs the data.
    with open_store(read_only=not writes, must_exist=bool(add)) as store:
        if load is not None:
            n = sa.load_orgs(load, store=store)
            err_console.print(Text(f"Declared {n:,} organizations from {load}."))
        if add:
            with store.transaction() as con:
                names = [declare_org(con, handle) for handle in add]
            err_console.print(Text(f"Declared organizations: {', '.join(names)}."))
        rows = sa.list_orgs(store)
        groups = org_peer_groups(store, sectors=load_sectors(sectors))
        hint = None if rows else missing_orgs_hint(store)
    for row in rows:
        row["peer_group"], row["peer_group_source"] = groups.get(row["org_id"], (None, "none"))
    emit(
        fmt,
        rows,
        [
            ("org_id", "org"),
            ("origin", "origin"),
            ("peer_group", "peer group"),
            ("peer_group_source", "from"),
            ("sla_minutes", "SLA min"),
            ("accounts", "accounts"),
            ("posts", "posts"),
        ],
        title=f"{len(rows):,} organizations",
        untrusted=("accounts", "peer_group"),
    )
    if hint is not None:  # on stderr: an empty --json list stays valid JSON
        err_console.print(Text(hint), soft_wrap=True)


AUDIT_COLUMNS = [("org", "org"), *((f.name, f.metadata["label"]) for f in fields(Figures))]
#: Each figure's formatter, from its declared format.
FORMATTERS = {
    f.name: {"pct": percent, "dur": duration}[f.metadata["fmt"]]
    for cls in (Figures, Listening)
    for f in fields(cls)
    if f.metadata.get("fmt") in ("pct", "dur")
}


@app.command()
@guarded
def audit(
    org: Annotated[str | None, typer.Argument(help="Only this organization.")] = None,
    engine: Annotated[
        str, typer.Option("--engine", help="duckdb (embedded) or spark (needs socialaudit[spark]).")
    ] = "duckdb",
    spark_master: Annotated[
        str, typer.Option("--spark-master", help="Spark master URL for --engine spark.")
    ] = "local[2]",
    no_enrich: Annotated[
        bool,
        typer.Option("--no-enrich", help="Do not label new posts first (actionable stays null)."),
    ] = False,
    by_platform: Annotated[
        bool, typer.Option("--by-platform", help="Also split each org's figures by platform.")
    ] = False,
    window: WindowOpt = DEFAULT_WINDOW,
    json_: JsonFlag = False,
    csv_: CsvFlag = False,
) -> None:
    """Audit responsiveness per organization: turns, answers, first-response time, backlog.

    Posts without current listening labels are enriched first, so the actionable variant,
    deflection and resolution are reported. Example: socialaudit audit --json
    """
    fmt = pick_format(json_, csv_)
    if engine not in ENGINES:
        raise ConfigError(f"Unknown engine {engine!r}. Use duckdb or spark.")
    with open_store(read_only=True) as store:
        require_orgs(store)
    if not no_enrich:
        from socialaudit.cli.listen import enrich_if_needed

        enrich_if_needed()
    eng = _engine(engine, spark_master)
    try:
        audited = sa.run_audit(
            eng,
            window_days=parse_window(window),
            sla_minutes=state.sla_minutes,
            org=org,
            by_platform=by_platform,
        )
        result = to_jsonable(audited)
    finally:
        eng.close()
    if by_platform and fmt is not Format.json:
        result = {**result, "orgs": _platform_rows(result["orgs"])}
    emit_audit(fmt, result, title=f"Responsiveness (all turns) over {audited.window_text()}")


ACTIONABLE_COLUMNS = [
    ("org", "org"),
    ("turns", "actionable turns"),
    ("answered", "answered"),
    ("response_rate", "rate"),
    ("frt_median_s", "FRT median"),
    ("sla_attainment", "in SLA"),
    ("backlog_7d", "open >7d"),
    *((name, label(Listening, name)) for name in AUDIT_LISTENING),
]


def _platform_rows(orgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each org's row, then one per platform labelled ``org [platform]``, for tables and CSV."""
    rows = []
    for o in orgs:
        rows.append(o)
        coverage = o.get("coverage") or {}
        rows.extend(
            {
                "org": f"{o['org']} [{p['platform']}]",
                "responsiveness": p["responsiveness"],
                "coverage": {k: v for k, v in coverage.items() if k == p["platform"]},
            }
            for p in o.get("platforms", [])
        )
    return rows


def _coverage_cell(coverage: dict[str, Any] | None) -> str:
    """How the inbound posts behind a row's rates were fetched: ``mastodon threads_only``."""
    return ", ".join(f"{p} {c['inbound']}" for p, c in sorted((coverage or {}).items())) or "–"


COVERAGE_COLUMN = ("coverage", "inbound coverage")


def emit_audit(fmt: Format, report: dict[str, Any], *, title: str) -> None:
    """Print an audit report: tables for people, the documented JSON, or CSV.

    Tables: all turns first (the auditable number), then actionable turns with deflection and
    resolution when the posts are enriched. CSV: one row per org, actionable figures prefixed.
    """
    formatters = FORMATTERS
    rows = [
        {
            "org": o["org"],
            **o["responsiveness"]["all"],
            "coverage": _coverage_cell(o.get("coverage")),
        }
        for o in report["orgs"]
    ]
    if fmt == Format.table:
        # An org nobody addressed in this data gets a sentence, not a row of zeros.
        notes = [(o["org"], DATA_SCOPE_NOTES.get(o.get("data_scope", ""))) for o in report["orgs"]]
        silent = {org for org, note in notes if note}
        rows = [r for r in rows if r["org"] not in silent]
        report = {**report, "orgs": [o for o in report["orgs"] if o["org"] not in silent]}
        for org, note in notes:
            if note:
                console.print(Text(f"{org}: {note}."), soft_wrap=True)
        if not rows:
            return
    if fmt == Format.csv:
        for row, o in zip(rows, report["orgs"], strict=True):
            actionable = o["responsiveness"].get("actionable") or {}
            row.update({f"actionable_{k}": actionable.get(k) for k in RATE_KEYS})
            row.update({name: o.get(name) for name in AUDIT_LISTENING})
        columns = AUDIT_COLUMNS + [(f"actionable_{k}", k) for k in RATE_KEYS]
        columns += [(name, label(Listening, name)) for name in AUDIT_LISTENING]
        emit(
            fmt, rows, [*columns, COVERAGE_COLUMN], title=title, untrusted=("org",),
            json_data=report,
        )  # fmt: skip
        return
    emit(
        fmt,
        rows,
        [*AUDIT_COLUMNS, COVERAGE_COLUMN],
        title=title,
        formatters=formatters,
        untrusted=("org",),
        json_data=report,
    )
    acted = [o for o in report["orgs"] if o["responsiveness"].get("actionable") is not None]
    if fmt == Format.table and acted:
        emit(
            fmt,
            [
                {
                    "org": o["org"],
                    **o["responsiveness"]["actionable"],
                    **{name: o.get(name) for name in AUDIT_LISTENING},
                    "coverage": _coverage_cell(o.get("coverage")),
                }
                for o in acted
            ],
            [*ACTIONABLE_COLUMNS, COVERAGE_COLUMN],
            title="Actionable turns (spam excluded; questions and complaints)",
            formatters=formatters,
            untrusted=("org",),
        )
    if fmt == Format.table:
        for o in report["orgs"]:
            if o.get("coverage_warning"):
                console.print(
                    Text(f"Warning: the rates of {o['org']} are {o['coverage_warning']}."),
                    soft_wrap=True,
                )


TURN_COLUMNS = [
    ("org_id", "org"),
    ("opener_id", "opener"),
    ("opener_created_at", "opened (UTC)"),
    ("followups", "follow-ups"),
    ("answered", "answered"),
    ("frt_s", "FRT"),
    ("age_s", "age"),
    ("opener_permalink", "permalink"),
]


@app.command()
@guarded
def turns(
    org: Annotated[str | None, typer.Argument(help="Only this organization.")] = None,
    limit: Limit = None,
    json_: JsonFlag = False,
    csv_: CsvFlag = False,
) -> None:
    """Export one row per turn (conversation request) with its first response and permalinks.

    Example: socialaudit turns AmazonHelp --csv > turns.csv
    """
    fmt = pick_format(json_, csv_)
    with open_store(read_only=True) as store:
        rows = records(sa.turns(store, org=org, limit=limit))
    emit(
        fmt,
        rows,
        TURN_COLUMNS,
        title=f"{len(rows):,} turns",
        formatters={"frt_s": duration, "age_s": duration},
        untrusted=("org_id", "opener_permalink"),
    )


UNANSWERED_COLUMNS = [
    ("opener_id", "opener"),
    ("opener_author", "author"),
    ("opener_created_at", "opened (UTC)"),
    ("age_s", "waiting"),
    ("followups", "follow-ups"),
    ("opener_permalink", "permalink"),
    ("opener_text", "text"),
]


@app.command()
@guarded
def unanswered(
    org: Annotated[str, typer.Argument(help="The organization.")],
    older_than: Annotated[
        str, typer.Option("--older-than", help="Only turns waiting longer than this (7d, 24h).")
    ] = "0s",
    limit: Limit = None,
    json_: JsonFlag = False,
    csv_: CsvFlag = False,
) -> None:
    """List an organization's unanswered turns, oldest first, with permalinks.

    Example: socialaudit unanswered AmazonHelp --older-than 7d
    """
    fmt = pick_format(json_, csv_)
    seconds = parse_duration(older_than)
    with open_store(read_only=True) as store:
        rows = records(sa.turns(store, org=org, unanswered_older_than_s=seconds, limit=limit))
    emit(
        fmt,
        rows,
        UNANSWERED_COLUMNS,
        title=f"{len(rows):,} unanswered turns of {org} older than {older_than}",
        formatters={"age_s": duration},
        untrusted=("opener_author", "opener_permalink", "opener_text"),
    )


@app.command()
@guarded
def quality(json_: JsonFlag = False) -> None:
    """Report data quality: duplicates, orphans, clock skew, quarantine by reason.

    Example: socialaudit quality --json
    """
    with open_store(read_only=True) as store:
        result = sa.quality(store)
    if json_:
        emit(pick_format(True, False), [], [], json_data=result)
        return
    labels = [
        ("imports", "imports"),
        ("read", "records read"),
        ("inserted", "posts inserted"),
        ("duplicates", "duplicates (first one stored wins)"),
        ("quarantined", "quarantined"),
        ("orphans", "orphans (parent missing from the data)"),
        ("skew", "replies timestamped before their parent"),
        ("negative_frt_turns", "turns with a negative first-response time"),
        ("inbound_by_org_account", "inbound-flagged posts by an org account"),
        ("outbound_by_non_org", "outbound-flagged posts by a non-org account"),
        ("reply_cycles_repaired", "reply cycles repaired (a parent link dropped)"),
        ("posts_on_reply_cycles", "posts on a reply cycle"),
        ("time_outliers", "posts dated before their platform or after the clock"),
    ]
    emit(
        pick_format(False, False),
        [{"what": lab, "n": result[k]} for k, lab in labels],
        [("what", "check"), ("n", "count")],
        title="Data quality",
        untrusted=("what",),
    )
    reasons = [{"reason": r, "n": n} for r, n in result["quarantine_by_reason"].items()]
    if reasons:
        emit(
            pick_format(False, False),
            reasons,
            [("reason", "quarantine reason"), ("n", "records")],
            untrusted=("reason",),
        )
    else:
        console.print("Nothing is quarantined.")
    if result["time_outlier_posts"]:
        emit(
            pick_format(False, False),
            result["time_outlier_posts"],
            [("platform", "platform"), ("post_id", "post"), ("author_id", "author"),
             ("created_at", "dated"), ("why", "time outlier")],
            untrusted=("platform", "post_id", "author_id"),
        )  # fmt: skip
