"""Keep the persisted turn tables (migration 9) up to date, inside the writer's transaction.

An audit used to rebuild every turn of the store (the self-thread walk, inbox membership,
first responses): about 5 s at 2.8 M posts, for every audit and every dashboard restart.
The turns are now stored and brought up to date by each import, in the import's own
transaction, so a ``kill -9`` leaves either the old posts with the old turns or the new posts
with the new turns. Only the turns that the new posts can change are recomputed:

- a new post joins its parent's turn (a new reply can answer an old turn, or follow it up);
- a new post can be the missing parent of stored posts (a late-arriving parent): those
  children, and the turns they opened, may now belong to the new post's turn, and an
  opener's parent author (which decides inbox membership) changes.

So the affected *old* turns are the turns of the new posts' stored parents and children;
the posts to re-walk are the new posts plus every post of those turns. That set is closed
under "same-author parent" (a post's same-author parent is in its turn), so walking it alone
gives the same turn ids as walking the whole store. The rows of org turns are computed by
the very Ibis expressions the audit uses (:func:`socialaudit.metrics.responsiveness.org_turns`),
compiled to SQL on the transaction's connection.

Org turns depend on the org's accounts. ``org_turns_accounts`` records the accounts they
were built with; an org whose accounts differ now (declared after the import, a derived org,
a handle resolved) is recomputed whole, here when an import or ``orgs.toml`` writes, and in
memory by a reader that finds the tables behind (:func:`fresh`).
"""

from __future__ import annotations

from typing import Any

import duckdb
import ibis

from socialaudit.metrics import responsiveness as rs
from socialaudit.store.schema import SCHEMAS, require_table

#: Columns of ``org_turns`` in table order (the audit's turns minus answered and age).
ORG_TURN_COLUMNS = rs.STORED_TURN_COLUMNS
#: Compiled SQL by expression; bounded, though the update builds a few dozen at most.
_SQL: dict[Any, str] = {}
MAX_MEMO = 512
#: What :func:`~socialaudit.metrics.responsiveness.link_parents` reads of a post.
#: Only these are copied for the posts re-walked.
LINK_COLUMNS = (
    "platform",
    "post_id",
    "author_id",
    "created_at",
    "parent_id",
    "inbound",
    "mentions",
)


class SqlEngine:
    """The :class:`~socialaudit.metrics.base.Engine` protocol on a raw DuckDB connection.

    Expressions are compiled to DuckDB SQL and run on ``con``, so they take part in the
    caller's transaction (an Ibis backend would run them on its own cursor). Temporary
    tables are named by their order within one engine, so the same update builds the same
    expressions every time and their SQL is compiled once per process (compiling costs more
    than running on a small import).
    """

    backend_name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.temp: list[str] = []

    def table(self, name: str) -> ibis.Table:
        """A store table as an unbound expression (compiled by name)."""
        return ibis.table(SCHEMAS[require_table(name)], name=name)

    def sql(self, expr: ibis.Expr) -> str:
        """The DuckDB SQL of ``expr`` (memoized by the expression's structure)."""
        key = expr.op()
        text = _SQL.get(key)
        if text is None:
            if len(_SQL) > MAX_MEMO:
                _SQL.clear()
            text = _SQL[key] = str(ibis.to_sql(expr, dialect="duckdb"))
        return text

    def execute(self, expr: ibis.Expr, **kwargs: Any) -> Any:
        """Run a scalar expression (all the turn walk asks for)."""
        return self.con.execute(self.sql(expr)).fetchall()[0][0]

    def cache(self, expr: ibis.Table) -> ibis.Table:
        """Materialize ``expr`` as a temporary table in the transaction."""
        name = f"_sa_turns_{len(self.temp) + 1}"
        self.con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {self.sql(expr)}')
        self.temp.append(name)
        return ibis.table(expr.schema(), name=name)

    def drop(self) -> None:
        """Drop the temporary tables this engine made."""
        for name in self.temp:
            self.con.execute(f'DROP TABLE IF EXISTS "{name}"')
        self.temp = []


def _state(con: duckdb.DuckDBPyConnection) -> tuple[int, int] | None:
    row = con.execute("SELECT import_id, posts FROM turns_state").fetchall()
    return (int(row[0][0]), int(row[0][1])) if row else None


def catch_up(con: duckdb.DuckDBPyConnection) -> None:
    """Bring the turn tables up to the store's posts and org accounts (in ``con``'s transaction).

    Incremental from the import recorded in ``turns_state``; a full build when the tables
    were never built or posts were removed since (a watcher's deletion).
    """
    last = int(con.execute("SELECT coalesce(max(import_id), 0) FROM imports").fetchall()[0][0])
    state = _state(con)
    incremental = False
    if state is not None:
        before = con.execute(
            "SELECT count(*) FROM posts WHERE import_id <= ?", [state[0]]
        ).fetchall()[0][0]
        incremental = int(before) == state[1]
    eng = SqlEngine(con)
    try:
        if incremental:
            _update(eng)
        else:
            for table in ("turn_links", "org_turns"):
                con.execute(f"DELETE FROM {table}")
            tposts = _rewalk(eng, None)
            _insert_org_turns(eng, tposts, eng.table("org_accounts"), some=False)
        con.execute("DELETE FROM org_turns_accounts")
        con.execute("INSERT INTO org_turns_accounts SELECT * FROM org_accounts")
        posts = con.execute("SELECT count(*) FROM posts").fetchall()[0][0]
        con.execute("DELETE FROM turns_state")
        con.execute("INSERT INTO turns_state VALUES (?, ?)", [last, int(posts)])
    finally:
        eng.drop()
        con.execute("DROP TABLE IF EXISTS _sa_turns_stale")


def _update(eng: SqlEngine) -> None:
    """Recompute the turns the new posts touch, and every turn of an org whose accounts changed.

    The turns of the re-walked posts are new posts' own or among the old turns they touched
    (an old post's same-author parent never changes), so deleting the rows of those old turns
    and inserting the re-walked ones replaces exactly what changed.
    """
    con = eng.con
    stale = _stale_orgs(con)
    changed, old_turns = _affected(eng)
    tposts = _rewalk(eng, changed, old_turns)
    con.execute(
        "DELETE FROM org_turns WHERE org_id IN (SELECT org_id FROM _sa_turns_stale) "
        f'OR (platform, turn_id) IN (SELECT platform, turn_id FROM "{old_turns.get_name()}")'
    )
    oa = eng.table("org_accounts")
    stale_t = ibis.table({"org_id": "string"}, name="_sa_turns_stale")
    _insert_org_turns(eng, tposts, oa.anti_join(stale_t, "org_id"))
    if stale:
        everything = rs.turn_posts(
            rs.link_parents(eng.table("posts")), _pointers(eng.table("turn_links"))
        )
        _insert_org_turns(eng, everything, oa.semi_join(stale_t, "org_id"), some=False)


def _stale_orgs(con: duckdb.DuckDBPyConnection) -> int:
    """Fill ``_sa_turns_stale`` with the orgs whose accounts differ from the built ones."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _sa_turns_stale AS
        SELECT DISTINCT org_id FROM (
            (SELECT * FROM org_accounts EXCEPT SELECT * FROM org_turns_accounts)
            UNION ALL
            (SELECT * FROM org_turns_accounts EXCEPT SELECT * FROM org_accounts))"""
    )
    return int(con.execute("SELECT count(*) FROM _sa_turns_stale").fetchall()[0][0])


def _pointers(links: ibis.Table) -> ibis.Table:
    """``turn_links`` in the shape of the walk's pointers (platform, post_id, up)."""
    return links.select("platform", "post_id", up=links.turn_id)


def _affected(eng: SqlEngine) -> tuple[ibis.Table, ibis.Table]:
    """The posts to re-walk and the old turns they held, after the imports not yet built.

    Returns (posts: platform, post_id; old turns: platform, turn_id), both materialized.
    """
    posts = eng.table("posts")
    links = eng.table("turn_links")
    # The import built through, as a sub-query: the SQL stays the same from one update to
    # the next.
    built = eng.table("turns_state").import_id.max().as_scalar()
    new = eng.cache(
        posts.filter(posts.import_id > built).select("platform", "post_id", "parent_id")
    )
    old = posts.filter(posts.import_id <= built)
    parents = old.semi_join(
        new, [old.platform == new.platform, old.post_id == new.parent_id]
    ).select("platform", "post_id")
    children = old.semi_join(
        new, [old.platform == new.platform, old.parent_id == new.post_id]
    ).select("platform", "post_id")
    hit = ibis.union(parents, children, distinct=True)
    j = hit.left_join(links, ["platform", "post_id"])
    old_turns = eng.cache(
        j.select(j.platform, turn_id=ibis.coalesce(j.turn_id, j.post_id)).distinct()
    )
    members = links.semi_join(old_turns, ["platform", "turn_id"]).select("platform", "post_id")
    changed = eng.cache(
        ibis.union(
            new.select("platform", "post_id"),
            old_turns.select("platform", post_id=old_turns.turn_id),
            members,
            distinct=True,
        )
    )
    return changed, old_turns


def _rewalk(
    eng: SqlEngine, changed: ibis.Table | None, old_turns: ibis.Table | None = None
) -> ibis.Table:
    """Walk the self-threads of ``changed`` (None: every post) again and store their links.

    Returns their turn posts (materialized).
    """
    con = eng.con
    posts = eng.table("posts")
    if changed is None:
        linked = eng.cache(rs.link_parents(posts))
    else:
        # The few posts to re-walk first, then only their parents: joining them against
        # every post would hash the whole store.
        mine = eng.cache(posts.select(*LINK_COLUMNS).semi_join(changed, ["platform", "post_id"]))
        parents = posts.semi_join(
            mine, [posts.platform == mine.platform, posts.post_id == mine.parent_id]
        )
        linked = eng.cache(rs.link_parents(mine, parents=parents))
    pointers = rs.turn_ids(eng, linked)
    if changed is not None:
        con.execute(
            "DELETE FROM turn_links WHERE (platform, post_id) IN "
            f'(SELECT platform, post_id FROM "{changed.get_name()}")'
        )
    con.execute(
        "INSERT INTO turn_links SELECT platform, post_id, up FROM "
        f"({eng.sql(pointers.select('platform', 'post_id', 'up'))})"
    )
    return eng.cache(rs.turn_posts(linked, pointers))


def _insert_org_turns(
    eng: SqlEngine, tposts: ibis.Table, org_accounts: ibis.Table, *, some: bool = True
) -> None:
    """Insert the org turns of ``tposts`` (whole turns) for ``org_accounts``' orgs.

    With ``some`` (a few turns), the replies are looked for among the posts that reply into
    them only, rather than among every post of the orgs' accounts.
    """
    posts = eng.table("posts")
    if some:
        replies = posts.select("platform", "post_id", "author_id", "created_at", "parent_id")
        posts = eng.cache(
            replies.semi_join(
                tposts, [replies.platform == tposts.platform, replies.parent_id == tposts.post_id]
            )
        )
    t = rs.org_turns(posts, tposts, org_accounts, reference_epoch_s=0)
    cols = ", ".join(ORG_TURN_COLUMNS)
    eng.con.execute(f"INSERT INTO org_turns SELECT {cols} FROM ({eng.sql(t)})")
