"""Writing inbound coverage (SPEC section 5): one row per account, source run and method.

A collection run records how it fetched what customers addressed to an account
(``complete``, ``search`` or ``threads_only``) and the window that covers; a file import
records ``export`` for whatever accounts it holds (``account_id = '*'``). Rows are written
inside the transaction that stores the run's last page, so a coverage row never claims
posts that are not in the store. Reading coverage per organization is a metric
(:mod:`socialaudit.metrics.coverage`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

#: From most to least complete. ``export`` is as complete as the export itself.
METHODS = ("complete", "export", "search", "threads_only")
ANY_ACCOUNT = "*"


@dataclass(frozen=True)
class CoverageRow:
    """What one run fetched for one account, by one inbound method."""

    platform: str
    account_id: str
    run_id: str
    inbound: str
    covered_from: datetime | None
    covered_to: datetime | None
    inbound_seen: int = 0
    org_id: str | None = None
    target: str | None = None
    source: str = "collect"
    import_id: int | None = None

    def __post_init__(self) -> None:
        if self.inbound not in METHODS:
            raise ValueError(f"inbound method {self.inbound!r} is not one of {METHODS}")


def record_coverage(con: duckdb.DuckDBPyConnection, rows: list[CoverageRow]) -> None:
    """Insert (or replace, for a re-recorded run) coverage rows, inside the caller's transaction."""
    now = _utcnow()
    for r in rows:
        con.execute(
            "DELETE FROM coverage WHERE platform = ? AND account_id = ? AND run_id = ? "
            "AND inbound = ?",
            [r.platform, r.account_id, r.run_id, r.inbound],
        )
        con.execute(
            "INSERT INTO coverage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                r.platform,
                r.account_id,
                r.run_id,
                r.inbound,
                r.org_id,
                r.target,
                r.source,
                r.import_id,
                _naive(r.covered_from),
                _naive(r.covered_to),
                r.inbound_seen,
                now,
            ],
        )


def record_import_coverage(con: duckdb.DuckDBPyConnection, import_id: int) -> None:
    """Record a file import as ``export`` coverage over the time span of the posts it stored.

    Inbound posts seen are those the source marks inbound (TWCS) or, where it marks
    nothing, those not written by an organization's account.
    """
    con.execute(
        """INSERT INTO coverage
        SELECT p.platform, ?, 'import:' || CAST(? AS VARCHAR), 'export', NULL, NULL, 'import', ?,
               min(p.created_at), max(p.created_at),
               count(*) FILTER (WHERE coalesce(p.inbound, NOT EXISTS (
                   SELECT 1 FROM org_accounts oa
                   WHERE oa.platform = p.platform AND oa.account_id = p.author_id))),
               ?
        FROM posts p WHERE p.import_id = ?
        GROUP BY p.platform""",
        [ANY_ACCOUNT, import_id, import_id, _utcnow(), import_id],
    )


def _naive(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
