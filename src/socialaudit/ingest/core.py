"""One import, all or nothing: stage, validate, de-duplicate, insert, count, commit.

Every format goes through :func:`import_file`, so the guarantees hold for all of them:
the whole import is one transaction (an interrupted or failed import leaves the store as it
was, also under ``kill -9``), the same file twice inserts nothing, and
``read = inserted + duplicates + quarantined`` is checked against the rows actually written
before the commit.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from socialaudit.errors import ImportCheckError, SourceError
from socialaudit.ingest import base, checks
from socialaudit.store import Store
from socialaudit.store.coverage import record_import_coverage
from socialaudit.store.turns import catch_up

# Mentions are whole handles: '@' not preceded by a word character or another '@' (so an
# e-mail address is not a mention) and as many handle characters as follow.
MENTION_RE = r"(?:^|[^A-Za-z0-9_@])@([A-Za-z0-9_]+)"
HASHTAG_RE = r"(?:^|[^\p{L}\p{N}_&#])#([\p{L}\p{N}_]*\p{L}[\p{L}\p{N}_]*)"
LINK_RE = r"https?://[^\s<>\"']+"


@dataclass(frozen=True)
class ImportResult:
    """What an import did, as recorded in the ``imports`` table."""

    import_id: int
    format: str
    path: str
    sha256: str
    read: int
    inserted: int
    duplicates: int
    quarantined: int
    quarantine_by_reason: Mapping[str, int] = field(default_factory=dict)
    orgs_added: int = 0
    seconds: float = 0.0
    #: Stored after a repair (a self-reply lost its parent link); the record is also kept
    #: in the quarantine, marked ``kept``, and not counted as quarantined.
    repaired: int = 0

    def summary(self) -> str:
        """One status line for people."""
        parts = [f"{self.duplicates:,} duplicates", f"{self.quarantined:,} quarantined"]
        if self.quarantine_by_reason:
            parts[-1] += (
                " ("
                + ", ".join(
                    f"{n:,} {reason}" for reason, n in sorted(self.quarantine_by_reason.items())
                )
                + ")"
            )
        line = f"Imported {self.inserted:,} of {self.read:,} records from {self.path} ("
        line += "; ".join(parts) + f") as import #{self.import_id} in {self.seconds:.1f} s."
        if self.repaired:
            line += (
                f" Dropped the parent link of {self.repaired:,} self-replies (kept in quarantine)."
            )
        if self.orgs_added:
            line += f" Found {self.orgs_added:,} new organizations."
        return line


def import_file(
    path: str | os.PathLike[str],
    /,
    *,
    store: Store,
    format: str | None = None,  # noqa: A002 - the user-facing word
    mapping: Mapping[str, str] | None = None,
    platform: str | None = None,
    time_format: str | None = None,
    source_name: str | None = None,
    on_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    export_coverage: bool = True,
) -> ImportResult:
    """Import one file into the store atomically.

    Parameters
    ----------
    path
        The export to read.
    store
        The store to write to.
    format
        A registered format name (``twcs``, ``csv``, ``jsonl``); detected from the header
        when omitted.
    mapping
        ``canonical field -> source column`` for the generic formats.
    platform, time_format
        For generic formats: the platform name stored with each post and a strptime
        format for the time column.
    source_name
        What to record as the source instead of ``path`` (e.g. ``stdin`` for a spooled pipe).
    on_commit
        Runs inside the import's transaction, last: a collector saves its cursor there, so
        the posts of a page and the cursor past it are stored together or not at all.
    export_coverage
        Record the import as ``export`` inbound coverage (SPEC section 5). Collectors pass
        False: they record the coverage their API calls give once the run is complete.

    Raises
    ------
    SourceError
        The file is missing, empty, binary, truncated or not in the format given.
    ImportCheckError
        The counts do not reconcile; nothing is written.
    """
    started = time.perf_counter()
    src = Path(path)
    options = base.ImportOptions(
        mapping=dict(mapping or {}), platform=platform, time_format=time_format
    )
    importer = choose_importer(src, format, options)
    started_at = _utcnow()
    # On failure the rollback discards the temporary tables with everything else.
    try:
        with store.transaction() as con:
            staged = importer.stage(con, src, options)
            result = commit(
                con, importer, staged, src, started_at, source_name, export_coverage=export_coverage
            )
            if on_commit is not None:
                on_commit(con)
    finally:
        importer.close()
    return replace(result, seconds=time.perf_counter() - started)


def choose_importer(
    src: Path,
    format: str | None,  # noqa: A002 - the user-facing word
    options: base.ImportOptions,
) -> base.Importer:
    """The importer for ``src``: the format named, else jsonl/csv for a mapping, else detected."""
    sample = base.read_sample(src)
    if format:
        return base.get_importer(format)
    if options.mapping:
        fmt = "jsonl" if sample.text.lstrip("\ufeff \t\r\n").startswith("{") else "csv"
        return base.get_importer(fmt)
    return base.detect(sample)


def commit(
    con: duckdb.DuckDBPyConnection,
    importer: base.Importer,
    staged: base.Staged,
    src: Path,
    started_at: datetime,
    source_name: str | None,
    *,
    export_coverage: bool = True,
) -> ImportResult:
    """Screen and commit one stage inside the caller's transaction (embedded or Spark import)."""
    checks.screen(con, staged.rows)
    result = _commit_stage(con, importer, staged, src, started_at, source_name)
    _drop_temp(con)
    if export_coverage:
        record_import_coverage(con, result.import_id)
    # The persisted turns move with the posts, in the same transaction (issue 18).
    catch_up(con)
    return result


def _commit_stage(
    con: duckdb.DuckDBPyConnection,
    importer: base.Importer,
    staged: base.Staged,
    src: Path,
    started_at: datetime,
    source_name: str | None,
) -> ImportResult:
    """Move the staged rows into the store's tables, count, reconcile and record the import."""
    import_id = int(
        con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchall()[0][0]
    )
    n_rows, n_bad = _number(con, importer, staged, src)
    _insert_posts(con, import_id)
    now = _utcnow()
    if staged.accounts is not None:
        _observe_accounts(con, staged.accounts, now)
    con.execute(
        """INSERT INTO accounts (platform, account_id, handle, observed_at)
        SELECT platform, author_id, any_value(author_handle), ? FROM _sa_numbered n
        WHERE reason IS NULL
          AND NOT EXISTS (SELECT 1 FROM accounts a
                          WHERE a.platform = n.platform AND a.account_id = n.author_id)
        GROUP BY platform, author_id""",
        [now],
    )
    _resolve_declared_accounts(con)
    orgs_added = _derive_orgs(con) if importer.derives_orgs else 0
    derive_roots(con)
    if staged.raw_records is not None:
        con.execute(
            f"""INSERT INTO raw_records
            SELECT k.platform, k.post_id, {import_id}, ?, k.raw
            FROM (SELECT DISTINCT ON (platform, post_id) * FROM {staged.raw_records}) k
            JOIN posts p ON p.platform = k.platform AND p.post_id = k.post_id
             AND p.import_id = {import_id}""",
            [importer.name],
        )
    con.execute(
        f"""INSERT INTO quarantine
        SELECT {import_id}, record_no, line_no, raw, reason, false FROM {staged.rejects}
        UNION ALL
        SELECT {import_id}, record_no, line_no, raw, reason, false
        FROM _sa_numbered WHERE reason IS NOT NULL"""
    )
    repaired = checks.keep_repaired(con, import_id)
    counts = _reconcile(con, import_id, staged, n_rows - n_bad, src)
    con.execute(
        """INSERT INTO imports (import_id, format, platform, source_path, sha256, started_at,
            finished_at, read, inserted, duplicates, quarantined, importer_version)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            import_id,
            importer.name,
            con.execute(f"SELECT any_value(platform) FROM {staged.rows}").fetchall()[0][0],
            source_name or str(src.resolve()),
            staged.sha256,
            started_at,
            _utcnow(),
            staged.read,
            counts.inserted,
            counts.duplicates,
            counts.quarantined,
            importer.version,
        ],
    )
    return replace(
        counts,
        import_id=import_id,
        format=importer.name,
        path=source_name or str(src),
        orgs_added=orgs_added,
        repaired=repaired,
    )


def _number(
    con: duckdb.DuckDBPyConnection, importer: base.Importer, staged: base.Staged, src: Path
) -> tuple[int, int]:
    """Check the staged counts and number every staged row by record (``_sa_numbered``).

    Returns (staged rows, invalid staged rows).
    """
    n_rows, n_bad = con.execute(f"SELECT count(*), count(reason) FROM {staged.rows}").fetchall()[0]
    n_rejects = con.execute(f"SELECT count(*) FROM {staged.rejects}").fetchall()[0][0]
    if n_rows + n_rejects != staged.read:
        raise ImportCheckError(
            f"Import of {src} read {staged.read:,} records but staged {n_rows + n_rejects:,}. "
            "Nothing was imported; please report this with the file."
        )
    # Staged rows are in file order; their rowids are contiguous from some base.
    if n_bad or n_rejects:
        if not staged.positioned:
            importer.positions(con)
        con.execute(
            f"""CREATE TEMP VIEW _sa_numbered AS
            SELECT s.*, p.record_no, p.line_no
            FROM (SELECT *, rowid - (SELECT min(rowid) FROM {staged.rows}) AS rid
                  FROM {staged.rows}) s
            JOIN _sa_pos p USING (rid)"""
        )
    else:
        con.execute(
            f"""CREATE TEMP VIEW _sa_numbered AS
            SELECT *, rowid - (SELECT min(rowid) FROM {staged.rows}) + 1 AS record_no,
                   CAST(NULL AS BIGINT) AS line_no
            FROM {staged.rows}"""
        )
    return int(n_rows), int(n_bad)


def _insert_posts(con: duckdb.DuckDBPyConnection, import_id: int) -> None:
    """Insert the valid numbered rows that are new: the first one stored wins.

    Anything already stored wins, then the earliest record of the file. Repeated ids are
    found with a hash aggregate (no sort of the whole file).
    """
    con.execute(
        """CREATE TEMP TABLE _sa_dups AS
        SELECT platform, post_id, min(record_no) AS first_no FROM _sa_numbered
        WHERE reason IS NULL GROUP BY platform, post_id HAVING count(*) > 1"""
    )
    # The anti-joins only where they can remove something: a first import into an empty
    # store, of a file without repeated ids, is a plain insert.
    keep = ["reason IS NULL"]
    if _any(con, "posts"):
        keep.append(
            "NOT EXISTS (SELECT 1 FROM posts p WHERE p.platform = s.platform "
            "AND p.post_id = s.post_id)"
        )
    if _any(con, "_sa_dups"):
        keep.append(
            "NOT EXISTS (SELECT 1 FROM _sa_dups d WHERE d.platform = s.platform "
            "AND d.post_id = s.post_id AND d.first_no <> s.record_no)"
        )
    con.execute(
        f"""INSERT INTO posts
        SELECT platform, post_id, author_id, created_at, text, parent_id, root_id, repost_of,
               quote_of, permalink, like_count, repost_count, reply_count, quote_count,
               view_count,
               CASE WHEN contains(text, '#') THEN regexp_extract_all(text, '{HASHTAG_RE}', 1)
                    ELSE [] END,
               {_mentions_sql()},
               CASE WHEN contains(text, '://')
                    THEN regexp_extract_all(text, '{LINK_RE.replace("'", "''")}')
                    ELSE [] END,
               lang, inbound, {import_id}, record_no
        FROM _sa_numbered s
        WHERE {" AND ".join(keep)}"""
    )


def _any(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether ``table`` has a row (without counting them all)."""
    return bool(
        con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1)").fetchall()[0][0]
    )


def _reconcile(
    con: duckdb.DuckDBPyConnection, import_id: int, staged: base.Staged, valid: int, src: Path
) -> ImportResult:
    """Count what the import wrote; raise unless read = inserted + duplicates + quarantined."""
    inserted = int(
        con.execute("SELECT count(*) FROM posts WHERE import_id = ?", [import_id]).fetchall()[0][0]
    )
    quarantined = int(
        con.execute(
            "SELECT count(*) FROM quarantine WHERE import_id = ? AND NOT kept", [import_id]
        ).fetchall()[0][0]
    )
    duplicates = valid - inserted
    if staged.read != inserted + duplicates + quarantined or duplicates < 0:
        raise ImportCheckError(
            f"Import of {src} does not reconcile: read {staged.read:,} != inserted {inserted:,}"
            f" + duplicates {duplicates:,} + quarantined {quarantined:,}. Nothing was imported."
        )
    by_reason = dict(
        con.execute(
            "SELECT reason, count(*) FROM quarantine WHERE import_id = ? AND NOT kept "
            "GROUP BY reason",
            [import_id],
        ).fetchall()
    )
    return ImportResult(
        import_id=import_id,
        format="",
        path=str(src),
        sha256=staged.sha256,
        read=staged.read,
        inserted=inserted,
        duplicates=duplicates,
        quarantined=quarantined,
        quarantine_by_reason=by_reason,
    )


#: Handles that are not Twitter-shaped: Bluesky's are domain names (``@acme.bsky.social``),
#: Reddit's are written ``u/name``. Every other platform keeps :data:`MENTION_RE`.
PLATFORM_MENTION_RE = {
    "bluesky": r"(?:^|[^A-Za-z0-9_@.])@([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+)",
    "reddit": r"(?:^|[^A-Za-z0-9_/])/?u/([A-Za-z0-9_-]+)",
}


def _mentions_sql() -> str:
    cases = " ".join(
        f"WHEN platform = '{platform}' THEN regexp_extract_all(text, '{regex}', 1)"
        for platform, regex in PLATFORM_MENTION_RE.items()
    )
    return f"""CASE WHEN text IS NULL THEN [] {cases}
                    WHEN contains(text, '@') THEN regexp_extract_all(text, '{MENTION_RE}', 1)
                    ELSE [] END"""


def _observe_accounts(con: duckdb.DuckDBPyConnection, staged: str, now: datetime) -> None:
    """Store the authors a format describes (follower counts, names) as last observed.

    Counts change over time, so a newer observation replaces an older one; a field the
    source leaves out keeps what was known.
    """
    con.execute(
        f"""UPDATE accounts SET handle = coalesce(s.handle, accounts.handle),
               display_name = coalesce(s.display_name, accounts.display_name),
               followers_count = coalesce(s.followers_count, accounts.followers_count),
               following_count = coalesce(s.following_count, accounts.following_count),
               created_at = coalesce(s.created_at, accounts.created_at),
               verified = coalesce(s.verified, accounts.verified), observed_at = ?
        FROM {staged} s
        WHERE s.platform = accounts.platform AND s.account_id = accounts.account_id""",
        [now],
    )
    con.execute(
        f"""INSERT INTO accounts
        SELECT DISTINCT ON (platform, account_id) platform, account_id, handle, display_name,
               followers_count, following_count, created_at, verified, ?
        FROM {staged} s
        WHERE NOT EXISTS (SELECT 1 FROM accounts a
                          WHERE a.platform = s.platform AND a.account_id = s.account_id)""",
        [now],
    )


MAX_ROOT_ROUNDS = 64


def derive_roots(con: duckdb.DuckDBPyConnection) -> None:
    """Fill ``root_id`` (the conversation root) where the source did not give it.

    A post without a parent is its own root; a reply takes its parent's root, walked down
    from known roots by pointer jumping. A reply whose chain reaches a post missing from the
    data keeps a NULL root until that post arrives (a later import fills it).
    """
    con.execute("UPDATE posts SET root_id = post_id WHERE root_id IS NULL AND parent_id IS NULL")
    if not con.execute("SELECT count(*) FROM posts WHERE root_id IS NULL LIMIT 1").fetchall()[0][0]:
        return
    # Pointer jumping, as the audit's self-thread walk: every rootless reply points at its
    # parent, and each round a pointer moves to where its target points, doubling how far it
    # reaches; after about log2(depth) rounds each points above the rootless set, at a post
    # with a root or at a missing one. (A recursive query took one full join per level of
    # depth: 2.3x slower on 2.8 M rows.) The walk runs on surrogate integer keys (a node's
    # rowid in ``_sa_upk``): ``top`` is the highest rootless post reached, ``up`` the id of
    # its parent while that is rootless too; text ids are joined once before and once after.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _sa_upk AS "
        "SELECT platform, post_id, parent_id, rowid AS prow FROM posts WHERE root_id IS NULL"
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _sa_up AS
        SELECT u.rowid AS id, u.rowid AS top, t.rowid AS up FROM _sa_upk u
        LEFT JOIN _sa_upk t ON t.platform = u.platform AND t.post_id = u.parent_id"""
    )
    n = con.execute("SELECT count(*) FROM _sa_up").fetchall()[0][0]
    for rounds in range(MAX_ROOT_ROUNDS):
        moving = con.execute("SELECT count(up) FROM _sa_up").fetchall()[0][0]
        # Past 2**rounds >= n steps, a pointer still moving is on a reply cycle (see
        # socialaudit.store.cycles): stop there rather than spin.
        if not moving or 2**rounds >= n:
            break
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _sa_up AS
            SELECT u.id, coalesce(t.top, u.top) AS top, t.up
            FROM _sa_up u LEFT JOIN _sa_up t ON t.id = u.up"""
        )
    # Replies still pointing into the set sit on a reply cycle: they keep a NULL root.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _sa_roots AS
        SELECT k.prow, a.root_id
        FROM _sa_up u JOIN _sa_upk k ON k.rowid = u.id JOIN _sa_upk t ON t.rowid = u.top
        JOIN posts a ON a.platform = t.platform AND a.post_id = t.parent_id
        WHERE u.up IS NULL AND a.root_id IS NOT NULL"""
    )
    con.execute(
        # By rowid (stable inside the transaction): no second join on the text ids.
        "UPDATE posts SET root_id = r.root_id FROM _sa_roots r WHERE posts.rowid = r.prow"
    )
    for name in ("_sa_up", "_sa_upk", "_sa_roots"):
        con.execute(f"DROP TABLE IF EXISTS {name}")


def _resolve_declared_accounts(con: duckdb.DuckDBPyConnection) -> None:
    """Point org accounts declared before their posts arrived at the accounts now known.

    orgs.toml names handles; until an import brings the account, its id is the handle as
    written. Handles compare case-insensitively, so ``acmehelp`` finds ``AcmeHelp``.
    """
    con.execute(
        """UPDATE org_accounts SET account_id = a.account_id, handle = a.handle
        FROM accounts a
        WHERE a.platform = org_accounts.platform
          AND lower(a.handle) = lower(org_accounts.handle)
          AND NOT EXISTS (SELECT 1 FROM accounts x WHERE x.platform = org_accounts.platform
                          AND x.account_id = org_accounts.account_id)"""
    )


def _derive_orgs(con: duckdb.DuckDBPyConnection) -> int:
    """Every author of an outbound post is an organization (TWCS: ``inbound=False``).

    Accounts already claimed by an organization (declared or derived) are left alone.
    """
    con.execute(
        """CREATE TEMP TABLE _sa_orgs AS
        SELECT DISTINCT n.platform, n.author_id, n.author_handle FROM _sa_numbered n
        WHERE n.reason IS NULL AND n.inbound = false
          AND NOT EXISTS (SELECT 1 FROM org_accounts oa
                          WHERE oa.platform = n.platform AND oa.account_id = n.author_id)"""
    )
    # Two platforms can share a handle; the org id then carries the platform.
    con.execute(
        """INSERT INTO orgs (org_id, name, sla_minutes, origin)
        SELECT CASE WHEN EXISTS (SELECT 1 FROM orgs o WHERE o.org_id = a.author_handle)
                    THEN a.author_handle || '@' || a.platform ELSE a.author_handle END,
               a.author_handle, NULL, 'derived'
        FROM (SELECT DISTINCT ON (author_handle) * FROM _sa_orgs ORDER BY author_handle,
              platform) a"""
    )
    con.execute(
        """INSERT INTO org_accounts
        SELECT o.org_id, a.platform, a.author_id, a.author_handle FROM _sa_orgs a
        JOIN orgs o ON o.origin = 'derived'
         AND (o.org_id = a.author_handle OR o.org_id = a.author_handle || '@' || a.platform)
        WHERE NOT EXISTS (SELECT 1 FROM org_accounts x
                          WHERE x.platform = a.platform AND x.account_id = a.author_id)
        QUALIFY row_number() OVER (PARTITION BY a.platform, a.author_id ORDER BY o.org_id) = 1"""
    )
    return int(con.execute("SELECT count(*) FROM _sa_orgs").fetchall()[0][0])


def _drop_temp(con: duckdb.DuckDBPyConnection) -> None:
    for kind, catalog in (("VIEW", "duckdb_views()"), ("TABLE", "duckdb_tables()")):  # views first
        names = con.execute(
            f"SELECT {kind.lower()}_name FROM {catalog} "
            "WHERE temporary AND starts_with(" + kind.lower() + "_name, '_sa_')"
        ).fetchall()
        for (name,) in names:
            con.execute(f"DROP {kind} IF EXISTS {name}")


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


__all__ = ["ImportResult", "SourceError", "import_file"]
