"""``enrich --engine spark``: the same enrichers, run in Spark tasks over Arrow batches.

Spark selects the pending posts with the runner's own query (reading a lake store's pinned
files, no copy), each task runs the enricher's ``run`` on its Arrow batches (``mapInArrow``),
and the labels come back as Arrow and are stored through the same :class:`LabelStage` as on
one machine, in one transaction per enricher. Enrichers with a ``prepare`` step (spam's
near-duplicate index over the whole pending set) prepare on the driver first and ship the
prepared object to the tasks, so no label depends on how Spark splits the rows, and the
labels equal the embedded run's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa

from socialaudit.enrich import runner
from socialaudit.enrich.base import Enricher
from socialaudit.store import Store


def enrich_on_spark(
    store: Store,
    names: Sequence[str] | None = None,
    *,
    master: str = "local[2]",
    models: Mapping[str, str] | None = None,
    batch_rows: int = runner.BATCH_ROWS,
    progress: runner.Progress | None = None,
) -> runner.EnrichResult:
    """Label every post that lacks a current result, with each enricher run on Spark."""
    chosen = runner._load(store, runner._names(names), models)
    result = runner.EnrichResult()
    for enricher in chosen:
        start = time.perf_counter()
        todo = runner.pending(store, enricher)
        result.rows[enricher.name] = _run_one(store, enricher, todo, master, batch_rows)
        if progress is not None and todo:
            progress(enricher.name, todo, todo)
        result.seconds[enricher.name] = time.perf_counter() - start
    return result


def _run_one(store: Store, enricher: Enricher, todo: int, master: str, batch_rows: int) -> int:
    from pyspark.sql.pandas.types import from_arrow_schema

    from socialaudit.store.spark import SparkEngine

    if todo == 0:
        return 0
    columns = dict(enricher.columns)
    prepare = getattr(enricher, "prepare", None)
    if callable(prepare):
        runner._prepare(store.raw, enricher, prepare, batch_rows)
    schema = pa.schema(
        [("platform", pa.string()), ("post_id", pa.string())]
        + [(col, runner._ARROW[typ]) for col, typ in columns.items()]
    )
    # A fresh engine per enricher: it reads the store as the previous enricher left it.
    with SparkEngine.from_store(store, master=master) as engine:
        session = engine.session
        session.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch_rows))
        version = enricher.version.replace("'", "''")
        selection = runner._selection(enricher).replace("?", f"'{version}'")
        pending = session.sql(
            "SELECT p.platform, p.post_id, p.text, p.author_id, "
            f"oa.account_id IS NOT NULL AS is_org {selection}"
        )
        parallel = session.sparkContext.defaultParallelism
        parts = max(parallel, -(-todo // batch_rows))
        labelled = pending.repartition(parts).mapInArrow(
            _label_batches(enricher, columns, schema), from_arrow_schema(schema)
        )
        labels = labelled.toArrow().cast(schema)
    if labels.num_rows != todo:
        raise RuntimeError(
            f"Enricher {enricher.name} labelled {labels.num_rows:,} of {todo:,} posts on Spark."
        )
    stage = store.label_stage(columns)
    try:
        for batch in labels.to_batches(batch_rows):
            stage.append(pa.Table.from_batches([batch], schema))
    except BaseException:
        stage.close()
        raise
    stage.commit(
        version_column=runner.version_column(enricher.name),
        version=enricher.version,
        version_columns=[runner.version_column(n) for n in runner.NAMES],
    )
    return labels.num_rows


def _label_batches(
    enricher: Enricher, columns: dict[str, str], schema: pa.Schema
) -> Callable[[Iterable[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """The task function: the enricher's ``run`` on each Arrow batch, aligned with its ids."""

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            if not batch.num_rows:
                continue
            table = pa.Table.from_batches([batch])
            labels = enricher.run(table)
            arrays: dict[str, Any] = {
                "platform": table.column("platform"),
                "post_id": table.column("post_id"),
            }
            for col, typ in columns.items():
                values = labels.columns.get(col)
                if values is None or len(values) != table.num_rows:
                    raise RuntimeError(
                        f"Enricher {enricher.name} returned no aligned values for {col}"
                    )
                arrays[col] = pa.array(values, type=runner._ARROW[typ])
            yield from pa.table(arrays).cast(schema).to_batches()

    return run
