"""The one enricher registry: the built-in enricher modules, imported in the order they run.

Each module registers its enricher with :func:`socialaudit.enrich.base.register` when it is
imported; this is the one place that imports them (intent reads nothing from the others, so
the order only fixes output order). Names, defaults and loading all read
:data:`socialaudit.enrich.base.REGISTRY`: there is no second list of names.
"""

from __future__ import annotations

import importlib

from socialaudit.enrich.base import REGISTRY, Enricher
from socialaudit.errors import ConfigError

#: Every built-in enricher module; each has columns in ``enrichments`` (``<name>_version``).
BUILTIN_MODULES: tuple[str, ...] = (
    "socialaudit.enrich.language",
    "socialaudit.enrich.spam",
    "socialaudit.enrich.sentiment",
    "socialaudit.enrich.intent",
    "socialaudit.enrich.deflection",
    "socialaudit.enrich.resolution",
)
for _module in BUILTIN_MODULES:
    importlib.import_module(_module)

#: Every registered enricher's name, in run order.
NAMES: tuple[str, ...] = tuple(REGISTRY)
#: What ``socialaudit enrich`` and ``audit`` run when not told otherwise.
DEFAULT_ENRICHERS: tuple[str, ...] = NAMES


def load(name: str) -> Enricher:
    """Build the registered enricher ``name``."""
    factory = REGISTRY.get(name)
    if factory is None:
        raise ConfigError(f"Unknown enricher {name!r}. Choose from: {', '.join(NAMES)}.")
    return factory()


def with_sentiment_model(model_dir: str | None) -> list[Enricher] | None:
    """The default enrichers with a user-trained sentiment model in place of the default one.

    ``None`` when no model is given (the runner then loads the defaults itself).
    """
    if model_dir is None:
        return None
    from socialaudit.enrich.sentiment_model import load_trained

    trained = load_trained(model_dir)
    return [trained if name == "sentiment" else load(name) for name in DEFAULT_ENRICHERS]
