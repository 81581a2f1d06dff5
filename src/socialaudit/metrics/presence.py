"""Presence (SPEC section 5): how active and how conversational an org (or one account) is.

Every function returns an unexecuted Ibis table over the store's posts, accounts and org
accounts, restricted to a window ``[start_s, end_s]`` in epoch seconds (the end is the audit's
reference time). Each figure comes with the ids of the posts it rests on (``*_post_id``
columns and :func:`presence_evidence`), so a report can link to them.
"""

from __future__ import annotations

import ibis

from socialaudit.metrics.base import (
    MetricFamily,
    epoch_s,
    group_percentile,
    register,
    wilson_bounds,
)

WEEK = 604_800
DAY = 86_400
ENGAGEMENT_COLUMNS = ("like_count", "repost_count", "reply_count", "quote_count")


def org_posts(
    posts: ibis.Table, org_accounts: ibis.Table, /, *, start_s: int, end_s: int
) -> ibis.Table:
    """Posts by an org's accounts inside the window, with the org and epoch seconds."""
    oa = org_accounts.select("org_id", "platform", author_id=org_accounts.account_id)
    p = posts.mutate(ts_s=epoch_s(posts.created_at))
    p = p.filter((p.ts_s >= start_s) & (p.ts_s <= end_s))
    j = p.join(oa, ["platform", "author_id"])
    return j.select(
        j.org_id,
        j.platform,
        j.post_id,
        j.author_id,
        j.created_at,
        j.ts_s,
        j.parent_id,
        is_reply=j.parent_id.notnull(),
        views=j.view_count,
        interactions=sum(j[c].fill_null(0) for c in ENGAGEMENT_COLUMNS),
        has_counts=ibis.coalesce(*[j[c] for c in ENGAGEMENT_COLUMNS]).notnull(),
    )


def _silences(op: ibis.Table, keys: list[str], start_s: int, end_s: int) -> ibis.Table:
    """The longest interval of the window without a post, and what bounds it.

    The intervals are window start -> first post, each post -> the next, and last post ->
    the window's end (the reference time). ``silence_from_post_id`` is null when the silence
    starts at the window's start, ``silence_to_post_id`` when it runs to the reference time;
    ``silence_from`` / ``silence_to`` say which ("post", "window_start", "reference_time").
    Ties go to the earliest interval.
    """
    w = ibis.window(group_by=keys, order_by=["ts_s", "post_id"])
    before = op.select(
        *keys,
        from_s=op.ts_s.lag().over(w).fill_null(start_s),
        to_s=op.ts_s,
        from_id=op.post_id.lag().over(w),
        to_id=op.post_id,
    )
    last = op.mutate(
        r=ibis.row_number().over(group_by=keys, order_by=[ibis.desc("ts_s"), ibis.desc("post_id")])
    )
    last = last.filter(last.r == 0)
    after = last.select(
        *keys,
        from_s=last.ts_s,
        to_s=ibis.literal(end_s, "int64"),
        from_id=last.post_id,
        to_id=ibis.null("string"),
    )
    gaps = ibis.union(before, after)
    gaps = gaps.mutate(gap_s=gaps.to_s - gaps.from_s)
    ranked = gaps.mutate(
        r=ibis.row_number().over(group_by=keys, order_by=[ibis.desc("gap_s"), "from_s", "to_s"])
    )
    top = ranked.filter(ranked.r == 0)
    return top.select(
        *keys,
        longest_silence_s=top.gap_s,
        silence_from_post_id=top.from_id,
        silence_to_post_id=top.to_id,
    )


def _mentions_of(posts: ibis.Table, org_accounts: ibis.Table, start_s: int, end_s: int):
    """Posts not by O that mention one of O's handles or reply to one of O's posts."""
    oa = org_accounts.select(
        "org_id", "platform", "account_id", handle_l=org_accounts.handle.lower()
    )
    p = posts.mutate(ts_s=epoch_s(posts.created_at))
    p = p.filter((p.ts_s >= start_s) & (p.ts_s <= end_s))
    m = p.select("platform", "post_id", "author_id", handle=p.mentions.unnest())
    by_mention = (
        m.select("platform", "post_id", "author_id", handle_l=m.handle.lower())
        .join(oa.select("org_id", "platform", "handle_l"), ["platform", "handle_l"])
        .select("org_id", "platform", "post_id", "author_id")
    )
    parents = posts.select("platform", parent_id=posts.post_id, parent_author=posts.author_id)
    r = p.select("platform", "post_id", "author_id", "parent_id").join(
        parents, ["platform", "parent_id"]
    )
    by_reply = r.join(
        oa.select("org_id", "platform", parent_author=oa.account_id),
        ["platform", "parent_author"],
    ).select("org_id", "platform", "post_id", "author_id")
    addressed = ibis.union(by_mention, by_reply, distinct=True)
    own = oa.select("org_id", "platform", author_id=oa.account_id)
    return addressed.anti_join(own, ["org_id", "platform", "author_id"])


PRESENCE = MetricFamily(
    name="presence",
    title="Presence",
    description=(
        "Posts per week, conversation share (replies vs broadcasts), active days, longest "
        "silence, engagement rate by follower, potential reach and share of voice."
    ),
    requires=("posts", "org_accounts", "accounts", "orgs"),
    params={"start_s": "window start (epoch s)", "end_s": "window end = reference time"},
    definitions=(
        (
            "Presence",
            (
                "posts per week over the window, conversation share (replies / posts), active "
                "days, longest silence (between two posts, or since the last one), engagement rate "
                "by follower (mean over original posts of interactions / followers), potential "
                "reach (sum of followers of the posting accounts: an upper bound), share of voice "
                "(posts addressed to the org / those addressed to its peer group)."
            ),
        ),
    ),
)


@register(PRESENCE)
def presence(
    posts: ibis.Table,
    org_accounts: ibis.Table,
    accounts: ibis.Table,
    peer_groups: ibis.Table,
    /,
    *,
    start_s: int,
    end_s: int,
    by_account: bool = False,
) -> ibis.Table:
    """Presence per org (or per org account with ``by_account``) in the window.

    ``peer_groups`` maps ``org_id`` to ``peer_group``; share of voice is an org's mentions
    over the mentions of every org in its group. Engagement rate by follower is the mean over
    original posts of interactions / the author's followers, null when the data carries no
    counts or followers (TWCS carries neither). Potential reach is the sum of followers of the
    distinct posting accounts: an upper bound on who could have seen the posts. Impressions
    are summed only where the platform reports views (null otherwise).
    """
    keys = ["org_id", "platform", "account_id"] if by_account else ["org_id"]
    weeks = max(end_s - start_s, DAY) / WEEK
    op = org_posts(posts, org_accounts, start_s=start_s, end_s=end_s)
    op = op.mutate(account_id=op.author_id)
    followers = accounts.select(
        "platform", author_id=accounts.account_id, f=accounts.followers_count
    )
    ef = op.left_join(followers, ["platform", "author_id"])
    rate = (ef.interactions.cast("float64") / ef.f.nullif(0).cast("float64")).nullif(float("nan"))
    original = ~ef.is_reply & ef.has_counts & ef.f.notnull()
    agg = ef.group_by(keys).agg(
        posts=ef.count(),
        replies=ef.is_reply.cast("int64").sum(),
        active_days=ef.created_at.date().nunique(),
        first_post_at=ef.created_at.min(),
        last_post_at=ef.created_at.max(),
        engagement_rate=rate.mean(where=original),
        rated_posts=original.cast("int64").sum(),
        impressions=ef.views.sum(),
    )
    last = ef.mutate(
        r=ibis.row_number().over(group_by=keys, order_by=[ibis.desc("ts_s"), ibis.desc("post_id")])
    )
    last = last.filter(last.r == 0).select(*keys, last_post_id=last.post_id)
    reach_src = ef.select(*dict.fromkeys([*keys, "platform", "author_id", "f"])).distinct()
    reach = reach_src.group_by(keys).agg(potential_reach=reach_src.f.sum())
    sil = _silences(op, keys, start_s, end_s)

    base = org_accounts.select(
        "org_id", "platform", account_id=org_accounts.account_id, handle=org_accounts.handle
    )
    base = base if by_account else base.select("org_id").distinct()
    pg = peer_groups.select("org_id", "peer_group")
    j = (
        base.left_join(pg, "org_id")
        .left_join(agg, keys)
        .left_join(last, keys)
        .left_join(reach, keys)
        .left_join(sil, keys)
    )
    n_posts = j.posts.fill_null(0)
    replies = j.replies.fill_null(0)
    cols = {
        **{k: j[k] for k in keys},
        **({"handle": j.handle} if by_account else {}),
        "peer_group": j.peer_group,
        "posts": n_posts,
        "posts_per_week": n_posts.cast("float64") / weeks,
        "replies": replies,
        "broadcasts": n_posts - replies,
        "conversation_share": replies.cast("float64") / n_posts.nullif(0).cast("float64"),
        "active_days": j.active_days.fill_null(0),
        # No post in the window: the whole window is one silence, bounded by its two edges.
        "longest_silence_s": j.longest_silence_s.fill_null(end_s - start_s),
        "silence_from": ibis.ifelse(j.silence_from_post_id.isnull(), "window_start", "post"),
        "silence_from_post_id": j.silence_from_post_id,
        "silence_to": ibis.ifelse(j.silence_to_post_id.isnull(), "reference_time", "post"),
        "silence_to_post_id": j.silence_to_post_id,
        "engagement_rate": j.engagement_rate,
        "rated_posts": j.rated_posts.fill_null(0),
        "potential_reach": j.potential_reach,
        "impressions": j.impressions,
        "first_post_at": j.first_post_at,
        "last_post_at": j.last_post_at,
        "last_post_id": j.last_post_id,
    }
    out = j.select(**cols)
    received = replies_received(
        posts, org_accounts, start_s=start_s, end_s=end_s, by_account=by_account
    )
    out = out.left_join(received, keys)
    out = out.select(*cols, replies_received=out.replies_received.fill_null(0))
    if by_account:
        return out.order_by(["org_id", "platform", "account_id"])
    return _share_of_voice(out, posts, org_accounts, pg, start_s, end_s).order_by("org_id")


def _share_of_voice(
    out: ibis.Table,
    posts: ibis.Table,
    org_accounts: ibis.Table,
    groups: ibis.Table,
    start_s: int,
    end_s: int,
) -> ibis.Table:
    """Add mentions, share of voice and its 95% interval to the per-org presence table.

    A post naming k orgs of a group counts once for each, so the group's shares sum to 1; the
    interval's trials are the group's distinct posts (``voice_posts``), not its mentions: a
    post naming three peers is one observation, not three independent ones.
    """
    mentions = _mentions_of(posts, org_accounts, start_s, end_s)
    mcount = mentions.group_by("org_id").agg(mentions=mentions.count())
    mg = mentions.join(groups, "org_id")
    voice = mg.select("peer_group", "platform", "post_id").distinct()
    voice = voice.group_by("peer_group").agg(voice_posts=voice.count())
    keep = [c for c in out.columns if c not in ("mentions", "voice_posts")]
    out = out.left_join(mcount, "org_id").left_join(voice, "peer_group")
    m = out.mentions.fill_null(0)
    group_total = m.sum().over(group_by=out.peer_group)
    share = m.cast("float64") / group_total.nullif(0).cast("float64")
    low, high = wilson_bounds(share, out.voice_posts)
    return out.select(
        *keep,
        mentions=m,
        voice_posts=out.voice_posts.fill_null(0),
        share_of_voice=share,
        share_of_voice_ci_low=low,
        share_of_voice_ci_high=high,
    )


def replies_received(
    posts: ibis.Table,
    org_accounts: ibis.Table,
    /,
    *,
    start_s: int,
    end_s: int,
    by_account: bool = True,
) -> ibis.Table:
    """Replies by others to each org account's (or each org's) posts in the window.

    A reply from another account of the same org is the org talking to itself, not a reply
    received, and is left out.
    """
    oa = org_accounts.select("org_id", "platform", account_id=org_accounts.account_id)
    p = posts.mutate(ts_s=epoch_s(posts.created_at))
    p = p.filter((p.ts_s >= start_s) & (p.ts_s <= end_s))
    parents = posts.select("platform", parent_id=posts.post_id, account_id=posts.author_id)
    r = p.select("platform", "author_id", "parent_id").join(parents, ["platform", "parent_id"])
    r = r.join(oa, ["platform", "account_id"])
    own = oa.select("org_id", "platform", author_id=oa.account_id)
    r = r.anti_join(own, ["org_id", "platform", "author_id"])
    keys = ["org_id", "platform", "account_id"] if by_account else ["org_id"]
    return r.group_by(keys).agg(replies_received=r.count())


def presence_evidence(
    posts: ibis.Table, org_accounts: ibis.Table, /, *, start_s: int, end_s: int, per_org: int = 5
) -> ibis.Table:
    """The latest ``per_org`` posts of each org in the window: what its activity figures show."""
    op = org_posts(posts, org_accounts, start_s=start_s, end_s=end_s)
    ranked = op.mutate(
        r=ibis.row_number().over(
            group_by="org_id", order_by=[ibis.desc("ts_s"), ibis.desc("post_id")]
        )
    )
    top = ranked.filter(ranked.r < per_org)
    return top.select("org_id", "platform", "post_id", "created_at", "is_reply").order_by(
        ["org_id", ibis.desc("created_at"), "post_id"]
    )


PRESENCE_COMPONENTS = (
    "posts_per_week",
    "conversation_share",
    "replies_received",
    "potential_reach",
)
#: Below this percentile a component sits in the lower half of the peer group.
MIDDLE = 50.0


def presence_scores(presence: ibis.Table, /) -> ibis.Table:
    """The presence score (SPEC section 5) of every row of a presence table, org or account.

    For each component of :data:`PRESENCE_COMPONENTS`, ``<component>_pct`` is the row's
    percentile within its peer group (100 = best, ties share the best rank, see
    :func:`~socialaudit.metrics.base.group_percentile`); ``presence_score`` is the mean of the
    components it has (potential reach only where followers are known), 0-100 with 50 at the
    group's middle, and ``components_scored`` says how many. No ratio is capped: a leader with
    ten times its peers' posts ranks above one with twice as many. ``below_middle`` names the
    components under the 50th percentile. Null when the row is alone in its group.
    """
    t = presence
    group = t.peer_group.fill_null("(no peer group)")
    pcts = {f"{m}_pct": group_percentile(t[m].cast("float64"), group) for m in PRESENCE_COMPONENTS}
    t = t.mutate(**pcts)
    available = sum(t[c].notnull().cast("int64") for c in pcts)
    total = sum(t[c].fill_null(0.0) for c in pcts)
    below = [
        ibis.ifelse(t[f"{m}_pct"] < MIDDLE, ibis.literal(m + " "), ibis.literal("")).fill_null("")
        for m in PRESENCE_COMPONENTS
    ]
    below_text = below[0]
    for b in below[1:]:
        below_text = below_text + b
    t = t.mutate(
        presence_score=total / available.nullif(0).cast("float64"),
        components_scored=available,
        below_middle=below_text.strip(),
    )
    if "account_id" in t.columns:
        return t.order_by(["peer_group", "org_id", "platform", "account_id"])
    return t.order_by("org_id")
