"""A local websocket server that replays Jetstream events, as the public instances do.

Events are served from the client's ``cursor`` (``time_us``, inclusive) onwards. With
``drop_after`` the first connection is cut after that many events (a dropped connection
mid-stream); the client must reconnect with its cursor and get the rest.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.sync.server import Server, ServerConnection, serve


@dataclass
class JetstreamReplay:
    events: list[dict[str, Any]]
    drop_after: int | None = None
    connections: list[dict[str, list[str]]] = field(default_factory=list)
    server: Server | None = None

    def start(self) -> str:
        def handler(ws: ServerConnection) -> None:
            assert ws.request is not None
            query = parse_qs(urlsplit(ws.request.path).query)
            self.connections.append(query)
            cursor = int(query["cursor"][0]) if "cursor" in query else None
            todo = [e for e in self.events if cursor is None or e["time_us"] >= cursor]
            first = len(self.connections) == 1
            for n, event in enumerate(todo):
                if first and self.drop_after is not None and n == self.drop_after:
                    ws.close(code=1011, reason="upstream restarted")
                    return
                ws.send(json.dumps(event))
            # Then stay open and quiet, like a stream with no new posts.
            try:
                ws.recv()
            except Exception:  # noqa: BLE001, S110 - the client went away: done
                pass

        self.server = serve(handler, "127.0.0.1", 0)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        port = self.server.socket.getsockname()[1]
        return f"ws://127.0.0.1:{port}/subscribe"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()


T0 = 1_700_000_000_000_000  # time_us of the first event


def _event(did: str, n: int, operation: str, rkey: str, **commit: Any) -> dict[str, Any]:
    return {
        "did": did,
        "time_us": T0 + n * 1_000_000,
        "kind": "commit",
        "commit": {
            "rev": f"rev{n}",
            "operation": operation,
            "collection": "app.bsky.feed.post",
            "rkey": rkey,
            **commit,
        },
    }


def create(did: str, rkey: str, n: int, text: str, **record: Any) -> dict[str, Any]:
    return _event(
        did,
        n,
        "create",
        rkey,
        cid=f"cid{rkey}",
        record={
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": f"2023-11-14T22:{n // 60:02d}:{n % 60:02d}.000Z",
            **record,
        },
    )


def delete(did: str, rkey: str, n: int) -> dict[str, Any]:
    return _event(did, n, "delete", rkey)


def mention_facet(did: str, text: str, handle: str) -> list[dict[str, Any]]:
    start = text.encode().index(f"@{handle}".encode())
    return [
        {
            "index": {"byteStart": start, "byteEnd": start + len(handle) + 1},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}],
        }
    ]


def like(did: str, n: int) -> dict[str, Any]:
    """An event of another collection (the filter must skip it)."""
    return {
        "did": did,
        "time_us": T0 + n * 1_000_000,
        "kind": "commit",
        "commit": {
            "operation": "create",
            "collection": "app.bsky.feed.like",
            "rkey": f"l{n}",
            "record": {"subject": {"uri": "at://x/y/z"}},
        },
    }
