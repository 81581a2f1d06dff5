"""Seeded synthetic data with planted ground truth: the demo data set and the audit's test bed.

Everything here is deterministic for a given seed, so a failing check can be replayed exactly.
"""

from socialaudit.synthetic.market import (
    PROFILES,
    QUARANTINE_REASONS,
    REFERENCE_TIME,
    TIERS,
    MarketTruth,
    OrgProfile,
    generate_market,
)

__all__ = [
    "PROFILES",
    "QUARANTINE_REASONS",
    "REFERENCE_TIME",
    "TIERS",
    "MarketTruth",
    "OrgProfile",
    "generate_market",
]
