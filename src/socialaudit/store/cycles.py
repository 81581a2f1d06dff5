"""Find reply cycles (a post that is, through its parents, its own ancestor) in SQL.

A reply points at one parent, so the reply graph is a functional graph: each connected part
holds at most one cycle, and breaking one link of that cycle leaves a forest. Cycles are
found by pointer jumping, as the root and turn walks do, with a bound: after ``r`` rounds a
pointer has moved ``2**r`` steps, and a chain of distinct posts inside a set of ``n`` posts
is at most ``n`` long, so once ``2**r >= n`` a pointer still inside the set sits on or leads
into a cycle. Its target then lies on the cycle, and the targets of all such pointers are
exactly the cycle members (on a cycle, a jump is a rotation). While jumping, each pointer
also carries the largest ``val`` it passed; on a cycle that covers every member, so the
member whose ``val`` equals that maximum is chosen to break the cycle: one per cycle.

Used at import (``val`` = position in the file: the record that closes a cycle is the last
one) and by migration 5 (``val`` = import order) on stores made before cycles were refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

#: Safety net only: ``2**rounds >= n`` ends the walk far earlier for any real ``n``.
MAX_ROUNDS = 64


@dataclass(frozen=True)
class Cycles:
    """What :func:`find_cycles` found: members of cycles, and one post per cycle to cut."""

    members: int
    cuts: int


def find_cycles(con: duckdb.DuckDBPyConnection, nodes_sql: str) -> Cycles:
    """Find the reply cycles among ``nodes_sql`` and fill ``_sa_cycle_cut``.

    Parameters
    ----------
    con
        The connection (inside the caller's transaction).
    nodes_sql
        A query with columns ``platform, post_id, up, val``: every post that has a parent
        (``up``), with ``val`` ranking which member breaks a cycle (the largest does; NULL
        never does). Posts without a parent cannot be on a cycle and may be left out.

    Returns
    -------
    Cycles
        How many posts lie on a cycle, and how many were chosen to cut. The temp tables
        ``_sa_cycle_members(platform, post_id)`` and ``_sa_cycle_cut(platform, post_id, val)``
        hold them.
    """
    # Surrogate integer keys: each node's id is its rowid in ``_sa_cyk``, and ``up`` the id
    # of the node its pointer reaches next (NULL once it left the set). One join on the text
    # ids here; every round then joins one integer to another instead of hashing two text
    # columns (about 3x less work on 2.8 M rows).
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _sa_cyk AS "
        f"SELECT platform, post_id, up, val FROM ({nodes_sql}) WHERE up IS NOT NULL"
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _sa_cy AS
        SELECT u.rowid AS id, t.rowid AS up, u.val, u.val AS best FROM _sa_cyk u
        LEFT JOIN _sa_cyk t ON t.platform = u.platform AND t.post_id = u.up"""
    )
    n = int(con.execute("SELECT count(*) FROM _sa_cy").fetchall()[0][0])
    for rounds in range(MAX_ROUNDS):
        if not con.execute("SELECT count(up) FROM _sa_cy").fetchall()[0][0]:
            break
        if 2**rounds >= n:
            break
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _sa_cy AS
            SELECT u.id, t.up, u.val, greatest(u.best, t.best) AS best
            FROM _sa_cy u LEFT JOIN _sa_cy t ON t.id = u.up"""
        )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _sa_cycle_members AS
        SELECT k.platform, k.post_id, k.rowid AS id FROM _sa_cyk k
        WHERE k.rowid IN (SELECT up FROM _sa_cy WHERE up IS NOT NULL)"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _sa_cycle_cut AS
        SELECT m.platform, m.post_id, c.val FROM _sa_cy c JOIN _sa_cycle_members m ON m.id = c.id
        WHERE c.val IS NOT NULL AND c.val = c.best"""
    )
    members = con.execute("SELECT count(*) FROM _sa_cycle_members").fetchall()[0][0]
    cuts = con.execute("SELECT count(*) FROM _sa_cycle_cut").fetchall()[0][0]
    con.execute("DROP TABLE IF EXISTS _sa_cy")
    con.execute("DROP TABLE IF EXISTS _sa_cyk")
    return Cycles(members=int(members), cuts=int(cuts))
