"""``watch``: Jetstream replayed by a local websocket server, a dropped connection included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import socialaudit as sa
from socialaudit.collect.watch import WatchOptions, relevant, watch
from tests import jetstream_replay as js
from tests.replay import Replay, ok

ACME = "did:plc:acme"
HANDLE = "acmehelp.bsky.social"


def _uri(did: str, rkey: str) -> str:
    return f"at://{did}/app.bsky.feed.post/{rkey}"


def mention(did: str, rkey: str, n: int, words: str) -> dict[str, Any]:
    text = f"@{HANDLE} {words}"
    return js.create(did, rkey, n, text, facets=js.mention_facet(ACME, text, HANDLE))


def reply(did: str, rkey: str, n: int, text: str, parent: str) -> dict[str, Any]:
    ref = {"uri": parent, "cid": "x"}
    return js.create(did, rkey, n, text, reply={"parent": ref, "root": ref})


EVENTS = [
    js.create(ACME, "own1", 1, "Hello from Acme support"),
    mention("did:plc:c1", "q1", 2, "my order is late"),
    js.create("did:plc:other", "x1", 3, "unrelated chatter"),
    js.like("did:plc:c1", 4),
    reply(ACME, "a1", 5, "@c1.bsky.social sorry, sent now", _uri("did:plc:c1", "q1")),
    mention("did:plc:c2", "q2", 6, "is the app down?"),
    reply("did:plc:c3", "r3", 7, "and my refund?", _uri(ACME, "own1")),
    js.create(
        "did:plc:c4",
        "qt4",
        8,
        "look at this",
        embed={"$type": "app.bsky.embed.record", "record": {"uri": _uri(ACME, "own1")}},
    ),
    mention("did:plc:c2", "oops", 9, "typo post"),
    js.delete("did:plc:c2", "oops", 10),
]
KEPT = {
    _uri(ACME, "own1"),
    _uri("did:plc:c1", "q1"),
    _uri(ACME, "a1"),
    _uri("did:plc:c2", "q2"),
    _uri("did:plc:c3", "r3"),
    _uri("did:plc:c4", "qt4"),
}


@pytest.fixture
def api() -> Iterator[str]:
    r = Replay()
    r.add("/xrpc/com.atproto.identity.resolveHandle", ok({"did": ACME}), query={"handle": HANDLE})
    yield r.start()
    r.stop()


@pytest.fixture
def store_with_org(store: sa.Store, tmp_path) -> sa.Store:
    orgs = tmp_path / "orgs.toml"
    orgs.write_text(f'[[org]]\nid = "acme"\n[org.accounts]\nbluesky = ["{HANDLE}"]\n')
    sa.load_orgs(orgs, store=store)
    return store


def options(url: str, api: str, **kw: Any) -> WatchOptions:
    return WatchOptions(
        jetstream_url=url,
        api_url=api,
        until_idle=1.0,
        flush_seconds=0.2,
        sleep=lambda s: None,
        poll=False,
        **kw,
    )


def stored(store: sa.Store) -> list[str]:
    return sorted(store.frame("SELECT post_id FROM posts").post_id)


def test_filter_keeps_own_mentions_replies_and_quotes() -> None:
    tracked = {ACME: HANDLE}
    kept = [
        e
        for e in EVENTS
        if e["commit"].get("operation") == "create"
        and e["commit"]["collection"] == "app.bsky.feed.post"
        and relevant(e["did"], e["commit"]["record"], tracked)
    ]
    assert [e["commit"]["rkey"] for e in kept] == ["own1", "q1", "a1", "q2", "r3", "qt4", "oops"]


def test_watch_survives_a_drop_resumes_from_the_cursor_and_honours_deletes(
    store_with_org: sa.Store, api: str
) -> None:
    store = store_with_org
    server = js.JetstreamReplay(EVENTS, drop_after=5)
    url = server.start()
    try:
        result = watch(store, options=options(url, api))
    finally:
        server.stop()
    assert result.reconnects == 1 and "without an event" in result.stopped_by
    # The reconnect asked for the stream from the last stored event on.
    assert "cursor" not in server.connections[0]
    assert server.connections[1]["cursor"] == [str(EVENTS[4]["time_us"])]
    assert server.connections[0]["wantedCollections"] == ["app.bsky.feed.post"]
    ids = stored(store)
    assert len(ids) == len(set(ids)) and set(ids) == KEPT  # no gap, no duplicate, delete honoured
    state = store.frame("SELECT state FROM collector_cursors WHERE target = 'jetstream'").state[0]
    assert str(EVENTS[-1]["time_us"]) in state
    # The org account now points at its DID, and the audit sees the stream's turns:
    # c1 answered, c2 and c3 (a reply to the org's post) unanswered; the quote is no turn.
    doc = sa.audit(store)
    (acme,) = [o for o in doc["orgs"] if o["org"] == "acme"]
    figures = acme["responsiveness"]["all"]
    assert (figures["turns"], figures["answered"]) == (3, 1)
    assert acme["coverage"]["bluesky"] == {
        "inbound": "complete",
        "from": "2023-11-14T22:13:21+00:00",
        "to": "2023-11-14T22:13:30+00:00",
    }


def test_a_restart_resumes_without_duplicates(store_with_org: sa.Store, api: str) -> None:
    store = store_with_org
    server = js.JetstreamReplay(EVENTS[:6])
    url = server.start()
    try:
        watch(store, options=options(url, api))
        first = stored(store)
        server.events = EVENTS  # the network moved on while the watcher was down
        again = watch(store, options=options(url, api))
    finally:
        server.stop()
    assert server.connections[1]["cursor"] == [str(EVENTS[5]["time_us"])]
    assert set(first) < set(stored(store)) == KEPT
    # The event at the cursor came again and was left out as a duplicate; the typo post was
    # stored, then deleted.
    assert again.events == len(EVENTS) - 5
    assert (again.inserted, again.deleted) == (len(KEPT) - len(first) + 1, 1)


def test_cli_watch_until_idle(runner, app, api: str, tmp_path) -> None:
    db = str(tmp_path / "w.duckdb")
    orgs = tmp_path / "orgs.toml"
    orgs.write_text(f'[[org]]\nid = "acme"\n[org.accounts]\nbluesky = ["{HANDLE}"]\n')
    assert runner.invoke(app, ["--db", db, "orgs", "--load", str(orgs)]).exit_code == 0
    server = js.JetstreamReplay(EVENTS)
    url = server.start()
    try:
        res = runner.invoke(
            app,
            [
                "--db",
                db,
                "watch",
                "bluesky",
                "--jetstream-url",
                url,
                "--api-url",
                api,
                "--until-idle",
                "1",
            ],
        )
    finally:
        server.stop()
    assert res.exit_code == 0, res.output
    assert "Watched 10 events: kept 7 posts" in res.output
    assert "stopped by 1 s without an event" in res.output
    with sa.open(db) as store:
        assert set(stored(store)) == KEPT
    empty = runner.invoke(app, ["--db", str(tmp_path / "e.duckdb"), "watch", "--until-idle", "1"])
    assert empty.exit_code == 2 and "Nothing to watch" in empty.output


def test_serve_shows_the_watchers_posts_without_a_restart(api: str, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from socialaudit.collect.watch import watch_in_background
    from socialaudit.serve import create_app

    db = tmp_path / "served.duckdb"
    orgs = tmp_path / "orgs.toml"
    orgs.write_text(f'[[org]]\nid = "acme"\n[org.accounts]\nbluesky = ["{HANDLE}"]\n')
    with sa.open(db) as store:
        sa.load_orgs(orgs, store=store)

    def turns(client: TestClient) -> int:
        doc = client.get("/api/audit").json()
        (acme,) = [o for o in doc["orgs"] if o["org"] == "acme"]
        return acme["responsiveness"]["all"]["turns"]

    server = js.JetstreamReplay(EVENTS)
    url = server.start()
    # As `serve --watch` does: the server's process writes the store, so it holds it read-write.
    with TestClient(create_app(db, warm=False, read_only=False)) as client:
        assert turns(client) == 0
        thread, stop, outcome = watch_in_background(str(db), options=options(url, api))
        thread.join(timeout=60)
        server.stop()
        assert not thread.is_alive() and isinstance(outcome[0], object)
        assert turns(client) == 3  # the same server, no restart


class _Interrupted:
    """A connection that delivers some events, then the user presses Ctrl-C."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = [json.dumps(e) for e in events]

    def __enter__(self) -> _Interrupted:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def recv(self, timeout: float | None = None) -> str:
        if not self.events:
            raise KeyboardInterrupt
        return self.events.pop(0)


def test_ctrl_c_stops_cleanly_with_what_was_received_stored(
    store_with_org: sa.Store, api: str
) -> None:
    store = store_with_org
    opts = options("ws://unused", api, connect=lambda url: _Interrupted(EVENTS[:3]))
    opts.until_idle = None
    result = watch(store, options=opts)
    assert result.stopped_by == "Ctrl-C" and result.events == 3
    assert set(stored(store)) == {_uri(ACME, "own1"), _uri("did:plc:c1", "q1")}
    state = store.frame("SELECT state FROM collector_cursors WHERE target = 'jetstream'").state[0]
    assert str(EVENTS[2]["time_us"]) in state


def test_other_platforms_are_polled_through_the_collectors(store: sa.Store, tmp_path) -> None:
    import time as _time

    from tests import worlds

    replay = Replay()
    world = worlds.mastodon_world(replay, token_owner=None)
    url = replay.start()
    orgs = tmp_path / "orgs.toml"
    orgs.write_text(
        '[[org]]\nid = "acme"\n[org.accounts]\nmastodon = ["AcmeHelp@mastodon.social"]\n'
    )
    sa.load_orgs(orgs, store=store)
    try:
        result = watch(
            store,
            options=WatchOptions(
                until_idle=0.5, interval=3600, base_urls={"mastodon": url}, sleep=_time.sleep
            ),
        )
    finally:
        replay.stop()
    assert result.polls == 1 and result.poll_failures == 0
    doc = sa.audit(store)
    (acme,) = [o for o in doc["orgs"] if o["org"] == "acme"]
    assert acme["responsiveness"]["all"]["answered"] == world.answered
