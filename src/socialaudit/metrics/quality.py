"""Data-quality flags (SPEC section 5): what the audit had to work around, counted."""

from __future__ import annotations

from typing import Any

import ibis

from socialaudit.metrics import responsiveness as rs
from socialaudit.metrics.base import Engine, MetricFamily, register

QUALITY = MetricFamily(
    name="quality",
    title="Data quality",
    description=(
        "Replies timestamped before their parent (skew), replies whose parent is missing "
        "(orphans), duplicate and quarantined records, and direction flags that contradict "
        "the organizations' accounts."
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
    reasons = engine.execute(q.group_by("reason").agg(n=q.count()).order_by(ibis.desc("n")))
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
    }
    return out


def _count(value: Any) -> int:
    """A SUM over no rows is NULL (NaN in pandas): zero imports means zero records."""
    return 0 if value is None or value != value else int(value)
