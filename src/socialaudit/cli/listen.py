"""The listening commands: enrich (the store) and classify (any file)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

import socialaudit as sa
from socialaudit.cli import app, guarded, open_store
from socialaudit.cli.options import CsvFlag, JsonFlag, pick_format
from socialaudit.cli.output import duration, emit, err_console, percent
from socialaudit.enrich import catalog
from socialaudit.enrich.classify import classify_file
from socialaudit.enrich.runner import EnrichResult
from socialaudit.enrich.runner import Progress as ProgressFn
from socialaudit.enrich.runner import enrich as run_enrich
from socialaudit.errors import ConfigError, SourceError


def _bar(width: int) -> Progress:
    """A transient bar on stderr, drawn only on a terminal."""
    return Progress(
        TextColumn(f"{{task.description:<{width}}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


@contextlib.contextmanager
def progress_bar() -> Iterator[ProgressFn]:
    """A progress callback for the runner, drawn on stderr (and only on a terminal)."""
    bar = _bar(28)
    tasks: dict[str, TaskID] = {}

    def update(name: str, done: int, total: int) -> None:
        if name not in tasks:
            # Say what is happening, not just which module: "Labelling posts: sentiment".
            tasks[name] = bar.add_task(f"Labelling posts: {name}", total=total)
        bar.update(tasks[name], completed=done)

    with bar:
        yield update


def fit_topics_where_missing(store: sa.Store) -> dict[str, str]:
    """Fit the topics of every org that has none yet, with a bar; why others have none."""
    from socialaudit.enrich.topics import fit_missing_topics

    bar = _bar(40)
    task: list[TaskID] = []

    def update(org: str, done: int, total: int) -> None:
        if not task:
            task.append(bar.add_task("Fitting topics", total=total))
        # Org ids come from the data: escaped, so that "[" in a handle is not Rich markup.
        label = f"Fitting topics: {escape(org)}" if org else "Fitting topics"
        bar.update(task[0], completed=done, description=label)

    with bar:
        outcome = fit_missing_topics(store, progress=update)
    fitted = [org for org, what in outcome.items() if what.startswith("fitted")]
    if fitted:
        err_console.print(
            Text(f"Fitted the topics of {len(fitted):,} organizations (they had none yet).")
        )
    return {org: what for org, what in outcome.items() if org not in fitted}


def existing_store() -> contextlib.AbstractContextManager[sa.Store]:
    """Open the store for writing labels, refusing to create one that is not there."""
    return open_store(must_exist=True)


def enrich_if_needed(*, engine: str = "duckdb", spark_master: str = "local[2]") -> None:
    """Label what is new before a reading command, taking the store only if anything is new.

    Beside a running ``serve`` this is the difference between a read and a handover that
    pauses the dashboard while it rebuilds.
    """
    from socialaudit.enrich.runner import has_work

    with open_store(read_only=True, must_exist=True) as store:
        if not has_work(store):
            return
    with existing_store() as store:
        enrich_store(store, engine=engine, spark_master=spark_master)


def enrich_store(
    store: sa.Store,
    names: list[str] | None = None,
    *,
    models: dict[str, str] | None = None,
    engine: str = "duckdb",
    spark_master: str = "local[2]",
) -> EnrichResult:
    """Run the enrichers (with the models the store records) and say on stderr what was done.

    ``engine="spark"`` runs them in Spark tasks (:mod:`socialaudit.enrich.spark`), same labels.
    """
    with progress_bar() as update:
        if engine == "spark":
            from socialaudit.enrich.spark import enrich_on_spark

            result = enrich_on_spark(
                store, names, master=spark_master, progress=update, models=models
            )
        elif engine == "duckdb":
            result = run_enrich(store, names, progress=update, models=models)
        else:
            raise ConfigError(f"Unknown engine {engine!r}. Use duckdb or spark.")
    if models:
        chosen = ", ".join(f"{n}={m}" for n, m in models.items())
        err_console.print(Text(f"Recorded in the store: {chosen} (later runs use it too)."))
    if result.total:
        done = ", ".join(f"{n} {rows:,}" for n, rows in result.rows.items() if rows)
        err_console.print(Text(f"Enriched posts: {done}."))
    return result


@app.command()
@guarded
def enrich(
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Run only this enricher (repeat).", show_default=False),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", help=f"Choose a model: {catalog.MODEL_HELP}.", show_default=False),
    ] = None,
    sentiment_model: Annotated[
        Path | None,
        typer.Option(
            "--sentiment-model", help="Same as --model sentiment=DIR (a `train sentiment` folder)."
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option("--engine", help="duckdb (embedded) or spark (enrichers in Spark tasks)."),
    ] = "duckdb",
    spark_master: Annotated[
        str, typer.Option("--spark-master", help="Spark master URL for --engine spark.")
    ] = "local[2]",
) -> None:
    """Label posts with language, sentiment, intent, spam, deflection and resolution.

    Incremental: only posts without a current result are labelled, so a second run does
    nothing. The default models give the same labels on every install; --model chooses
    another one, and the store records the choice for every later run.
    Example: socialaudit enrich --model intent=rules
    """
    specs = [*(model or []), *([f"sentiment={sentiment_model}"] if sentiment_model else [])]
    models = dict(catalog.parse_model(spec) for spec in specs)
    with existing_store() as store:
        result = enrich_store(
            store, only, models=models or None, engine=engine, spark_master=spark_master
        )
    if not result.total:
        err_console.print(Text("Nothing to enrich: every post has current results."))


_NAMES = ", ".join(catalog.NAMES)


@app.command()
@guarded
def classify(
    enricher: Annotated[str, typer.Argument(help=f"One of: {', '.join(catalog.NAMES)}.")],
    file: Annotated[Path, typer.Argument(help="A CSV or JSONL file (.jsonl/.ndjson).")],
    text_column: Annotated[
        str, typer.Option("--text-column", help="The column holding the post text.")
    ] = "text",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the labelled CSV here [default: stdout].")
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="intent: rules; sentiment: a folder from `socialaudit train sentiment`.",
        ),
    ] = None,
    platform: Annotated[
        str | None,
        typer.Option(
            "--platform",
            help="Where the posts come from, e.g. youtube (spam judges video comment sections "
            "apart from customer care) [default: youtube for UCI comment CSVs, else none].",
        ),
    ] = None,
) -> None:
    """Label any CSV/JSONL with one enricher: the rows plus `label` and `score` columns.

    Example: socialaudit classify sentiment tweets.csv --text-column text --out labelled.csv
    """
    labeller = catalog.load(*catalog.parse_model(f"{enricher}={model or 'default'}"))
    if out is not None and out.resolve() == file.resolve():
        raise SourceError("--out is the input file; write the labels to another file.")
    if out is None:
        result = classify_file(
            file, labeller, text_column=text_column, out=sys.stdout, platform=platform
        )
    else:
        # Write beside the target and rename, so a failure never leaves half a file.
        tmp = out.with_name(f".{out.name}.partial")
        try:
            with tmp.open("w", newline="", encoding="utf-8") as fh:
                result = classify_file(
                    file, labeller, text_column=text_column, out=fh, platform=platform
                )
            tmp.replace(out)
        finally:
            tmp.unlink(missing_ok=True)
    counts = ", ".join(f"{k} {v:,}" for k, v in sorted(result.labels.items()))
    err_console.print(Text(f"Labelled {result.rows:,} rows with {enricher}: {counts}."))


TOPIC_COLUMNS = [
    ("topic_id", "topic"),
    ("label", "top terms"),
    ("turns", "turns"),
    ("question_share", "questions"),
    ("answered_share", "answered"),
    ("frt_median_s", "FRT median"),
    ("faq_candidate", "FAQ?"),
    ("example_text", "example"),
    ("example_permalink", "permalink"),
]


@app.command()
@guarded
def topics(
    org: Annotated[str, typer.Argument(help="The organization whose customers' topics to find.")],
    k: Annotated[
        int | None,
        typer.Option(
            "--topics", "-k", min=2, max=50, help="Number of topics [default: chosen by coherence]."
        ),
    ] = None,
    faq_only: Annotated[bool, typer.Option("--faq", help="Only FAQ candidates.")] = False,
    json_: JsonFlag = False,
    csv_: CsvFlag = False,
) -> None:
    """Topics customers raise with an organization, and FAQ candidates (recurring questions).

    Enriches first when needed (intent marks questions; spam is left out).
    Example: socialaudit topics AmazonHelp --faq
    """
    fmt = pick_format(json_, csv_)
    with existing_store() as store:
        enrich_store(store)
        report = sa.topics(store, org=org, k=k)
    rows = [t for t in report["topics"] if t["faq_candidate"] or not faq_only]
    for row in rows:
        first = row["examples"][0] if row["examples"] else {}
        row["example_text"] = first.get("text")
        row["example_permalink"] = first.get("permalink")
    report["topics"] = rows
    emit(
        fmt,
        [{k: v for k, v in r.items() if k not in ("examples", "top_terms")} for r in rows],
        TOPIC_COLUMNS,
        title=(
            f"Topics of {org}'s customers "
            f"({report['method']}, coherence NPMI {report['coherence_npmi']:.2f})"
        ),
        formatters={
            "question_share": percent,
            "answered_share": percent,
            "frt_median_s": duration,
            "faq_candidate": lambda v: "yes" if v else "",
        },
        untrusted=("label", "example_text", "example_permalink"),
        json_data=report,
    )
