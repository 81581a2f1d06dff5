"""Repair the reply cycles of stores made before imports refused them (issue 14).

A post replying to itself, or posts replying to each other in a ring, made every walk up a
thread endless. In each cycle, the post imported last loses its parent link (it becomes the
top of its thread); its record as it was is kept in the quarantine with the reason
``reply cycle`` and ``kept = true`` (the post stays stored, so the import counts still add up).
"""

from __future__ import annotations

import duckdb

from socialaudit.store.cycles import find_cycles

NAME = "reply_cycles"

#: The same wording as the importer's (socialaudit.ingest.checks.REPLY_CYCLE).
REASON = "reply cycle"


def apply(con: duckdb.DuckDBPyConnection) -> None:
    """Add ``quarantine.kept`` and cut one link of every reply cycle."""
    con.execute("ALTER TABLE quarantine ADD COLUMN kept BOOLEAN DEFAULT false")
    con.execute("UPDATE quarantine SET kept = false WHERE kept IS NULL")
    found = find_cycles(
        con,
        """SELECT platform, post_id, parent_id AS up,
                  row_number() OVER (ORDER BY import_id NULLS FIRST, record_no NULLS FIRST,
                                     platform, post_id) AS val
           FROM posts WHERE parent_id IS NOT NULL""",
    )
    if found.cuts:
        con.execute(
            f"""INSERT INTO quarantine (import_id, record_no, line_no, raw, reason, kept)
            SELECT p.import_id, p.record_no, NULL,
                   CAST(json_object('platform', p.platform, 'post_id', p.post_id,
                        'author_id', p.author_id, 'created_at', p.created_at, 'text', p.text,
                        'parent_id', p.parent_id, 'root_id', p.root_id, 'inbound', p.inbound)
                        AS VARCHAR),
                   '{REASON}', true
            FROM posts p SEMI JOIN _sa_cycle_cut c
              ON c.platform = p.platform AND c.post_id = p.post_id
            WHERE p.import_id IS NOT NULL AND p.record_no IS NOT NULL
            ON CONFLICT DO NOTHING"""
        )
        con.execute(
            """UPDATE posts SET parent_id = NULL, root_id = coalesce(posts.root_id, posts.post_id)
            FROM _sa_cycle_cut c
            WHERE c.platform = posts.platform AND c.post_id = posts.post_id"""
        )
    con.execute("DROP TABLE IF EXISTS _sa_cycle_members")
    con.execute("DROP TABLE IF EXISTS _sa_cycle_cut")
