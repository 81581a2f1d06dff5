"""Presence, person scores and the Kaplan-Meier curve on a hand-computed fixture."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

import socialaudit
from socialaudit.metrics import presence as pr
from socialaudit.metrics import responsiveness as rs
from socialaudit.metrics import survival as sv
from socialaudit.metrics.base import epoch_s

DAY = 24 * 60
ROWS = [
    ("1", "AcmeHelp", False, 0, "big news today", None),
    ("2", "c1", True, 10, "@AcmeHelp my router is down", None),
    ("3", "AcmeHelp", False, 40, "@c1 fixed now", "2"),
    ("4", "c2", True, 2 * DAY, "@AcmeHelp anyone there?", None),
    ("5", "AcmeHelp", False, 3 * DAY, "new plans out", None),
    ("6", "c3", True, 3 * DAY + 5, "@AcmeHelp nice, how much?", "5"),
    ("7", "AcmeHelp", False, 3 * DAY + 65, "@c3 ten a month", "6"),
    ("8", "c4", True, 9 * DAY, "@BoltHelp hi", None),
    ("9", "BoltHelp", False, 9 * DAY + 10, "@c4 hello", "8"),
    ("10", "c5", True, 10 * DAY, "@BoltHelp hello?", None),
]


@pytest.fixture
def pstore(tmp_path, write_twcs):
    store = socialaudit.open(tmp_path / "p.duckdb")
    socialaudit.import_file(write_twcs(ROWS), store=store)
    yield store
    store.close()


def window(store):
    posts = store.table("posts")
    b = store.execute(
        posts.aggregate(lo=epoch_s(posts.created_at.min()), hi=epoch_s(posts.created_at.max()))
    ).iloc[0]
    return int(b["lo"]), int(b["hi"])


def groups(store):
    return store.table("orgs").select("org_id", peer_group=ibis.literal("g"))


def test_org_presence_by_hand(pstore) -> None:
    start, end = window(pstore)
    t = pr.presence(
        pstore.table("posts"),
        pstore.table("org_accounts"),
        pstore.table("accounts"),
        groups(pstore),
        start_s=start,
        end_s=end,
    )
    acme = pstore.execute(t).set_index("org_id").loc["AcmeHelp"]
    assert (acme["posts"], acme["replies"], acme["broadcasts"]) == (4, 2, 2)
    assert acme["posts_per_week"] == pytest.approx(4 / (10 / 7))
    assert acme["conversation_share"] == 0.5
    assert acme["active_days"] == 2
    # The longest silence runs from Acme's last post (#7) to the end of the window.
    assert acme["longest_silence_s"] == (10 * DAY - 3 * DAY - 65) * 60
    assert acme["silence_from_post_id"] == "7" and pd.isna(acme["silence_to_post_id"])
    assert acme["last_post_id"] == "7"
    # Posts addressed to Acme: #2, #4, #6 (mentions; #6 also replies); Bolt: #8, #10.
    assert acme["mentions"] == 3 and acme["share_of_voice"] == pytest.approx(0.6)
    assert pd.isna(acme["engagement_rate"]) and pd.isna(acme["potential_reach"])
    assert pd.isna(acme["impressions"])


def test_engagement_rate_and_reach_where_data_has_counts(pstore) -> None:
    pstore.raw.execute("UPDATE accounts SET followers_count = 1000 WHERE account_id = 'AcmeHelp'")
    pstore.raw.execute(
        "UPDATE posts SET like_count = 10, repost_count = 5, view_count = 400 WHERE post_id = '1'"
    )
    pstore.raw.execute("UPDATE posts SET view_count = 100 WHERE post_id = '3'")
    start, end = window(pstore)
    t = pr.presence(
        pstore.table("posts"),
        pstore.table("org_accounts"),
        pstore.table("accounts"),
        groups(pstore),
        start_s=start,
        end_s=end,
    )
    acme = pstore.execute(t).set_index("org_id").loc["AcmeHelp"]
    # Only post #1 is original and carries counts: (10 + 5) / 1000.
    assert acme["engagement_rate"] == pytest.approx(0.015) and acme["rated_posts"] == 1
    assert acme["potential_reach"] == 1000
    assert acme["impressions"] == 500  # only where the platform reports views


def test_person_scores_against_peer_average(pstore) -> None:
    start, end = window(pstore)
    acc = pr.presence(
        pstore.table("posts"),
        pstore.table("org_accounts"),
        pstore.table("accounts"),
        groups(pstore),
        start_s=start,
        end_s=end,
        by_account=True,
    )
    out = pstore.execute(pr.person_scores(acc)).set_index("account_id")
    acme, bolt = out.loc["AcmeHelp"], out.loc["BoltHelp"]
    assert (acme["replies_received"], bolt["replies_received"]) == (1, 0)
    # Acme: posts/week 2.8 vs 0.7 -> 4, capped at 2; conversation 0.5 vs 1.0 -> 0.5;
    # replies received 1 vs 0 -> no ratio; no reach data. Score 100 x (2 + 0.5) / 2.
    assert acme["posts_per_week_ratio"] == pytest.approx(4.0)
    assert acme["presence_score"] == pytest.approx(125.0)
    assert acme["below_average"] == "conversation_share"
    # Bolt: 0.25, 2 (capped), 0 -> 100 x 2.25 / 3.
    assert bolt["presence_score"] == pytest.approx(75.0)
    assert bolt["below_average"] == "posts_per_week replies_received"


def test_presence_evidence_lists_latest_posts(pstore) -> None:
    start, end = window(pstore)
    ev = pstore.execute(
        pr.presence_evidence(
            pstore.table("posts"), pstore.table("org_accounts"), start_s=start, end_s=end, per_org=2
        )
    )
    assert ev.groupby("org_id")["post_id"].apply(list).to_dict() == {
        "AcmeHelp": ["7", "5"],
        "BoltHelp": ["9"],
    }


def test_kaplan_meier_counts_unanswered_turns(pstore) -> None:
    turns = rs.build_turns(pstore).turns
    curve = sv.kaplan_meier(pstore.execute(sv.survival_counts(turns)))
    acme = curve[curve["org_id"] == "AcmeHelp"]
    # Turns: #2 answered after 30 min, #6 after 60 min, #4 never (censored at 8 days).
    assert acme["t_s"].tolist() == [1800, 3600, 8 * 86400]
    assert acme["at_risk"].tolist() == [3, 2, 1]
    assert acme["survival"].tolist() == pytest.approx([2 / 3, 1 / 3, 1 / 3])
    med = sv.km_median(curve).set_index("org_id")["km_median_s"]
    # The plain median of answered turns says 45 min; counting the unanswered one, 60 min.
    assert med["AcmeHelp"] == 3600
    # Bolt: #8 answered after 10 min, #10 censored at 0 s: S(600) = 0 with 1 at risk.
    assert med["BoltHelp"] == 600


def test_kaplan_meier_ties_keep_censored_at_risk() -> None:
    counts = pd.DataFrame(
        {"org_id": ["a"] * 3, "t_s": [10, 20, 30], "events": [1, 1, 1], "censored": [0, 1, 0]}
    )
    curve = sv.kaplan_meier(counts)
    assert curve["at_risk"].tolist() == [4, 3, 1]
    assert curve["survival"].tolist() == pytest.approx([0.75, 0.5, 0.0])
