"""Responsiveness per platform: one organization with accounts on several networks.

The org-wide audit already spans every platform (turns carry their platform and an org's
accounts are matched per platform). This splits the same figures by platform, reusing the
org-level definition unchanged on each platform's turns, so the per-platform rows and the
org row cannot disagree on what a turn, an answer or an SLA miss is.
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis

from socialaudit.metrics import responsiveness as rs


def responsiveness_by_platform(
    turns: ibis.Table,
    orgs: ibis.Table,
    org_accounts: ibis.Table,
    /,
    *,
    platforms: Sequence[str],
    sla_minutes: int | None = None,
) -> ibis.Table:
    """One row per (org, platform where the org has an account) with the responsiveness figures.

    ``platforms`` are the platforms of the store's org accounts (a handful): the expression
    is a union of one filtered :func:`responsiveness.responsiveness` per platform.
    """
    parts = [
        rs.responsiveness(
            turns.filter(turns.platform == platform), orgs, sla_minutes=sla_minutes
        ).mutate(platform=ibis.literal(platform, type="string"))
        for platform in platforms
    ]
    if not parts:
        empty = rs.responsiveness(turns, orgs, sla_minutes=sla_minutes)
        return empty.mutate(platform=ibis.literal("", type="string")).limit(0)
    pairs = org_accounts.select("org_id", "platform").distinct()
    rows = ibis.union(*parts) if len(parts) > 1 else parts[0]
    return rows.semi_join(pairs, ["org_id", "platform"]).order_by(["org_id", "platform"])
