"""The store's writes of listening results: enricher labels and fitted topics.

Enrichers and topic fitting compute; these functions are the only code that writes
``enrichments`` and ``topics``. Results travel in an explicit :class:`LabelStage` (a
temporary table the stage names and owns), never in a table looked up by name.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from socialaudit.store.store import Store

_SQL = {
    "string": "VARCHAR",
    "float64": "DOUBLE",
    "boolean": "BOOLEAN",
    "int64": "BIGINT",
    "array<string>": "VARCHAR[]",
}
_SEQ = itertools.count(1)


class LabelStage:
    """One enricher's results on their way into ``enrichments``: append batches, then commit.

    ``columns`` maps each result column to its type (``string``, ``float64``, ``boolean``,
    ``int64``, ``array<string>``). The stage is a temporary table of its own; a stage that
    is never committed leaves ``enrichments`` untouched.
    """

    def __init__(self, store: Store, columns: dict[str, str]) -> None:
        self.store = store
        self.columns = list(columns)
        self.name = f"_sa_labels_{next(_SEQ)}"
        cols = ", ".join(f'"{c}" {_SQL[t]}' for c, t in columns.items())
        store.raw.execute(f"DROP TABLE IF EXISTS {self.name}")
        store.raw.execute(
            f"CREATE TEMP TABLE {self.name} (platform VARCHAR, post_id VARCHAR, {cols})"
        )

    def append(self, table: pa.Table) -> None:
        """Add one batch (``platform``, ``post_id`` and every result column, in that order)."""
        con = self.store.raw
        view = f"{self.name}_in"
        con.register(view, table)
        try:
            con.execute(f"INSERT INTO {self.name} SELECT * FROM {view}")
        finally:
            con.unregister(view)

    def commit(self, *, version_column: str, version: str, version_columns: Sequence[str]) -> None:
        """Write the staged results in one transaction, with the enricher's version.

        ``version_columns``: every enricher's version column, joined into ``model_version``.
        """
        con = self.store.raw
        sets = ", ".join(f'"{c}" = s."{c}"' for c in self.columns)
        names = [c.removesuffix("_version") for c in version_columns]
        versions = [f"'{n}=' || {c}" for n, c in zip(names, version_columns, strict=True)]
        with self.store.transaction():
            con.execute(
                f"""INSERT INTO enrichments (platform, post_id)
                    SELECT s.platform, s.post_id FROM {self.name} s
                    ANTI JOIN enrichments e ON e.platform = s.platform AND e.post_id = s.post_id"""
            )
            con.execute(
                f"""UPDATE enrichments e SET {sets}, {version_column} = ?
                    FROM {self.name} s WHERE e.platform = s.platform AND e.post_id = s.post_id""",
                [version],
            )
            con.execute(
                f"UPDATE enrichments SET model_version = concat_ws(';', {', '.join(versions)}) "
                f"WHERE {version_column} = ?",
                [version],
            )
        self.close()

    def close(self) -> None:
        """Drop the stage."""
        self.store.raw.execute(f"DROP TABLE IF EXISTS {self.name}")


def replace_topics(
    store: Store, org: str, topics: pa.Table, assigned: pa.Table, *, version: str
) -> list[int]:
    """Replace ``org``'s topics and its posts' topic labels, atomically; return the new ids.

    ``topics`` has ``label, top_terms, size, is_question, examples`` per topic, in order;
    ``assigned`` has ``platform, post_id, topic`` (a row index into ``topics``, or null).
    """
    con = store.raw
    with store.transaction():
        con.execute(
            "UPDATE enrichments SET topic_id = NULL, topic_version = NULL "
            "WHERE topic_id IN (SELECT topic_id FROM topics WHERE org_id = ?)",
            [org],
        )
        con.execute("DELETE FROM topics WHERE org_id = ?", [org])
        base = int(con.execute("SELECT coalesce(max(topic_id), 0) FROM topics").fetchall()[0][0])
        ids = [base + 1 + i for i in range(topics.num_rows)]
        rows = topics.append_column("topic_id", pa.array(ids, pa.int64())).append_column(
            "org_id", pa.array([org] * topics.num_rows, pa.string())
        )
        con.register("_sa_topics_in", rows)
        try:
            con.execute(
                "INSERT INTO topics (topic_id, label, top_terms, size, org_id, is_question, "
                "examples) SELECT topic_id, label, top_terms, size, org_id, is_question, "
                "examples FROM _sa_topics_in"
            )
        finally:
            con.unregister("_sa_topics_in")
        con.register("_sa_assigned_in", assigned)
        try:
            con.execute(
                """INSERT INTO enrichments (platform, post_id)
                   SELECT a.platform, a.post_id FROM _sa_assigned_in a
                   ANTI JOIN enrichments e ON e.platform = a.platform AND e.post_id = a.post_id"""
            )
            con.execute(
                f"""UPDATE enrichments e SET topic_id = {base} + 1 + a.topic, topic_version = ?
                   FROM _sa_assigned_in a
                   WHERE e.platform = a.platform AND e.post_id = a.post_id""",
                [version],
            )
        finally:
            con.unregister("_sa_assigned_in")
    return ids
