"""One organization on four networks: one audit across them and one per platform.

The figures are worked out by hand from the fixtures (times are UTC, 2023-03-01):

twitter (x_v2_twarc2.jsonl)  1001 renee 10:00 @AcmeHelp -> AcmeHelp 1002 at 10:30: 1800 s
                             1003 renee replies to 1002 (+1008 self-reply): unanswered
                             1004 RT text mentions @AcmeHelp: unanswered; 1005 not in inbox
mastodon (statuses+context)  jo's ...001 10:00 replies to Acme's ...002 -> Acme's ...003
                             at 10:45: 2700 s; jo's ...005 is a self-reply in that turn
bluesky (feed+thread)        kenji q1 10:00 -> acme2 10:20: 1200 s; kenji cust2 self-reply;
                             kenji cust3 replies to acme2: unanswered
reddit (comment tree)        kasia t3 10:00 "u/AcmeHelp" -> t1_j1 10:30: 1800 s;
                             kasia t1_j2 replies to j1: unanswered (j3 deleted: quarantined)

All: 8 turns, 4 answered; FRTs 1200, 1800, 1800, 2700 -> median 1800, p90 2430
(linear: 1800 + 0.7 * 900); all four within the 60-minute SLA -> 4/8.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import socialaudit
from tests.conftest import org_figures

DATA = Path(__file__).parent / "data" / "sources"
FILES = [
    "x_v2_twarc2.jsonl",
    "mastodon_statuses.json",
    "mastodon_context.json",
    "bluesky_author_feed.json",
    "bluesky_thread.json",
    "reddit_comments.json",
]
ORGS = """
[[org]]
id = "acme"
[org.accounts]
twitter = ["AcmeHelp"]
mastodon = ["AcmeHelp"]
bluesky = ["acmehelp.bsky.social"]
reddit = ["AcmeHelp"]
youtube = ["AcmeHelp"]
"""


@pytest.fixture
def mixed(store: socialaudit.Store, tmp_path: Path) -> socialaudit.Store:
    for name in FILES:
        socialaudit.import_file(DATA / name, store=store)
    orgs = tmp_path / "orgs.toml"
    orgs.write_text(ORGS, encoding="utf-8")
    socialaudit.load_orgs(orgs, store=store)
    return store


def test_mixed_store_audit_matches_hand_worked_figures(mixed: socialaudit.Store) -> None:
    report = socialaudit.audit(mixed, by_platform=True)
    acme = org_figures(report, "acme")
    assert (acme["turns"], acme["answered"]) == (8, 4)
    assert acme["response_rate"] == pytest.approx(0.5)
    assert acme["frt_median_s"] == pytest.approx(1800)
    assert acme["frt_p90_s"] == pytest.approx(2430)
    assert acme["sla_attainment"] == pytest.approx(0.5)
    platforms = {p["platform"]: p["responsiveness"]["all"] for p in report["orgs"][0]["platforms"]}
    got = {k: (v["turns"], v["answered"], v["frt_median_s"]) for k, v in platforms.items()}
    assert got == {
        "bluesky": (2, 1, 1200.0),
        "mastodon": (1, 1, 2700.0),
        "reddit": (2, 1, 1800.0),
        "twitter": (3, 1, 1800.0),
        "youtube": (0, 0, None),  # declared, no data: shown, not dropped
    }
    assert sum(v["turns"] for v in platforms.values()) == acme["turns"]
    # Without the option the report keeps its documented shape.
    assert "platforms" not in socialaudit.audit(mixed)["orgs"][0]


def test_cli_audit_by_platform(mixed: socialaudit.Store, runner, app) -> None:
    db = mixed.path
    mixed.close()
    result = runner.invoke(app, ["--db", db, "audit", "--by-platform", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [p["platform"] for p in data["orgs"][0]["platforms"]] == [
        "bluesky",
        "mastodon",
        "reddit",
        "twitter",
        "youtube",
    ]
    table = runner.invoke(app, ["--db", db, "audit", "--by-platform"])
    assert table.exit_code == 0, table.output
    assert "acme [mastodon]" in table.output and "acme [twitter]" in table.output
    csv_out = runner.invoke(app, ["--db", db, "audit", "--by-platform", "--csv"])
    assert "acme [reddit],2,1," in csv_out.stdout
