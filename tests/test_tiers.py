"""Tier rules v2 (SPEC section 5) at every edge, hand-computed; Wilson intervals; the table."""

from __future__ import annotations

import math

import ibis
import pytest

from socialaudit.benchmark.tiers import (
    BORDERLINE,
    INSUFFICIENT,
    INSUFFICIENT_COVERAGE,
    TierInputs,
    assign_tier,
    explain,
    load_thresholds,
    measures,
    wilson,
)
from socialaudit.errors import ConfigError
from socialaudit.metrics.responsiveness import LATE_AFTER_S, unanswered_after
from socialaudit.results.model import (
    Coverage,
    Figures,
    OrgAudit,
    PlatformCoverage,
    Responsiveness,
)

TH = load_thresholds()
ACTIVE = {"posts": 40, "replies": 30, "posts_per_week": 5.0}


def inputs(
    turns=100,
    answered=90,
    median=1800.0,
    late=(2, 100),
    deflected=(10, 90),
    variant="actionable",
    presence=ACTIVE,
    threads_only=False,
) -> TierInputs:
    return TierInputs(
        variant=variant,
        turns=turns,
        answered=answered,
        posts=int(presence.get("posts", 0)),
        replies=int(presence.get("replies", 0)),
        posts_per_week=float(presence.get("posts_per_week", 0.0)),
        figures=measures(
            turns=turns, answered=answered, frt_median_s=median, late=late, deflected=deflected
        ),
        coverage_insufficient=threads_only,
        coverage_summary="mastodon threads_only" if threads_only else "",
    )


def tier(th=TH, **kw):
    return assign_tier("org", inputs(**kw), thresholds=th)


def test_absent_without_posts() -> None:
    t = tier(presence={})
    assert (t.tier, t.label) == (0, "absent")
    assert t.evidence[0].rule == "posts in window" and t.evidence[0].holds is False


@pytest.mark.parametrize(("ppw", "replies", "expected"), [(0.99, 0, 1), (1.0, 0, 4), (0.5, 1, 4)])
def test_dormant_edge(ppw, replies, expected) -> None:
    assert tier(presence={"posts": 3, "replies": replies, "posts_per_week": ppw}).tier == expected


@pytest.mark.parametrize(("answered", "expected"), [(49, 2), (50, 3), (79, 3), (80, 4)])
def test_response_rate_edges(answered, expected) -> None:
    # 49% < 50%: rudimentary; 50% is not; 80% is the leader's bar, 79% is not.
    assert tier(answered=answered, deflected=(5, answered)).tier == expected


@pytest.mark.parametrize(
    ("median", "expected"),
    [(86_400.0, 3), (86_401.0, 2), (3600.0, 4), (3601.0, 3), (None, 2)],
)
def test_median_frt_edges(median, expected) -> None:
    # > 24 h is rudimentary, 24 h is not; <= 1 h is a leader's; no timed answer at all is slow.
    assert tier(median=median).tier == expected


@pytest.mark.parametrize(
    ("late", "expected"),
    [((20, 100), 2), ((19, 100), 3), ((5, 100), 4), ((6, 100), 3)],
)
def test_unanswered_after_7_days_share_edges(late, expected) -> None:
    # >= 20% late is rudimentary, 19% is not; <= 5% is a leader's, 6% is not.
    assert tier(late=late).tier == expected


def test_one_late_turn_is_no_longer_rudimentary() -> None:
    """v1 made any turn unanswered > 7 days rudimentary (ChipotleTweets: 4 of 115)."""
    t = tier(turns=115, answered=111, median=600.0, late=(4, 115), deflected=(10, 111))
    assert t.tier == 4  # 3.5% late <= 5%


def test_no_turn_old_enough_withholds_the_leader_tier() -> None:
    t = tier(late=(0, 0))
    assert t.tier == 3
    rule = next(e for e in t.evidence if e.rule.startswith("leader: unanswered after 7 days"))
    assert rule.holds is None and rule.note == "no turn is 7 days old yet"


@pytest.mark.parametrize(("deflected", "expected"), [((25, 100), 4), ((26, 100), 3)])
def test_deflection_edge(deflected, expected) -> None:
    assert tier(deflected=deflected).tier == expected


def test_leader_withheld_without_deflection_and_says_why() -> None:
    t = tier(deflected=None)
    assert t.tier == 3
    notes = [e.note for e in t.evidence if e.rule.startswith("leader: deflection")]
    assert notes == ["deflection not measured (posts not enriched)"]
    assert any("tier 4 withheld" in e.note for e in t.evidence)


@pytest.mark.parametrize(("turns", "expected"), [(49, None), (50, 4)])
def test_minimum_actionable_turns(turns, expected) -> None:
    t = tier(turns=turns, answered=turns - 2, late=(0, turns), deflected=(0, turns))
    assert t.tier == expected
    if expected is None:
        assert t.label == INSUFFICIENT
        found = next(e for e in t.evidence if e.rule == "actionable turns")
        assert found.value == 49 and found.note == "49 actionable turns in the window, 47 answered"


def test_conclusive_rudimentary_below_the_minimum() -> None:
    """AldiUK: 1 of 43 answered, 95% interval 0.4%-12.1%, wholly below 50%: rudimentary."""
    lo, hi = wilson(1, 43)
    assert lo == pytest.approx(0.0041, abs=1e-4) and hi == pytest.approx(0.1206, abs=1e-4)
    t = tier(turns=43, answered=1, median=7200.0, late=(30, 40), deflected=(0, 1))
    assert (t.tier, t.label) == (2, "rudimentary")
    assert any(e.rule == "conclusive below the minimum" for e in t.evidence)


def test_inconclusive_below_the_minimum_is_insufficient_data() -> None:
    # 24 of 49 (49%): below 50% but its interval (35.6%-62.5%) straddles it.
    t = tier(turns=49, answered=24, late=(0, 49))
    assert (t.tier, t.label) == (None, INSUFFICIENT)


def test_threads_only_everywhere_is_insufficient_coverage() -> None:
    t = tier(threads_only=True)
    assert (t.tier, t.label) == (None, INSUFFICIENT_COVERAGE)
    assert tier(threads_only=True, presence={}).tier == 0  # tiers 0 and 1 still apply


def test_the_rule_reads_the_audits_per_org_coverage() -> None:
    """TierInputs.of reads the audit's typed Coverage: threads_only on every platform withholds."""
    figures = Figures(100, 90, 0.9, 1800.0, 3600.0, 0.9, 0, 0, 0, 0)

    def entry(**methods: str) -> OrgAudit:
        cov = Coverage({p: PlatformCoverage(m) for p, m in methods.items()})
        return OrgAudit("org", Responsiveness(all=figures), coverage=cov)

    thin = TierInputs.of(entry(mastodon="threads_only", bluesky="threads_only"), ACTIVE)
    t = assign_tier("org", thin, thresholds=TH)
    assert (t.tier, t.label) == (None, INSUFFICIENT_COVERAGE)
    cov_ev = next(e for e in t.evidence if e.rule == "inbound coverage")
    assert cov_ev.value == "bluesky threads_only, mastodon threads_only"
    assert cov_ev.holds is False and "overstated" in cov_ev.note
    mixed = TierInputs.of(entry(mastodon="threads_only", bluesky="complete"), ACTIVE)
    assert assign_tier("org", mixed, thresholds=TH).label != INSUFFICIENT_COVERAGE
    unknown = TierInputs.of(entry(), ACTIVE)  # nothing recorded: no coverage rule applies
    assert assign_tier("org", unknown, thresholds=TH).label != INSUFFICIENT_COVERAGE


def test_borderline_marks() -> None:
    # 52 of 100: 52% >= 50% so not rudimentary, but the interval (42.3%-61.5%) contains 50%.
    t = tier(answered=52, deflected=(5, 52))
    rule = next(e for e in t.evidence if e.rule.startswith("rudimentary: response rate"))
    assert rule.ci95 == pytest.approx(wilson(52, 100), abs=1e-4)
    assert rule.note == BORDERLINE and rule.holds is False
    assert (t.tier, t.borderline) == (3, True)
    # 80 of 100 is a leader with its interval (71.1%-86.7%) around 80%: borderline.
    lead = tier(answered=80, deflected=(5, 80))
    assert (lead.tier, lead.borderline) == (4, True)
    # 95 of 100: the interval (88.8%-97.8%) is clear of every threshold.
    clear = tier(answered=95, deflected=(5, 95), late=(0, 100))
    assert (clear.tier, clear.borderline) == (4, False)


def test_falls_back_to_all_and_says_so() -> None:
    t = tier(variant="all")
    assert t.variant == "all"
    assert any("actionable not measured" in e.note for e in t.evidence)


def test_wilson_known_values() -> None:
    lo, hi = wilson(0, 10)
    assert lo == pytest.approx(0.0) and hi == pytest.approx(0.27753, abs=1e-4)
    lo, hi = wilson(5, 10)
    assert lo == pytest.approx(0.23659, abs=1e-4) and hi == pytest.approx(0.76341, abs=1e-4)
    assert wilson(0, 0) is None
    lo, hi = wilson(10, 10)
    assert hi == pytest.approx(1.0) and math.isclose(lo, 0.72247, abs_tol=1e-4)


def test_the_table_writes_the_explanation() -> None:
    text = explain(TH)
    for part in (
        (
            "2 rudimentary when any holds: response rate < 50%, median FRT > 24 h, "
            "unanswered after 7 days >= 20%"
        ),
        (
            "4 leader when all hold: response rate >= 80%, median FRT <= 1 h, "
            "deflection rate <= 25%, unanswered after 7 days <= 5%"
        ),
        "fewer than 50 actionable turns",
        "Rule table: built-in tiers.toml",
    ):
        assert part in text


def test_user_table_overrides_rules_and_prose(tmp_path) -> None:
    f = tmp_path / "tiers.toml"
    f.write_text(
        'min_actionable_turns = 10\n[leader]\nresponse_rate = ">= 0.95"\n'
        '[rudimentary]\nunanswered_7d_share = "off"\n'
    )
    th = load_thresholds(f)
    assert th.min_actionable_turns == 10
    assert tier(th=th, turns=20, answered=18, late=(0, 20), deflected=(0, 18)).tier == 3
    assert tier(th=th, late=(50, 100)).tier == 3  # the late rule is off: not rudimentary
    text = explain(th)
    assert "response rate >= 95%" in text and str(f) in text
    assert "unanswered after 7 days >= 20%" not in text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[leader]\nresponse_rat = ">= 0.9"\n', "unknown key leader.response_rat"),
        ('[leader]\nresponse_rate = "high"\n', "must read like"),
        ("min_actionable_turns = -1\n", "must be a non-negative number"),
        ("colour = 1\n", "unknown key 'colour'"),
    ],
)
def test_table_errors(tmp_path, body, message) -> None:
    f = tmp_path / "tiers.toml"
    f.write_text(body)
    with pytest.raises(ConfigError, match=message):
        load_thresholds(f)
    with pytest.raises(ConfigError, match="No tiers file"):
        load_thresholds(tmp_path / "missing.toml")


def test_unanswered_after_7_days_expression_at_its_edges() -> None:
    week = LATE_AFTER_S
    turns = ibis.memtable(
        {
            "org_id": ["a", "a", "a", "a", "a", "b"],
            "age_s": [week, week - 1, week + 5, week * 2, week * 3, 10],
            "answered": [False, False, True, True, True, False],
            "frt_s": [None, None, week, week + 1, -5, None],
        },
        schema={"org_id": "string", "age_s": "int64", "answered": "boolean", "frt_s": "int64"},
    )
    orgs = ibis.memtable({"org_id": ["a", "b", "c"]})
    got = {r["org_id"]: r for r in unanswered_after(turns, orgs).execute().to_dict("records")}
    # a: aged = the four turns at least 7 days old; late = unanswered at exactly 7 days, and
    # answered after 7 days + 1 s (7 days exactly is in time; a negative FRT is an answer).
    assert (got["a"]["aged"], got["a"]["late"], got["a"]["share"]) == (4, 2, 0.5)
    assert (got["b"]["aged"], got["b"]["late"]) == (0, 0) and got["b"]["share"] != got["b"]["share"]
    assert (got["c"]["aged"], got["c"]["late"]) == (0, 0)
