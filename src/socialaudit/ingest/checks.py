"""Checks that need the whole import, or the calendar: reply cycles and implausible times.

One bad record must not make a store unusable. A post that replies to itself, or two posts
that reply to each other, turn every walk up a thread into an endless one; a post dated in
the year 9999 moves the audit's reference time to 9999. So, at import:

- a **self-reply** keeps the post but drops its parent link; the original record is kept in
  the quarantine (``kept = true``: it is stored, so it is not counted as quarantined);
- a record that would **close a longer cycle** (with posts of the file or of the store) is
  quarantined as ``reply cycle``: in each cycle, the last such record of the file;
- a post dated before its platform existed, more than a day after the import, or with a UTC
  offset beyond +-14:00 is quarantined as ``implausible time`` (these are checks of
  :func:`socialaudit.ingest.base.build_stage`, where the raw record is at hand).

:func:`screen` runs once per import, between staging and the commit.
"""

from __future__ import annotations

import duckdb

from socialaudit.store.cycles import find_cycles

REPLY_CYCLE = "reply cycle"
IMPLAUSIBLE_TIME = "implausible time"

#: When each platform's first public post could have been written (UTC). A post dated
#: earlier is a parsing or export error (epoch 0 is the usual one).
PLATFORM_LAUNCH: dict[str, str] = {
    "twitter": "2006-03-21",
    "reddit": "2005-06-23",
    "youtube": "2005-02-14",
    "mastodon": "2016-03-16",
    "truthsocial": "2022-02-21",
    "bluesky": "2022-11-01",
}
#: For platforms named by the user (generic CSV/JSONL): older than any social platform.
DEFAULT_LAUNCH = "1980-01-01"
#: How far past the import a post's time may be (clocks disagree; a day is generous).
FUTURE_SLACK = "INTERVAL 1 DAY"
#: A UTC offset at the end of a time (``+0000 2017`` in Twitter's format, ``+05:30`` in ISO).
_OFFSET_RE = r"[0-9](?:\.[0-9]+)?\s*[+-]([0-9]{2}):?([0-9]{2})(?:\s+[0-9]{4})?\s*$"
#: Endings that :data:`_OFFSET_RE` reads as offset zero or not at all (no check needed).
_ZERO_OFFSET_ENDINGS = ("Z", "+0000", "+00:00")

#: The canonical fields written to the quarantine for a record caught after staging.
_CANONICAL = (
    "platform",
    "post_id",
    "author_id",
    "created_at",
    "text",
    "parent_id",
    "root_id",
    "inbound",
)


def launch_sql(platform: str) -> str:
    """SQL for the earliest plausible ``created_at`` of a post on ``platform`` (a column)."""
    whens = " ".join(
        f"WHEN '{name}' THEN TIMESTAMP '{day}'" for name, day in PLATFORM_LAUNCH.items()
    )
    return f"CASE {platform} {whens} ELSE TIMESTAMP '{DEFAULT_LAUNCH}' END"


def time_checks(created_at: str, created_at_text: str, platform: str) -> list[tuple[str, str]]:
    """``(condition, reason)`` pairs for :func:`~socialaudit.ingest.base.build_stage`.

    The import's clock is the transaction's start (``current_timestamp``), in UTC.
    """
    text = f"trim({created_at_text})"
    hours = f"TRY_CAST(regexp_extract({text}, '{_OFFSET_RE}', 1) AS INTEGER)"
    minutes = f"TRY_CAST(regexp_extract({text}, '{_OFFSET_RE}', 2) AS INTEGER)"
    # The regex is most of the staging's cost; the endings nearly every time has (Twitter's
    # "+0000 2017", ISO's "Z" and "+00:00") are in range whatever precedes them, so they
    # skip it (the regex could only match them with a zero offset, or not at all).
    in_range = " OR ".join(
        [f"{text} LIKE '%+0000 ____'"]
        + [f"suffix({text}, '{end}')" for end in _ZERO_OFFSET_ENDINGS]
    )
    bad_offset = (
        f"CASE WHEN {in_range} THEN false "
        f"ELSE coalesce({hours} * 60 + {minutes} > 14 * 60 OR {minutes} > 59, false) END"
    )
    return [
        (bad_offset, IMPLAUSIBLE_TIME),
        (f"{created_at} < {launch_sql(platform)}", IMPLAUSIBLE_TIME),
        (
            f"{created_at} > CAST(current_timestamp AS TIMESTAMP) + {FUTURE_SLACK}",
            IMPLAUSIBLE_TIME,
        ),
    ]


def _canonical_json(alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    pairs = ", ".join(f"'{c}', {prefix}{c}" for c in _CANONICAL)
    return f"CAST(json_object({pairs}) AS VARCHAR)"


def screen(con: duckdb.DuckDBPyConnection, rows: str = "_sa_stage") -> None:
    """Repair self-replies and quarantine cycle-closing records of the staged ``rows``.

    Only the records that will be stored count: valid ones, the first of each id, and not
    already in the store. Cycles may run through stored posts, so the stored ancestors of
    the new replies are walked too (level by level, only as far as they go).
    """
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _sa_cy_dups AS
        SELECT platform, post_id, min(rowid) AS first FROM {rows}
        WHERE reason IS NULL GROUP BY platform, post_id HAVING count(*) > 1"""
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _sa_cy_new AS
        SELECT s.platform, s.post_id, s.parent_id AS up, s.rowid AS rid FROM {rows} s
        WHERE s.reason IS NULL AND s.parent_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM posts p
                          WHERE p.platform = s.platform AND p.post_id = s.post_id)
          AND NOT EXISTS (SELECT 1 FROM _sa_cy_dups d WHERE d.platform = s.platform
                          AND d.post_id = s.post_id AND d.first <> s.rowid)"""
    )
    _repair_self_replies(con, rows)
    _stored_ancestors(con)
    found = find_cycles(
        con,
        "SELECT platform, post_id, up, rid AS val FROM _sa_cy_new "
        "UNION ALL SELECT platform, post_id, up, NULL FROM _sa_cy_anc",
    )
    if found.cuts:
        con.execute(
            f"""UPDATE {rows} SET reason = '{REPLY_CYCLE}', raw = {_canonical_json()}
            WHERE rowid IN (SELECT val FROM _sa_cycle_cut)"""
        )
    for name in ("_sa_cy_dups", "_sa_cy_new", "_sa_cy_anc", "_sa_cycle_members", "_sa_cycle_cut"):
        con.execute(f"DROP TABLE IF EXISTS {name}")


def _repair_self_replies(con: duckdb.DuckDBPyConnection, rows: str) -> None:
    """A post replying to itself keeps the post, without the link; the record is kept aside."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _sa_self_replies AS
        SELECT s.platform, s.post_id, {_canonical_json("s")} AS raw FROM {rows} s
        WHERE s.rowid IN (SELECT rid FROM _sa_cy_new WHERE up = post_id)"""
    )
    if not con.execute("SELECT count(*) FROM _sa_self_replies").fetchall()[0][0]:
        return
    con.execute(
        f"UPDATE {rows} SET parent_id = NULL "
        "WHERE rowid IN (SELECT rid FROM _sa_cy_new WHERE up = post_id)"
    )
    con.execute("DELETE FROM _sa_cy_new WHERE up = post_id")


def _stored_ancestors(con: duckdb.DuckDBPyConnection) -> None:
    """``_sa_cy_anc``: stored posts above the new replies, through stored parents."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _sa_cy_anc AS "
        "SELECT platform, post_id, parent_id AS up FROM posts LIMIT 0"
    )
    if not con.execute("SELECT count(*) FROM (SELECT 1 FROM posts LIMIT 1)").fetchall()[0][0]:
        return
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _sa_cy_front AS
        SELECT DISTINCT platform, up AS post_id FROM _sa_cy_new n
        WHERE NOT EXISTS (SELECT 1 FROM _sa_cy_new m
                          WHERE m.platform = n.platform AND m.post_id = n.up)"""
    )
    # Each round climbs one level; posts already seen stop the climb, so it ends even if
    # an old store holds a cycle of its own.
    while con.execute("SELECT count(*) FROM (SELECT 1 FROM _sa_cy_front LIMIT 1)").fetchall()[0][0]:
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _sa_cy_step AS
            SELECT p.platform, p.post_id, p.parent_id AS up FROM posts p
            SEMI JOIN _sa_cy_front f ON f.platform = p.platform AND f.post_id = p.post_id
            WHERE p.parent_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM _sa_cy_anc a
                              WHERE a.platform = p.platform AND a.post_id = p.post_id)"""
        )
        con.execute("INSERT INTO _sa_cy_anc SELECT * FROM _sa_cy_step")
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _sa_cy_front AS
            SELECT DISTINCT platform, up AS post_id FROM _sa_cy_step s
            WHERE NOT EXISTS (SELECT 1 FROM _sa_cy_new m
                              WHERE m.platform = s.platform AND m.post_id = s.up)
              AND NOT EXISTS (SELECT 1 FROM _sa_cy_anc a
                              WHERE a.platform = s.platform AND a.post_id = s.up)"""
        )
    con.execute("DROP TABLE IF EXISTS _sa_cy_front")
    con.execute("DROP TABLE IF EXISTS _sa_cy_step")


def keep_repaired(con: duckdb.DuckDBPyConnection, import_id: int) -> int:
    """Put the original records of repaired self-replies in the quarantine, marked kept.

    Runs after the posts are inserted: only the records that were stored are kept aside
    (a self-reply that repeats a stored id is a plain duplicate). Returns how many.
    """
    if not con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = '_sa_self_replies'"
    ).fetchall()[0][0]:
        return 0
    con.execute(
        f"""INSERT INTO quarantine (import_id, record_no, line_no, raw, reason, kept)
        SELECT p.import_id, p.record_no, NULL, r.raw, '{REPLY_CYCLE}', true
        FROM _sa_self_replies r JOIN posts p
          ON p.platform = r.platform AND p.post_id = r.post_id AND p.import_id = ?""",
        [import_id],
    )
    n = con.execute(
        "SELECT count(*) FROM quarantine WHERE import_id = ? AND kept", [import_id]
    ).fetchall()[0][0]
    con.execute("DROP TABLE IF EXISTS _sa_self_replies")
    return int(n)
