"""What every collector shares: the run loop, the stored cursor, coverage, credentials.

A run has two phases. First the account's own posts and the threads under them, as before;
then the inbound phase: what customers addressed to the account, by the most complete
method the credentials allow (SPEC section 5, inbound coverage). Each phase yields pages;
each page is written as a file in the matching importer's format and imported with
:func:`socialaudit.import_file`, and the cursor past that page is saved in the same
transaction. So an interrupted run (Ctrl-C, a crash, retries exhausted, a token revoked)
has stored exactly the pages whose cursor it saved, and the next run starts after the last
of them: nothing is fetched twice into the store, nothing is skipped. A cursor the platform
hands back twice would make a run fetch forever, so it stops the run with an error instead.

Only a run that reaches its end records its coverage row (method, window, inbound posts
seen), in the transaction that saves its final cursor: a coverage row never claims a window
that was not fetched in full.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from socialaudit.collect.http import Client
from socialaudit.errors import CollectError, ConfigError
from socialaudit.ingest import import_file
from socialaudit.store import Store
from socialaudit.store.coverage import CoverageRow, record_coverage

CONFIG_ENV = "SOCIALAUDIT_CONFIG"
DEFAULT_CONFIG = Path("~/.config/socialaudit/credentials.toml")


@dataclass
class Page:
    """One unit of collection: documents to import and the cursor state after them.

    ``cursor`` is what the platform handed back for the next page (checked for loops);
    ``state`` is everything needed to resume right after this page; ``inbound`` counts the
    posts addressed to the account that this page brought.
    """

    docs: list[Any]
    state: dict[str, Any]
    cursor: str | None = None
    label: str = ""
    inbound: int = 0


@dataclass
class Listing:
    """One response of a paged listing: its records, the cursor to the next page, the document.

    No records: the listing is exhausted. ``doc`` is the response as the importer reads it
    (when the collector stores the whole response, not only the records).
    """

    records: list[dict[str, Any]]
    next: Any
    doc: Any = None


def paginate(
    fetch: Callable[[Any], Listing],
    build: Callable[[Listing, Any, Any], Page],
    *,
    cursor: Any,
    top: Any = None,
    advance: Callable[[Any, list[dict[str, Any]]], Any] | None = None,
    reached: Callable[[list[dict[str, Any]]], bool] | None = None,
) -> Iterator[Page]:
    """The paging loop every collector runs: fetch, move ``top``, stop at the last run's newest.

    ``fetch(cursor)`` returns one response. ``advance(top, records)`` moves the run's top (the
    newest record seen: where the next incremental run stops); ``reached(records)`` says the
    page holds a record the last run already stored, so no further page is fetched.
    ``build(listing, next_cursor, top)`` makes the page, with the state to resume after it.
    """
    while True:
        listing = fetch(cursor)
        if not listing.records:
            return
        if advance is not None:
            top = advance(top, listing.records)
        nxt = None if reached is not None and reached(listing.records) else listing.next
        yield build(listing, nxt, top)
        if not nxt:
            return
        cursor = nxt


def paginate_by_time(
    fetch: Callable[[Any], Listing],
    build: Callable[[Listing, Any, Any], Page],
    *,
    state: dict[str, Any],
    cursor: Any,
    stamps: Callable[[list[dict[str, Any]]], list[Any]],
    top_key: str = "top",
    newest_key: str = "newest",
) -> Iterator[Page]:
    """:func:`paginate` over a listing newest first whose records carry a time.

    ``stamps(records)`` are their times (comparable: ISO text or epoch seconds). The run's
    top is the latest time seen; paging stops at the page that reaches ``state[newest_key]``,
    the last run's top.
    """
    newest = state.get(newest_key)

    def advance(top: Any, records: list[dict[str, Any]]) -> Any:
        return (
            max([top, *stamps(records)]) if top is not None else max(stamps(records), default=None)
        )

    def reached(records: list[dict[str, Any]]) -> bool:
        return newest is not None and any(s <= newest for s in stamps(records))

    return paginate(
        fetch, build, cursor=cursor, top=state.get(top_key), advance=advance, reached=reached
    )


def inbound_page(
    posts: list[dict[str, Any]],
    *,
    document: Callable[[list[dict[str, Any]]], Any],
    thread: Callable[[Any], Any] | None,
    key: str,
    state: dict[str, Any],
    cursor: str | None,
    label: str,
) -> Page:
    """A page of posts addressed to the account: one document of them, then each one's thread.

    ``thread(post[key])`` fetches a post's thread (None: threads are not fetched); a post
    without ``key`` gets none.
    """
    docs: list[Any] = [document(posts)] if posts else []
    if thread is not None:
        docs.extend(thread(p[key]) for p in posts if p.get(key))
    return Page(docs=docs, state=state, cursor=cursor, label=label, inbound=len(posts))


@dataclass
class CollectResult:
    """What a run did."""

    platform: str
    target: str
    pages: int = 0
    read: int = 0
    inserted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    requests: int = 0
    resumed: bool = False
    import_ids: list[int] = field(default_factory=list)
    #: Inbound method (complete, search, threads_only) and posts it brought.
    inbound: str = "threads_only"
    inbound_seen: int = 0
    org_id: str | None = None
    finished: bool = False

    def summary(self) -> str:
        """One status line for people."""
        how = "Resumed and collected" if self.resumed else "Collected"
        return (
            f"{how} {self.inserted:,} new posts ({self.duplicates:,} duplicates: already "
            f"stored or sent twice; {self.quarantined:,} quarantined) for "
            f"{self.platform}:{self.target} in "
            f"{self.pages:,} pages and {self.requests:,} requests; inbound coverage "
            f"{self.inbound} ({self.inbound_seen:,} inbound posts seen)."
        )


def load_state(store: Store, platform: str, target: str) -> dict[str, Any]:
    """The saved cursor state of a target ({} when never collected)."""
    rows = store.raw.execute(
        "SELECT state FROM collector_cursors WHERE platform = ? AND target = ?",
        [platform, target],
    ).fetchall()
    return json.loads(rows[0][0]) if rows and rows[0][0] else {}


def save_state(
    con: duckdb.DuckDBPyConnection, platform: str, target: str, state: dict[str, Any]
) -> None:
    """Replace the cursor state (called inside an import's transaction)."""
    con.execute(
        "DELETE FROM collector_cursors WHERE platform = ? AND target = ?", [platform, target]
    )
    con.execute(
        "INSERT INTO collector_cursors VALUES (?, ?, ?, ?)",
        [platform, target, json.dumps(state), datetime.now(UTC).replace(tzinfo=None)],
    )


def iso(epoch_s: float) -> str:
    """An epoch time as the ISO 8601 UTC text the APIs take (``2023-03-01T10:00:00Z``)."""
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str | None) -> datetime | None:
    """ISO 8601 text (``Z`` or an offset) as a naive UTC datetime; None when unreadable."""
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return stamp


@dataclass
class _Run:
    """The bookkeeping of one run, saved with every page so a resumed run carries it on."""

    run_id: str
    started: str
    phase: str = "own"
    own: dict[str, Any] = field(default_factory=dict)
    inbound: dict[str, Any] = field(default_factory=dict)
    seen: int = 0
    imports: list[int] = field(default_factory=list)
    previous_to: str | None = None

    def state(self, *, resume: bool = True) -> dict[str, Any]:
        return {
            "resume": resume,
            "run_id": self.run_id,
            "started": self.started,
            "phase": self.phase,
            "own": self.own,
            "inbound": self.inbound,
            "seen": self.seen,
            "imports": self.imports,
            "previous_to": self.previous_to,
        }


class Collector(ABC):
    """A platform collector: subclasses implement :meth:`own_pages` over ``self.client``.

    ``inbound_pages`` fetches what customers addressed to the account, by ``self.method``
    (``threads_only`` when it fetches nothing beyond the threads of the account's posts).
    """

    platform: str = ""
    #: The platform name posts are stored under (X's importer stores ``twitter``).
    store_platform: str = ""
    #: The importer that reads the pages (JSON lines, one document per line).
    format: str = ""

    def __init__(self, client: Client, target: str) -> None:
        self.client = client
        self.target = target
        self.method = "threads_only"
        #: The target's own id and handle on the platform, once known.
        self.account_id: str | None = None
        self.handle: str | None = None
        #: Where this run's window ends (its start time, ISO): searches are bounded by it.
        self.until: str | None = None

    @property
    def stored_platform(self) -> str:
        """The ``platform`` value of this collector's posts in the store."""
        return self.store_platform or self.platform

    def prepare(self, state: dict[str, Any]) -> None:
        """Log in and decide ``self.method`` before the first page (default: nothing to do)."""
        return None

    @abstractmethod
    def own_pages(self, state: dict[str, Any]) -> Iterator[Page]:
        """Yield pages of the account's own posts from ``state`` ({} for a first run) onwards."""

    def inbound_pages(self, state: dict[str, Any], *, since: str | None) -> Iterator[Page]:
        """Yield pages of what customers addressed to the account (none for threads_only).

        ``since`` is where the previous complete run's window ended (None on a first run).
        """
        return iter(())

    def finish(self, state: dict[str, Any]) -> dict[str, Any]:
        """The own-posts state a completed run leaves for the next (incremental) one."""
        return state

    def finish_inbound(self, state: dict[str, Any]) -> dict[str, Any]:
        """The inbound state a completed run leaves for the next one."""
        return state

    def coverage_rows(
        self, run_id: str, *, start: datetime | None, end: datetime, seen: int
    ) -> list[CoverageRow]:
        """What this run covered: one row by default (X splits mentions and search)."""
        return [
            CoverageRow(
                platform=self.stored_platform,
                account_id=self.account_id or self.target,
                run_id=run_id,
                inbound=self.method,
                covered_from=start,
                covered_to=end,
                inbound_seen=seen,
                target=self.target,
            )
        ]

    def run(
        self,
        store: Store,
        *,
        max_pages: int | None = None,
        progress: Callable[[CollectResult, str], None] | None = None,
        inbound: bool = True,
        on_finish: Callable[[duckdb.DuckDBPyConnection, Collector], str | None] | None = None,
    ) -> CollectResult:
        """Collect page by page into the store; see the module docstring for guarantees.

        ``on_finish`` runs in the final transaction and returns the org the coverage rows
        belong to (the caller adopts or creates it there).
        """
        saved = load_state(store, self.platform, self.target)
        if saved and "own" not in saved:  # a cursor saved before runs had two phases
            saved = {"own": saved, "resume": bool(saved.get("resume"))}
        resumed = bool(saved.get("resume"))
        if not inbound:
            self.method = "threads_only"
        self.prepare(saved)
        if not inbound:
            self.method = "threads_only"
        started = iso(self.client.clock())
        run = _Run(
            run_id=saved["run_id"] if resumed and saved.get("run_id") else uuid.uuid4().hex[:12],
            started=saved["started"] if resumed and saved.get("started") else started,
            phase=saved.get("phase", "own") if resumed else "own",
            own=saved.get("own") or {},
            inbound=saved.get("inbound") or {},
            seen=int(saved.get("seen") or 0) if resumed else 0,
            imports=list(saved.get("imports") or []) if resumed else [],
            previous_to=saved.get("previous_to") if resumed else saved.get("last_to"),
        )
        self.until = run.started
        result = CollectResult(self.platform, self.target, resumed=resumed, inbound=self.method)
        result.inbound_seen = run.seen
        with tempfile.TemporaryDirectory(prefix="socialaudit-collect-") as tmp:
            if run.phase == "own":
                if not self._phase(store, Path(tmp), run, result, max_pages, progress):
                    return self._stop(result)
                run.own = self.finish(run.own)
                run.phase = "inbound"
                with store.transaction() as con:
                    save_state(con, self.platform, self.target, run.state())
            if inbound and self.method != "threads_only":
                if not self._phase(store, Path(tmp), run, result, max_pages, progress):
                    return self._stop(result)
        self._complete(store, run, on_finish, result)
        return self._stop(result)

    def _stop(self, result: CollectResult) -> CollectResult:
        result.requests = self.client.requests
        return result

    def _phase(
        self,
        store: Store,
        tmp: Path,
        run: _Run,
        result: CollectResult,
        max_pages: int | None,
        progress: Callable[[CollectResult, str], None] | None,
    ) -> bool:
        """Store one phase's pages; False when ``max_pages`` stopped it (resume later)."""
        seen: set[str] = set()
        pages = (
            self.own_pages(run.own)
            if run.phase == "own"
            else self.inbound_pages(run.inbound, since=run.previous_to)
        )
        for page in pages:
            if page.cursor is not None:
                if page.cursor in seen:
                    raise CollectError(
                        f"{self.platform} returned the cursor {page.cursor!r} twice for "
                        f"{self.target}; stopped to avoid fetching forever. The "
                        f"{result.pages:,} pages before it are stored."
                    )
                seen.add(page.cursor)
            if run.phase == "own":
                run.own = page.state
            else:
                run.inbound = page.state
            run.seen += page.inbound
            self._store_page(store, tmp, page, run, result)
            result.inbound_seen = run.seen
            if progress is not None:
                progress(result, page.label)
            if max_pages is not None and result.pages >= max_pages:
                return False
        return True

    def _complete(
        self,
        store: Store,
        run: _Run,
        on_finish: Callable[[duckdb.DuckDBPyConnection, Collector], str | None] | None,
        result: CollectResult,
    ) -> None:
        """Save the incremental state and record coverage, in one transaction."""
        final = {
            "own": run.own,
            "inbound": self.finish_inbound(run.inbound),
            "last_to": run.started,
        }
        with store.transaction() as con:
            if self.account_id is None and self.handle:
                found = con.execute(
                    "SELECT account_id FROM accounts WHERE platform = ? AND lower(handle) = ? "
                    "ORDER BY observed_at DESC LIMIT 1",
                    [self.stored_platform, self.handle.lower()],
                ).fetchall()
                self.account_id = found[0][0] if found else None
            org_id = on_finish(con, self) if on_finish is not None else None
            start = parse_time(run.previous_to) or _oldest(con, run.imports)
            end = parse_time(run.started)
            assert end is not None
            rows = self.coverage_rows(
                f"collect:{run.run_id}", start=start or end, end=end, seen=run.seen
            )
            record_coverage(con, [CoverageRow(**{**r.__dict__, "org_id": org_id}) for r in rows])
            save_state(con, self.platform, self.target, final)
        result.org_id = org_id
        result.finished = True

    def _store_page(
        self, store: Store, tmp: Path, page: Page, run: _Run, result: CollectResult
    ) -> None:
        result.pages += 1

        def save(con: duckdb.DuckDBPyConnection) -> None:
            save_state(con, self.platform, self.target, run.state())

        if not page.docs:
            with store.transaction() as con:
                save(con)
            return

        def save_with_import(con: duckdb.DuckDBPyConnection) -> None:
            # The import row is in this transaction already: its id joins the saved state.
            last = con.execute("SELECT max(import_id) FROM imports").fetchall()[0][0]
            run.imports.append(int(last))
            save(con)

        path = tmp / f"page-{result.pages:06d}.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for doc in page.docs:
                fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
        r = import_file(
            path,
            store=store,
            format=self.format,
            source_name=f"collect {self.platform}:{self.target} page {result.pages}",
            on_commit=save_with_import,
            export_coverage=False,
        )
        result.read += r.read
        result.inserted += r.inserted
        result.duplicates += r.duplicates
        result.quarantined += r.quarantined
        result.import_ids.append(r.import_id)


def _oldest(con: duckdb.DuckDBPyConnection, import_ids: list[int]) -> datetime | None:
    """The oldest post the run's imports stored: where a first run's window starts."""
    if not import_ids:
        return None
    row = con.execute(
        "SELECT min(created_at) FROM posts WHERE list_contains(?, import_id)", [import_ids]
    ).fetchall()
    value = row[0][0] if row else None
    return value if isinstance(value, datetime) else None


def credential(name: str, section: str, key: str, *, hint: str) -> str:
    """A secret from the environment variable ``name`` or the config file, never the CLI.

    The config file is TOML at ``$SOCIALAUDIT_CONFIG`` or
    ``~/.config/socialaudit/credentials.toml``, e.g. ``[x]`` ``bearer_token = "..."``.
    """
    value = optional_credential(name, section, key)
    if value:
        return value
    raise ConfigError(
        f'No {hint}: set the environment variable {name}, or put {key} = "..." under '
        f"[{section}] in {config_path()}. Credentials are never taken from the command line."
    )


def config_path() -> Path:
    """Where the credentials file is read from."""
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG).expanduser()


def optional_credential(name: str, section: str, key: str) -> str | None:
    """A secret from ``name`` or ``[section] key`` of the config file; None when neither has it."""
    value = os.environ.get(name)
    if value:
        return value
    path = config_path()
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML ({exc}).") from None
        value = (data.get(section) or {}).get(key)
        if isinstance(value, str) and value:
            return value
    return None


def credential_hint(name: str, section: str, key: str) -> str:
    """How to name a credential in an error: the variable, or the config key."""
    return f"{name} (or {key} under [{section}] in {config_path()})"
