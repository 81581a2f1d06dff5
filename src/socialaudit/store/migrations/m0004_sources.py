"""Raw records kept beside their posts, and the cursors of the live collectors."""

from __future__ import annotations

import duckdb

NAME = "sources"

DDL = """
CREATE TABLE raw_records (
    platform VARCHAR NOT NULL, post_id VARCHAR NOT NULL, import_id BIGINT NOT NULL,
    format VARCHAR, raw VARCHAR, PRIMARY KEY (platform, post_id, import_id)
);
CREATE TABLE collector_cursors (
    platform VARCHAR NOT NULL, target VARCHAR NOT NULL, state VARCHAR,
    updated_at TIMESTAMP, PRIMARY KEY (platform, target)
);
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``raw_records`` (4CAT/Zeeschuimer items, re-mappable) and ``collector_cursors``."""
    for statement in DDL.split(";"):
        if statement.strip():
            con.execute(statement)
