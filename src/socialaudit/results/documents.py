"""The JSON documents that several presenters share, built from results only.

``benchmark --json``, the report's ``summary.json`` and ``GET /api/benchmark`` are one
document: :func:`benchmark_document`.
"""

from __future__ import annotations

from typing import Any

from socialaudit.results.jsonable import to_jsonable
from socialaudit.results.model import BenchmarkResult

#: Headline columns that the document lists beside ``figures`` rather than inside them.
_BESIDE = ("org_id", "tier", "tier_label", "peer_group", "peer_group_source")


def benchmark_document(bm: BenchmarkResult) -> dict[str, Any]:
    """Tiers with evidence, every headline figure and percentile, and the claims finding."""
    rows = {r["org_id"]: r for r in bm.org_rows()}
    orgs = []
    for t in bm.tiers:
        r = rows.get(t.org, {})
        orgs.append(
            {
                **to_jsonable(t),
                "peer_group": to_jsonable(r.get("peer_group")),
                "peer_group_source": to_jsonable(r.get("peer_group_source")),
                "figures": {k: to_jsonable(v) for k, v in r.items() if k not in _BESIDE},
            }
        )
    c = bm.claimed
    doc = {
        "reference_time": bm.reference_time,
        "window_start": bm.window_start,
        "window_days": bm.window_days,
        "metrics_version": bm.audit.metrics_version,
        "thresholds": bm.thresholds.source,
        "claimed_vs_measured": {
            "sentence": c.sentence,
            "declared": c.declared,
            "claiming_active": c.claiming,
            "with_tier": c.measured,
            "rudimentary_or_below": c.rudimentary,
            "insufficient_data": c.insufficient,
            "orgs": list(c.orgs),
        },
        "orgs": orgs,
    }
    out: dict[str, Any] = to_jsonable(doc)
    return out
