"""Responsiveness (SPEC section 5): turns, inbox membership, answers, FRT, SLA and backlog.

Every function here returns an unexecuted Ibis table. The only iteration is the self-thread
walk (:func:`turn_ids`), which jumps pointers (each round doubles how far a post's pointer
reaches up its chain of same-author replies) and stops when no pointer can move: a few
rounds even for long threads, each one join over self-replies only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import ibis
import pandas as pd

from socialaudit.metrics.base import Engine, MetricFamily, epoch_s, register

DAY = 86_400
BACKLOG_AGES = {"backlog_24h": DAY, "backlog_7d": 7 * DAY, "backlog_30d": 30 * DAY}
DEFAULT_SLA_MINUTES = 60
#: A safety net: :func:`walk` stops after about log2(number of pointers) rounds.
MAX_JUMP_ROUNDS = 64


def link_parents(posts: ibis.Table, parents: ibis.Table | None = None) -> ibis.Table:
    """Posts with their parent's author and time (NULL when the parent is absent or missing).

    Parents are looked up in ``parents`` (default: ``posts`` itself); an incremental update
    links a few posts against the whole store.
    """
    p = posts.select(
        "platform", "post_id", "author_id", "created_at", "parent_id", "inbound", "mentions"
    )
    among = posts if parents is None else parents
    parents = among.select(
        platform=among.platform,
        parent_id=among.post_id,
        parent_author=among.author_id,
        parent_created_at=among.created_at,
    )
    return p.left_join(parents, ["platform", "parent_id"]).select(
        p.platform,
        p.post_id,
        p.author_id,
        p.created_at,
        p.parent_id,
        p.inbound,
        p.mentions,
        parents.parent_author,
        parents.parent_created_at,
    )


def self_reply_pointers(linked: ibis.Table) -> ibis.Table:
    """One row per post that replies to its own author's post present in the data set."""
    return linked.filter(
        linked.parent_author.notnull() & (linked.parent_author == linked.author_id)
    ).select("platform", "post_id", up=linked.parent_id)


def jump(pointers: ibis.Table) -> ibis.Table:
    """One pointer-jumping round: each pointer moves to where its target points."""
    a = pointers
    b = pointers.select("platform", target=pointers.post_id, next_up=pointers.up)
    j = a.left_join(b, [a.platform == b.platform, a.up == b.target])
    return j.select(a.platform, a.post_id, up=ibis.coalesce(j.next_up, a.up))


def unresolved(pointers: ibis.Table) -> ibis.Table:
    """Pointers whose target still has a pointer: the walk goes on while any remain."""
    b = pointers.select("platform", target=pointers.post_id)
    return pointers.semi_join(b, [pointers.platform == b.platform, pointers.up == b.target])


def walk(engine: Engine, pointers: ibis.Table) -> ibis.Table:
    """Jump ``pointers`` (platform, post_id, up) until each points above the set.

    The walk stops on a reply cycle, in any store (imports refuse cycles since issue 14, and
    migration 5 repairs older stores, but a walk must never depend on that): after ``r``
    rounds a pointer has moved ``2**r`` steps, and a chain of distinct posts among ``n`` is
    at most ``n`` long, so once ``2**r >= n`` a pointer still inside the set is on or leads
    into a cycle. Those pointers are dropped: such a post is the top of its own chain.
    """
    n = int(engine.execute(pointers.count()))
    for rounds in range(MAX_JUMP_ROUNDS):
        stuck = unresolved(pointers)
        if int(engine.execute(stuck.count())) == 0:
            return pointers
        if 2**rounds >= n:
            return engine.cache(pointers.anti_join(stuck, ["platform", "post_id"]))
        pointers = engine.cache(jump(pointers))
    return engine.cache(pointers.anti_join(unresolved(pointers), ["platform", "post_id"]))


def turn_ids(engine: Engine, linked: ibis.Table) -> ibis.Table:
    """Map each self-reply to its turn opener: the top of its same-author chain.

    Iterated joins, not a loop over posts: each round is one join of the (small) table of
    self-replies with itself, materialized, until no pointer moves (see :func:`walk`).
    """
    return walk(engine, engine.cache(self_reply_pointers(linked)))


def turn_posts(linked: ibis.Table, pointers: ibis.Table) -> ibis.Table:
    """Every post with the id of the turn it belongs to (its own id for an opener)."""
    j = linked.left_join(pointers, ["platform", "post_id"])
    # Only what inbox membership and turn sizes need: every column here is materialized.
    return j.select(
        j.platform,
        j.post_id,
        j.author_id,
        j.created_at,
        j.inbound,
        j.mentions,
        j.parent_id,
        j.parent_author,
        turn_id=ibis.coalesce(j.up, j.post_id),
    )


def org_accounts_lower(org_accounts: ibis.Table) -> ibis.Table:
    """Org accounts with the lower-cased handle that mentions are compared against."""
    return org_accounts.select(
        "org_id", "platform", "account_id", handle_l=org_accounts.handle.lower()
    )


def org_replies(posts: ibis.Table, tposts: ibis.Table, org_accounts: ibis.Table) -> ibis.Table:
    """Posts by an org that reply to a post of some turn: (org, turn, reply id and time)."""
    oa = org_accounts.select("org_id", "platform", author_id=org_accounts.account_id)
    op = posts.select("platform", "post_id", "author_id", "created_at", "parent_id").join(
        oa, ["platform", "author_id"]
    )
    target = tposts.select("platform", parent_id=tposts.post_id, turn_id=tposts.turn_id)
    j = op.join(target, ["platform", "parent_id"])
    return j.select(
        j.org_id,
        j.platform,
        j.turn_id,
        reply_id=j.post_id,
        reply_created_at=j.created_at,
    )


def inbox(tposts: ibis.Table, org_accounts: ibis.Table, replies: ibis.Table) -> ibis.Table:
    """(org, turn) pairs where the turn is in the org's inbox (SPEC section 5).

    A turn is O's when its opener replies to O, a post of the turn mentions one of O's
    handles (case-insensitive, whole handle), or O replies to a post of the turn.
    """
    oa = org_accounts_lower(org_accounts)
    openers = tposts.filter(tposts.post_id == tposts.turn_id)
    by_parent = openers.join(
        oa.select("org_id", "platform", parent_author=oa.account_id),
        ["platform", "parent_author"],
    ).select("org_id", "platform", "turn_id")
    # Unnest first, then lower-case: Spark rejects a generator nested in an expression.
    mentioned = tposts.select("platform", "turn_id", handle=tposts.mentions.unnest())
    mentions = (
        mentioned.select("platform", "turn_id", handle_l=mentioned.handle.lower())
        .join(oa.select("org_id", "platform", "handle_l"), ["platform", "handle_l"])
        .select("org_id", "platform", "turn_id")
    )
    answered = replies.select("org_id", "platform", "turn_id")
    return ibis.union(by_parent, mentions, answered, distinct=True)


def org_turns(
    posts: ibis.Table,
    tposts: ibis.Table,
    org_accounts: ibis.Table,
    *,
    reference_epoch_s: int,
) -> ibis.Table:
    """One row per (org, turn): opener, follow-ups, first response, FRT and age.

    Turns opened by the org's own accounts, or marked outbound by the source, are not
    inbound and are left out.
    """
    replies = org_replies(posts, tposts, org_accounts)
    members = inbox(tposts, org_accounts, replies)
    # Follow-ups are the posts of a turn other than its opener: grouping only those (a
    # fraction of all posts) is cheaper than counting every turn's posts.
    follow = tposts.filter(tposts.post_id != tposts.turn_id)
    sizes = follow.group_by(["platform", "turn_id"]).agg(n_followups=follow.count())
    openers = tposts.filter(tposts.post_id == tposts.turn_id).select(
        "platform",
        "turn_id",
        opener_author=tposts.author_id,
        opener_created_at=tposts.created_at,
        opener_inbound=tposts.inbound,
    )
    # The earliest reply; replies in the same second are told apart by id so that every
    # engine names the same one.
    ranked = replies.mutate(
        rank=ibis.row_number().over(
            group_by=["org_id", "platform", "turn_id"], order_by=["reply_created_at", "reply_id"]
        )
    )
    first = ranked.filter(ranked["rank"] == 0).select(
        "org_id",
        "platform",
        "turn_id",
        first_response_at=ranked.reply_created_at,
        first_response_id=ranked.reply_id,
    )
    own = org_accounts.select("org_id", "platform", opener_author=org_accounts.account_id)
    t = (
        members.join(openers, ["platform", "turn_id"])
        .left_join(sizes, ["platform", "turn_id"])
        .anti_join(own, ["org_id", "platform", "opener_author"])
    )
    t = t.filter(t.opener_inbound.isnull() | t.opener_inbound)
    t = t.left_join(first, ["org_id", "platform", "turn_id"])
    opened_s = epoch_s(t.opener_created_at)
    frt = epoch_s(t.first_response_at) - opened_s
    return t.select(
        t.org_id,
        t.platform,
        t.turn_id,
        t.opener_author,
        t.opener_created_at,
        followups=t.n_followups.fill_null(0).cast("int64"),
        answered=t.first_response_at.notnull(),
        first_response_id=t.first_response_id,
        first_response_at=t.first_response_at,
        frt_s=frt.cast("int64"),
        age_s=(ibis.literal(reference_epoch_s, type="int64") - opened_s).cast("int64"),
    )


RESPONSIVENESS = MetricFamily(
    name="responsiveness",
    title="Responsiveness",
    description=(
        "Whether an organization answers the turns in its inbox, how fast (median and p90 "
        "first-response time), SLA attainment and the unanswered backlog."
    ),
    requires=("posts", "org_accounts", "orgs"),
    params={"sla_minutes": "SLA in minutes for orgs without their own (default 60)"},
    definitions=(
        (
            "Turn",
            (
                "an inbound post that opens a request, plus the same author's replies to it; "
                "follow-ups are not counted again."
            ),
        ),
        (
            "Answered / FRT",
            (
                "a post by the org replies to a post of the turn; first-response time is the "
                "earliest such reply minus the opener. Negative FRTs (clock skew) are left out of "
                "timing."
            ),
        ),
        (
            "Response rate",
            (
                "answered turns / turns, with a 95% Wilson interval. 'all' uses every turn; "
                "'actionable' (the headline when posts are enriched) excludes spam and keeps "
                "questions and complaints."
            ),
        ),
        ("FRT median, p90", "linear interpolation over answered turns with FRT >= 0."),
        (
            "SLA attainment",
            (
                "turns answered within the org's SLA (default 60 min) / turns, unanswered turns "
                "counting as misses. In business hours: the same, counting only the seconds the "
                "org is open (time zone, weekly shifts, holidays)."
            ),
        ),
        (
            "Backlog",
            (
                "unanswered turns strictly older than 24 h / 7 d / 30 d at the reference time (the "
                "latest post in the data, not the wall clock)."
            ),
        ),
    ),
)


@register(RESPONSIVENESS)
def responsiveness(
    turns: ibis.Table, orgs: ibis.Table, /, *, sla_minutes: int | None = None
) -> ibis.Table:
    """Per-org responsiveness over :func:`org_turns` (the ``all`` variant: no exclusions).

    ``sla_minutes`` overrides every org's own SLA when given; otherwise an org's
    ``sla_minutes`` applies, and 60 minutes where it has none.
    """
    if sla_minutes is not None:
        sla_s = ibis.literal(int(sla_minutes) * 60, type="int64")
        o = orgs.select("org_id", sla_s=sla_s)
    else:
        o = orgs.select(
            "org_id",
            sla_s=(orgs.sla_minutes.fill_null(DEFAULT_SLA_MINUTES) * 60).cast("int64"),
        )
    t = turns.join(o, "org_id")
    timed = t.answered & (t.frt_s >= 0)
    negative = t.answered & (t.frt_s < 0)
    unanswered = ~t.answered
    agg = t.group_by("org_id").agg(
        turns=t.count(),
        answered=t.answered.cast("int64").sum(),
        negative_frt=negative.cast("int64").sum(),
        within_sla=(timed & (t.frt_s <= t.sla_s)).cast("int64").sum(),
        frt_median_s=t.frt_s.cast("float64").quantile(0.5, where=timed),
        frt_p90_s=t.frt_s.cast("float64").quantile(0.9, where=timed),
        **{
            name: (unanswered & (t.age_s > seconds)).cast("int64").sum()
            for name, seconds in BACKLOG_AGES.items()
        },
    )
    j = o.left_join(agg, "org_id")
    n = j.turns.fill_null(0)
    answered = j.answered.fill_null(0)
    negative_n = j.negative_frt.fill_null(0)
    return j.select(
        org_id=j.org_id,
        turns=n,
        answered=answered,
        response_rate=answered.cast("float64") / n.nullif(0).cast("float64"),
        frt_median_s=j.frt_median_s,
        frt_p90_s=j.frt_p90_s,
        sla_attainment=j.within_sla.fill_null(0).cast("float64")
        / (n - negative_n).nullif(0).cast("float64"),
        negative_frt=negative_n,
        **{name: j[name].fill_null(0) for name in BACKLOG_AGES},
    ).order_by("org_id")


#: SPEC section 5: a turn is late when it had no response within this long.
LATE_AFTER_S = 7 * 86_400


def unanswered_after(
    turns: ibis.Table, orgs: ibis.Table, /, *, after_s: int = LATE_AFTER_S
) -> ibis.Table:
    """Per org: the unanswered-after-7-days share with its own denominator (SPEC section 5).

    ``aged``: turns opened at least ``after_s`` before the reference time; ``late``: those
    with no response within ``after_s`` (unanswered, or answered with FRT > ``after_s``);
    ``share`` = late / aged (null when no turn is that old). A turn too young to be late is
    in neither count, so a fresh backlog does not dilute the share.
    """
    t = turns
    aged = t.age_s >= after_s
    late = aged & (~t.answered | (t.frt_s > after_s))
    agg = t.group_by("org_id").agg(aged=aged.cast("int64").sum(), late=late.cast("int64").sum())
    j = orgs.select("org_id").left_join(agg, "org_id")
    n = j.aged.fill_null(0)
    k = j.late.fill_null(0)
    return j.select(
        org_id=j.org_id, aged=n, late=k, share=k.cast("float64") / n.nullif(0).cast("float64")
    ).order_by("org_id")


def unanswered(turns: ibis.Table, /, *, older_than_s: int = 0) -> ibis.Table:
    """Unanswered turns strictly older than ``older_than_s`` at the reference time."""
    return turns.filter(~turns.answered & (turns.age_s > older_than_s)).order_by(
        [ibis.desc("age_s"), "turn_id", "org_id", "platform"]
    )


class TurnTables:
    """The turn-level tables an audit is built from, materialized once per run.

    ``turns`` has one row per (org, turn). ``turn_posts`` is every post with the turn it
    belongs to (see :func:`turn_posts`): what listening metrics join enrichments through, and
    network metrics read who replied into which turn. When the turns come from the persisted
    tables it is built on first use only, since an audit without enrichments never reads it.
    """

    def __init__(
        self,
        reference_time: datetime | None,
        turns: ibis.Table,
        turn_posts: ibis.Table | None = None,
        *,
        make_turn_posts: Callable[[], ibis.Table] | None = None,
    ) -> None:
        self.reference_time = reference_time
        self.turns = turns
        self._turn_posts = turn_posts
        self._make_turn_posts = make_turn_posts

    @property
    def turn_posts(self) -> ibis.Table | None:
        """Every post with its turn id (built on first use when made lazily)."""
        if self._turn_posts is None and self._make_turn_posts is not None:
            self._turn_posts = self._make_turn_posts()
            self._make_turn_posts = None
        return self._turn_posts

    def with_turns(self, turns: ibis.Table) -> TurnTables:
        """The same reference time and turn posts (still lazy) over other ``turns``."""
        out = TurnTables(self.reference_time, turns, self._turn_posts)
        if self._turn_posts is None:
            out._make_turn_posts = lambda: self.turn_posts
        return out


def latest_post_time(engine: Engine, posts: ibis.Table) -> tuple[pd.Timestamp | None, int]:
    """The default reference time: the latest post in the store, not the wall clock (SPEC 5).

    A post dated after the last import (plus a day) cannot be real: imports refuse such posts
    since issue 14, and in older stores they are ignored here (``quality`` lists them).
    """
    last_import = engine.execute(engine.table("imports").finished_at.max())
    dated = posts
    if last_import is not None and not pd.isna(last_import):
        bound = pd.Timestamp(last_import) + pd.Timedelta(days=1)
        dated = posts.filter(posts.created_at <= ibis.literal(bound.to_pydatetime()))
    latest = engine.execute(
        dated.aggregate(ref=dated.created_at.max(), ref_s=epoch_s(dated.created_at.max()))
    ).iloc[0]
    if pd.isna(latest["ref"]):
        return None, 0
    return latest["ref"], int(latest["ref_s"])


#: The columns of the persisted ``org_turns`` table: :func:`org_turns` without what the
#: reference time decides (age) and what follows from the rest (answered).
STORED_TURN_COLUMNS = (
    "org_id",
    "platform",
    "turn_id",
    "opener_author",
    "opener_created_at",
    "followups",
    "first_response_id",
    "first_response_at",
    "frt_s",
)


def turns_are_current(engine: Engine) -> bool:
    """Whether the persisted turn tables cover every import and every post of the store.

    The import that builds them records its id and the post count; anything that wrote
    posts otherwise (an old store, a watcher deleting posts) leaves them behind, and then
    the audit computes turns from the posts as before.
    """
    state = engine.execute(engine.table("turns_state"))
    if len(state) != 1:
        return False
    last = engine.execute(engine.table("imports").import_id.max())
    n_posts = engine.execute(engine.table("posts").count())
    last_id = 0 if last is None or pd.isna(last) else int(last)
    row = state.iloc[0]
    return int(row["import_id"]) == last_id and int(row["posts"]) == int(n_posts)


def _nullable(accounts: ibis.Table) -> ibis.Table:
    """Org accounts with every column nullable, so set operations accept both copies."""
    return accounts.select(
        *[
            accounts[c].cast("string").name(c)
            for c in ("org_id", "platform", "account_id", "handle")
        ]
    )


def stored_turn_posts(engine: Engine) -> ibis.Table:
    """Every post with its turn, from the persisted self-reply links (materialized)."""
    links = engine.table("turn_links")
    pointers = links.select("platform", "post_id", up=links.turn_id)
    return engine.cache(turn_posts(link_parents(engine.table("posts")), pointers))


def persisted_turns(engine: Engine, ref: datetime | None, ref_epoch: int) -> TurnTables | None:
    """The turns from the persisted tables (migration 9), or None when they are behind.

    Orgs whose accounts changed since the rows were built (declared after the import) are
    computed here over the stored turn posts; every other org's rows are read as stored.
    The age is applied now, from ``ref_epoch``: changing the reference time or the SLA never
    needs a rebuild.
    """
    if not turns_are_current(engine):
        return None
    oa = engine.table("org_accounts")
    now, built = (_nullable(oa), _nullable(engine.table("org_turns_accounts")))
    stale = ibis.union(now.difference(built), built.difference(now)).select("org_id").distinct()
    stored = engine.table("org_turns")
    tp: ibis.Table | None = None
    if int(engine.execute(stale.count())):
        tp = stored_turn_posts(engine)
        fresh = org_turns(
            engine.table("posts"), tp, oa.semi_join(stale, "org_id"), reference_epoch_s=0
        ).select(*STORED_TURN_COLUMNS)
        stored = engine.cache(
            ibis.union(stored.anti_join(stale, "org_id").select(*STORED_TURN_COLUMNS), fresh)
        )
    t = stored
    turns = t.select(
        t.org_id,
        t.platform,
        t.turn_id,
        t.opener_author,
        t.opener_created_at,
        followups=t.followups,
        answered=t.first_response_at.notnull(),
        first_response_id=t.first_response_id,
        first_response_at=t.first_response_at,
        frt_s=t.frt_s,
        age_s=(ibis.literal(ref_epoch, type="int64") - epoch_s(t.opener_created_at)).cast("int64"),
    )
    if tp is not None:
        return TurnTables(ref, turns, tp)
    return TurnTables(ref, turns, make_turn_posts=lambda: stored_turn_posts(engine))


def build_turns(engine: Engine) -> TurnTables:
    """Compute (and cache) the per-(org, turn) table for everything in the engine's store.

    The reference time is the engine's ``reference_time`` when set (``--reference-time``),
    else the latest post.
    """
    posts = engine.table("posts")
    fixed = getattr(engine, "reference_time", None)
    if fixed is not None:  # --reference-time: the clock the user set, not the data's
        ref = pd.Timestamp(fixed)
        ref_epoch = int(ref.tz_localize("UTC").timestamp())
    else:
        ref, ref_epoch = latest_post_time(engine, posts)
    persisted = persisted_turns(engine, ref, ref_epoch)
    if persisted is not None:
        return persisted
    linked = engine.cache(link_parents(posts))
    pointers = turn_ids(engine, linked)
    tposts = engine.cache(turn_posts(linked, pointers))
    turns = engine.cache(
        org_turns(posts, tposts, engine.table("org_accounts"), reference_epoch_s=ref_epoch)
    )
    return TurnTables(reference_time=ref, turns=turns, turn_posts=tposts)
