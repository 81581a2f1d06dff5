"""Per-topic figures and FAQ candidates (SPEC section 5, listening), as Ibis expressions.

A topic is an FAQ candidate when it recurs (at least ``min_turns`` turns) and most of its
turns ask a question: what customers keep asking, how often it is answered and how fast.
"""

from __future__ import annotations

import ibis

from socialaudit.metrics.base import MetricFamily, register

FAQ_MIN_TURNS = 3
FAQ_MIN_QUESTION_SHARE = 0.5

TOPICS = MetricFamily(
    name="topics",
    title="Topics and FAQ candidates",
    description=(
        "What customers ask each organization, clustered into topics labelled by their top "
        "terms; recurring question topics are FAQ candidates, with the share answered and the "
        "median first-response time."
    ),
    requires=("posts", "org_accounts", "enrichments", "topics"),
    params={"min_turns": f"smallest FAQ topic (default {FAQ_MIN_TURNS})"},
)


@register(TOPICS)
def topic_figures(
    turns: ibis.Table,
    tposts: ibis.Table,
    enrichments: ibis.Table,
    topics: ibis.Table,
    /,
    *,
    org: str | None,
    min_turns: int = FAQ_MIN_TURNS,
) -> ibis.Table:
    """One row per topic of ``org``: size, question share, share answered, median FRT.

    ``org=None`` gives every org's topics in one query (the report shows them all, and one
    query costs one compilation instead of one per org).
    """
    e = enrichments
    t = turns if org is None else turns.filter(turns.org_id == org)
    topic_of = e.filter(e.topic_id.notnull()).select(
        "platform", turn_id=e.post_id, topic=e.topic_id
    )
    labelled = tposts.join(e.select("platform", "post_id", "intents"), ["platform", "post_id"])
    asks = labelled.group_by(["platform", "turn_id"]).agg(
        question=labelled.intents.contains("question").fill_null(False).any()
    )
    j = t.join(topic_of, ["platform", "turn_id"]).left_join(asks, ["platform", "turn_id"])
    timed = j.answered & (j.frt_s >= 0)
    agg = j.group_by(org=j.org_id, topic=j.topic).agg(
        turns=j.count(),
        questions=j.question.fill_null(False).cast("int64").sum(),
        answered=j.answered.cast("int64").sum(),
        frt_median_s=j.frt_s.cast("float64").quantile(0.5, where=timed),
    )
    tp = topics if org is None else topics.filter(topics.org_id == org)
    out = tp.join(agg, [tp.org_id == agg.org, tp.topic_id == agg.topic])
    n = out.turns.cast("float64")
    question_share = out.questions.cast("float64") / n
    return out.select(
        org_id=out.org_id,
        topic_id=out.topic_id,
        label=out.label,
        top_terms=out.top_terms,
        turns=out.turns,
        question_share=question_share,
        answered_share=out.answered.cast("float64") / n,
        frt_median_s=out.frt_median_s,
        faq=(out.turns >= min_turns) & (question_share >= FAQ_MIN_QUESTION_SHARE),
        examples=out.examples,
    ).order_by(["org_id", ibis.desc("turns"), "topic_id"])
