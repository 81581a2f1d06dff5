"""Which enrichers exist, which run by default, and how they are loaded.

Modules register their enricher on import; this is the one place that imports them, in the
order they run (intent reads nothing from the others, so the order only fixes output order).
"""

from __future__ import annotations

import importlib

from socialaudit.enrich.base import REGISTRY, Enricher
from socialaudit.errors import ConfigError

#: Every enricher with columns in ``enrichments`` (its ``<name>_version`` column included).
ENRICHER_MODULES: dict[str, str] = {
    "language": "socialaudit.enrich.language",
    "spam": "socialaudit.enrich.spam",
    "sentiment": "socialaudit.enrich.sentiment",
    "intent": "socialaudit.enrich.intent",
    "deflection": "socialaudit.enrich.deflection",
    "resolution": "socialaudit.enrich.resolution",
}
#: What ``socialaudit enrich`` and ``audit`` run when not told otherwise.
DEFAULT_ENRICHERS: tuple[str, ...] = tuple(ENRICHER_MODULES)


def load(name: str) -> Enricher:
    """Import the enricher's module (registering it) and build the enricher."""
    module = ENRICHER_MODULES.get(name)
    if module is None:
        raise ConfigError(f"Unknown enricher {name!r}. Choose from: {', '.join(ENRICHER_MODULES)}.")
    importlib.import_module(module)
    return REGISTRY[name]()


def with_sentiment_model(model_dir: str | None) -> list[Enricher] | None:
    """The default enrichers with a user-trained sentiment model in place of the default one.

    ``None`` when no model is given (the runner then loads the defaults itself).
    """
    if model_dir is None:
        return None
    from socialaudit.enrich.sentiment_model import load_trained

    trained = load_trained(model_dir)
    return [trained if name == "sentiment" else load(name) for name in DEFAULT_ENRICHERS]
