"""Listening results: one column group per enricher, each with the version that produced it.

Per-enricher versions let a new model re-run only its own enricher; ``model_version`` (SPEC)
keeps the combined string for readers that want one value.
"""

from __future__ import annotations

import duckdb

NAME = "enrichments"

DDL = """
ALTER TABLE enrichments ADD COLUMN lang_score DOUBLE;
ALTER TABLE enrichments ADD COLUMN sentiment_label VARCHAR;
ALTER TABLE enrichments ADD COLUMN intents VARCHAR[];
ALTER TABLE enrichments ADD COLUMN intent_score DOUBLE;
ALTER TABLE enrichments ADD COLUMN spam_reason VARCHAR;
ALTER TABLE enrichments ADD COLUMN deflection VARCHAR;
ALTER TABLE enrichments ADD COLUMN deflection_rule VARCHAR;
ALTER TABLE enrichments ADD COLUMN resolved BOOLEAN;
ALTER TABLE enrichments ADD COLUMN resolution_rule VARCHAR;
ALTER TABLE enrichments ADD COLUMN language_version VARCHAR;
ALTER TABLE enrichments ADD COLUMN sentiment_version VARCHAR;
ALTER TABLE enrichments ADD COLUMN intent_version VARCHAR;
ALTER TABLE enrichments ADD COLUMN spam_version VARCHAR;
ALTER TABLE enrichments ADD COLUMN deflection_version VARCHAR;
ALTER TABLE enrichments ADD COLUMN resolution_version VARCHAR;
ALTER TABLE enrichments ADD COLUMN topic_version VARCHAR;
ALTER TABLE topics ADD COLUMN org_id VARCHAR;
ALTER TABLE topics ADD COLUMN is_question BOOLEAN;
ALTER TABLE topics ADD COLUMN examples VARCHAR[];
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    """Add the per-enricher columns."""
    for statement in DDL.strip().split(";"):
        if statement.strip():
            con.execute(statement)
