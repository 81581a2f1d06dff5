"""Registries keep their promises: metadata present, names unique, formats selectable."""

from __future__ import annotations

import socialaudit.ingest  # noqa: F401  (registers importers)
from socialaudit.ingest.base import REGISTRY as IMPORTERS
from socialaudit.ingest.base import Importer
from socialaudit.metrics.base import REGISTRY as METRICS


def test_importers_describe_themselves() -> None:
    assert {"twcs", "csv", "jsonl"} <= set(IMPORTERS)
    for name, cls in IMPORTERS.items():
        assert issubclass(cls, Importer)
        assert cls.name == name and "-" not in name
        assert cls.title and cls.description.endswith(".")
        assert cls.version


def test_metric_families_describe_themselves() -> None:
    assert {"responsiveness", "quality"} <= set(METRICS)
    for name, family in METRICS.items():
        assert family.name == name
        assert family.title and family.description.endswith(".")
        assert family.requires and family.version == "v1"
