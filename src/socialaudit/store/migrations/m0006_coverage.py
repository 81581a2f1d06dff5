"""Inbound coverage (SPEC sections 4 and 5): how completely each run fetched what customers sent.

One row per account, source run and inbound method. ``account_id`` is ``*`` for a file
import, which covers whichever accounts it holds; ``org_id`` is set when the run was made
for an organization (a subreddit listing has no account of its own).
"""

from __future__ import annotations

import duckdb

NAME = "coverage"

DDL = """
CREATE TABLE coverage (
    platform VARCHAR NOT NULL, account_id VARCHAR NOT NULL, run_id VARCHAR NOT NULL,
    inbound VARCHAR NOT NULL, org_id VARCHAR, target VARCHAR, source VARCHAR,
    import_id BIGINT, covered_from TIMESTAMP, covered_to TIMESTAMP, inbound_seen BIGINT,
    recorded_at TIMESTAMP, PRIMARY KEY (platform, account_id, run_id, inbound)
)
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``coverage``."""
    con.execute(DDL)
