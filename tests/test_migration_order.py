"""A migration merged after a higher-numbered one still reaches stores that have the latter."""

from __future__ import annotations

import duckdb

import socialaudit
from socialaudit.store.migrations import m0001_initial, m0004_sources


def test_lower_numbered_migration_applied_after_higher_one(tmp_path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE _socialaudit_migrations "
        "(version BIGINT PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)"
    )
    for version, module in ((1, m0001_initial), (4, m0004_sources)):
        module.apply(con)
        con.execute(
            "INSERT INTO _socialaudit_migrations VALUES (?, ?, now())", [version, module.NAME]
        )
    con.close()
    try:
        socialaudit.open(path, read_only=True)
    except socialaudit.StoreError as exc:
        assert "migrate" in str(exc)
    else:
        raise AssertionError("a read-only open of a store missing a migration must fail")
    with socialaudit.open(path) as store:
        assert store.pending_migrations() == []
        cols = store.frame(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'orgs'"
        )["column_name"].tolist()
        assert {"hours", "holidays"} <= set(cols)
        assert store.count("org_holidays") == 0
