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


def test_every_command_module_is_in_the_one_list() -> None:
    """A module of ``cli/`` that defines commands is registered through COMMAND_MODULES."""
    import pkgutil
    import re
    from pathlib import Path

    import socialaudit.cli as cli

    folder = Path(cli.__file__).parent
    defining = {
        m.name
        for m in pkgutil.iter_modules([str(folder)])
        if re.search(r"@app\.command|app\.add_typer", (folder / f"{m.name}.py").read_text("utf-8"))
    }
    assert defining == set(cli.COMMAND_MODULES)


def test_one_enricher_registry() -> None:
    from socialaudit.enrich import catalog
    from socialaudit.enrich.base import REGISTRY

    assert catalog.NAMES == tuple(REGISTRY) == catalog.DEFAULT_ENRICHERS
    assert {"spam", "sentiment", "intent", "deflection", "resolution"} <= set(catalog.NAMES)


def test_report_definitions_come_from_the_metric_families() -> None:
    from socialaudit.benchmark.tiers import load_thresholds
    from socialaudit.report.render import definitions

    terms = dict(definitions(load_thresholds()))
    for family in ("responsiveness", "survival", "presence"):
        for term, text in METRICS[family].definitions:
            assert terms[term] == text
    assert "Thresholds: built-in tiers.toml" in terms["Maturity tier"]
