"""The store stage: DuckDB via Ibis, schema and migrations."""

from socialaudit.store.store import DEFAULT_PATH, Store, open

__all__ = ["DEFAULT_PATH", "Store", "open"]
