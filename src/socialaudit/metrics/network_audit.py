"""The network runner: executes the network expressions and shapes what users see.

``socialaudit network`` and the Python API call :func:`network`; the graph export calls
:func:`conversation_graph`. Metrics stay in :mod:`socialaudit.metrics.network`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd

from socialaudit.errors import MetricError
from socialaudit.metrics import network as nw
from socialaudit.metrics import responsiveness as rs
from socialaudit.metrics.base import Engine
from socialaudit.store.orgs import did_you_mean, match_org

DEFINITIONS = {
    "interactor": (
        "an account that replied to, mentioned, reposted or quoted one of the target's "
        "accounts, or that the target replied to"
    ),
    "repeat": "an interactor who engaged in 2 or more distinct conversations (reply trees)",
    "on_topic": (
        f"an interactor with a post in the target's topics (topics covering >= "
        f"{nw.TOPIC_MIN_SHARE:.0%} of its enriched interactions)"
    ),
    "relevant": "repeat or on topic",
    "trusted_voice_rank": (
        "non-org accounts replying into the org's turns, ranked by answers_first "
        "(turns answered before the org + turns the org never answered), then reactions "
        "(turns whose customer replied to them), then PageRank"
    ),
    "pagerank": (
        f"PageRank (damping {nw.DAMPING}) on the org's conversation graph; edge weights "
        + ", ".join(f"{k} {w:g}" for k, w in nw.EDGE_WEIGHTS.items())
    ),
}


@dataclass(frozen=True)
class Target:
    """Whose network: an org's accounts, one account (a person), or a peer group's orgs."""

    target_id: str
    kind: str  # "org", "account" or "peer_group"
    owners: pd.DataFrame  # owner_id, platform, account_id, handle
    orgs: tuple[str, ...] = ()


def resolve_target(engine: Engine, target: str, /, *, peer_group: bool = False) -> Target:
    """An org id, or else an account id or handle (case-insensitive, leading @ allowed).

    With ``peer_group`` the target names a peer group: every account of its orgs.
    """
    oa = engine.table("org_accounts")
    if peer_group:
        return _peer_group(engine, target)
    known = [str(o) for o in engine.execute(engine.table("orgs").select("org_id"))["org_id"]]
    org = match_org(target, known)  # any case, as every command names orgs
    if org is not None:
        rows = engine.execute(
            oa.filter(oa.org_id == org).select("org_id", "platform", "account_id", "handle")
        )
        if len(rows):
            return Target(org, "org", rows.rename(columns={"org_id": "owner_id"}))
        raise MetricError(
            f"Organization {org!r} has no accounts, so it has no network. "
            "Declare its accounts in orgs.toml."
        )
    name = target.removeprefix("@")
    acc = engine.table("accounts")
    rows = engine.execute(
        acc.filter((acc.account_id == name) | (acc.handle.lower() == name.lower()))
        .select("platform", "account_id", "handle")
        .limit(2)
    )
    if len(rows) == 1:
        rows.insert(0, "owner_id", target)
        return Target(target, "account", rows)
    if len(rows) > 1:
        raise MetricError(f"{target!r} names several accounts. Pass the account id instead.")
    raise MetricError(
        f"No organization or account {target!r} in the store{did_you_mean(name, known)}. "
        "Run `socialaudit orgs` to list the organizations."
    )


def _peer_group(engine: Engine, group: str) -> Target:
    orgs = engine.table("orgs")
    oa = engine.table("org_accounts")
    members = orgs.filter(orgs.peer_group == group).select("org_id")
    rows = engine.execute(
        oa.semi_join(members, "org_id").select("org_id", "platform", "account_id", "handle")
    )
    if rows.empty:
        groups = engine.execute(
            orgs.filter(orgs.peer_group.notnull()).select("peer_group").distinct()
        )["peer_group"]
        hint = ", ".join(sorted(groups)[:8]) or "none yet (set peer_group in orgs.toml)"
        raise MetricError(f"No peer group {group!r} with accounts (peer groups: {hint}).")
    names = tuple(sorted(set(rows["org_id"])))
    rows = rows.drop(columns="org_id")
    rows.insert(0, "owner_id", group)
    return Target(group, "peer_group", rows, names)


def _owners(engine: Engine, target: Target) -> ibis.Table:
    """The target's accounts as an expression over the store (no in-memory table: Spark)."""
    cols = ("platform", "account_id", "handle")
    owner = ibis.literal(target.target_id, type="string")
    if target.kind == "account":
        acc = engine.table("accounts")
        row = target.owners.iloc[0]
        mine = acc.filter((acc.platform == row["platform"]) & (acc.account_id == row["account_id"]))
        return mine.select(*cols, owner_id=owner)
    oa = engine.table("org_accounts")
    orgs = [target.target_id] if target.kind == "org" else list(target.orgs)
    return oa.filter(oa.org_id.isin(orgs)).select(*cols, owner_id=owner)


def trusted_voices(
    engine: Engine,
    /,
    *,
    org: str | None = None,
    orgs: list[str] | None = None,
    limit: int | None = 20,
    examples: int = 3,
    turns: rs.TurnTables | None = None,
    net: nw.NetworkTables | None = None,
) -> pd.DataFrame:
    """Trusted voices of one org (or ``orgs``, or every org), ranked, with PageRank and examples.

    One row per (org, voice), best first within each org; ``examples`` is a list of up to
    ``examples`` threads (the customer's opener and the voice's reply, as permalinks),
    threads the customer reacted to first.
    """
    tt = turns or rs.build_turns(engine)
    net = net or nw.build_network(engine)
    posts = engine.table("posts")
    oa = engine.table("org_accounts")
    if org is not None or orgs is not None:
        chosen = [org] if org is not None else list(orgs or [])
        oa_org = oa.filter(oa.org_id.isin(chosen))
        turns_t = tt.turns.filter(tt.turns.org_id.isin(chosen))
    else:
        oa_org, turns_t = oa, tt.turns
    assert tt.turn_posts is not None
    vt = engine.cache(nw.voice_turns(posts, turns_t, tt.turn_posts, oa))
    vs = nw.voice_scores(vt)
    conv = nw.org_conversations(posts, net.roots, oa_org)
    oe = engine.cache(nw.org_edges(net.edges, conv))
    codes = engine.cache(nw.node_codes(oe))
    coded = engine.execute(nw.coded_edges(oe, codes))
    ranges = engine.execute(nw.code_ranges(codes))
    ranks = nw.pagerank_ranges(
        coded["src_code"].to_numpy(),
        coded["dst_code"].to_numpy(),
        coded["weight"].to_numpy(),
        [(int(lo), int(hi)) for lo, hi in zip(ranges["lo"], ranges["hi"], strict=True)],
    )
    voice_codes = codes.select("org_id", "platform", voice=codes.node, code=codes.code)
    j = vs.left_join(voice_codes, ["org_id", "platform", "voice"])
    scores = engine.execute(j.select(vs, code=j.code))
    known = scores["code"].notna()
    scores["pagerank"] = np.nan
    scores.loc[known, "pagerank"] = ranks[scores.loc[known, "code"].astype("int64").to_numpy()]
    scores = scores.drop(columns="code")
    scores = scores.sort_values(
        ["org_id", "answers_first", "reactions", "pagerank", "voice"],
        ascending=[True, False, False, False, True],
        na_position="last",
    )
    scores["rank"] = scores.groupby("org_id").cumcount() + 1
    if limit is not None:
        scores = scores[scores["rank"] <= limit]
    scores = scores.reset_index(drop=True)
    scores["examples"] = _examples(engine, vt, scores, examples)
    return scores


def _examples(
    engine: Engine, vt: ibis.Table, scores: pd.DataFrame, n: int
) -> list[list[dict[str, Any]]]:
    if scores.empty or n <= 0:
        return [[] for _ in range(len(scores))]
    v = vt.filter(vt.org_id.isin(sorted(set(scores["org_id"]))))
    posts = engine.table("posts")
    opener = posts.select("platform", turn_id=posts.post_id, opener_permalink=posts.permalink)
    v = v.left_join(opener, ["platform", "turn_id"])
    v = v.select(
        "org_id",
        "voice",
        "turn_id",
        "timing",
        "reacted",
        "thanked",
        "first_reply_at",
        "opener_permalink",
        "reply_permalink",
    )
    v = v.mutate(
        k=ibis.row_number().over(
            group_by=["org_id", "voice"],
            order_by=[ibis.desc("thanked"), ibis.desc("reacted"), "first_reply_at", "turn_id"],
        )
    )
    frame = engine.execute(v.filter(v.k < n).order_by(["org_id", "voice", "k"]))
    by_pair: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in frame.to_dict("records"):
        by_pair.setdefault((row["org_id"], row["voice"]), []).append(
            {
                "turn_id": row["turn_id"],
                "timing": row["timing"],
                "customer_reacted": bool(row["reacted"]),
                "customer_thanked": bool(row["thanked"]),
                "opener_permalink": row["opener_permalink"],
                "reply_permalink": row["reply_permalink"],
            }
        )
    return [by_pair.get((o, v), []) for o, v in zip(scores["org_id"], scores["voice"], strict=True)]


def relevant_network(
    engine: Engine, target: Target, /, *, net: nw.NetworkTables, top: int = 10
) -> dict[str, Any]:
    """Interactors, repeat and on-topic ones, against the follower count where known."""
    owners = _owners(engine, target)
    iposts = engine.cache(nw.interaction_posts(net.edges, owners))
    people = nw.interactors(iposts)
    enr = engine.table("enrichments")
    topics = nw.owner_topics(iposts, enr)
    n_topics = int(engine.execute(topics.count()))
    if n_topics:
        e = enr.select("platform", "post_id", "topic_id").join(topics, ["platform", "topic_id"])
        on = (
            iposts.join(e, ["owner_id", "platform", "post_id"])
            .select("owner_id", "platform", "interactor", on_topic=ibis.literal(True))
            .distinct()
        )
        people = people.left_join(on, ["owner_id", "platform", "interactor"]).select(
            people, on_topic=ibis._.on_topic.fill_null(False)
        )
    frame = engine.execute(people)
    repeat = frame["conversations"] >= 2
    on_topic = frame["on_topic"].astype(bool) if n_topics else None
    relevant = repeat | on_topic if on_topic is not None else repeat
    acc = engine.table("accounts")
    own = engine.execute(
        acc.join(owners.select("platform", "account_id"), ["platform", "account_id"]).select(
            "followers_count"
        )
    )["followers_count"]
    followers = None if own.isna().all() else int(own.fillna(0).sum())
    frame = frame.assign(repeat=repeat, relevant=relevant)
    top_rows = frame.sort_values(
        ["relevant", "conversations", "interactions", "interactor"],
        ascending=[False, False, False, True],
    ).head(top)
    n = len(frame)
    missing: list[str] = []
    if followers is None:
        missing.append(
            "followers: the source has no follower counts (TWCS has none), so the follower "
            "count and relevant people per 1,000 followers are left out"
        )
    if not n_topics:
        missing.append(
            "on_topic: no posts are enriched with topics, so relevance counts repeat "
            "engagement only"
        )
    return {
        "interactors": n,
        "repeat": int(repeat.sum()),
        "on_topic": None if on_topic is None else int(on_topic.sum()),
        "relevant": int(relevant.sum()),
        "relevant_share": None if n == 0 else float(relevant.sum()) / n,
        "followers": followers,
        "relevant_per_1000_followers": (
            None if not followers else 1000 * float(relevant.sum()) / followers
        ),
        "top_interactors": [
            {k: r[k] for k in ("interactor", "interactions", "conversations", "repeat", "relevant")}
            for r in top_rows.to_dict("records")
        ],
        "missing": missing,
    }


def network(
    engine: Engine,
    target: str,
    /,
    *,
    limit: int = 10,
    examples: int = 3,
    peer_group: bool = False,
) -> dict[str, Any]:
    """The network of an org, one account or a peer group: graph, relevant network, voices.

    Figures the data cannot support are ``None`` and named in ``missing``, never 0. For a
    peer group, trusted voices are listed per org of the group (``org`` says which).
    """
    t = resolve_target(engine, target, peer_group=peer_group)
    net = nw.build_network(engine)
    posts = engine.table("posts")
    conv = nw.org_conversations(posts, net.roots, _owners(engine, t).rename(org_id="owner_id"))
    edges = engine.execute(nw.org_edges(net.edges, conv))
    nodes = pd.unique(pd.concat([edges["src"], edges["dst"]], ignore_index=True))
    result: dict[str, Any] = {
        "target": t.target_id,
        "kind": t.kind,
        "accounts": sorted(
            f"{p}:{h}" for p, h in zip(t.owners["platform"], t.owners["handle"], strict=True)
        ),
        "graph": {
            "conversations": int(engine.execute(conv.count())),
            "nodes": len(nodes),
            "edges": len(edges),
            "interactions": int(edges[[f"n_{k}" for k in nw.EDGE_KINDS]].to_numpy().sum()),
        },
        "relevant_network": relevant_network(engine, t, net=net),
        "trusted_voices": None,
        "definitions": DEFINITIONS,
        "metrics_version": nw.TRUSTED_VOICES.version,
    }
    if t.kind != "account":
        chosen = [t.target_id] if t.kind == "org" else list(t.orgs)
        voices = trusted_voices(engine, orgs=chosen, limit=limit, examples=examples, net=net)
        result["trusted_voices"] = [
            {
                "org": row["org_id"],
                **{k: v for k, v in row.items() if k not in ("org_id", "platform")},
            }
            for row in voices.to_dict("records")
        ]
    if t.kind == "peer_group":
        result["orgs"] = list(t.orgs)
    return result


def conversation_graph(engine: Engine, target: str, /, *, peer_group: bool = False) -> Any:
    """The target's conversation graph as a networkx DiGraph (for GEXF/GraphML export).

    Nodes carry ``label`` (handle), ``role`` (``own`` for the target's accounts, else
    ``other``) and ``pagerank``; edges carry ``weight`` and the count of each interaction kind.
    """
    import networkx as nx

    t = resolve_target(engine, target, peer_group=peer_group)
    net = nw.build_network(engine)
    owners = _owners(engine, t)
    conv = nw.org_conversations(engine.table("posts"), net.roots, owners.rename(org_id="owner_id"))
    edges = engine.execute(nw.org_edges(net.edges, conv))
    pr = nw.pagerank(edges)
    acc = engine.table("accounts")
    handles = dict(
        engine.execute(acc.select("account_id", "handle")).itertuples(index=False, name=None)
    )
    own = set(t.owners["account_id"])
    g = nx.DiGraph(name=f"conversations of {t.target_id}")
    for node, rank in pr.items():
        g.add_node(
            node,
            label=str(handles.get(node) or node),
            role="own" if node in own else "other",
            pagerank=float(rank),
        )
    for row in edges.to_dict("records"):
        g.add_edge(
            row["src"],
            row["dst"],
            weight=float(row["weight"]),
            **{f"n_{k}": int(row[f"n_{k}"]) for k in nw.EDGE_KINDS},
        )
    return g
