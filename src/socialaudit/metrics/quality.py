"""Data-quality flags (SPEC section 5): what the audit had to work around, counted."""

from __future__ import annotations

from typing import Any

import ibis

from socialaudit.ingest.checks import DEFAULT_LAUNCH, PLATFORM_LAUNCH, REPLY_CYCLE
from socialaudit.metrics import responsiveness as rs
from socialaudit.metrics.base import Engine, MetricFamily, register

QUALITY = MetricFamily(
    name="quality",
    title="Data quality",
    description=(
        "Replies timestamped before their parent (skew), replies whose parent is missing "
        "(orphans), duplicate and quarantined records, direction flags that contradict "
        "the organizations' accounts, reply cycles and posts dated at impossible times."
    ),
    requires=("posts", "imports", "quarantine", "org_accounts"),
)


@register(QUALITY)
def quality_flags(posts: ibis.Table, org_accounts: ibis.Table, /) -> ibis.Table:
    """One row of counts over the posts: skew, orphans and direction-flag contradictions."""
    linked = rs.link_parents(posts)
    oa = org_accounts.select("platform", author_id=org_accounts.account_id).distinct()
    by_org = linked.left_join(
        oa.select("platform", "author_id", is_org=ibis.literal(True)), ["platform", "author_id"]
    )
    is_org = by_org.is_org.fill_null(False)
    has_parent = by_org.parent_id.notnull()
    return by_org.aggregate(
        posts=by_org.count(),
        replies=has_parent.cast("int64").sum(),
        skew=(by_org.created_at < by_org.parent_created_at).fill_null(False).cast("int64").sum(),
        orphans=(has_parent & by_org.parent_created_at.isnull()).cast("int64").sum(),
        inbound_by_org_account=(by_org.inbound.fill_null(False) & is_org).cast("int64").sum(),
        outbound_by_non_org=((~by_org.inbound.fill_null(True)) & ~is_org).cast("int64").sum(),
    )


def quality(engine: Engine, /, *, turns: rs.TurnTables | None = None) -> dict[str, Any]:
    """Return every quality figure, with quarantine broken down by reason.

    ``turns``: the store's turn tables when the caller has built them already.
    """
    flags = engine.execute(quality_flags(engine.table("posts"), engine.table("org_accounts")))
    row = {k: int(v or 0) for k, v in flags.iloc[0].to_dict().items()} if len(flags) else {}
    imports = engine.table("imports")
    totals = engine.execute(
        imports.aggregate(
            imports=imports.count(),
            read=imports.read.sum(),
            inserted=imports.inserted.sum(),
            duplicates=imports.duplicates.sum(),
            quarantined=imports.quarantined.sum(),
        )
    ).iloc[0]
    q = engine.table("quarantine")
    # ``kept`` records belong to posts stored after a repair: listed apart, not quarantined.
    held = q.filter(~q.kept.fill_null(False))
    reasons = engine.execute(
        held.group_by("reason").agg(n=held.count()).order_by([ibis.desc("n"), "reason"])
    )
    repaired = q.filter(q.kept.fill_null(False) & (q.reason == REPLY_CYCLE)).count()
    outliers = time_outliers(engine)
    tt = turns or rs.build_turns(engine)
    t = tt.turns
    negative = int(engine.execute((t.answered & (t.frt_s < 0)).cast("int64").sum()) or 0)
    out: dict[str, Any] = {
        **row,
        "negative_frt_turns": negative,
        **{
            key: _count(totals[key])
            for key in ("imports", "read", "inserted", "duplicates", "quarantined")
        },
        "quarantine_by_reason": {
            r: int(n) for r, n in zip(reasons["reason"], reasons["n"], strict=True)
        },
        "reply_cycles_repaired": int(engine.execute(repaired) or 0),
        "posts_on_reply_cycles": posts_on_cycles(engine),
        "time_outliers": int(engine.execute(outliers.count()) or 0),
        "time_outlier_posts": engine.execute(
            outliers.order_by(["created_at", "platform", "post_id"]).limit(TIME_OUTLIERS_LISTED)
        )
        .astype({"created_at": str})
        .to_dict("records"),
    }
    return out


#: How many time outliers ``quality`` lists (all are counted).
TIME_OUTLIERS_LISTED = 20


def time_outliers(engine: Engine, /) -> ibis.Table:
    """Posts dated before their platform existed, or after the audit's clock allows.

    Imports refuse them since issue 14; older stores may hold some. The upper bound is the
    reference time when one is set (``--reference-time``), else a day after the last import.
    """
    posts = engine.table("posts")
    launch = ibis.literal(DEFAULT_LAUNCH).cast("timestamp")
    for platform, day in PLATFORM_LAUNCH.items():
        launch = ibis.ifelse(
            posts.platform == platform, ibis.literal(day).cast("timestamp"), launch
        )
    fixed = getattr(engine, "reference_time", None)
    if fixed is not None:
        latest = ibis.literal(fixed).cast("timestamp")
    else:
        imports = engine.table("imports")
        last = engine.execute(imports.finished_at.max())
        if last is None or last != last:
            latest = ibis.null().cast("timestamp")
        else:
            latest = ibis.literal(last).cast("timestamp") + ibis.interval(days=1)
    early = posts.created_at < launch
    late = (posts.created_at > latest).fill_null(False)
    flagged = posts.filter(early | late)
    return flagged.select(
        "platform",
        "post_id",
        "author_id",
        "created_at",
        why=ibis.ifelse(early, "before the platform existed", "after the reference time"),
    )


def posts_on_cycles(engine: Engine, /) -> int:
    """Posts on a reply cycle or whose chain of parents runs into one (0 in a sound store).

    Imports refuse cycles and migration 5 repairs them; this checks that it stays so.
    """
    posts = engine.table("posts")
    present = posts.select("platform", up=posts.post_id)
    replies = posts.filter(posts.parent_id.notnull()).select(
        "platform", "post_id", up=posts.parent_id
    )
    pointers = engine.cache(replies.semi_join(present, ["platform", "up"]))
    walked = rs.walk(engine, pointers)
    return int(engine.execute(pointers.count())) - int(engine.execute(walked.count()))


def _count(value: Any) -> int:
    """A SUM over no rows is NULL (NaN in pandas): zero imports means zero records."""
    return 0 if value is None or value != value else int(value)
