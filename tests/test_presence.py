"""Presence, presence scores and the Kaplan-Meier curve on hand-computed fixtures."""

from __future__ import annotations

import math

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


def presence_expr(store, start, end, *, by_account=False):
    """The presence table of every org of the store (one peer group), unexecuted."""
    return pr.presence(
        store.table("posts"),
        store.table("org_accounts"),
        store.table("accounts"),
        groups(store),
        start_s=start,
        end_s=end,
        by_account=by_account,
    )


def test_org_presence_by_hand(pstore) -> None:
    start, end = window(pstore)
    t = presence_expr(pstore, start, end)
    out = pstore.execute(t)
    assert not [c for c in out.columns if c.endswith("_right")]  # no join residue
    acme = out.set_index("org_id").loc["AcmeHelp"]
    assert (acme["posts"], acme["replies"], acme["broadcasts"]) == (4, 2, 2)
    assert acme["posts_per_week"] == pytest.approx(4 / (10 / 7))
    assert acme["conversation_share"] == 0.5
    assert acme["active_days"] == 2
    # The longest silence runs from Acme's last post (#7) to the end of the window.
    assert acme["longest_silence_s"] == (10 * DAY - 3 * DAY - 65) * 60
    assert acme["silence_from_post_id"] == "7" and pd.isna(acme["silence_to_post_id"])
    assert (acme["silence_from"], acme["silence_to"]) == ("post", "reference_time")
    assert acme["last_post_id"] == "7"
    # Posts addressed to Acme: #2, #4, #6 (mentions; #6 also replies); Bolt: #8, #10.
    assert acme["mentions"] == 3 and acme["share_of_voice"] == pytest.approx(0.6)
    assert acme["replies_received"] == 1  # #6 replies to #5
    assert pd.isna(acme["engagement_rate"]) and pd.isna(acme["potential_reach"])
    assert pd.isna(acme["impressions"])


def _presence(store, start, end):
    t = presence_expr(store, start, end)
    return store.execute(t).set_index("org_id")


def test_longest_silence_counts_the_window_start(pstore) -> None:
    start, end = window(pstore)
    bolt = _presence(pstore, start, end).loc["BoltHelp"]
    # Bolt's only post (#9) comes 9 days 10 min after the window opens and 1 day - 10 min
    # before its end: the silence is the opening one, bounded by the window's start.
    assert bolt["longest_silence_s"] == (9 * DAY + 10) * 60
    assert (bolt["silence_from"], bolt["silence_to"]) == ("window_start", "post")
    assert pd.isna(bolt["silence_from_post_id"]) and bolt["silence_to_post_id"] == "9"


def test_no_post_in_the_window_is_one_silence_edge_to_edge(pstore) -> None:
    start, _ = window(pstore)
    end = start + 5 * DAY * 60  # Bolt first posts on day 9
    bolt = _presence(pstore, start, end).loc["BoltHelp"]
    assert bolt["posts"] == 0 and bolt["longest_silence_s"] == 5 * DAY * 60
    assert (bolt["silence_from"], bolt["silence_to"]) == ("window_start", "reference_time")
    assert pd.isna(bolt["silence_from_post_id"]) and pd.isna(bolt["silence_to_post_id"])


def test_silence_ties_go_to_the_earliest_and_a_post_at_the_start_is_no_gap(
    tmp_path, write_twcs
) -> None:
    rows = [
        ("1", "c1", True, 0, "@AcmeHelp hi", None),  # opens the window
        ("2", "AcmeHelp", False, DAY, "news", None),
        ("3", "AcmeHelp", False, 2 * DAY, "more news", None),
        ("4", "c1", True, 3 * DAY, "@AcmeHelp hello?", None),  # the reference time
        ("5", "BoltHelp", False, 0, "we open today", None),  # at the window's start
        ("6", "BoltHelp", False, 3 * DAY, "we close today", None),  # at the reference time
    ]
    with socialaudit.open(tmp_path / "t.duckdb") as store:
        socialaudit.import_file(write_twcs(rows), store=store)
        start, end = window(store)
        out = _presence(store, start, end)
    acme, bolt = out.loc["AcmeHelp"], out.loc["BoltHelp"]
    # Three silences of one day each: start -> #2, #2 -> #3, #3 -> end. The first wins.
    assert acme["longest_silence_s"] == DAY * 60
    assert (acme["silence_from"], acme["silence_to_post_id"]) == ("window_start", "2")
    # Bolt's posts sit on both edges: the zero-length edge silences lose to the 3 days between.
    assert bolt["longest_silence_s"] == 3 * DAY * 60
    assert (bolt["silence_from_post_id"], bolt["silence_to_post_id"]) == ("5", "6")


def test_share_of_voice_interval_treats_posts_as_trials(tmp_path, write_twcs) -> None:
    from socialaudit.benchmark.tiers import wilson

    rows = [
        ("1", "AcmeHelp", False, 0, "hello", None),
        ("2", "BoltHelp", False, 1, "hello", None),
        # One post names both: it counts once for each, so the shares are 2/3 and 1/3 ...
        ("3", "c1", True, 2, "@AcmeHelp @BoltHelp who is cheaper?", None),
        ("4", "c2", True, 3, "@AcmeHelp is the shop open?", None),
    ]
    with socialaudit.open(tmp_path / "v.duckdb") as store:
        socialaudit.import_file(write_twcs(rows), store=store)
        start, end = window(store)
        out = _presence(store, start, end)
    acme, bolt = out.loc["AcmeHelp"], out.loc["BoltHelp"]
    assert (acme["mentions"], bolt["mentions"]) == (2, 1)
    assert acme["share_of_voice"] + bolt["share_of_voice"] == pytest.approx(1.0)
    # ... but only 2 posts were observed: the interval is Wilson's at p = 2/3 over n = 2,
    # wider than the one over the 3 double-counted mentions.
    assert acme["voice_posts"] == 2
    z, p, n = 1.959963984540054, 2 / 3, 2
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert acme["share_of_voice_ci_low"] == pytest.approx(centre - half)
    assert acme["share_of_voice_ci_high"] == pytest.approx(centre + half)
    assert acme["share_of_voice_ci_low"] < wilson(2, 3)[0]


def test_engagement_rate_and_reach_where_data_has_counts(pstore) -> None:
    pstore.raw.execute("UPDATE accounts SET followers_count = 1000 WHERE account_id = 'AcmeHelp'")
    pstore.raw.execute(
        "UPDATE posts SET like_count = 10, repost_count = 5, view_count = 400 WHERE post_id = '1'"
    )
    pstore.raw.execute("UPDATE posts SET view_count = 100 WHERE post_id = '3'")
    start, end = window(pstore)
    t = presence_expr(pstore, start, end)
    acme = pstore.execute(t).set_index("org_id").loc["AcmeHelp"]
    # Only post #1 is original and carries counts: (10 + 5) / 1000.
    assert acme["engagement_rate"] == pytest.approx(0.015) and acme["rated_posts"] == 1
    assert acme["potential_reach"] == 1000
    assert acme["impressions"] == 500  # only where the platform reports views


def test_presence_scores_are_mean_percentiles(pstore) -> None:
    start, end = window(pstore)
    acc = presence_expr(pstore, start, end, by_account=True)
    out = pstore.execute(pr.presence_scores(acc)).set_index("account_id")
    acme, bolt = out.loc["AcmeHelp"], out.loc["BoltHelp"]
    assert (acme["replies_received"], bolt["replies_received"]) == (1, 0)
    # Two accounts: the better one is at 100, the other at 0, on each component. Acme posts
    # more (2.8 vs 0.7 a week) and is replied to more; Bolt replies more (1.0 vs 0.5). No
    # follower counts: reach is left out, and three components are scored.
    assert (acme["posts_per_week_pct"], bolt["posts_per_week_pct"]) == (100.0, 0.0)
    assert (acme["conversation_share_pct"], bolt["conversation_share_pct"]) == (0.0, 100.0)
    assert pd.isna(acme["potential_reach_pct"]) and acme["components_scored"] == 3
    assert acme["presence_score"] == pytest.approx(200 / 3)
    assert bolt["presence_score"] == pytest.approx(100 / 3)
    assert acme["below_middle"] == "conversation_share"
    assert bolt["below_middle"] == "posts_per_week replies_received"


def test_presence_score_ranks_leaders_no_cap(tmp_path, write_twcs) -> None:
    # Eight broadcasters in one group: A posts 50 times, B 20, the six others once. A ratio
    # capped at 2 gave A and B the same score; percentiles keep them apart.
    posts = {"A": 50, "B": 20, **{f"O{i}": 1 for i in range(6)}}
    rows, n = [], 0
    for org, k in posts.items():
        for _ in range(k):
            n += 1
            rows.append((str(n), org, False, n, f"news {n}", None))
    with socialaudit.open(tmp_path / "l.duckdb") as store:
        socialaudit.import_file(write_twcs(rows), store=store)
        start, end = window(store)
        org_presence = presence_expr(store, start, end)
        out = store.execute(pr.presence_scores(org_presence)).set_index("org_id")
    # Posts per week: A 100, B 100 x 6/7; the six tied share position 3: 100 x 5/7.
    # Conversation share (all 0) and replies received (all 0) tie: 100 for everyone.
    assert out.loc["A", "presence_score"] == pytest.approx(100.0)
    assert out.loc["B", "presence_score"] == pytest.approx((600 / 7 + 200) / 3)
    assert out.loc["O0", "presence_score"] == pytest.approx((500 / 7 + 200) / 3)
    assert out["presence_score"].between(0, 100).all()


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
