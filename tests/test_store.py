from __future__ import annotations

from pathlib import Path

import ibis
import pytest

import socialaudit
from socialaudit.errors import MigrationError, StoreError, TableNotFound
from socialaudit.store.migrations import MIGRATIONS
from socialaudit.store.schema import MIGRATIONS as MIGRATIONS_TABLE
from socialaudit.store.schema import SCHEMAS


def test_fresh_store_matches_schema(store: socialaudit.Store) -> None:
    for name, schema in SCHEMAS.items():
        actual = store.table(name).schema()
        assert list(actual.names) == list(schema.names), name
        for col in schema.names:
            # Nullability is the store's business; the type is the contract.
            assert actual[col].copy(nullable=True) == schema[col].copy(nullable=True), (name, col)


def test_migrations_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    s = socialaudit.open(path)
    assert s.schema_version() == MIGRATIONS[-1][0]
    s.close()
    s = socialaudit.open(path)
    assert s.migrate() == 0
    rows = s.frame(f"SELECT version, name FROM {MIGRATIONS_TABLE}")
    assert list(rows["version"]) == [v for v, _ in MIGRATIONS]
    s.close()


def test_newer_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    s = socialaudit.open(path)
    s.raw.execute(f"INSERT INTO {MIGRATIONS_TABLE} VALUES (999, 'future', now())")
    s.close()
    with pytest.raises(MigrationError, match="newer"):
        socialaudit.open(path)


def test_unknown_table(store: socialaudit.Store) -> None:
    with pytest.raises(TableNotFound, match="Known tables"):
        store.table("nope")


def test_not_a_store(tmp_path: Path) -> None:
    bad = tmp_path / "bad.duckdb"
    bad.write_text("hello, this is not a database\n" * 100)
    with pytest.raises(StoreError, match="Cannot open"):
        socialaudit.open(bad)


def test_read_only_missing(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="No store"):
        socialaudit.open(tmp_path / "missing.duckdb", read_only=True)


def test_tables_are_ibis(store: socialaudit.Store) -> None:
    assert isinstance(store.table("posts"), ibis.Table)
    assert store.count("posts") == 0
