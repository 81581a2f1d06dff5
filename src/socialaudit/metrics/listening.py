"""Listening metrics (SPEC section 5): actionable turns, deflection, resolution, sentiment.

They read the ``enrichments`` table through the turn tables of :mod:`responsiveness`:

* a turn is **actionable** when its opener is not spam and some post of the turn asks a
  question or complains (intent ``question`` or ``complaint``);
* a first response **deflects** when it only moves the customer to another channel;
  ``asks_move_channel_rate`` also counts replies that redirect but help too;
* an answered turn is **resolved** when the customer's last post after the first response
  (in the turn itself, or in the turn they open by replying to the organization's reply)
  reads as thanks / solved, and some reply of the organization into the turn does more than
  move the channel (a turn answered only with "DM us" has no public evidence of a fix);
* **sentiment** of answered vs unanswered turns is the opener's sentiment.

Every function returns an unexecuted Ibis table.
"""

from __future__ import annotations

import ibis

from socialaudit.metrics import responsiveness as rs
from socialaudit.metrics.base import MetricFamily, register

ACTIONABLE_INTENTS = ("question", "complaint")


def has_results(enrichments: ibis.Table, enricher: str) -> ibis.Expr:
    """A scalar: whether any post carries results of ``enricher``."""
    return enrichments[f"{enricher}_version"].notnull().any()


def turn_signals(
    turns: ibis.Table,
    tposts: ibis.Table,
    posts: ibis.Table,
    org_accounts: ibis.Table,
    enrichments: ibis.Table,
) -> ibis.Table:
    """One row per (org, turn) of ``turns`` with its listening signals.

    Columns added: ``actionable``, ``opener_spam``, ``opener_sentiment``, ``deflection`` (of the
    first response), ``resolved`` (answered turns only; null otherwise).
    """
    e = enrichments
    post_flags = tposts.join(
        e.select(
            "platform",
            "post_id",
            "intents",
            "is_spam",
            "sentiment",
            "sentiment_label",
        ),
        ["platform", "post_id"],
    )
    # array_contains, not a lambda: identical SQL on DuckDB and Spark.
    wants = ibis.or_(*[post_flags.intents.contains(i) for i in ACTIONABLE_INTENTS])
    per_turn = post_flags.group_by(["platform", "turn_id"]).agg(
        asks=wants.fill_null(False).any(),
        opener_spam=post_flags.is_spam.fill_null(False).any(
            where=post_flags.post_id == post_flags.turn_id
        ),
        opener_sentiment=post_flags.sentiment.max(where=post_flags.post_id == post_flags.turn_id),
        opener_negative=(post_flags.sentiment_label == "negative").any(
            where=post_flags.post_id == post_flags.turn_id
        ),
    )
    first = e.select(
        "platform", first_response_id=e.post_id, first_response_deflection=e.deflection
    )
    t = turns.left_join(per_turn, ["platform", "turn_id"]).left_join(
        first, ["platform", "first_response_id"]
    )
    t = t.select(
        *[t[c] for c in turns.columns],
        actionable=t.asks.fill_null(False) & ~t.opener_spam.fill_null(False),
        opener_spam=t.opener_spam.fill_null(False),
        opener_sentiment=t.opener_sentiment,
        opener_negative=t.opener_negative,
        deflection=t.first_response_deflection,
    )
    last = last_customer_posts(t, tposts, posts, org_accounts)
    res = last.join(
        e.select("platform", last_id=e.post_id, last_resolved=e.resolved), ["platform", "last_id"]
    )
    res = res.select("org_id", "platform", "turn_id", "last_resolved")
    helped = public_help(tposts, posts, org_accounts, enrichments)
    out = t.left_join(res, ["org_id", "platform", "turn_id"]).left_join(
        helped, ["org_id", "platform", "turn_id"]
    )
    return out.select(
        *[out[c] for c in t.columns],
        resolved=ibis.ifelse(
            out.answered,
            out.last_resolved.fill_null(False) & out.helped_in_public.fill_null(False),
            ibis.null("boolean"),
        ),
    )


def public_help(
    tposts: ibis.Table, posts: ibis.Table, org_accounts: ibis.Table, enrichments: ibis.Table
) -> ibis.Table:
    """(org, turn, helped_in_public): whether some reply into the turn does more than move.

    A turn whose every response only sends the customer to DM, email or phone has no public
    evidence of a resolution: the customer's "done, sent" afterwards confirms the move, not a
    fix, so such a turn is never counted resolved (it is counted deflected). A reply without a
    deflection label (none asked for, or not enriched) counts as help.
    """
    replies = rs.org_replies(posts, tposts, org_accounts)
    labels = enrichments.select(
        "platform", reply_id=enrichments.post_id, reply_deflection=enrichments.deflection
    )
    r = replies.left_join(labels, ["platform", "reply_id"])
    helps = r.reply_deflection.isnull() | (r.reply_deflection != "only_moves_channel")
    return r.group_by(["org_id", "platform", "turn_id"]).agg(helped_in_public=helps.any())


def last_customer_posts(
    turns: ibis.Table, tposts: ibis.Table, posts: ibis.Table, org_accounts: ibis.Table
) -> ibis.Table:
    """(org, turn, last_id): the customer's last post after the org's first response.

    Candidates are the turn's own posts after the first response and the posts of every turn
    the same customer opened by replying to one of the org's replies into this turn.
    """
    answered = turns.filter(turns.answered).select(
        "org_id", "platform", "turn_id", "opener_author", "first_response_at"
    )
    own = tposts.select("platform", "turn_id", cand_id=tposts.post_id, cand_at=tposts.created_at)
    in_turn = answered.join(own, ["platform", "turn_id"])
    in_turn = in_turn.filter(in_turn.cand_at > in_turn.first_response_at).select(
        "org_id", "platform", "turn_id", "cand_id", "cand_at"
    )
    replies = rs.org_replies(posts, tposts, org_accounts)
    replies = replies.join(
        answered.select("org_id", "platform", "turn_id"), ["org_id", "platform", "turn_id"]
    )
    # The customer's answer to an org reply opens a new turn; all of its posts are candidates.
    next_openers = tposts.filter(tposts.post_id == tposts.turn_id).select(
        "platform",
        reply_id=tposts.parent_id,
        next_turn=tposts.turn_id,
        next_author=tposts.author_id,
    )
    nxt = replies.join(next_openers, ["platform", "reply_id"]).join(
        answered.select("org_id", "platform", "turn_id", "opener_author"),
        ["org_id", "platform", "turn_id"],
    )
    nxt = nxt.filter(nxt.next_author == nxt.opener_author).select(
        "org_id", "platform", "turn_id", "next_turn"
    )
    later = nxt.join(
        tposts.select(
            "platform", next_turn=tposts.turn_id, cand_id=tposts.post_id, cand_at=tposts.created_at
        ),
        ["platform", "next_turn"],
    ).select("org_id", "platform", "turn_id", "cand_id", "cand_at")
    cands = ibis.union(in_turn, later, distinct=True)
    ranked = cands.mutate(
        rank=ibis.row_number().over(
            group_by=["org_id", "platform", "turn_id"],
            order_by=[ibis.desc("cand_at"), ibis.desc("cand_id")],
        )
    )
    return ranked.filter(ranked["rank"] == 0).select(
        "org_id", "platform", "turn_id", last_id=ranked.cand_id
    )


LISTENING = MetricFamily(
    name="listening",
    title="Listening",
    description=(
        "Deflection (first responses that only move the customer to another channel), "
        "resolution signal (the customer's last word reads as thanks/solved) and the sentiment "
        "of answered vs unanswered turns."
    ),
    requires=("posts", "org_accounts", "orgs", "enrichments"),
)


@register(LISTENING)
def listening(signals: ibis.Table, orgs: ibis.Table, /) -> ibis.Table:
    """Per-org deflection, resolution and sentiment figures over :func:`turn_signals`."""
    s = signals
    answered = s.answered
    # The enricher's own label: its neutral band is wider than VADER's +-0.05.
    negative = s.opener_negative.fill_null(False)
    agg = s.group_by("org_id").agg(
        answered_n=answered.cast("int64").sum(),
        deflected=(answered & (s.deflection == "only_moves_channel")).cast("int64").sum(),
        asks_move=(answered & s.deflection.notnull()).cast("int64").sum(),
        resolved_n=s.resolved.fill_null(False).cast("int64").sum(),
        sent_answered=s.opener_sentiment.mean(where=answered),
        sent_unanswered=s.opener_sentiment.mean(where=~answered),
        neg_answered=negative.cast("float64").mean(where=answered & s.opener_sentiment.notnull()),
        neg_unanswered=negative.cast("float64").mean(
            where=~answered & s.opener_sentiment.notnull()
        ),
    )
    j = orgs.select("org_id").left_join(agg, "org_id")
    n = j.answered_n.fill_null(0)
    denominator = n.nullif(0).cast("float64")
    return j.select(
        org_id=j.org_id,
        answered=n,
        deflected=j.deflected.fill_null(0),
        deflection_rate=j.deflected.fill_null(0).cast("float64") / denominator,
        asks_move_channel=j.asks_move.fill_null(0),
        asks_move_channel_rate=j.asks_move.fill_null(0).cast("float64") / denominator,
        resolved=j.resolved_n.fill_null(0),
        resolution_rate=j.resolved_n.fill_null(0).cast("float64") / denominator,
        sentiment_answered=j.sent_answered,
        sentiment_unanswered=j.sent_unanswered,
        negative_share_answered=j.neg_answered,
        negative_share_unanswered=j.neg_unanswered,
    ).order_by("org_id")
