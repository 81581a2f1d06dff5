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


#: What ``enrich --model ENRICHER=MODEL`` may choose besides "default" (README, "Models").
MODEL_HELP = (
    "ENRICHER=MODEL, e.g. intent=rules (the intent rules without the static embeddings) or "
    "sentiment=DIR (a folder from `socialaudit train sentiment`); ENRICHER=default goes back"
)


def load(name: str, model: str = "default") -> Enricher:
    """Build the registered enricher ``name`` with ``model``.

    Every default works the same on every install; other models run only when chosen.
    """
    factory = REGISTRY.get(name)
    if factory is None:
        raise ConfigError(f"Unknown enricher {name!r}. Choose from: {', '.join(NAMES)}.")
    if model == "default":
        return factory()
    if name == "intent":
        from socialaudit.enrich.intent import IntentEnricher

        return IntentEnricher(model)
    if name == "sentiment":
        from socialaudit.enrich.sentiment_model import load_trained

        return load_trained(model)
    raise ConfigError(f"Enricher {name!r} has only its default model (asked for {model!r}).")


def parse_model(spec: str) -> tuple[str, str]:
    """``"intent=rules"`` -> ``("intent", "rules")``, with a clear error for anything else."""
    name, sep, model = spec.partition("=")
    name, model = name.strip(), model.strip()
    if not sep or not model:
        raise ConfigError(f"--model takes {MODEL_HELP}; got {spec!r}.")
    if name not in NAMES:
        raise ConfigError(f"Unknown enricher {name!r}. Choose from: {', '.join(NAMES)}.")
    if name == "sentiment" and model != "default":
        from pathlib import Path

        model = str(Path(model).expanduser().resolve())
    return name, model
