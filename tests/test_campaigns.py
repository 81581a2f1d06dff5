"""Campaigns: a fixture whose every figure is worked out by hand, bad input, and the market.

T0 is 2017-10-01 12:00 UTC. The campaign runs 2017-10-03 through 2017-10-04 (minutes 2160 to
5040 after T0); the window before it is 2017-10-01 00:00 to 2017-10-03 00:00.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import socialaudit as sa
from socialaudit.errors import ConfigError
from socialaudit.synthetic import generate_market
from tests.conftest import TWCS_SAMPLE

ROWS = [
    # Before the campaign: a hashtag and a keyword (which also mentions the org).
    (1, "u1", True, 10, "loving #AcmeFiber already", None),
    (2, "u2", True, 20, "@AcmeHelp is the fiber deal real?", None),
    # During: hashtag in another case, a campaign-account mention, a keyword in capitals.
    (3, "u1", True, 2200, "#acmefiber is fast", None),
    (4, "u3", True, 2300, "thanks @AcmeFiberNews", None),
    (5, "u4", True, 2400, "the FIBER DEAL is great #AcmeFiberX", None),
    (6, "u5", True, 2500, "#AcmeFiberX only", None),  # a look-alike hashtag: no
    (7, "AcmeHelp", False, 2600, "Launching #AcmeFiber today", None),  # the org's own: no
    (8, "u6", True, 2700, "@u1 nice!", 3),  # a reply to a campaign post: engagement
    (9, "u7", True, 3700, "@AcmeHelp @VireoSupport who is faster? #AcmeFiber", None),
    (10, "u8", True, 2900, "@VireoSupport help", None),
    (11, "VireoSupport", False, 2950, "@u8 sure", 10),
    (12, "u9", True, 5100, "#AcmeFiber late", None),  # after the end: no
    (13, "u4", True, 3000, "@u3 agreed", 4),  # engagement
]
ORGS = """
[[org]]
id = "AcmeHelp"
peer_group = "telecom"
[org.accounts]
twitter = ["AcmeHelp"]

[[org]]
id = "VireoSupport"
peer_group = "telecom"
[org.accounts]
twitter = ["VireoSupport"]

[[org]]
id = "SkyAir"
peer_group = "airline"
[org.accounts]
twitter = ["SkyAir"]
"""
COSTS = """day,channel,spend,impressions,clicks,conversions
2017-10-03,search,100,50000,200,4
2017-10-03,social,50,25000,,1
2017-10-04,search,30,10000,100,0
"""
CAMPAIGNS = """
[[campaign]]
id = "fiber"
name = "Fiber launch"
org = "AcmeHelp"
start = 2017-10-03
end = 2017-10-04
hashtags = ["#AcmeFiber"]
keywords = ["fiber deal"]
accounts = ["@AcmeFiberNews"]
costs = "costs.csv"
"""


@pytest.fixture
def camp_store(store: sa.Store, write_twcs, tmp_path: Path) -> sa.Store:
    sa.import_file(write_twcs(ROWS), store=store)
    (tmp_path / "orgs.toml").write_text(ORGS, encoding="utf-8")
    sa.load_orgs(tmp_path / "orgs.toml", store=store)
    (tmp_path / "costs.csv").write_text(COSTS, encoding="utf-8")
    (tmp_path / "campaigns.toml").write_text(CAMPAIGNS, encoding="utf-8")
    assert sa.load_campaigns(tmp_path / "campaigns.toml", store=store) == 1
    return store


def test_campaign_figures_worked_out_by_hand(camp_store: sa.Store) -> None:
    r = sa.campaign_report(camp_store, "fiber")
    w, b = r["window"], r["before"]
    # Posts 3, 4, 5 and 9 by u1, u3, u4, u7; replies 8 and 13 engage with them.
    assert (w["mentions"], w["unique_authors"], w["engagement"]) == (4, 4, 2)
    assert w["engagement_basis"] == "observed"
    assert (b["mentions"], b["unique_authors"], b["engagement"]) == (2, 2, 0)
    assert r["uplift"] == {"mentions": 2, "ratio": 1.0, "unique_authors": 2}
    # Share of voice in telecom: AcmeHelp is named by post 9; VireoSupport by 9 and 10.
    assert w["share_of_voice"]["share"] == pytest.approx(1 / 3)
    assert w["share_of_voice"]["peers"] == ["AcmeHelp", "VireoSupport"]
    assert b["share_of_voice"]["share"] == 1.0
    assert [(d["day"].isoformat(), d["mentions"]) for d in r["daily"]] == [
        ("2017-10-03", 3),
        ("2017-10-04", 1),
    ]
    assert r["daily"][0]["spend"] == 150.0 and r["daily"][1]["clicks"] == 100
    c = r["costs"]
    assert (c["spend"], c["impressions"], c["clicks"], c["conversions"]) == (180.0, 85000, 300, 5)
    assert c["cpm"] == pytest.approx(180 / 85000 * 1000)
    assert c["cpc"] == pytest.approx(130 / 300)  # the social row reports no clicks
    assert c["cost_per_engagement"] == pytest.approx(90.0)
    assert c["cost_per_conversion"] == pytest.approx(36.0)
    assert [ch["channel"] for ch in c["by_channel"]] == ["search", "social"]
    assert c["by_channel"][1]["cpc"] is None
    assert "spend / clicks" in r["formulas"]["cpc"]
    assert w["potential_reach"] is None and w["sentiment"] is None
    assert any(m.startswith("potential_reach") for m in r["missing"])
    assert any(m.startswith("sentiment") for m in r["missing"])


def test_sentiment_mix_and_reach_when_available(camp_store: sa.Store) -> None:
    camp_store.raw.execute(
        "INSERT INTO enrichments (platform, post_id, sentiment) VALUES "
        "('twitter', '3', 0.6), ('twitter', '4', 0.0), ('twitter', '5', -0.4)"
    )
    camp_store.raw.execute(
        "UPDATE accounts SET followers_count = 100 WHERE account_id IN ('u1', 'u3')"
    )
    w = sa.campaign_report(camp_store, "Fiber launch")["window"]
    s = w["sentiment"]
    assert s["enriched"] == 3 and s["coverage"] == 0.75
    assert (s["positive"], s["neutral"], s["negative"]) == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert w["potential_reach"] == 200 and w["authors_with_follower_counts"] == 2


def test_campaign_section_for_the_report(camp_store: sa.Store) -> None:
    section = sa.campaign_section(camp_store)
    assert [c["campaign"] for c in section["campaigns"]] == ["fiber"]
    assert set(section["formulas"]) >= {"cpm", "cpc", "cost_per_engagement", "cost_per_conversion"}


def test_cli_campaign_add_show_and_costs(
    store: sa.Store, write_twcs, tmp_path: Path, runner, app
) -> None:
    sa.import_file(write_twcs(ROWS), store=store)
    db = store.path
    store.close()
    (tmp_path / "costs.csv").write_text(COSTS, encoding="utf-8")
    args = ["--db", db, "campaign", "add", "fiber", "--org", "AcmeHelp", "--start", "2017-10-03"]
    args += ["--end", "2017-10-04", "--hashtag", "AcmeFiber", "--keyword", "fiber deal"]
    res = runner.invoke(app, args + ["--account", "AcmeFiberNews"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app, ["--db", db, "campaign", "costs", "fiber", str(tmp_path / "costs.csv")]
    )
    assert res.exit_code == 0 and "Stored 3 cost rows" in res.output
    res = runner.invoke(app, ["--db", db, "campaign", "fiber", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["window"]["mentions"] == 4 and data["costs"]["cost_per_conversion"] == 36.0
    res = runner.invoke(app, ["--db", db, "campaign", "fiber"])
    assert res.exit_code == 0
    for text in ("Uplift in mentions: +2 (+100.0%)", "spend / impressions x 1,000", "36.00"):
        assert text in res.stdout
    # Derived orgs have no peer group: share of voice is named as missing, not shown as 0.
    assert "Not shown: share_of_voice" in res.stdout
    res = runner.invoke(app, ["--db", db, "campaign", "list"])
    assert res.exit_code == 0 and "fiber" in res.stdout
    res = runner.invoke(app, ["--db", db, "campaign", "nosuch"])
    assert res.exit_code == 2 and "No campaign 'nosuch'" in res.output


@pytest.mark.parametrize(
    ("costs", "message"),
    [
        ("day,spend\n2017-10-03,1\n", "the header must be day,channel,spend"),
        ("day,channel,spend,impressions,clicks,conversions\n2017-13-03,a,1,1,1,1\n", "line 2: day"),
        ("day,channel,spend,impressions,clicks,conversions\n2017-10-03,a,-1,1,1,1\n", "negative"),
        (
            "day,channel,spend,impressions,clicks,conversions\n2017-10-03,a,1,1.5,1,1\n",
            "whole number",
        ),
        (
            COSTS.splitlines()[0] + "\n2017-10-03,a,1,1,1,1\n2017-10-03,a,2,1,1,1\n",
            "line 3: 2017-10-03 / a appears twice",
        ),
    ],
)
def test_bad_costs_are_refused_and_nothing_is_stored(
    camp_store: sa.Store, tmp_path: Path, costs: str, message: str
) -> None:
    from socialaudit.store.campaigns import save_costs

    (tmp_path / "bad.csv").write_text(costs, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        save_costs("fiber", tmp_path / "bad.csv", store=camp_store)
    assert camp_store.count("campaign_costs") == 3


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('org = "AcmeHelp"', 'org = "Nobody"'), "no organization 'Nobody'"),
        (('org = "AcmeHelp"\n', ""), "needs org"),
        (("end = 2017-10-04", "end = 2017-10-01"), "is not after start"),
        (
            (
                CAMPAIGNS[CAMPAIGNS.index("hashtags") : CAMPAIGNS.index("costs")],
                "",
            ),
            "at least one of",
        ),
        (('costs = "costs.csv"', 'costs = "missing.csv"'), "No costs file"),
        (("start = 2017-10-03", 'start = "soon"'), "cannot read 'soon'"),
    ],
)
def test_bad_campaigns_are_refused(
    store: sa.Store, write_twcs, tmp_path: Path, runner, app, edit: tuple[str, str], message: str
) -> None:
    sa.import_file(write_twcs(ROWS), store=store)
    db = store.path
    store.close()
    (tmp_path / "costs.csv").write_text(COSTS, encoding="utf-8")
    path = tmp_path / "c.toml"
    path.write_text(CAMPAIGNS.replace(*edit), encoding="utf-8")
    res = runner.invoke(app, ["--db", db, "campaign", "load", str(path)])
    assert res.exit_code == 2, res.output
    assert message in res.output
    with sa.open(db) as s:
        assert s.count("campaigns") == 0 and s.count("campaign_costs") == 0


@pytest.mark.parametrize(("seed", "scale"), [(7, 1.0), (5, 0.2)])
def test_synthetic_campaign_uplift_is_recovered(tmp_path: Path, seed: int, scale: float) -> None:
    market = generate_market(tmp_path / "m", seed=seed, scale=scale)
    want = market.truth["campaign"]
    with sa.open(tmp_path / "s.duckdb") as store:
        sa.import_file(market.csv_path, store=store)
        sa.load_orgs(market.orgs_path, store=store)
        sa.load_campaigns(market.out_dir / "campaigns.toml", store=store)
        r = sa.campaign_report(store, want["id"])
    for window in ("window", "before"):
        got, exp = r[window], want[window]
        assert got["mentions"] == exp["mentions"]
        assert got["unique_authors"] == exp["unique_authors"]
        assert got["observed_interactions"] == exp["observed_interactions"]
        assert got["share_of_voice"]["share"] == pytest.approx(exp["share_of_voice"])
    assert r["uplift"]["ratio"] == pytest.approx(want["uplift_ratio"]) == 2.5
    for key in ("spend", "cpm", "cpc", "cost_per_engagement", "cost_per_conversion"):
        assert r["costs"][key] == pytest.approx(want[key]), key


@pytest.mark.skipif(not TWCS_SAMPLE.exists(), reason=f"TWCS sample not found at {TWCS_SAMPLE}")
def test_campaign_on_the_twcs_sample(tmp_path: Path, runner, app) -> None:
    db = str(tmp_path / "t.duckdb")
    assert runner.invoke(app, ["--db", db, "import", str(TWCS_SAMPLE)]).exit_code == 0
    args = ["--db", db, "campaign", "add", "ios11", "--org", "AppleSupport"]
    args += ["--start", "2017-10-25", "--end", "2017-10-31", "--keyword", "ios 11"]
    assert runner.invoke(app, args + ["--hashtag", "ios11"]).exit_code == 0
    res = runner.invoke(app, ["--db", db, "campaign", "ios11", "--json"])
    assert res.exit_code == 0, res.output
    r = json.loads(res.stdout)
    assert r["window"]["mentions"] > 0 and r["window"]["potential_reach"] is None
    assert any("TWCS has none" in m for m in r["missing"])
    res = runner.invoke(app, ["--db", db, "campaign", "ios11"])
    assert res.exit_code == 0 and "Not shown: potential_reach" in res.stdout
