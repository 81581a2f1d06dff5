"""Persisted turn tables (issue 18), so an audit does not rebuild every turn after each import.

``turn_links`` maps each self-reply to its turn opener; ``org_turns`` holds one row per
(org, turn) with the first response and its raw time (the SLA and the reference time are
applied when an audit reads it); ``org_turns_accounts`` is the copy of ``org_accounts`` the
rows were built with, so that an org declared later is recomputed; ``turns_state`` says up
to which import the tables are built. They start empty and unbuilt: the next import builds
them, and until then an audit computes turns as before. ``store_writes`` gets one row per
write transaction: the generation counter the dashboard keys its persisted snapshot by.
"""

from __future__ import annotations

import duckdb

NAME = "turn_tables"

DDL = (
    """CREATE TABLE turn_links (
        platform VARCHAR NOT NULL, post_id VARCHAR NOT NULL, turn_id VARCHAR NOT NULL)""",
    """CREATE TABLE org_turns (
        org_id VARCHAR NOT NULL, platform VARCHAR NOT NULL, turn_id VARCHAR NOT NULL,
        opener_author VARCHAR, opener_created_at TIMESTAMP, followups BIGINT,
        first_response_id VARCHAR, first_response_at TIMESTAMP, frt_s BIGINT)""",
    """CREATE TABLE org_turns_accounts (
        org_id VARCHAR, platform VARCHAR, account_id VARCHAR, handle VARCHAR)""",
    "CREATE TABLE turns_state (import_id BIGINT NOT NULL, posts BIGINT NOT NULL)",
    "CREATE TABLE store_writes (written_at TIMESTAMP NOT NULL)",
)


def apply(con: duckdb.DuckDBPyConnection) -> None:
    """Create the (empty, unbuilt) turn tables and the write counter."""
    for ddl in DDL:
        con.execute(ddl)
