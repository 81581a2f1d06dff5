"""Responsiveness on hand-built conversations whose answers are worked out by hand."""

from __future__ import annotations

import pytest

import socialaudit
from tests.conftest import org_figures

R = 10 * 1440  # reference: the last post, 10 days after T0 (minutes)

# (tweet_id, author, inbound, minutes, text, parent)
ROWS = [
    (10, "1", True, 0, "@AcmeHelp my phone is broken", None),  # turn A
    (11, "1", True, 5, "@AcmeHelp hello??", 10),  # follow-up of A
    (12, "AcmeHelp", False, 30, "@1 sorry! what model?", 11),  # answers A: 1800 s
    (13, "1", True, 40, "@AcmeHelp thanks, still broken", 12),  # turn B (parent by org)
    (14, "AcmeHelp", False, 140, "@1 let's fix it", 13),  # answers B: 6000 s
    (20, "2", True, 60, "@acmehelp where is my refund", None),  # turn C, case variant, open
    (30, "3", True, 70, "@AcmeHelpDesk hi", None),  # not Acme's: longer handle
    (40, "4", True, 80, "no mention at all", None),  # turn E
    (41, "AcmeHelp", False, 75, "@4 hi", 40),  # answers E before it was asked: negative
    (50, "5", True, 100, "@AcmeHelp question", None),  # turn F
    (51, "6", True, 101, "@5 @AcmeHelp same here", 50),  # new turn: parent by someone else
    (52, "AcmeHelp", False, 160, "@5 answer", 50),  # answers F: exactly 3600 s
    (60, "8", True, R - 1440, "@AcmeHelp exactly one day", None),  # age == 24 h
    (70, "9", True, R - 1441, "@AcmeHelp a day and a minute", None),  # age > 24 h
    (80, "10", True, R - 7 * 1440, "@AcmeHelp exactly a week", None),  # age == 7 d
    (90, "11", True, 200, "@AcmeHelp replying to a lost tweet", 9999),  # orphan opener
    (91, "AcmeHelp", False, 210, "@11 hello", 90),  # 600 s
    (99, "AcmeHelp", False, R, "Big news today!", None),  # broadcast, sets the reference
    (200, "BetaCare", False, 5, "We are here to help", None),  # org with no turns
]


@pytest.fixture
def audited(write_twcs, store):
    socialaudit.import_file(write_twcs(ROWS), store=store)
    return store


def test_hand_computed_figures(audited) -> None:
    report = socialaudit.audit(audited)
    assert report["reference_time"] == "2017-10-11T12:00:00+00:00"
    acme = org_figures(report, "AcmeHelp")
    assert acme == {
        "turns": 10,
        "answered": 5,
        "response_rate": 0.5,
        "frt_median_s": 2700.0,
        "frt_p90_s": pytest.approx(5280.0),
        "sla_attainment": pytest.approx(3 / 9),
        "negative_frt": 1,
        "backlog_24h": 4,
        "backlog_7d": 2,
        "backlog_30d": 0,
    }
    assert report["orgs"][0]["responsiveness"]["actionable"] is None


def test_org_without_turns_has_null_rates(audited) -> None:
    beta = org_figures(socialaudit.audit(audited), "BetaCare")
    assert beta["turns"] == 0 and beta["answered"] == 0
    assert beta["response_rate"] is None
    assert beta["frt_median_s"] is None and beta["frt_p90_s"] is None
    assert beta["sla_attainment"] is None


def test_sla_override_and_org_sla(audited, tmp_path) -> None:
    acme = org_figures(socialaudit.audit(audited, sla_minutes=30), "AcmeHelp")
    assert acme["sla_attainment"] == pytest.approx(2 / 9)
    toml = tmp_path / "orgs.toml"
    toml.write_text(
        '[[org]]\nid = "acme"\nname = "Acme"\nsla_minutes = 100\n'
        '[org.accounts]\ntwitter = ["acmehelp"]\n'
    )
    socialaudit.load_orgs(toml, store=audited)
    report = socialaudit.audit(audited)
    assert [o["org"] for o in report["orgs"]] == ["BetaCare", "acme"]
    assert org_figures(report, "acme")["sla_attainment"] == pytest.approx(4 / 9)
    assert org_figures(report, "acme")["turns"] == 10


def test_turn_rows(audited) -> None:
    t = socialaudit.turns(audited, org="AcmeHelp")
    by_id = t.set_index("opener_id")
    assert sorted(by_id.index) == sorted(
        ["10", "13", "20", "40", "50", "51", "60", "70", "80", "90"]
    )
    a = by_id.loc["10"]
    assert (a.followups, a.answered, a.frt_s, a.first_response_id) == (1, True, 1800, "12")
    assert a.opener_permalink == "https://twitter.com/i/web/status/10"
    assert a.first_response_permalink == "https://twitter.com/i/web/status/12"
    assert by_id.loc["40"].frt_s == -300
    assert by_id.loc["60"].age_s == 86400
    waiting = socialaudit.turns(audited, org="AcmeHelp", unanswered_older_than_s=7 * 86400)
    assert waiting.opener_id.tolist() == ["20", "51"]


def test_long_self_thread_is_one_turn(write_twcs, store) -> None:
    rows = [(1, "7", True, 0, "@AcmeHelp part 1", None)]
    rows += [(i, "7", True, i, f"@AcmeHelp part {i}", i - 1) for i in range(2, 41)]
    rows += [(100, "AcmeHelp", False, 50, "@7 read it all", 40)]
    socialaudit.import_file(write_twcs(rows), store=store)
    t = socialaudit.turns(store, org="AcmeHelp")
    assert t.opener_id.tolist() == ["1"]
    assert (t.followups[0], t.frt_s[0]) == (39, 50 * 60)


def test_branching_self_thread(write_twcs, store) -> None:
    rows = [
        (1, "7", True, 0, "@AcmeHelp root", None),
        (2, "7", True, 1, "@AcmeHelp branch a", 1),
        (3, "7", True, 2, "@AcmeHelp branch b", 1),
        (4, "7", True, 3, "@AcmeHelp a again", 2),
        (5, "AcmeHelp", False, 9, "@7 hi", 3),
    ]
    socialaudit.import_file(write_twcs(rows), store=store)
    t = socialaudit.turns(store, org="AcmeHelp")
    assert t.opener_id.tolist() == ["1"] and t.followups[0] == 3 and t.frt_s[0] == 540


def test_unknown_org(audited) -> None:
    with pytest.raises(socialaudit.MetricError, match="No organization 'Nope'"):
        socialaudit.audit(audited, org="Nope")


def test_quality_counts(audited) -> None:
    q = socialaudit.quality(audited)
    assert q["orphans"] == 1
    assert q["skew"] == 1  # 41 replies before 40
    assert q["negative_frt_turns"] == 1
    assert q["duplicates"] == 0 and q["quarantined"] == 0


def test_empty_store(store) -> None:
    report = socialaudit.audit(store)
    nothing = dict.fromkeys(("intent", "spam", "sentiment", "deflection", "resolution"), False)
    assert report == {
        "reference_time": None,
        "metrics_version": "v1",
        "enriched": nothing,
        "enrichers": {
            name: {"model": "default", "versions": {}}
            for name in ("language", "spam", "sentiment", "intent", "deflection", "resolution")
        },
        "orgs": [],
    }
