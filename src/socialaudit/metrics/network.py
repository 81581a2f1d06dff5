"""Network (SPEC section 5): who interacts with whom, who customers trust, who comes back.

Follower counts say how many people could listen; this module measures who actually engages.
Everything up to the per-org edge list is Ibis expressions over the store (so it runs on DuckDB
and Spark alike); only PageRank runs in Python, on the aggregated edge list of one org's
conversations (one row per pair of accounts, far smaller than the posts).

- :func:`interaction_edges`: one row per interaction (reply, mention, repost, quote).
- :func:`conversation_roots`: each post's conversation (the top of its reply chain).
- :func:`org_edges`: the weighted edges of each org's conversations.
- :func:`voice_turns` / :func:`trusted_voices`: non-org accounts who answer an org's
  customers before or instead of the org, with the customer's reaction.
- :func:`interactors`: who engages with a set of accounts, in how many conversations.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from socialaudit.metrics import responsiveness as rs
from socialaudit.metrics.base import Engine, MetricFamily, register

#: How much one interaction counts in the graph. A mention is half a reply: it names someone
#: without answering them. A reply's leading @handle is not counted again as a mention.
EDGE_WEIGHTS: dict[str, float] = {"reply": 1.0, "quote": 1.0, "repost": 1.0, "mention": 0.5}
EDGE_KINDS = tuple(EDGE_WEIGHTS)
#: A customer's answer to a voice that reads as thanks or as solved.
THANKS_RE = r"\b(thanks|thank you|thank u|thx|ty|cheers|worked|works now|fixed|solved|legend)\b"
#: Topics that cover at least this share of an org's enriched interactions are "its topics".
TOPIC_MIN_SHARE = 0.05
DAMPING = 0.85


def interaction_edges(
    posts: ibis.Table, accounts: ibis.Table, org_accounts: ibis.Table | None = None
) -> ibis.Table:
    """One row per interaction: (platform, post_id, src, dst, kind), self-loops dropped.

    ``src`` is the acting account, ``dst`` the account replied to, reposted, quoted or
    mentioned. A mention resolves to the account with that handle (case-insensitively), or
    stays the (lower-cased) handle when the account is unknown; ``org_accounts`` makes an org's
    declared handles known before the org ever posts. Mentioning the author one replies to
    is the reply itself, not a second interaction.
    """
    targets = posts.select("platform", target_id=posts.post_id, target_author=posts.author_id)
    # One self-join gives every post its parent's author: the reply edges, and the author a
    # reply's leading @mention must not count twice for.
    p0 = posts.select(
        "platform", "post_id", "author_id", "parent_id", "repost_of", "quote_of", "mentions"
    )
    parents = posts.select("platform", parent_id=posts.post_id, parent_author=posts.author_id)
    j0 = p0.left_join(parents, ["platform", "parent_id"])
    p = j0.select(
        p0.platform,
        p0.post_id,
        p0.author_id,
        p0.repost_of,
        p0.quote_of,
        p0.mentions,
        parent_author=j0.parent_author,
    )

    def via(column: str, kind: str) -> ibis.Table:
        j = p.join(targets, [p.platform == targets.platform, p[column] == targets.target_id])
        return j.select(
            j.platform, j.post_id, src=j.author_id, dst=j.target_author, kind=ibis.literal(kind)
        )

    replies = p.filter(p.parent_author.notnull()).select(
        p.platform, p.post_id, src=p.author_id, dst=p.parent_author, kind=ibis.literal("reply")
    )
    mentioned = p.filter(p.mentions.length() > 0)
    mentioned = mentioned.select(
        "platform", "post_id", "author_id", "parent_author", handle=mentioned.mentions.unnest()
    )
    mentioned = mentioned.select(
        "platform", "post_id", "author_id", "parent_author", handle_l=mentioned.handle.lower()
    )
    known = accounts.select("platform", "account_id", "handle")
    if org_accounts is not None:
        known = ibis.union(known, org_accounts.select("platform", "account_id", "handle"))
    handles = known.filter(known.handle.notnull())
    handles = handles.group_by(["platform", handles.handle.lower().name("handle_l")]).agg(
        account_id=handles.account_id.min()
    )
    m = mentioned.left_join(handles, ["platform", "handle_l"])
    dst = ibis.coalesce(m.account_id, m.handle_l)
    m = m.select(m.platform, m.post_id, src=m.author_id, dst=dst, parent_author=m.parent_author)
    # A post naming the same handle twice is one mention.
    mentions = (
        m.filter(m.parent_author.isnull() | (m.parent_author != m.dst))
        .select("platform", "post_id", "src", "dst", kind=ibis.literal("mention"))
        .distinct()
    )
    edges = ibis.union(
        replies, via("repost_of", "repost"), via("quote_of", "quote"), mentions, distinct=False
    )
    return edges.filter(edges.src.notnull() & edges.dst.notnull() & (edges.src != edges.dst))


def conversation_roots(engine: Engine, posts: ibis.Table) -> ibis.Table:
    """Each post's conversation: (platform, post_id, root_id) for every post.

    The stored ``root_id`` (the source's conversation id, or derived on import) is used where
    there is one. Posts without one are replies whose chain reaches a post missing from the
    data: they take the top of their chain within the data (or that top's root), found by
    pointer jumping, like the self-thread walk of the audit, over those posts only.
    """
    unrooted = posts.filter(posts.root_id.isnull() & posts.parent_id.notnull())
    present = posts.select("platform", parent_id=posts.post_id)
    replies = unrooted.semi_join(present, ["platform", "parent_id"])
    pointers = rs.walk(
        engine, engine.cache(replies.select("platform", "post_id", up=replies.parent_id))
    )
    tops = posts.select("platform", up=posts.post_id, up_root=posts.root_id)
    walked = pointers.left_join(tops, ["platform", "up"])
    walked = walked.select(
        walked.platform, walked.post_id, top=ibis.coalesce(walked.up_root, walked.up)
    )
    p = posts.select("platform", "post_id", "root_id")
    j = p.left_join(walked, ["platform", "post_id"])
    return j.select(p.platform, p.post_id, root_id=ibis.coalesce(p.root_id, j.top, p.post_id))


def _handle_mentions(posts: ibis.Table, org_accounts: ibis.Table) -> ibis.Table:
    """(org_id, platform, post_id) for posts mentioning one of an org's handles."""
    oa = rs.org_accounts_lower(org_accounts).select("org_id", "platform", "handle_l")
    m = posts.filter(posts.mentions.length() > 0)
    m = m.select("platform", "post_id", handle=m.mentions.unnest())
    m = m.select("platform", "post_id", handle_l=m.handle.lower())
    return m.join(oa, ["platform", "handle_l"]).select("org_id", "platform", "post_id")


def org_conversations(posts: ibis.Table, roots: ibis.Table, org_accounts: ibis.Table) -> ibis.Table:
    """(org_id, platform, root_id): conversations with a post by, or mentioning, the org."""
    oa = org_accounts.select("org_id", "platform", author_id=org_accounts.account_id)
    by_org = posts.select("platform", "post_id", "author_id").join(oa, ["platform", "author_id"])
    touching = ibis.union(
        by_org.select("org_id", "platform", "post_id"),
        _handle_mentions(posts, org_accounts),
        distinct=True,
    )
    return (
        touching.join(roots, ["platform", "post_id"])
        .select("org_id", "platform", "root_id")
        .distinct()
    )


def org_edges(edges: ibis.Table, conversations: ibis.Table) -> ibis.Table:
    """Weighted edges of each org's conversation graph: one row per (org, src, dst).

    ``weight`` sums :data:`EDGE_WEIGHTS` over the interactions; the per-kind counts stay
    alongside so a reader can see what a weight is made of.
    """
    e = edges.join(conversations, ["platform", "root_id"])
    # Typed literals: Spark would otherwise sum them as decimals.
    weight = e.kind.cases(
        *((k, ibis.literal(w, type="float64")) for k, w in EDGE_WEIGHTS.items()),
        else_=ibis.literal(0.0, type="float64"),
    )
    return e.group_by(["org_id", "platform", "src", "dst"]).agg(
        weight=weight.sum().cast("float64"),
        **{f"n_{k}": (e.kind == k).cast("int64").sum() for k in EDGE_KINDS},
    )


def voice_turns(
    posts: ibis.Table,
    turns: ibis.Table,
    tposts: ibis.Table,
    org_accounts: ibis.Table,
) -> ibis.Table:
    """One row per (org, turn, voice): a non-org account's replies into an org's turn.

    A voice is anyone but the turn's customer and any org's account. ``timing`` says whether
    the voice's first reply came ``before`` the org's first response, ``instead`` of one (the
    org never answered) or ``after`` it; ``reacted`` whether the customer replied to the voice,
    ``thanked`` whether such a reply reads as thanks or solved.
    """
    tp = tposts.select("platform", parent_id=tposts.post_id, turn_id=tposts.turn_id)
    t = turns.select(
        "org_id", "platform", "turn_id", "opener_author", "answered", "first_response_at"
    )
    r = posts.filter(posts.inbound.isnull() | posts.inbound).select(
        "platform",
        "parent_id",
        reply_id=posts.post_id,
        voice=posts.author_id,
        reply_at=posts.created_at,
        reply_permalink=posts.permalink,
    )
    j = r.join(tp, ["platform", "parent_id"]).join(t, ["platform", "turn_id"])
    j = j.filter(j.voice != j.opener_author)
    any_org = org_accounts.select("platform", voice=org_accounts.account_id).distinct()
    j = j.anti_join(any_org, ["platform", "voice"])
    answers = posts.select(
        "platform",
        reply_id=posts.parent_id,
        opener_author=posts.author_id,
        thanks=posts.text.lower().re_search(THANKS_RE).fill_null(False),
    )
    reactions = answers.group_by(["platform", "reply_id", "opener_author"]).agg(
        thanked=answers.thanks.any()
    )
    j = j.left_join(reactions, ["platform", "reply_id", "opener_author"])
    j = j.select(
        j.org_id,
        j.platform,
        j.turn_id,
        j.voice,
        j.reply_id,
        j.reply_at,
        j.reply_permalink,
        j.answered,
        j.first_response_at,
        reacted=j.thanked.notnull(),
        thanked=j.thanked.fill_null(False),
    )
    ranked = j.mutate(
        n=ibis.row_number().over(
            group_by=["org_id", "platform", "turn_id", "voice"], order_by=["reply_at", "reply_id"]
        )
    )
    g = j.group_by(["org_id", "platform", "turn_id", "voice"]).agg(
        first_reply_at=j.reply_at.min(),
        replies=j.count(),
        reacted=j.reacted.any(),
        thanked=j.thanked.any(),
        answered=j.answered.any(),
        first_response_at=j.first_response_at.min(),
    )
    first = ranked.filter(ranked.n == 0).select(
        "org_id", "platform", "turn_id", "voice", "reply_id", "reply_permalink"
    )
    g = g.join(first, ["org_id", "platform", "turn_id", "voice"])
    timing = ibis.cases(
        (~g.answered, "instead"),
        (g.first_reply_at < g.first_response_at, "before"),
        else_="after",
    )
    return g.select(
        "org_id",
        "platform",
        "turn_id",
        "voice",
        "replies",
        "first_reply_at",
        "reply_id",
        "reply_permalink",
        "reacted",
        "thanked",
        timing=timing,
    )


TRUSTED_VOICES = MetricFamily(
    name="trusted_voices",
    title="Trusted voices",
    description=(
        "Non-org accounts who answer an organization's customers before or instead of it, "
        "how customers react to them, and their PageRank in the org's conversations."
    ),
    requires=("posts", "org_accounts", "accounts"),
    params={"damping": "PageRank damping factor (default 0.85)"},
)


@register(TRUSTED_VOICES)
def voice_scores(vturns: ibis.Table, /) -> ibis.Table:
    """Per (org, voice) counts over :func:`voice_turns` (PageRank is added from the graph).

    ``answers_first`` = turns answered ``before`` the org + turns answered ``instead`` of it:
    the first ranking key. ``reactions`` (turns whose customer replied to the voice) and
    ``thanked`` come next.
    """
    v = vturns
    return (
        v.group_by(["org_id", "platform", "voice"])
        .agg(
            turns=v.count(),
            replies=v.replies.sum(),
            before_org=(v.timing == "before").cast("int64").sum(),
            instead_of_org=(v.timing == "instead").cast("int64").sum(),
            after_org=(v.timing == "after").cast("int64").sum(),
            reactions=v.reacted.cast("int64").sum(),
            thanked=v.thanked.cast("int64").sum(),
        )
        .mutate(answers_first=ibis._.before_org + ibis._.instead_of_org)
    )


def interaction_posts(edges: ibis.Table, owners: ibis.Table) -> ibis.Table:
    """The posts through which others engage with a set of accounts.

    ``owners`` has (owner_id, platform, account_id): an org's accounts, or one person's. An
    interactor replies to, mentions, reposts or quotes an owner's account, or is replied to by
    one. One row per (owner_id, platform, post_id, root_id, interactor).
    """
    own = owners.select("owner_id", "platform", "account_id")
    inbound = edges.join(own, [edges.platform == own.platform, edges.dst == own.account_id])
    inbound = inbound.select(
        inbound.owner_id, inbound.platform, inbound.post_id, inbound.root_id, interactor=inbound.src
    )
    e = edges.filter(edges.kind == "reply")
    answered = e.join(own, [e.platform == own.platform, e.src == own.account_id])
    answered = answered.select(
        answered.owner_id,
        answered.platform,
        answered.post_id,
        answered.root_id,
        interactor=answered.dst,
    )
    both = ibis.union(inbound, answered, distinct=True)
    mine = own.select("owner_id", "platform", interactor=own.account_id)
    return both.anti_join(mine, ["owner_id", "platform", "interactor"])


def interactors(iposts: ibis.Table) -> ibis.Table:
    """One row per (owner, interactor): interactions and distinct conversations.

    Coming back is engaging in two or more conversations (reply trees), not posting twice in
    one.
    """
    j = iposts
    return j.group_by(["owner_id", "platform", "interactor"]).agg(
        interactions=j.post_id.nunique(),
        conversations=j.root_id.nunique(),
    )


def owner_topics(
    inter_posts: ibis.Table, enrichments: ibis.Table, *, min_share: float = TOPIC_MIN_SHARE
) -> ibis.Table:
    """(owner_id, platform, topic_id): topics covering >= ``min_share`` of enriched interactions."""
    e = enrichments.filter(enrichments.topic_id.notnull() & (enrichments.topic_id >= 0))
    j = inter_posts.join(e.select("platform", "post_id", "topic_id"), ["platform", "post_id"])
    per = j.group_by(["owner_id", "platform", "topic_id"]).agg(n=j.count())
    total = per.group_by(["owner_id", "platform"]).agg(total=per.n.sum())
    per = per.join(total, ["owner_id", "platform"])
    return per.filter(per.n >= per.total * min_share).select("owner_id", "platform", "topic_id")


@dataclass(frozen=True)
class NetworkTables:
    """The network's base tables, materialized once per run."""

    edges: ibis.Table  # interaction_edges plus root_id
    roots: ibis.Table


def build_network(engine: Engine) -> NetworkTables:
    """Compute (and cache) the conversation roots and interaction edges of the whole store.

    Each edge carries its post's ``root_id``, so that per-org graphs and repeat engagement
    need no further join with the roots.
    """
    posts = engine.table("posts")
    roots = engine.cache(conversation_roots(engine, posts))
    e = interaction_edges(posts, engine.table("accounts"), engine.table("org_accounts"))
    edges = engine.cache(e.join(roots, ["platform", "post_id"]))
    return NetworkTables(edges=edges, roots=roots)


def pagerank(edges: pd.DataFrame, /, *, damping: float = DAMPING) -> dict[str, float]:
    """PageRank of every node of a weighted directed edge list (columns src, dst, weight).

    Uses igraph's PRPACK solver: the same stationary distribution networkx computes, but
    fast enough for every org of the full TWCS set (see benchmarks/bench_network.py).
    """
    if edges.empty:
        return {}
    import igraph as ig

    codes, names = pd.factorize(pd.concat([edges["src"], edges["dst"]], ignore_index=True))
    n = len(edges)
    g = ig.Graph(n=len(names), edges=list(zip(codes[:n], codes[n:], strict=True)), directed=True)
    ranks = g.pagerank(damping=damping, weights=edges["weight"].astype(float).tolist())
    return dict(zip(names.tolist(), ranks, strict=True))


def node_codes(oedges: ibis.Table, /) -> ibis.Table:
    """(org_id, platform, node, code): every org's nodes numbered in one contiguous range.

    Numbering in the engine lets PageRank of every org run on integer arrays: an org's
    graph is the edges whose codes fall in its range, with no string handling in Python.
    """
    e = oedges
    nodes = ibis.union(
        e.select("org_id", "platform", node=e.src),
        e.select("org_id", "platform", node=e.dst),
        distinct=True,
    )
    return nodes.mutate(code=ibis.row_number().over(order_by=["org_id", "platform", "node"]))


def coded_edges(oedges: ibis.Table, codes: ibis.Table, /) -> ibis.Table:
    """Each org edge as (src_code, dst_code, weight), ordered by ``src_code``."""
    c = codes.select("org_id", "platform", "node", "code")
    s = c.select("org_id", "platform", src=c.node, src_code=c.code)
    d = c.select("org_id", "platform", dst=c.node, dst_code=c.code)
    j = oedges.join(s, ["org_id", "platform", "src"]).join(d, ["org_id", "platform", "dst"])
    return j.select("src_code", "dst_code", "weight").order_by("src_code")


def code_ranges(codes: ibis.Table, /) -> ibis.Table:
    """Per org graph, its codes [lo, hi)."""
    return codes.group_by(["org_id", "platform"]).agg(lo=codes.code.min(), hi=codes.code.max() + 1)


def pagerank_ranges(
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray,
    ranges: list[tuple[int, int]],
    /,
    *,
    damping: float = DAMPING,
) -> np.ndarray:
    """PageRank of many disjoint graphs given as code ranges; edges sorted by ``src``.

    Each range is ranked on its own (a graph's rank sums to 1), exactly as :func:`pagerank`
    ranks one graph.
    """
    import igraph as ig

    out = np.zeros(max((hi for _, hi in ranges), default=0), dtype="float64")
    for lo, hi in ranges:
        a, b = np.searchsorted(src, lo, "left"), np.searchsorted(src, hi, "left")
        pairs = list(zip((src[a:b] - lo).tolist(), (dst[a:b] - lo).tolist(), strict=True))
        g = ig.Graph(n=hi - lo, edges=pairs, directed=True)
        out[lo:hi] = g.pagerank(damping=damping, weights=weight[a:b].astype("float64").tolist())
    return out
