"""The metrics stage: Ibis expressions over the store (SPEC section 5)."""

from socialaudit.metrics.audit import audit, topics, turns
from socialaudit.metrics.base import REGISTRY, Engine, MetricFamily
from socialaudit.metrics.campaigns import campaign_report, campaign_section
from socialaudit.metrics.quality import quality

__all__ = [
    "REGISTRY",
    "Engine",
    "MetricFamily",
    "audit",
    "campaign_report",
    "campaign_section",
    "quality",
    "topics",
    "turns",
]
