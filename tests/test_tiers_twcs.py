"""Tiers v2 on the real TWCS sample (SPEC section 5): what the issue expects of them."""

from __future__ import annotations

import pytest

import socialaudit
from socialaudit.enrich.runner import enrich
from tests.golden import TWCS_SAMPLE

pytestmark = pytest.mark.skipif(
    not TWCS_SAMPLE.exists(), reason=f"{TWCS_SAMPLE} is not present (shared data missing)"
)


def test_tiers_v2_on_the_twcs_sample(store) -> None:
    socialaudit.import_file(TWCS_SAMPLE, store=store)
    enrich(store)
    bm = socialaudit.run(store)
    tiers = {t.org: t for t in bm.tiers}
    chipotle = tiers["ChipotleTweets"]
    # About 4% of its actionable turns wait more than 7 days, near the 5% line.
    assert chipotle.tier == 4 or (chipotle.tier == 3 and chipotle.borderline)
    assert tiers["AmazonHelp"].tier == 3 and tiers["AppleSupport"].tier == 3
    # 1 of 13 actionable turns answered (intent-5 labels): conclusive below the minimum.
    assert (tiers["AldiUK"].tier, tiers["AldiUK"].label) == (2, "rudimentary")
    for entry in bm.audit.orgs:
        act = entry.responsiveness.actionable
        if act is not None and act.response_rate is not None and act.response_rate < 0.5:
            assert tiers[entry.org].tier is None or tiers[entry.org].tier <= 2, entry.org
    assert bm.audit.window is not None and bm.audit.window.days == bm.window_days == 90
