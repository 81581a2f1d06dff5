"""Tier rules at each threshold edge, Wilson intervals, and the thresholds file."""

from __future__ import annotations

import math

import pytest

from socialaudit.benchmark.tiers import INSUFFICIENT, assign_tier, load_thresholds, wilson
from socialaudit.errors import ConfigError

TH = load_thresholds()
ACTIVE = {"posts": 40, "replies": 30, "posts_per_week": 5.0}


def resp(turns=100, answered=90, median=1800.0, backlog_7d=0, actionable=True):
    figures = {
        "turns": turns,
        "answered": answered,
        "response_rate": answered / turns if turns else None,
        "frt_median_s": median,
        "backlog_24h": backlog_7d,
        "backlog_7d": backlog_7d,
        "backlog_30d": 0,
    }
    if actionable:
        return {"all": {**figures, "turns": turns * 2}, "actionable": figures}
    return {"all": figures, "actionable": None}


def tier(r=None, presence=ACTIVE, deflection=0.1, th=TH):
    return assign_tier("org", r or resp(), presence, thresholds=th, deflection_rate=deflection)


def test_absent_without_posts() -> None:
    t = tier(presence={})
    assert (t.tier, t.label) == (0, "absent")
    assert t.evidence[0].rule == "posts in window" and t.evidence[0].holds is False


@pytest.mark.parametrize(
    ("ppw", "replies", "expected"),
    [(0.99, 0, 1), (1.0, 0, 4), (0.5, 1, 4)],
)
def test_dormant_edge(ppw, replies, expected) -> None:
    t = tier(presence={"posts": 3, "replies": replies, "posts_per_week": ppw})
    assert t.tier == expected


@pytest.mark.parametrize(("turns", "expected"), [(49, None), (50, 4)])
def test_minimum_actionable_turns(turns, expected) -> None:
    t = tier(resp(turns=turns, answered=turns))
    assert t.tier == expected
    if expected is None:
        assert t.label == INSUFFICIENT
        assert any(e.rule == "actionable turns" and e.value == 49 for e in t.evidence)


@pytest.mark.parametrize(
    ("answered", "expected"),
    [(49, 2), (50, 3), (79, 3), (80, 4)],
)
def test_response_rate_edges(answered, expected) -> None:
    assert tier(resp(turns=100, answered=answered)).tier == expected


@pytest.mark.parametrize(
    ("median", "expected"),
    [(86_400.0, 3), (86_401.0, 2), (3600.0, 4), (3601.0, 3), (None, 2)],
)
def test_median_frt_edges(median, expected) -> None:
    assert tier(resp(median=median)).tier == expected


def test_any_turn_waiting_over_7_days_is_rudimentary() -> None:
    assert tier(resp(backlog_7d=1)).tier == 2
    assert tier(resp(backlog_7d=0)).tier == 4


@pytest.mark.parametrize(("deflection", "expected"), [(0.25, 4), (0.2501, 3)])
def test_deflection_edge(deflection, expected) -> None:
    assert tier(deflection=deflection).tier == expected


def test_leader_withheld_without_deflection_and_says_why() -> None:
    t = tier(deflection=None)
    assert t.tier == 3
    notes = [e.note for e in t.evidence if e.rule.startswith("leader: deflection")]
    assert notes == ["deflection not measured (posts not enriched): tier 4 withheld"]


def test_falls_back_to_all_and_says_so() -> None:
    t = tier(resp(actionable=False))
    assert t.variant == "all"
    assert any(
        "actionable not measured (posts not enriched): all turns used" in e.note for e in t.evidence
    )


def test_actionable_decides_when_present() -> None:
    # `all` has 200 turns of which 90 answered (45%), actionable 90 of 100: actionable wins.
    t = tier(resp(turns=100, answered=90))
    assert t.variant == "actionable" and t.tier == 4


def test_rates_carry_wilson_intervals_and_borderline_note() -> None:
    t = tier(resp(turns=100, answered=52))
    rule = next(e for e in t.evidence if e.rule.startswith("rudimentary: response rate"))
    assert rule.ci95 == pytest.approx(wilson(52, 100))
    assert "borderline" in rule.note


def test_wilson_known_values() -> None:
    lo, hi = wilson(0, 10)
    assert lo == pytest.approx(0.0) and hi == pytest.approx(0.27753, abs=1e-4)
    lo, hi = wilson(5, 10)
    assert lo == pytest.approx(0.23659, abs=1e-4) and hi == pytest.approx(0.76341, abs=1e-4)
    assert wilson(0, 0) is None
    lo, hi = wilson(10, 10)
    assert hi == pytest.approx(1.0) and math.isclose(lo, 0.72247, abs_tol=1e-4)


def test_thresholds_override_and_errors(tmp_path) -> None:
    f = tmp_path / "tiers.toml"
    f.write_text("min_actionable_turns = 10\n[leader]\nmin_response_rate = 0.95\n")
    th = load_thresholds(f)
    assert th.min_actionable_turns == 10 and th.leader_min_response_rate == 0.95
    assert th.engaged_min_response_rate == 0.5  # untouched keys keep the shipped value
    assert tier(resp(turns=20, answered=18), th=th).tier == 3  # 90% < 95%: not a leader
    f.write_text("[leader]\nmin_respons_rate = 0.9\n")
    with pytest.raises(ConfigError, match="unknown key leader.min_respons_rate"):
        load_thresholds(f)
    f.write_text("[leader]\nmin_response_rate = 'high'\n")
    with pytest.raises(ConfigError, match="must be a non-negative number"):
        load_thresholds(f)
    with pytest.raises(ConfigError, match="No tiers file"):
        load_thresholds(tmp_path / "missing.toml")
