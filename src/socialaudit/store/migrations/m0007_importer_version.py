"""Each import records the version of the importer that read it.

A mapping fix bumps an importer's ``version``; with it stored per import, the posts a
mapping may have read wrongly can be found (and re-imported) without guessing.
"""

from __future__ import annotations

import duckdb

NAME = "importer_version"


def apply(con: duckdb.DuckDBPyConnection) -> None:
    """Add ``imports.importer_version`` (NULL for imports made before it existed)."""
    con.execute("ALTER TABLE imports ADD COLUMN importer_version VARCHAR")
