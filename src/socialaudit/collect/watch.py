"""``watch``: keep a store current. Bluesky from the Jetstream firehose; other platforms polled.

Jetstream (``wss://jetstream2.us-east.bsky.network/subscribe``) streams every public commit of
the network as JSON. The watcher asks for ``app.bsky.feed.post`` only and keeps, as events
arrive, the tracked accounts' own posts and every post that mentions one (a facet naming its
DID), replies to one (the parent URI's DID) or quotes one (the embedded record's DID): the
filter runs on the stream, so one connection follows any number of organizations.

Events are stored in batches. Each batch is one transaction: its posts (imported like an
AppView response), the deletes it saw (only of authors the store holds posts of), the
stream cursor (``time_us`` of the last event) and the session's coverage row, which says
``complete`` for every tracked account over the session's window. A restart or a dropped
connection resumes from the saved cursor: no gap, and a replayed event is a duplicate the
import leaves out. Reconnects back off exponentially (capped), and a connection that
delivered events resets the backoff.

Other platforms' declared accounts are collected through :func:`socialaudit.collect.collect`
every ``interval`` seconds, on the same thread: one process, one writer.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import duckdb

from socialaudit.collect.base import load_state, save_state
from socialaudit.collect.bluesky import PUBLIC_APPVIEW
from socialaudit.collect.http import Client
from socialaudit.errors import CollectError, ConfigError
from socialaudit.ingest import import_file
from socialaudit.store import Store
from socialaudit.store.coverage import CoverageRow, record_coverage

DEFAULT_JETSTREAM = "wss://jetstream2.us-east.bsky.network/subscribe"
POST = "app.bsky.feed.post"
CURSOR_PLATFORM = "bluesky"
CURSOR_TARGET = "jetstream"


@dataclass
class WatchOptions:
    """How to watch; clocks and the websocket factory are injectable for tests."""

    jetstream_url: str = DEFAULT_JETSTREAM
    api_url: str | None = None
    until_idle: float | None = None
    interval: float = 900.0
    batch_size: int = 200
    flush_seconds: float = 2.0
    max_backoff: float = 60.0
    poll: bool = True
    jetstream: bool = True
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    connect: Callable[[str], Any] | None = None
    log: Callable[[str], None] = lambda message: None
    client_options: dict[str, Any] = field(default_factory=dict)
    base_urls: dict[str, str] | None = None
    #: Collector platforms to poll (None: every one with declared accounts but Bluesky).
    platforms: set[str] | None = None


@dataclass
class WatchResult:
    """What a watch session did."""

    events: int = 0
    kept: int = 0
    inserted: int = 0
    deleted: int = 0
    reconnects: int = 0
    polls: int = 0
    poll_failures: int = 0
    stopped_by: str = ""

    def summary(self) -> str:
        """One status line for people."""
        return (
            f"Watched {self.events:,} events: kept {self.kept:,} posts ({self.inserted:,} new), "
            f"honoured {self.deleted:,} deletes, reconnected {self.reconnects:,} times, "
            f"polled {self.polls:,} times ({self.poll_failures:,} accounts failed); stopped "
            f"by {self.stopped_by}."
        )


class Stop(Exception):  # noqa: N818 - a signal, not an error
    """Raised inside the loop to end the session (idle, or asked to stop)."""


def tracked_dids(store: Store, api_url: str | None, log: Callable[[str], None]) -> dict[str, str]:
    """DID -> handle of every declared Bluesky account, resolving handles once.

    Jetstream speaks DIDs only; a declared handle not yet resolved is resolved with
    ``com.atproto.identity.resolveHandle`` and the org account is pointed at its DID, so that
    the audit matches posts (authored by DIDs) to it.
    """
    rows = store.raw.execute(
        "SELECT org_id, account_id, handle FROM org_accounts WHERE platform = 'bluesky'"
    ).fetchall()
    out: dict[str, str] = {}
    with Client(api_url or PUBLIC_APPVIEW) as client:
        for org_id, account_id, handle in rows:
            did = account_id if str(account_id).startswith("did:") else None
            if did is None:
                data = client.get_json(
                    "/xrpc/com.atproto.identity.resolveHandle", {"handle": handle}
                ).data
                did = (data or {}).get("did") if isinstance(data, dict) else None
                if not did:
                    raise CollectError(f"Cannot resolve the Bluesky handle {handle!r} to a DID.")
                log(f"Resolved {handle} to {did}.")
                with store.transaction() as con:
                    con.execute(
                        "UPDATE org_accounts SET account_id = ? WHERE org_id = ? "
                        "AND platform = 'bluesky' AND account_id = ?",
                        [did, org_id, account_id],
                    )
            out[did] = handle
    return out


def _did_of(uri: Any) -> str | None:
    if isinstance(uri, str) and uri.startswith("at://"):
        return uri[len("at://") :].split("/", 1)[0]
    return None


def relevant(did: str, record: dict[str, Any], tracked: dict[str, str]) -> bool:
    """Whether this post is by, mentions, replies to or quotes a tracked account."""
    if did in tracked:
        return True
    for facet in record.get("facets") or []:
        for feature in (facet or {}).get("features") or []:
            if isinstance(feature, dict) and feature.get("did") in tracked:
                return True
    reply = record.get("reply") or {}
    if _did_of((reply.get("parent") or {}).get("uri")) in tracked:
        return True
    embed = record.get("embed") or {}
    quoted = (embed.get("record") or {}).get("uri") or (
        (embed.get("record") or {}).get("record") or {}
    ).get("uri")
    return _did_of(quoted) in tracked


def post_view(event: dict[str, Any], tracked: dict[str, str]) -> dict[str, Any]:
    """A create event as the AppView ``postView`` the Bluesky importer reads."""
    did = event["did"]
    commit = event["commit"]
    return {
        "uri": f"at://{did}/{POST}/{commit['rkey']}",
        "cid": commit.get("cid"),
        "author": {"did": did, "handle": tracked.get(did)},
        "record": commit.get("record") or {},
        "indexedAt": _iso_us(int(event["time_us"])),
    }


def _iso_us(time_us: int) -> str:
    return datetime.fromtimestamp(time_us / 1e6, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _naive(time_us: int) -> datetime:
    return datetime.fromtimestamp(time_us / 1e6, UTC).replace(tzinfo=None)


@dataclass
class _Batch:
    posts: list[dict[str, Any]] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    cursor: int | None = None
    first: int | None = None
    started: float | None = None
    events: int = 0


class JetstreamWatcher:
    """Follow the tracked accounts on Jetstream, storing batches with their cursor."""

    def __init__(self, store: Store, tracked: dict[str, str], options: WatchOptions) -> None:
        self.store = store
        self.tracked = tracked
        self.opts = options
        self.session = f"watch:{uuid.uuid4().hex[:12]}"
        state = load_state(store, CURSOR_PLATFORM, CURSOR_TARGET)
        self.cursor: int | None = state.get("cursor")
        self.session_from: int | None = self.cursor
        self.seen: dict[str, int] = dict.fromkeys(tracked, 0)
        authors = store.raw.execute(
            "SELECT DISTINCT author_id FROM posts WHERE platform = 'bluesky'"
        ).fetchall()
        self.known_authors = {a for (a,) in authors} | set(tracked)
        self.batch = _Batch()
        self.tmp = Path(tempfile.mkdtemp(prefix="socialaudit-watch-"))

    def url(self) -> str:
        """The subscription URL, resuming from the saved cursor."""
        query: dict[str, Any] = {"wantedCollections": POST}
        if self.cursor is not None:
            query["cursor"] = self.cursor
        sep = "&" if "?" in self.opts.jetstream_url else "?"
        return f"{self.opts.jetstream_url}{sep}{urlencode(query)}"

    def handle(self, message: str | bytes, result: WatchResult) -> None:
        """Take one event into the batch (and flush the batch when it is full)."""
        try:
            event = json.loads(message)
        except ValueError:
            self.opts.log("Skipped a message that is not JSON.")
            return
        if not isinstance(event, dict) or not isinstance(event.get("time_us"), int):
            return
        result.events += 1
        b = self.batch
        b.events += 1
        b.cursor = event["time_us"]
        if b.first is None:
            b.first = event["time_us"]
        if b.started is None:
            b.started = self.opts.clock()
        commit = event.get("commit") if event.get("kind") == "commit" else None
        if isinstance(commit, dict) and commit.get("collection") == POST and commit.get("rkey"):
            did = str(event.get("did") or "")
            if commit.get("operation") == "create" and isinstance(commit.get("record"), dict):
                if relevant(did, commit["record"], self.tracked):
                    b.posts.append(post_view(event, self.tracked))
                    self.known_authors.add(did)
                    result.kept += 1
                    mentioned = _addressed(did, commit["record"], self.tracked)
                    for t in mentioned:
                        self.seen[t] = self.seen.get(t, 0) + 1
            elif commit.get("operation") == "delete" and did in self.known_authors:
                b.deletes.append(f"at://{did}/{POST}/{commit['rkey']}")
        if len(b.posts) >= self.opts.batch_size or b.events >= 10 * self.opts.batch_size:
            self.flush(result)

    def due(self) -> bool:
        """Whether the oldest unstored event has waited long enough to be stored."""
        b = self.batch
        return b.started is not None and self.opts.clock() - b.started >= self.opts.flush_seconds

    def flush(self, result: WatchResult) -> None:
        """Store the batch in one transaction: posts, deletes, cursor and coverage."""
        b = self.batch
        if b.cursor is None:
            return
        if self.session_from is None:
            self.session_from = b.first
        cursor = b.cursor

        def commit(con: duckdb.DuckDBPyConnection) -> None:
            if b.deletes:
                con.execute(
                    "DELETE FROM posts WHERE platform = 'bluesky' AND list_contains(?, post_id)",
                    [b.deletes],
                )
                con.execute(
                    "DELETE FROM enrichments WHERE platform = 'bluesky' "
                    "AND list_contains(?, post_id)",
                    [b.deletes],
                )
            save_state(con, CURSOR_PLATFORM, CURSOR_TARGET, {"cursor": cursor})
            record_coverage(con, self._coverage(cursor))

        before = self.store.count("posts") if b.deletes else 0
        if b.posts:
            path = self.tmp / "batch.jsonl"
            path.write_text(
                json.dumps({"feed": [{"post": p} for p in b.posts]}, ensure_ascii=False) + "\n",
                encoding="utf-8",
            )
            r = import_file(
                path,
                store=self.store,
                format="bluesky",
                source_name=f"{self.session} jetstream batch",
                on_commit=commit,
                export_coverage=False,
            )
            result.inserted += r.inserted
            before += r.inserted
        else:
            with self.store.transaction() as con:
                commit(con)
        if b.deletes:
            result.deleted += max(0, before - self.store.count("posts"))
        self.cursor = cursor
        self.batch = _Batch()

    def _coverage(self, cursor: int) -> list[CoverageRow]:
        start = _naive(self.session_from if self.session_from is not None else cursor)
        return [
            CoverageRow(
                platform="bluesky",
                account_id=did,
                run_id=self.session,
                inbound="complete",
                covered_from=start,
                covered_to=_naive(cursor),
                inbound_seen=self.seen.get(did, 0),
                target=handle,
                source="watch",
            )
            for did, handle in self.tracked.items()
        ]

    def messages(self, result: WatchResult, deadline: Callable[[], float | None]) -> Iterator[Any]:
        """Messages from the stream, reconnecting with backoff; ends by raising :class:`Stop`.

        ``deadline`` gives how long to wait for the next message (None: forever); when it
        passes without one, ``None`` is yielded so the caller can flush, poll or stop.
        """
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

        connect = self.opts.connect or _default_connect
        failures = 0
        while True:
            try:
                ws = connect(self.url())
            except InvalidURI as exc:
                raise ConfigError(f"Cannot read --jetstream-url: {exc}.") from None
            except (OSError, InvalidHandshake, TimeoutError) as exc:
                failures += 1
                self._backoff(failures, f"cannot connect ({type(exc).__name__})")
                result.reconnects += 1
                yield None
                continue
            with ws:
                try:
                    while True:
                        try:
                            message = ws.recv(timeout=deadline())
                        except TimeoutError:
                            yield None
                            continue
                        failures = 0
                        yield message
                except (ConnectionClosed, OSError) as exc:
                    failures += 1
                    self.flush(result)
                    self._backoff(failures, f"the connection dropped ({type(exc).__name__})")
                    result.reconnects += 1

    def _backoff(self, failures: int, why: str) -> None:
        wait = min(self.opts.max_backoff, 2.0 ** (failures - 1))
        self.opts.log(f"Reconnecting in {wait:.0f} s from cursor {self.cursor}: {why}.")
        self.opts.sleep(wait)


def _addressed(did: str, record: dict[str, Any], tracked: dict[str, str]) -> list[str]:
    """The tracked accounts a post by ``did`` is addressed to (not its own author)."""
    out = set()
    for facet in record.get("facets") or []:
        for feature in (facet or {}).get("features") or []:
            if isinstance(feature, dict) and feature.get("did") in tracked:
                out.add(feature["did"])
    parent = _did_of(((record.get("reply") or {}).get("parent") or {}).get("uri"))
    if parent in tracked:
        out.add(parent)
    out.discard(did)
    return sorted(out)


def _default_connect(url: str) -> Any:
    from websockets.sync.client import connect

    return connect(url, max_size=2**22, open_timeout=20)


def watch(
    store: Store,
    /,
    *,
    options: WatchOptions,
    stop: Callable[[], bool] | None = None,
) -> WatchResult:
    """Watch the store's declared orgs until idle (``until_idle``), ``stop()`` or Ctrl-C.

    Raises
    ------
    ConfigError
        Nothing to watch: no declared account on the platforms asked for.
    """
    from socialaudit.collect import collect_orgs, declared_targets

    result = WatchResult()
    tracked = tracked_dids(store, options.api_url, options.log) if options.jetstream else {}
    others = [
        t
        for t in declared_targets(store)
        if t[1] != "bluesky" and (options.platforms is None or t[1] in options.platforms)
    ]
    others = others if options.poll else []
    if not tracked and not others:
        raise ConfigError(
            "Nothing to watch: declare orgs with accounts first (socialaudit orgs --load "
            "orgs.toml)."
        )
    clock = options.clock
    last_event = clock()
    next_poll = clock() if others else None

    def poll() -> None:
        nonlocal next_poll
        done = collect_orgs(
            store,
            base_urls=options.base_urls,
            client_options={"log": options.log, **options.client_options},
            platforms={p for _, p, _ in others},
            on_account=lambda o: options.log(
                f"{o.org_id}: {o.platform}:{o.target}: "
                + (o.result.summary() if o.result is not None else f"failed: {o.error}")
            ),
        )
        result.polls += 1
        result.poll_failures += len(done.failed)
        next_poll = clock() + options.interval

    def wait_for() -> float | None:
        waits = []
        if options.until_idle is not None:
            waits.append(options.until_idle - (clock() - last_event))
        if next_poll is not None:
            waits.append(next_poll - clock())
        if watcher is not None and watcher.batch.started is not None:
            waits.append(options.flush_seconds - (clock() - watcher.batch.started))
        if stop is not None:
            waits.append(1.0)  # look at the stop flag at least once a second
        return max(0.0, min(waits)) if waits else None

    watcher = JetstreamWatcher(store, tracked, options) if tracked else None
    stream: Any = None
    try:
        if watcher is None:
            while True:
                if stop is not None and stop():
                    raise Stop("stop")
                if next_poll is not None and clock() >= next_poll:
                    poll()
                    last_event = clock()
                if options.until_idle is not None and clock() - last_event >= options.until_idle:
                    raise Stop("idle")
                options.sleep(max(0.05, min(1.0, wait_for() or 1.0)))
        stream = watcher.messages(result, wait_for)
        for message in stream:
            if message is not None:
                watcher.handle(message, result)
                last_event = clock()
            if watcher.due():
                watcher.flush(result)
            if next_poll is not None and clock() >= next_poll:
                poll()
            if stop is not None and stop():
                raise Stop("stop")
            if options.until_idle is not None and clock() - last_event >= options.until_idle:
                raise Stop(f"{options.until_idle:g} s without an event")
    except Stop as why:
        result.stopped_by = str(why)
    except KeyboardInterrupt:
        result.stopped_by = "Ctrl-C"
    finally:
        if watcher is not None:
            if stream is not None:
                stream.close()  # closes the websocket
            watcher.flush(result)
    return result


def watch_in_background(
    db: str, /, *, options: WatchOptions
) -> tuple[threading.Thread, threading.Event, list[WatchResult | BaseException]]:
    """Run :func:`watch` on its own connection in a daemon thread (``serve --watch``).

    DuckDB allows one writing process per file; inside the server's process the watcher is
    one more connection, like the server's import jobs, so pages see its posts at the next
    request. Set the returned event to stop it; the list receives the result or the error.
    """
    stop = threading.Event()
    outcome: list[WatchResult | BaseException] = []

    def run() -> None:
        try:
            with Store(db) as store:
                outcome.append(watch(store, options=options, stop=stop.is_set))
        except BaseException as exc:  # noqa: BLE001 - reported by the caller, not lost
            options.log(f"Watching stopped: {exc}")
            outcome.append(exc)

    thread = threading.Thread(target=run, name="socialaudit-watch", daemon=True)
    thread.start()
    return thread, stop, outcome
