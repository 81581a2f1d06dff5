"""The metrics stage: Ibis expressions over the store (SPEC section 5).

Expressions only: :mod:`socialaudit.run` executes them and returns typed results.
"""

from socialaudit.metrics.base import REGISTRY, Engine, MetricFamily
from socialaudit.metrics.campaigns import campaign_report, campaign_section
from socialaudit.metrics.quality import quality

__all__ = [
    "REGISTRY",
    "Engine",
    "MetricFamily",
    "campaign_report",
    "campaign_section",
    "quality",
]
