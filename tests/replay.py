"""A local HTTP server on 127.0.0.1 that replays recorded API responses, and the recordings.

Each route is (method, path, query subset) -> responses served in order (the last one
repeats), so a test can put a 429, a 500 or a cut-off body before the good response. The
recordings are written from each platform's documented response shapes: two pages of an
account's posts, with the conversation endpoints they lead to.

Run ``python -m tests.replay mastodon`` to serve the Mastodon recording (used for the
README example, since this machine has no internet).
"""

from __future__ import annotations

import json
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

NOW = 1_700_000_000.0  # the tests' fixed clock (2023-11-14T22:13:20Z)


@dataclass
class Route:
    method: str
    path: str
    query: dict[str, str]
    responses: list[dict[str, Any]]
    served: int = 0


@dataclass
class Replay:
    routes: list[Route] = field(default_factory=list)
    log: list[tuple[str, str, dict[str, str], dict[str, str]]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    def add(
        self,
        path: str,
        *responses: dict[str, Any],
        query: dict[str, str] | None = None,
        method: str = "GET",
    ) -> Route:
        route = Route(method, path, {k: str(v) for k, v in (query or {}).items()}, list(responses))
        # Later routes win over earlier ones for the same request: tests override defaults.
        self.routes.insert(0, route)
        return route

    def match(self, method: str, path: str, query: dict[str, str]) -> dict[str, Any]:
        for route in self.routes:
            if route.method == method and route.path == path:
                if all(query.get(k) == v for k, v in route.query.items()):
                    i = min(route.served, len(route.responses) - 1)
                    route.served += 1
                    return route.responses[i]
        return {"status": 404, "body": {"error": "not recorded", "path": path}}

    def start(self) -> str:
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query))
                if method == "POST":
                    length = int(self.headers.get("content-length") or 0)
                    query.update(parse_qsl(self.rfile.read(length).decode()))
                replay.log.append((method, parts.path, query, dict(self.headers.items())))
                resp = replay.match(method, parts.path, query)
                body = resp.get("body", "")
                raw = (
                    body
                    if isinstance(body, bytes)
                    else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
                )
                self.send_response(resp.get("status", 200))
                headers = {"Content-Type": "application/json", **resp.get("headers", {})}
                for k, v in headers.items():
                    self.send_header(k, v.replace("{base}", replay.url))
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:  # noqa: N802
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def requests_to(self, path: str) -> list[dict[str, str]]:
        return [q for _, p, q, _ in self.log if p == path]


def ok(body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {"status": 200, "body": body, "headers": headers or {}}


# -- Mastodon -----------------------------------------------------------------------------------

M_ACME = {
    "id": "9001",
    "username": "AcmeHelp",
    "acct": "AcmeHelp",
    "display_name": "Acme Support",
    "followers_count": 1200,
    "following_count": 15,
    "created_at": "2022-11-01T00:00:00.000Z",
    "url": "https://mastodon.social/@AcmeHelp",
}


def _m_user(uid: str, name: str) -> dict[str, Any]:
    return {
        "id": uid,
        "username": name,
        "acct": f"{name}@fosstodon.org",
        "display_name": name.title(),
        "followers_count": 10,
        "following_count": 20,
    }


def m_status(
    sid: str,
    at: str,
    text: str,
    account: dict[str, Any],
    parent: str | None = None,
    replies: int = 0,
) -> dict[str, Any]:
    return {
        "id": sid,
        "created_at": f"2023-03-01T{at}:00.000Z",
        "in_reply_to_id": parent,
        "in_reply_to_account_id": None,
        "visibility": "public",
        "language": "en",
        "uri": f"https://mastodon.social/users/{account['username']}/statuses/{sid}",
        "url": f"https://mastodon.social/@{account['acct']}/{sid}",
        "replies_count": replies,
        "reblogs_count": 0,
        "favourites_count": 1,
        "content": f"<p>{text}</p>",
        "reblog": None,
        "account": account,
    }


JO, KIM, LEE = _m_user("5001", "jo"), _m_user("5002", "kim"), _m_user("5003", "lee")
M = {
    "100": m_status("100", "09:00", "Spring hours &amp; news", M_ACME, replies=2),
    "101": m_status("101", "10:00", "where is my parcel?", JO, parent="100", replies=1),
    "102": m_status("102", "10:30", "@jo on its way!", M_ACME, parent="101"),
    "103": m_status("103", "11:00", "@AcmeHelp app is down", KIM, replies=1),
    "104": m_status("104", "11:20", "@kim fixed now", M_ACME, parent="103", replies=1),
    "105": m_status("105", "12:00", "@AcmeHelp refund please", JO, replies=1),
    "106": m_status("106", "12:10", "@jo done ✅", M_ACME, parent="105"),
    "107": m_status("107", "11:30", "@AcmeHelp still broken for me", KIM, parent="104"),
    "108": m_status("108", "13:00", "@AcmeHelp hello? anyone", LEE, parent="100"),
    "109": m_status("109", "14:00", "@lee sorry, we are here", M_ACME, parent="108"),
}
M_STATUSES = "/api/v1/accounts/9001/statuses"
#: Everything the two-page recording stores (the account's statuses and their contexts).
M_POSTS = {"100", "101", "102", "103", "104", "105", "106", "107", "108"}


def _ctx(ancestors: list[str], descendants: list[str]) -> dict[str, Any]:
    return {"ancestors": [M[i] for i in ancestors], "descendants": [M[i] for i in descendants]}


def mastodon(replay: Replay, page2: list[dict[str, Any]] | None = None, loop: bool = False) -> None:
    """Two pages of AcmeHelp's statuses: [106, 104] then [102, 100]; contexts for each."""
    replay.add("/api/v1/accounts/lookup", ok(M_ACME), query={"acct": "AcmeHelp"})
    nxt = '<{base}/api/v1/accounts/9001/statuses?max_id=104>; rel="next"'
    replay.add(M_STATUSES, ok([M["106"], M["104"]], {"Link": nxt}))
    replay.add(
        M_STATUSES,
        *(page2 or [ok([M["102"], M["100"]], {"Link": nxt} if loop else {})]),
        query={"max_id": "104"},
    )
    replay.add(M_STATUSES, ok([]), query={"since_id": "106"})  # nothing new since 106
    replay.add("/api/v1/statuses/106/context", ok(_ctx(["105"], [])))
    replay.add("/api/v1/statuses/104/context", ok(_ctx(["103"], ["107"])))
    replay.add("/api/v1/statuses/102/context", ok(_ctx(["100", "101"], [])))
    replay.add("/api/v1/statuses/100/context", ok(_ctx([], ["101", "102", "108"])))


def mastodon_later(replay: Replay) -> None:
    """A later visit: one new status (109, answering 108)."""
    replay.add(M_STATUSES, ok([M["109"]]), query={"since_id": "106"})
    replay.add("/api/v1/statuses/109/context", ok(_ctx(["100", "108"], [])))


# -- Bluesky ------------------------------------------------------------------------------------

B_ACME = {
    "did": "did:plc:acme",
    "handle": "acmehelp.bsky.social",
    "displayName": "Acme",
    "followersCount": 800,
    "followsCount": 12,
}
B_CUST = {"did": "did:plc:kenji", "handle": "kenji.bsky.social", "displayName": "Kenji 健二"}


def b_post(
    rkey: str,
    author: dict[str, Any],
    at: str,
    text: str,
    parent: str | None = None,
    root: str | None = None,
    replies: int = 0,
) -> dict[str, Any]:
    uri = f"at://{author['did']}/app.bsky.feed.post/{rkey}"
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": f"2023-03-01T{at}:00.000Z",
    }
    if parent:
        record["reply"] = {
            "parent": {"uri": parent, "cid": "x"},
            "root": {"uri": root or parent, "cid": "x"},
        }
    return {
        "uri": uri,
        "cid": f"cid{rkey}",
        "author": author,
        "record": record,
        "replyCount": replies,
        "repostCount": 0,
        "likeCount": 1,
        "indexedAt": f"2023-03-01T{at}:01.000Z",
    }


B_Q = b_post("q1", B_CUST, "10:00", "@acmehelp.bsky.social login fails", replies=1)
B_A = b_post("a1", B_ACME, "10:20", "@kenji.bsky.social fixed!", parent=B_Q["uri"])
B_OLD = b_post("a0", B_ACME, "08:00", "Good morning ☀️")
B_FEED = "/xrpc/app.bsky.feed.getAuthorFeed"
B_POSTS = {B_Q["uri"], B_A["uri"], B_OLD["uri"]}


def bluesky(replay: Replay, page2: list[dict[str, Any]] | None = None, loop: bool = False) -> None:
    """Two feed pages: the reply (with its thread), then an older post."""
    replay.add(B_FEED, ok({"feed": [{"post": B_A}], "cursor": "c2"}))
    replay.add(
        B_FEED,
        *(page2 or [ok({"feed": [{"post": B_OLD}], **({"cursor": "c2"} if loop else {})})]),
        query={"cursor": "c2"},
    )
    replay.add(
        "/xrpc/app.bsky.feed.getPostThread",
        ok(
            {
                "thread": {
                    "$type": "app.bsky.feed.defs#threadViewPost",
                    "post": B_A,
                    "parent": {"$type": "app.bsky.feed.defs#threadViewPost", "post": B_Q},
                    "replies": [],
                }
            }
        ),
        query={"uri": B_A["uri"]},
    )


# -- Reddit -------------------------------------------------------------------------------------


def r_thing(kind: str, tid: str, author: str, t: int, text: str, **extra: Any) -> dict[str, Any]:
    data = {
        "id": tid,
        "name": f"{kind}_{tid}",
        "subreddit": "AcmeSupport",
        "author": author,
        "author_fullname": f"t2_{author.lower()}",
        "created_utc": float(t),
        "score": 1,
        "permalink": f"/r/AcmeSupport/comments/{tid}/x/",
        **extra,
    }
    data["body" if kind == "t1" else "title"] = text
    return {"kind": kind, "data": data}


def listing(children: list[dict[str, Any]], after: str | None) -> dict[str, Any]:
    return {"kind": "Listing", "data": {"after": after, "before": None, "children": children}}


R_A2 = r_thing("t3", "a2", "kasia", 1677664800, "Order stuck", num_comments=1)
R_C1 = r_thing(
    "t1", "c1", "AcmeHelp", 1677666600, "PM sent", parent_id="t3_a2", link_id="t3_a2", replies=""
)
R_A1 = r_thing("t3", "a1", "ivan", 1677600000, "Hello", num_comments=0)
R_NEW = "/r/AcmeSupport/new"
R_POSTS = {"t3_a2", "t1_c1", "t3_a1"}


def reddit(replay: Replay, page2: list[dict[str, Any]] | None = None, loop: bool = False) -> None:
    """Token, then two listing pages; the first submission has a comment tree."""
    replay.add(
        "/api/v1/access_token",
        ok({"access_token": "tok-secret-123", "token_type": "bearer", "expires_in": 86400}),
        method="POST",
    )
    replay.add(R_NEW, ok(listing([R_A2], "t3_a2")))
    replay.add(
        R_NEW,
        *(page2 or [ok(listing([R_A1], "t3_a2" if loop else None))]),
        query={"after": "t3_a2"},
    )
    replay.add("/comments/a2", ok([listing([R_A2], None), listing([R_C1], None)]))


# -- X ------------------------------------------------------------------------------------------

X_USERS = [
    {
        "id": "100",
        "username": "AcmeHelp",
        "name": "Acme",
        "public_metrics": {"followers_count": 5000, "following_count": 10},
    },
    {
        "id": "200",
        "username": "renee_k",
        "name": "Renée",
        "public_metrics": {"followers_count": 42, "following_count": 9},
    },
]


def x_tweet(
    tid: str, author: str, at: str, text: str, conv: str, parent: str | None = None
) -> dict[str, Any]:
    t = {
        "id": tid,
        "author_id": author,
        "created_at": f"2023-03-01T{at}:00.000Z",
        "text": text,
        "conversation_id": conv,
        "edit_history_tweet_ids": [tid],
        "public_metrics": {"like_count": 1, "retweet_count": 0, "reply_count": 0, "quote_count": 0},
    }
    if parent:
        t["referenced_tweets"] = [{"type": "replied_to", "id": parent}]
    return t


X_Q = x_tweet("1001", "200", "10:00", "@AcmeHelp help", "1001")
X_A = x_tweet("1002", "100", "10:30", "@renee_k sure", "1001", parent="1001")
X_OLD = x_tweet("1000", "100", "08:00", "Hello world", "1000")
X_TL = "/2/users/100/tweets"
X_SEARCH = "/2/tweets/search/recent"
X_POSTS = {"1000", "1001", "1002"}


def x(replay: Replay, page2: list[dict[str, Any]] | None = None, loop: bool = False) -> None:
    """Two timeline pages and the conversations they touch."""
    replay.add("/2/users/by/username/AcmeHelp", ok({"data": X_USERS[0]}))
    replay.add(
        X_TL,
        ok(
            {
                "data": [X_A],
                "includes": {"users": X_USERS},
                "meta": {"result_count": 1, "next_token": "tok2"},
            }
        ),
    )
    meta: dict[str, Any] = {"result_count": 1, **({"next_token": "tok2"} if loop else {})}
    replay.add(
        X_TL,
        *(page2 or [ok({"data": [X_OLD], "includes": {"users": X_USERS}, "meta": meta})]),
        query={"pagination_token": "tok2"},
    )
    replay.add(
        X_SEARCH,
        ok({"data": [X_A, X_Q], "includes": {"users": X_USERS}, "meta": {"result_count": 2}}),
        query={"query": "conversation_id:1001"},
    )
    replay.add(X_SEARCH, ok({"meta": {"result_count": 0}}), query={"query": "conversation_id:1000"})
    # No mentions and no search results: the inbound phase finds nothing new.
    replay.add("/2/users/100/mentions", ok({"meta": {"result_count": 0}}))
    replay.add(
        X_SEARCH, ok({"meta": {"result_count": 0}}), query={"query": "@AcmeHelp -from:AcmeHelp"}
    )


if __name__ == "__main__":
    import time

    builders = {"mastodon": mastodon, "bluesky": bluesky, "reddit": reddit, "x": x}
    r = Replay()
    builders[sys.argv[1] if len(sys.argv) > 1 else "mastodon"](r)
    print(r.start(), flush=True)
    while True:
        time.sleep(3600)
