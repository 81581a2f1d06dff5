"""The care team's views of the turn table: the unanswered inbox, weekly trends, FRT spread.

The dashboard and the REST API read these; like every metric they are Ibis expressions over
the turn tables of :mod:`responsiveness`, so they run unchanged on DuckDB and Spark. Filter
values reach the query as Ibis literals (quoted by the compiler), never as SQL text.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis

from socialaudit.metrics.base import MetricFamily, register

#: Upper edges (seconds) of the first-response-time buckets; the last bucket is open-ended.
FRT_EDGES: tuple[tuple[int, str], ...] = (
    (15 * 60, "≤ 15 min"),
    (60 * 60, "15–60 min"),
    (4 * 3600, "1–4 h"),
    (24 * 3600, "4–24 h"),
    (3 * 86_400, "1–3 d"),
    (7 * 86_400, "3–7 d"),
)
FRT_LAST = "> 7 d"
INTENTS = ("question", "complaint", "praise", "other")
SENTIMENTS = ("negative", "neutral", "positive")

INBOX = MetricFamily(
    name="inbox",
    title="Unanswered inbox",
    description=(
        "Every unanswered turn of an organization with its opener's text, permalink, age, "
        "intent and sentiment: the queue a care team works from, oldest first."
    ),
    requires=("posts", "org_accounts", "enrichments"),
    params={"older_than_s": "only turns waiting longer than this (default 0)"},
)


@register(INBOX)
def inbox_rows(turns: ibis.Table, posts: ibis.Table, enrichments: ibis.Table, /) -> ibis.Table:
    """Unanswered turns with the opener's text, permalink and enrichment labels.

    ``intents`` and ``sentiment_label`` are null where the opener is not enriched, so a
    filter on them never silently counts unlabelled posts as "other".
    """
    u = turns.filter(~turns.answered)
    p = posts.select("platform", turn_id=posts.post_id, permalink=posts.permalink, text=posts.text)
    e = enrichments.select(
        "platform",
        turn_id=enrichments.post_id,
        intents=enrichments.intents,
        sentiment=enrichments.sentiment,
        sentiment_label=enrichments.sentiment_label,
        is_spam=enrichments.is_spam,
    )
    j = u.left_join(p, ["platform", "turn_id"]).left_join(e, ["platform", "turn_id"])
    return j.select(
        "org_id",
        "platform",
        "turn_id",
        "opener_author",
        "opener_created_at",
        "age_s",
        "followups",
        "permalink",
        "text",
        "intents",
        "sentiment",
        "sentiment_label",
        "is_spam",
    )


def filter_inbox(
    rows: ibis.Table,
    /,
    *,
    org: str | None = None,
    platform: str | None = None,
    intent: str | None = None,
    sentiment: str | None = None,
    min_age_s: int | None = None,
    max_age_s: int | None = None,
    include_spam: bool = True,
) -> ibis.Table:
    """Narrow :func:`inbox_rows`; every argument left ``None`` keeps all rows."""
    preds: list[ibis.ir.BooleanValue] = []
    if org is not None:
        preds.append(rows.org_id == org)
    if platform is not None:
        preds.append(rows.platform == platform)
    if intent is not None:
        preds.append(rows.intents.contains(intent).fill_null(False))
    if sentiment is not None:
        preds.append(rows.sentiment_label == sentiment)
    if min_age_s is not None:
        preds.append(rows.age_s > min_age_s)
    if max_age_s is not None:
        preds.append(rows.age_s <= max_age_s)
    if not include_spam:
        preds.append(~rows.is_spam.fill_null(False))
    return rows.filter(*preds) if preds else rows


def inbox_page(rows: ibis.Table, /, *, offset: int, limit: int) -> ibis.Table:
    """One page of the inbox, oldest turn first (ties broken by id, so pages never overlap)."""
    return rows.order_by([ibis.desc("age_s"), "turn_id", "org_id", "platform"]).limit(
        limit, offset=offset
    )


def weekly(turns: ibis.Table, /) -> ibis.Table:
    """Per org and ISO week the turns opened: how many, answered share, median FRT.

    A week's figures describe the turns *opened* that week, however late they were answered,
    so recent weeks improve as late answers arrive (the reference time is the latest post).
    """
    t = turns.mutate(week=turns.opener_created_at.truncate("W").cast("date"))
    timed = t.answered & (t.frt_s >= 0)
    agg = t.group_by(["org_id", "week"]).agg(
        turns=t.count(),
        answered=t.answered.cast("int64").sum(),
        frt_median_s=t.frt_s.cast("float64").quantile(0.5, where=timed),
    )
    return agg.select(
        "org_id",
        "week",
        "turns",
        "answered",
        response_rate=agg.answered.cast("float64") / agg.turns.nullif(0).cast("float64"),
        frt_median_s=agg.frt_median_s,
    ).order_by(["org_id", "week"])


def frt_buckets(
    turns: ibis.Table, /, *, edges: Sequence[tuple[int, str]] = FRT_EDGES
) -> ibis.Table:
    """Per org, answered turns per first-response-time bucket (negative FRTs left out)."""
    timed = turns.filter(turns.answered & (turns.frt_s >= 0))
    case = ibis.cases(*[(timed.frt_s <= edge, i) for i, (edge, _) in enumerate(edges)],
                      else_=len(edges))  # fmt: skip
    b = timed.mutate(bucket=case)
    return b.group_by(["org_id", "bucket"]).agg(n=b.count()).order_by(["org_id", "bucket"])


def bucket_labels(edges: Sequence[tuple[int, str]] = FRT_EDGES) -> list[str]:
    """The labels of :func:`frt_buckets`' bucket numbers, in order."""
    return [label for _, label in edges] + [FRT_LAST]
