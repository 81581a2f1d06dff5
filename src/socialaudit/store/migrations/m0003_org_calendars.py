"""Org calendars for business-hours metrics.

Weekly opening hours, a holiday country, and holiday dates read from an iCal file.
"""

from __future__ import annotations

import duckdb

NAME = "org_calendars"


def apply(con: duckdb.DuckDBPyConnection) -> None:
    """Add calendar columns to orgs and a table of explicit holiday dates.

    ``hours`` is JSON (weekday -> ["HH:MM-HH:MM", ...]); ``holidays`` a country code.
    """
    con.execute("ALTER TABLE orgs ADD COLUMN hours VARCHAR")
    con.execute("ALTER TABLE orgs ADD COLUMN holidays VARCHAR")
    con.execute(
        "CREATE TABLE org_holidays (org_id VARCHAR NOT NULL, day DATE NOT NULL, name VARCHAR, "
        "PRIMARY KEY (org_id, day))"
    )
