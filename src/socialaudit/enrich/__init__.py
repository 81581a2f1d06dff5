"""The enrich stage: language, sentiment, intent, spam, deflection, resolution and topics."""

# Importing an enricher's module registers it in ``base.REGISTRY`` (models load on first use).
from socialaudit.enrich import language, spam  # noqa: F401
