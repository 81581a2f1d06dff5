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


#: Stores made before coverage was recorded: each import is what it was, a file export or a
#: collector page (the collectors fetched only threads then).
BACKFILL = """
INSERT INTO coverage
SELECT p.platform, '*', 'import:' || CAST(i.import_id AS VARCHAR),
       CASE WHEN starts_with(i.source_path, 'collect ') THEN 'threads_only' ELSE 'export' END,
       NULL, NULL, 'import', i.import_id, min(p.created_at), max(p.created_at),
       count(*) FILTER (WHERE coalesce(p.inbound, NOT EXISTS (
           SELECT 1 FROM org_accounts oa
           WHERE oa.platform = p.platform AND oa.account_id = p.author_id))),
       now()::TIMESTAMP
FROM posts p JOIN imports i ON i.import_id = p.import_id
GROUP BY p.platform, i.import_id, i.source_path
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``coverage`` and describe the imports already in the store."""
    con.execute(DDL)
    con.execute(BACKFILL)
