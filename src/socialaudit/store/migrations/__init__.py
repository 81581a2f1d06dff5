"""Numbered, append-only schema migrations, each applied in a transaction and recorded.

Registered explicitly (no directory walking) so the order is obvious and reviewable.
"""

from __future__ import annotations

from types import ModuleType

from socialaudit.store.migrations import (
    m0001_initial,
    m0002_enrichments,
    m0003_org_calendars,
    m0004_sources,
    m0005_reply_cycles,
    m0006_coverage,
    m0007_importer_version,
    m0008_enricher_models,
    m0009_turn_tables,
)

MIGRATIONS: list[tuple[int, ModuleType]] = [
    (1, m0001_initial),
    (2, m0002_enrichments),
    (3, m0003_org_calendars),
    (4, m0004_sources),
    (5, m0005_reply_cycles),
    (6, m0006_coverage),
    (7, m0007_importer_version),
    (8, m0008_enricher_models),
    (9, m0009_turn_tables),
]
