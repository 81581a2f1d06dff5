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


#: What ``enrich --model ENRICHER=MODEL`` may choose besides "default" (README, "Models").
MODEL_HELP = (
    "ENRICHER=MODEL, e.g. intent=rules (the intent rules without the static embeddings) or "
    "sentiment=DIR (a folder from `socialaudit train sentiment`); ENRICHER=default goes back"
)


def load(name: str, model: str = "default") -> Enricher:
    """Import the enricher's module (registering it) and build the enricher with ``model``.

    Every default works the same on every install; other models run only when chosen.
    """
    module = ENRICHER_MODULES.get(name)
    if module is None:
        raise ConfigError(f"Unknown enricher {name!r}. Choose from: {', '.join(ENRICHER_MODULES)}.")
    importlib.import_module(module)
    if model == "default":
        return REGISTRY[name]()
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
    if name not in ENRICHER_MODULES:
        raise ConfigError(f"Unknown enricher {name!r}. Choose from: {', '.join(ENRICHER_MODULES)}.")
    if name == "sentiment" and model != "default":
        from pathlib import Path

        model = str(Path(model).expanduser().resolve())
    return name, model
