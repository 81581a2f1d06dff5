"""Peer percentiles, the social divide and claimed vs measured on hand-computed fixtures."""

from __future__ import annotations

from datetime import datetime

import ibis
import pandas as pd
import pytest

import socialaudit
from socialaudit.benchmark import peers


@pytest.fixture
def con():
    return ibis.duckdb.connect()


def test_percentiles_by_hand(con) -> None:
    metrics = ibis.memtable(
        pd.DataFrame(
            {
                "org_id": ["a1", "a2", "a3", "a4", "a5", "b1"],
                "peer_group": ["A", "A", "A", "A", "A", "B"],
                "response_rate": [0.2, 0.4, 0.4, 0.8, 1.0, 0.5],
                "frt_median_s": [100.0, 200.0, 300.0, None, 50.0, 10.0],
            }
        )
    )
    out = con.execute(peers.peer_percentiles(metrics)).set_index("org_id")
    # 100 x (n - position from the best) / (n - 1); the two 0.4s tie for positions 3 and 4
    # and share the better one, 3: 100 x 2 / 4.
    assert out["response_rate_pct"].to_dict() == pytest.approx(
        {"a1": 0.0, "a2": 50.0, "a3": 50.0, "a4": 75.0, "a5": 100.0, "b1": float("nan")},
        nan_ok=True,
    )
    # Faster is better; a4 has no FRT and is left out (n = 4 in group A).
    frt = out["frt_median_s_pct"]
    assert frt["a3"] == 0.0 and frt["a2"] == pytest.approx(100 / 3)
    assert frt["a1"] == pytest.approx(200 / 3) and frt["a5"] == 100.0
    assert pd.isna(frt["a4"]) and pd.isna(frt["b1"])  # no value; a group of one


def test_ties_share_the_best_rank(con) -> None:
    # The TWCS retail group: every org replies in all its posts (conversation share 1.0).
    # "100 = best" must put all of them at 100, and the one that broadcasts at 0.
    metrics = ibis.memtable(
        pd.DataFrame(
            {
                "org_id": ["r1", "r2", "r3", "r4", "t1", "t2"],
                "peer_group": ["retail"] * 4 + ["telecom"] * 2,
                "conversation_share": [1.0, 1.0, 1.0, 0.5, 0.7, 0.7],
                "frt_median_s": [60.0, 60.0, 120.0, None, 10.0, None],
            }
        )
    )
    out = con.execute(peers.peer_percentiles(metrics)).set_index("org_id")
    conv = out["conversation_share_pct"].to_dict()
    assert conv == {"r1": 100.0, "r2": 100.0, "r3": 100.0, "r4": 0.0, "t1": 100.0, "t2": 100.0}
    # Lower is better for FRT; the tied fastest share 100; t1 alone has an FRT in telecom.
    frt = out["frt_median_s_pct"]
    assert (frt["r1"], frt["r2"], frt["r3"]) == (100.0, 100.0, 0.0)
    assert pd.isna(frt["r4"]) and pd.isna(frt["t1"]) and pd.isna(frt["t2"])


def _turns(rows):
    frame = pd.DataFrame(rows, columns=["org_id", "opener_created_at", "answered"])
    frame["opener_created_at"] = pd.to_datetime(frame["opener_created_at"])
    return ibis.memtable(frame)


def test_social_divide_by_hand(con) -> None:
    mon1, mon2 = datetime(2017, 11, 6, 9), datetime(2017, 11, 13, 9)
    turns = _turns(
        [
            # week 1: leader L answers 2/2, followers F1 1/2 and F2 0/2 -> 1.0 vs 0.25
            ("L", mon1, True), ("L", mon1, True),
            ("F1", mon1, True), ("F1", mon1, False),
            ("F2", mon1, False), ("F2", mon1, False),
            # week 2 (a Sunday belongs to the week starting Monday 13th): leader 1/2,
            # followers 3/3 -> 0.5 vs 1.0; group B has no leader that week.
            ("L", mon2, True), ("L", datetime(2017, 11, 19, 23), False),
            ("F1", mon2, True), ("F2", mon2, True), ("F2", mon2, True),
            ("B1", mon2, True),
        ]
    )  # fmt: skip
    groups = ibis.memtable(
        pd.DataFrame({"org_id": ["L", "F1", "F2", "B1"], "peer_group": ["g", "g", "g", "h"]})
    )
    leaders = ibis.memtable(pd.DataFrame({"org_id": ["L"], "is_leader": [True]}))
    out = con.execute(peers.social_divide(turns, groups, leaders))
    rows = {(r.peer_group, str(r.week)[:10]): r for r in out.itertuples()}
    w1 = rows[("g", "2017-11-06")]
    assert (w1.leaders_turns, w1.followers_turns) == (2, 4)
    assert (w1.leaders_rate, w1.followers_rate, w1.gap) == (1.0, 0.25, 0.75)
    w2 = rows[("g", "2017-11-13")]
    assert (w2.leaders_rate, w2.followers_rate, w2.gap) == (0.5, 1.0, -0.5)
    h = rows[("h", "2017-11-13")]
    assert h.leaders_turns == 0 and pd.isna(h.leaders_rate) and pd.isna(h.gap)


def test_claimed_vs_measured_sentence() -> None:
    claims = {
        "a": "very active",
        "b": "Active on all channels",
        "c": "not active",
        "d": None,
        "e": "responsive",
    }
    result = peers.claimed_vs_measured(claims, {"a": 2, "b": 4, "c": 1, "e": None})
    assert (result.declared, result.claiming, result.measured) == (4, 3, 2)
    assert (result.rudimentary, result.insufficient, result.orgs) == (1, 1, ("a",))
    assert result.sentence == (
        "75% say they are active (3 of 4); 50% of those are at most rudimentary "
        "(tier 2 or below: 1 of 2 with a tier); 1 more have insufficient data."
    )


def test_peer_groups_declared_then_sector_then_unassigned(tmp_path) -> None:
    store = socialaudit.open(tmp_path / "s.duckdb")
    store.raw.execute(
        "INSERT INTO orgs (org_id, name, peer_group, origin) VALUES "
        "('Delta', 'Delta', 'my group', 'declared'), ('americanair', 'AA', NULL, 'derived'), "
        "('Nobody', 'N', NULL, 'derived')"
    )
    out = store.execute(peers.peer_groups(store.table("orgs"), peers.load_sectors()))
    got = dict(zip(out["org_id"], out["peer_group"], strict=True))
    assert got == {"Delta": "my group", "americanair": "airlines", "Nobody": "unassigned"}
    f = tmp_path / "sectors.toml"
    f.write_text('mine = ["Nobody"]\n')
    out = store.execute(peers.peer_groups(store.table("orgs"), peers.load_sectors(f)))
    assert dict(zip(out["org_id"], out["peer_group"], strict=True))["Nobody"] == "mine"
    f.write_text('mine = "Nobody"\n')
    with pytest.raises(socialaudit.ConfigError, match="must list org ids"):
        peers.load_sectors(f)
    store.close()
