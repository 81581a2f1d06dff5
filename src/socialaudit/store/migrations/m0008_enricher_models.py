"""Which model each enricher runs with in this store (``enrich --model``).

Recorded so that a later run, on another install or by ``audit``, labels new posts the same
way instead of falling back to the default.
"""

from __future__ import annotations

import duckdb

NAME = "enricher_models"

DDL = """
CREATE TABLE enricher_models (
    enricher VARCHAR PRIMARY KEY, model VARCHAR NOT NULL, chosen_at TIMESTAMP NOT NULL
)
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``enricher_models``: no row means the enricher's default model."""
    con.execute(DDL)
