"""What every collector shares: the run loop, the stored cursor, credentials.

A collector yields pages; each page is written as a file in the matching importer's format
and imported with :func:`socialaudit.import_file`, and the cursor past that page is saved in
the same transaction. So an interrupted run (Ctrl-C, a crash, retries exhausted) has stored
exactly the pages whose cursor it saved, and the next run starts after the last of them:
nothing is fetched twice into the store, nothing is skipped. A cursor the platform hands
back twice would make a run fetch forever, so it stops the run with an error instead.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
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

CONFIG_ENV = "SOCIALAUDIT_CONFIG"
DEFAULT_CONFIG = Path("~/.config/socialaudit/credentials.toml")


@dataclass
class Page:
    """One unit of collection: documents to import and the cursor state after them.

    ``cursor`` is what the platform handed back for the next page (checked for loops);
    ``state`` is everything needed to resume right after this page.
    """

    docs: list[Any]
    state: dict[str, Any]
    cursor: str | None = None
    label: str = ""


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

    def summary(self) -> str:
        """One status line for people."""
        how = "Resumed and collected" if self.resumed else "Collected"
        return (
            f"{how} {self.inserted:,} new posts ({self.duplicates:,} duplicates: already "
            f"stored or sent twice; {self.quarantined:,} quarantined) for "
            f"{self.platform}:{self.target} in "
            f"{self.pages:,} pages and {self.requests:,} requests."
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


class Collector(ABC):
    """A platform collector: subclasses implement :meth:`pages` over ``self.client``."""

    platform: str = ""
    #: The importer that reads the pages (JSON lines, one document per line).
    format: str = ""

    def __init__(self, client: Client, target: str) -> None:
        self.client = client
        self.target = target

    @abstractmethod
    def pages(self, state: dict[str, Any]) -> Iterator[Page]:
        """Yield pages from ``state`` (the saved one, {} for a first run) onwards."""

    def finish(self, state: dict[str, Any]) -> dict[str, Any]:
        """The state a completed run leaves for the next (incremental) one."""
        return state

    def run(
        self,
        store: Store,
        *,
        max_pages: int | None = None,
        progress: Callable[[CollectResult, str], None] | None = None,
    ) -> CollectResult:
        """Collect page by page into the store; see the module docstring for guarantees."""
        state = load_state(store, self.platform, self.target)
        result = CollectResult(self.platform, self.target, resumed=bool(state.get("resume")))
        seen: set[str] = set()
        last_state = state
        with tempfile.TemporaryDirectory(prefix="socialaudit-collect-") as tmp:
            for page in self.pages(state):
                if page.cursor is not None:
                    if page.cursor in seen:
                        raise CollectError(
                            f"{self.platform} returned the cursor {page.cursor!r} twice for "
                            f"{self.target}; stopped to avoid fetching forever. The "
                            f"{result.pages:,} pages before it are stored."
                        )
                    seen.add(page.cursor)
                self._store_page(store, Path(tmp), page, result)
                last_state = page.state
                if progress is not None:
                    progress(result, page.label)
                if max_pages is not None and result.pages >= max_pages:
                    result.requests = self.client.requests
                    return result
        final = self.finish(last_state)
        with store.transaction() as con:
            save_state(con, self.platform, self.target, final)
        result.requests = self.client.requests
        return result

    def _store_page(self, store: Store, tmp: Path, page: Page, result: CollectResult) -> None:
        result.pages += 1
        state = {**page.state, "resume": True}

        def save(con: duckdb.DuckDBPyConnection) -> None:
            save_state(con, self.platform, self.target, state)

        if not page.docs:
            with store.transaction() as con:
                save(con)
            return
        path = tmp / f"page-{result.pages:06d}.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for doc in page.docs:
                fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
        r = import_file(
            path,
            store=store,
            format=self.format,
            source_name=f"collect {self.platform}:{self.target} page {result.pages}",
            on_commit=save,
        )
        result.read += r.read
        result.inserted += r.inserted
        result.duplicates += r.duplicates
        result.quarantined += r.quarantined
        result.import_ids.append(r.import_id)


def credential(name: str, section: str, key: str, *, hint: str) -> str:
    """A secret from the environment variable ``name`` or the config file, never the CLI.

    The config file is TOML at ``$SOCIALAUDIT_CONFIG`` or
    ``~/.config/socialaudit/credentials.toml``, e.g. ``[x]`` ``bearer_token = "..."``.
    """
    value = os.environ.get(name)
    if value:
        return value
    path = Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG).expanduser()
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML ({exc}).") from None
        value = (data.get(section) or {}).get(key)
        if isinstance(value, str) and value:
            return value
    raise ConfigError(
        f'No {hint}: set the environment variable {name}, or put {key} = "..." under '
        f"[{section}] in {path}. Credentials are never taken from the command line."
    )
