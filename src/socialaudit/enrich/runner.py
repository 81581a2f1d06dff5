"""Run enrichers over the store, incrementally, in Arrow batches.

Each enricher sees only the posts whose stored result was written by another version of it (or
never): a second run does nothing, and bumping one enricher's version re-runs only that one.
Results of one enricher land in one transaction, so an interrupted run leaves every column
either as it was or fully updated.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import pyarrow as pa

from socialaudit.enrich.base import Enricher
from socialaudit.enrich.catalog import DEFAULT_ENRICHERS, ENRICHER_MODULES, load
from socialaudit.errors import ConfigError
from socialaudit.store import Store

BATCH_ROWS = 20_000
STAGE = "_enrich_stage"
# Arrow types for the Ibis type strings enrichers declare.
_ARROW = {
    "string": pa.string(),
    "float64": pa.float64(),
    "boolean": pa.bool_(),
    "int64": pa.int64(),
    "array<string>": pa.list_(pa.string()),
}
_SQL = {
    "string": "VARCHAR",
    "float64": "DOUBLE",
    "boolean": "BOOLEAN",
    "int64": "BIGINT",
    "array<string>": "VARCHAR[]",
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


def enrich(
    store: Store,
    names: Sequence[str] | None = None,
    *,
    enrichers: Iterable[Enricher] | None = None,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
) -> EnrichResult:
    """Label every post that lacks a current result, enricher by enricher.

    ``names`` picks registered enrichers (default: all the default ones); ``enrichers`` passes
    ready objects instead (e.g. a user-trained sentiment model).
    """
    chosen = list(enrichers) if enrichers is not None else [load(n) for n in _names(names)]
    result = EnrichResult()
    for enricher in chosen:
        start = time.perf_counter()
        result.rows[enricher.name] = _run_one(store, enricher, batch_rows, progress)
        result.seconds[enricher.name] = time.perf_counter() - start
    return result


def _names(names: Sequence[str] | None) -> list[str]:
    if not names:
        return list(DEFAULT_ENRICHERS)
    unknown = [n for n in names if n not in ENRICHER_MODULES]
    if unknown:
        raise ConfigError(
            f"Unknown enricher {unknown[0]!r}. Choose from: {', '.join(ENRICHER_MODULES)}."
        )
    return list(names)


def _run_one(store: Store, enricher: Enricher, batch_rows: int, progress: Progress | None) -> int:
    con = store.raw
    todo = pending(store, enricher)
    if todo == 0:
        return 0
    columns = dict(enricher.columns)
    stage_cols = ", ".join(f'"{c}" {_SQL[t]}' for c, t in columns.items())
    con.execute(f"DROP TABLE IF EXISTS {STAGE}")
    con.execute(f"CREATE TEMP TABLE {STAGE} (platform VARCHAR, post_id VARCHAR, {stage_cols})")
    # A second cursor streams the input while the first one writes the stage.
    reader = con.cursor()
    try:
        batches = reader.sql(
            "SELECT p.platform, p.post_id, p.text, p.author_id, "
            f"oa.account_id IS NOT NULL AS is_org {_selection(enricher)} "
            "ORDER BY p.platform, p.post_id",
            params=[enricher.version],
        ).to_arrow_reader(batch_rows)
        done = 0
        for batch in batches:
            table = pa.Table.from_batches([batch])
            labels = enricher.run(table)
            arrays = {"platform": table.column("platform"), "post_id": table.column("post_id")}
            for col, typ in columns.items():
                values = labels.columns.get(col)
                if values is None or len(values) != table.num_rows:
                    raise RuntimeError(
                        f"Enricher {enricher.name} returned no aligned values for {col}"
                    )
                arrays[col] = pa.array(values, type=_ARROW[typ])
            con.register("_enrich_out", pa.table(arrays))
            con.execute(f"INSERT INTO {STAGE} SELECT * FROM _enrich_out")
            con.unregister("_enrich_out")
            done += table.num_rows
            if progress:
                progress(enricher.name, done, todo)
    finally:
        reader.close()
    _merge(store, enricher, list(columns))
    return done


def _merge(store: Store, enricher: Enricher, columns: list[str]) -> None:
    """Write the staged results into ``enrichments`` in one transaction."""
    con = store.raw
    sets = ", ".join(f'"{c}" = s."{c}"' for c in columns)
    version = version_column(enricher.name)
    versions = [f"'{n}=' || {version_column(n)}" for n in ENRICHER_MODULES]
    with store.transaction():
        con.execute(
            f"""INSERT INTO enrichments (platform, post_id)
                SELECT s.platform, s.post_id FROM {STAGE} s
                ANTI JOIN enrichments e ON e.platform = s.platform AND e.post_id = s.post_id"""
        )
        con.execute(
            f"""UPDATE enrichments e SET {sets}, {version} = ?
                FROM {STAGE} s WHERE e.platform = s.platform AND e.post_id = s.post_id""",
            [enricher.version],
        )
        con.execute(
            f"UPDATE enrichments SET model_version = concat_ws(';', {', '.join(versions)}) "
            f"WHERE {version} = ?",
            [enricher.version],
        )
    con.execute(f"DROP TABLE IF EXISTS {STAGE}")
