"""Run enrichers over the store, incrementally, in Arrow batches.

Each enricher sees only the posts whose stored result was written by another version of it (or
never): a second run does nothing, and bumping one enricher's version re-runs only that one.
Results of one enricher land in one transaction, so an interrupted run leaves every column
either as it was or fully updated.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from socialaudit.enrich.base import Enricher, Labels
from socialaudit.enrich.catalog import DEFAULT_ENRICHERS, NAMES, load
from socialaudit.errors import ConfigError
from socialaudit.lifeline import die_with_parent
from socialaudit.store import Store

BATCH_ROWS = 20_000
# Arrow types for the Ibis type strings enrichers declare.
_ARROW = {
    "string": pa.string(),
    "float64": pa.float64(),
    "boolean": pa.bool_(),
    "int64": pa.int64(),
    "array<string>": pa.list_(pa.string()),
}
Progress = Callable[[str, int, int], None]


@dataclass
class EnrichResult:
    """What one ``enrich`` call did, per enricher: rows labelled and seconds taken."""

    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Rows labelled over all enrichers."""
        return sum(self.rows.values())


def version_column(name: str) -> str:
    """The enrichments column that records which version of ``name`` wrote its results."""
    return f"{name}_version"


def _selection(enricher: Enricher) -> str:
    where = {
        "all": "",
        "customer": "AND oa.account_id IS NULL",
        "org": "AND oa.account_id IS NOT NULL",
    }[enricher.target]
    return f"""
        FROM posts p
        LEFT JOIN (SELECT DISTINCT platform, account_id FROM org_accounts) oa
          ON oa.platform = p.platform AND oa.account_id = p.author_id
        LEFT JOIN enrichments e ON e.platform = p.platform AND e.post_id = p.post_id
        WHERE e.{version_column(enricher.name)} IS DISTINCT FROM ? {where}
    """


def pending(store: Store, enricher: Enricher) -> int:
    """How many posts this enricher still has to label."""
    sql = f"SELECT count(*) {_selection(enricher)}"
    return int(store.raw.execute(sql, [enricher.version]).fetchall()[0][0])


def has_work(store: Store, names: Sequence[str] | None = None) -> bool:
    """Whether ``enrich`` would label anything, asked on a read-only store.

    Commands that only read (``audit``, ``benchmark``) enrich first; asking this before taking
    the store for writing keeps them from pausing a dashboard when every label is current.
    """
    return any(pending(store, e) for e in _load(store, _names(names), None))


def enrich(
    store: Store,
    names: Sequence[str] | None = None,
    *,
    enrichers: Iterable[Enricher] | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
    workers: int | None = None,
    models: Mapping[str, str] | None = None,
) -> EnrichResult:
    """Label every post that lacks a current result, enricher by enricher.

    ``names`` picks registered enrichers (default: all the default ones); ``enrichers`` passes
    ready objects instead. Each enricher runs with the model the store records for it
    (``enrich --model``), else its default, so the labels never depend on what is installed;
    ``models`` chooses new ones (enricher -> model, "default" to go back) and records them
    once they load. ``workers`` processes label batches in parallel (default: one per core
    when there is more than one batch of work).
    """
    chosen = list(enrichers) if enrichers is not None else _load(store, _names(names), models)
    result = EnrichResult()
    for enricher in chosen:
        start = time.perf_counter()
        todo = pending(store, enricher)
        n = workers if workers is not None else _default_workers(todo, batch_rows)
        result.rows[enricher.name] = _run_one(store, enricher, todo, batch_rows, progress, n)
        result.seconds[enricher.name] = time.perf_counter() - start
    return result


def _load(store: Store, names: list[str], models: Mapping[str, str] | None) -> list[Enricher]:
    wanted = {**store.enricher_models(), **(models or {})}
    loaded = [load(n, wanted.get(n, "default")) for n in names]
    for name, model in (models or {}).items():
        store.choose_enricher_model(name, model)
    return loaded


def _default_workers(todo: int, batch_rows: int) -> int:
    # Starting processes costs about a second: worth it only for several batches of work.
    cores = os.cpu_count() or 1
    return cores if cores > 1 and todo > 4 * batch_rows else 1


def _names(names: Sequence[str] | None) -> list[str]:
    if not names:
        return list(DEFAULT_ENRICHERS)
    unknown = [n for n in names if n not in NAMES]
    if unknown:
        raise ConfigError(f"Unknown enricher {unknown[0]!r}. Choose from: {', '.join(NAMES)}.")
    return list(names)


def _run_one(
    store: Store,
    enricher: Enricher,
    todo: int,
    batch_rows: int,
    progress: Progress | None,
    workers: int = 1,
) -> int:
    if todo == 0:
        return 0
    columns = dict(enricher.columns)
    prepare = getattr(enricher, "prepare", None)
    if callable(prepare):
        # Enrichers that judge a post against the others (spam's near-duplicates) first see
        # the whole pending set, so nothing depends on where batch boundaries fall.
        _prepare(store.raw, enricher, prepare, batch_rows)
        workers = 1  # the prepared state lives in this process
    stage = store.label_stage(columns)
    # A second cursor streams the input while the stage is written.
    reader = store.raw.cursor()
    try:
        batches = reader.sql(
            "SELECT p.platform, p.post_id, p.text, p.author_id, "
            f"oa.account_id IS NOT NULL AS is_org {_selection(enricher)} "
            "ORDER BY p.platform, p.post_id",
            params=[enricher.version],
        ).to_arrow_reader(batch_rows)
        tables = (pa.Table.from_batches([b]) for b in batches)
        done = 0
        for table, labels in _labelled(enricher, tables, workers):
            arrays = {"platform": table.column("platform"), "post_id": table.column("post_id")}
            for col, typ in columns.items():
                values = labels.columns.get(col)
                if values is None or len(values) != table.num_rows:
                    raise RuntimeError(
                        f"Enricher {enricher.name} returned no aligned values for {col}"
                    )
                arrays[col] = pa.array(values, type=_ARROW[typ])
            stage.append(pa.table(arrays))
            done += table.num_rows
            if progress:
                progress(enricher.name, done, todo)
    except BaseException:
        stage.close()
        raise
    finally:
        reader.close()
    stage.commit(
        version_column=version_column(enricher.name),
        version=enricher.version,
        version_columns=[version_column(n) for n in NAMES],
    )
    return done


def _prepare(
    con: Any, enricher: Enricher, prepare: Callable[[Iterator[pa.Table]], None], batch_rows: int
) -> None:
    """Stream the pending posts' text, author and org flag through ``enricher.prepare``."""
    reader = con.cursor()
    try:
        batches = reader.sql(
            "SELECT p.text, p.author_id, oa.account_id IS NOT NULL AS is_org "
            f"{_selection(enricher)} ORDER BY p.platform, p.post_id",
            params=[enricher.version],
        ).to_arrow_reader(batch_rows)
        prepare(pa.Table.from_batches([b]) for b in batches)
    finally:
        reader.close()


def _labelled(
    enricher: Enricher, tables: Iterator[pa.Table], workers: int
) -> Iterator[tuple[pa.Table, Labels]]:
    """(batch, labels) in input order; batches go to ``workers`` processes when that helps.

    Only registered enrichers run in workers (each worker builds its own by name); at most
    two batches per worker are in flight, so memory stays bounded.
    """
    if workers <= 1 or enricher.name not in NAMES or not _is_registered(enricher):
        for table in tables:
            yield table, enricher.run(table)
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_worker_init,
        initargs=(enricher.name, os.getpid()),
    ) as pool:
        window: deque[tuple[pa.Table, Future[Labels]]] = deque()
        for table in tables:
            texts_only = table.select(["text", "author_id"])
            window.append((table, pool.submit(_worker_run, texts_only)))
            if len(window) >= 2 * workers:
                head, future = window.popleft()
                yield head, future.result()
        while window:
            head, future = window.popleft()
            yield head, future.result()


def _is_registered(enricher: Enricher) -> bool:
    # A registered enricher rebuilt by name in a worker must be the same one (same version).
    fresh = load(enricher.name)
    return type(enricher) is type(fresh) and enricher.version == fresh.version


_WORKER: Enricher | None = None


def _worker_init(name: str, parent_pid: int) -> None:
    # Workers die with the parent, even under ``kill -9`` (issue 14): see socialaudit.lifeline.
    die_with_parent(parent_pid)
    global _WORKER
    _WORKER = load(name)


def _worker_run(table: pa.Table) -> Labels:
    assert _WORKER is not None
    return _WORKER.run(table)
