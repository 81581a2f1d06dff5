"""Network metrics: edges, conversations, trusted voices, relevant network, graph export.

A hand-built conversation set whose right answers are worked out in the comments, an
independent PageRank (plain power iteration) for the graph library, the synthetic market's
planted community members, and the real TWCS sample.
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import socialaudit as sa
from socialaudit.metrics import network as nw
from socialaudit.metrics import network_audit as na
from socialaudit.synthetic import generate_market
from tests.conftest import TWCS_SAMPLE

# (tweet_id, author, inbound, minutes after T0, text, parent)
ROWS = [
    # Turn 1: v1 answers c1 before the org (5 < 30 min); c1 thanks v1.
    (1, "c1", True, 0, "@AcmeHelp my router is down", None),
    (2, "v1", True, 5, "@c1 reboot it, worked for me", 1),
    (3, "c1", True, 10, "@v1 thanks, that worked", 2),
    (4, "AcmeHelp", False, 30, "@c1 sorry, fixed now", 1),
    # Turn 2: v1 answers c2 before the org again; no reaction.
    (5, "c2", True, 100, "@AcmeHelp no signal", None),
    (6, "v1", True, 103, "@c2 there is an outage", 5),
    (7, "AcmeHelp", False, 160, "@c2 outage fixed", 5),
    # Turn 3: the org never answers; v2 does; c3 replies, but not with thanks.
    (8, "c3", True, 200, "@AcmeHelp billing wrong", None),
    (9, "v2", True, 230, "@c3 call the billing line", 8),
    (10, "c3", True, 240, "@v2 no luck, still wrong", 9),
    # Turn 4: v3 answers after the org.
    (11, "c4", True, 300, "@AcmeHelp app crashes", None),
    (12, "AcmeHelp", False, 310, "@c4 update the app", 11),
    (13, "v3", True, 320, "@c4 same here", 11),
    # c1 comes back in a second conversation; c5 mentions in lower case; c6 a look-alike.
    (14, "c1", True, 400, "@AcmeHelp now the tv is down", None),
    (15, "c5", True, 500, "@acmehelp hello", None),
    (16, "c6", True, 510, "@AcmeHelpDesk hello", None),
]
P = "https://twitter.com/i/web/status/"


@pytest.fixture
def hand_store(store: sa.Store, write_twcs) -> sa.Store:
    sa.import_file(write_twcs(ROWS), store=store)
    return store


def test_edges_resolve_mentions_and_skip_the_reply_prefix(hand_store: sa.Store) -> None:
    posts = hand_store.table("posts")
    edges = hand_store.execute(
        nw.interaction_edges(posts, hand_store.table("accounts"), hand_store.table("org_accounts"))
    )
    got = sorted(zip(edges.post_id, edges.src, edges.dst, edges.kind, strict=True))
    # Post 2 replies to c1 and mentions @c1: one reply, not also a mention.
    assert ("2", "v1", "c1", "reply") in got and ("2", "v1", "c1", "mention") not in got
    # '@acmehelp' resolves to the AcmeHelp account; '@AcmeHelpDesk' is an unknown handle.
    assert ("15", "c5", "AcmeHelp", "mention") in got
    assert ("16", "c6", "acmehelpdesk", "mention") in got
    assert len(got) == 16  # one per post: each replies or mentions once


def test_conversation_roots_follow_whole_chains(hand_store: sa.Store) -> None:
    roots = hand_store.execute(nw.conversation_roots(hand_store, hand_store.table("posts")))
    root = dict(zip(roots.post_id, roots.root_id, strict=True))
    assert {root[p] for p in ("1", "2", "3", "4")} == {"1"}
    assert root["10"] == "8" and root["14"] == "14"


def test_trusted_voices_rank_and_counts(hand_store: sa.Store) -> None:
    v = na.trusted_voices(hand_store, org="AcmeHelp")
    assert list(v.voice) == ["v1", "v2", "v3"]
    got = v.set_index("voice")[
        ["turns", "before_org", "instead_of_org", "after_org", "reactions", "thanked"]
    ]
    assert got.loc["v1"].tolist() == [2, 2, 0, 0, 1, 1]
    assert got.loc["v2"].tolist() == [1, 0, 1, 0, 1, 0]
    assert got.loc["v3"].tolist() == [1, 0, 0, 1, 0, 0]
    first = v.iloc[0]["examples"][0]
    # The thread the customer thanked comes first, with both permalinks.
    assert first["opener_permalink"] == P + "1" and first["reply_permalink"] == P + "2"
    assert first["timing"] == "before" and first["customer_thanked"]
    assert v.pagerank.notna().all()


def _power_pagerank(edges: pd.DataFrame, d: float = 0.85) -> dict[str, float]:
    """PageRank by plain power iteration: dangling nodes spread their rank evenly."""
    nodes = sorted(set(edges.src) | set(edges.dst))
    ix = {n: i for i, n in enumerate(nodes)}
    w = np.zeros((len(nodes), len(nodes)))
    for s, t, x in zip(edges.src, edges.dst, edges.weight, strict=True):
        w[ix[s], ix[t]] += x
    out = w.sum(axis=1)
    pr = np.full(len(nodes), 1 / len(nodes))
    for _ in range(2000):
        flow = np.where(out > 0, pr / np.where(out > 0, out, 1), 0) @ w
        new = (1 - d) / len(nodes) + d * (flow + pr[out == 0].sum() / len(nodes))
        if np.abs(new - pr).sum() < 1e-14:
            break
        pr = new
    return dict(zip(nodes, pr, strict=True))


def test_pagerank_matches_power_iteration(hand_store: sa.Store) -> None:
    net = nw.build_network(hand_store)
    conv = nw.org_conversations(
        hand_store.table("posts"), net.roots, hand_store.table("org_accounts")
    )
    edges = hand_store.execute(nw.org_edges(net.edges, conv))
    # Worked out by hand: 6 conversations, 14 account pairs, c1 mentions the org twice.
    assert len(edges) == 14
    pair = edges.set_index(["src", "dst"])
    assert pair.loc[("c1", "AcmeHelp"), "weight"] == 1.0
    assert pair.loc[("c1", "AcmeHelp"), "n_mention"] == 2
    got, want = nw.pagerank(edges), _power_pagerank(edges)
    assert got.keys() == want.keys()
    assert all(abs(got[k] - want[k]) < 1e-9 for k in want)
    # Everyone talks to the org: it is the most central account.
    assert max(got, key=got.__getitem__) == "AcmeHelp"


def test_relevant_network_without_followers_says_what_is_missing(hand_store: sa.Store) -> None:
    r = na.network(hand_store, "AcmeHelp")
    rel = r["relevant_network"]
    # c1..c5 engage (c6 names a look-alike); only c1 comes back in a second conversation.
    assert (rel["interactors"], rel["repeat"], rel["relevant"]) == (5, 1, 1)
    assert rel["relevant_share"] == pytest.approx(0.2)
    assert rel["followers"] is None and rel["relevant_per_1000_followers"] is None
    assert rel["on_topic"] is None
    assert any(m.startswith("followers") for m in rel["missing"])
    assert any(m.startswith("on_topic") for m in rel["missing"])
    assert r["graph"] == {"conversations": 6, "nodes": 9, "edges": 14, "interactions": 15}


def test_followers_and_topics_when_the_data_has_them(hand_store: sa.Store) -> None:
    hand_store.raw.execute(
        "UPDATE accounts SET followers_count = 10000 WHERE account_id = 'AcmeHelp'"
    )
    # Topic 1 covers c2's and c3's openers (2 of 9 enriched interactions, above 5%).
    hand_store.raw.execute(
        "INSERT INTO enrichments (platform, post_id, topic_id) VALUES "
        "('twitter', '5', 1), ('twitter', '8', 1)"
    )
    rel = na.network(hand_store, "AcmeHelp")["relevant_network"]
    assert rel["followers"] == 10_000
    assert rel["on_topic"] == 2 and rel["relevant"] == 3  # c1 (repeat), c2, c3 (topic)
    assert rel["relevant_per_1000_followers"] == pytest.approx(0.3)
    assert rel["missing"] == []


def test_network_of_one_person(hand_store: sa.Store) -> None:
    r = na.network(hand_store, "@C1")
    assert r["kind"] == "account" and r["trusted_voices"] is None
    # c1 was replied to by v1 and AcmeHelp; answered v1 back.
    assert r["relevant_network"]["interactors"] == 2


def test_cli_network_json_and_graph_exports(
    hand_store: sa.Store, runner, app, tmp_path: Path
) -> None:
    db = hand_store.path
    hand_store.close()
    gexf, graphml = tmp_path / "g.gexf", tmp_path / "g.graphml"
    res = runner.invoke(
        app,
        [
            "--db",
            db,
            "network",
            "AcmeHelp",
            "--json",
            "--gexf",
            str(gexf),
            "--graphml",
            str(graphml),
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [v["voice"] for v in data["trusted_voices"]] == ["v1", "v2", "v3"]
    for g in (nx.read_gexf(gexf), nx.read_graphml(graphml)):
        assert (g.number_of_nodes(), g.number_of_edges()) == (9, 14)
        assert g.nodes["AcmeHelp"]["role"] == "own"
    res = runner.invoke(app, ["--db", db, "network", "AcmeHelp"])
    assert res.exit_code == 0
    assert "relevant people: 1 of 5 interactors" in res.stdout
    assert "Not shown: followers" in res.stdout
    res = runner.invoke(app, ["--db", db, "network", "Nobody"])
    assert res.exit_code == 2 and "No organization or account 'Nobody'" in res.output


@pytest.mark.parametrize(("seed", "scale"), [(7, 1.0), (3, 0.3)])
def test_synthetic_market_voices_and_relevant_network(
    tmp_path: Path, seed: int, scale: float
) -> None:
    market = generate_market(tmp_path / "m", seed=seed, scale=scale)
    truth = market.truth["network"]
    with sa.open(tmp_path / "s.duckdb") as store:
        sa.import_file(market.csv_path, store=store)
        sa.load_orgs(market.orgs_path, store=store)
        voices = na.trusted_voices(store, limit=None, examples=0)
        for org, want in truth["trusted_voices"].items():
            got = voices[voices.org_id == org]
            cols = [
                "voice",
                "turns",
                "before_org",
                "instead_of_org",
                "after_org",
                "reactions",
                "thanked",
            ]
            assert got[cols].to_dict("records") == [{k: w[k] for k in cols} for w in want] or (
                # PageRank may order ties of the truth's (answers first, reactions) key.
                sorted(got[cols].to_dict("records"), key=lambda r: r["voice"])
                == sorted(({k: w[k] for k in cols} for w in want), key=lambda r: r["voice"])
            ), org
        planted = [v for v in truth["trusted_voices"]["SkylarkAir"] if v["turns"] >= 2]
        assert planted and planted[0]["instead_of_org"] >= 1
        for org, want in truth["relevant"].items():
            rel = na.network(store, org)["relevant_network"]
            assert (rel["interactors"], rel["repeat"]) == (want["interactors"], want["repeat"]), org
        # The airline peer group: both airlines' conversations in one graph.
        group = na.network(store, "airline", peer_group=True, limit=50)
        assert group["kind"] == "peer_group" and group["orgs"] == ["NimbusAirCare", "SkylarkAir"]
        assert {(v["org"], v["voice"]) for v in group["trusted_voices"]} == {
            (org, v["voice"]) for org in group["orgs"] for v in truth["trusted_voices"][org]
        }
        airline = [truth["relevant"][o]["interactors"] for o in group["orgs"]]
        assert max(airline) <= group["relevant_network"]["interactors"] <= sum(airline)
        with pytest.raises(sa.MetricError, match="No peer group 'nope'"):
            na.network(store, "nope", peer_group=True)


@pytest.mark.skipif(not TWCS_SAMPLE.exists(), reason=f"TWCS sample not found at {TWCS_SAMPLE}")
def test_network_on_the_twcs_sample(tmp_path: Path, runner, app) -> None:
    db = str(tmp_path / "t.duckdb")
    assert runner.invoke(app, ["--db", db, "import", str(TWCS_SAMPLE)]).exit_code == 0
    res = runner.invoke(app, ["--db", db, "network", "AppleSupport", "--json"])
    assert res.exit_code == 0, res.output
    r = json.loads(res.stdout)
    rel = r["relevant_network"]
    assert rel["interactors"] > 50 and rel["followers"] is None
    assert "TWCS has none" in rel["missing"][0]
    res = runner.invoke(app, ["--db", db, "network", "AppleSupport"])
    assert res.exit_code == 0 and "Not shown: followers" in res.stdout
