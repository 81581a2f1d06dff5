"""Simulated worlds: an org that answered only some of its customers' mentions, per platform.

Each world knows its truth (how many turns customers opened, how many the org answered) and
records, on a :class:`~tests.replay.Replay`, every endpoint a collector may call: the org's
own posts and threads, and each inbound method (notifications, mention search, mentions
timeline). An audit after collecting with credentials must equal the truth exactly; without
them, only the answered turns are visible and the rate is overstated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests import replay as rp
from tests.replay import Replay, ok

#: Mentions 0..N-1; the org answers those with i % 3 != 0 (8 of 12), 5 minutes later.
N_MENTIONS = 12


def answered(i: int) -> bool:
    return i % 3 != 0


TRUTH_TURNS = N_MENTIONS
TRUTH_ANSWERED = sum(answered(i) for i in range(N_MENTIONS))


@dataclass(frozen=True)
class World:
    platform: str  # collector platform
    target: str
    org_id: str
    store_platform: str
    turns: int = TRUTH_TURNS
    answered: int = TRUTH_ANSWERED


def _at(i: int, minutes: int = 0) -> str:
    """HH:MM on the recording's day: mention i at 09:00 + 20 min * i."""
    total = 9 * 60 + 20 * i + minutes
    return f"{total // 60:02d}:{total % 60:02d}"


# -- Bluesky ------------------------------------------------------------------------------------

BSKY_ORG = {"did": "did:plc:acme", "handle": "acmehelp.bsky.social", "displayName": "Acme"}
BSKY_OTHER = {"did": "did:plc:auditor", "handle": "auditor.bsky.social"}


def _bsky_customer(i: int) -> dict[str, Any]:
    return {"did": f"did:plc:cust{i % 5}", "handle": f"cust{i % 5}.bsky.social"}


def bluesky_world(replay: Replay, *, login_as: dict[str, Any] | None, expire_once: bool = False):
    """The org's feed (its answers and one news post), threads, notifications and search."""
    mentions, answers = [], []
    for i in range(N_MENTIONS):
        m = rp.b_post(
            f"m{i}",
            _bsky_customer(i),
            _at(i),
            f"@acmehelp.bsky.social my order {i} has not arrived, where is it?",
            replies=int(answered(i)),
        )
        mentions.append(m)
        if answered(i):
            answers.append(
                rp.b_post(
                    f"r{i}",
                    BSKY_ORG,
                    _at(i, 5),
                    f"@{_bsky_customer(i)['handle']} on it",
                    parent=m["uri"],
                )
            )
    news = rp.b_post("news", BSKY_ORG, "08:00", "Welcome to our help account")
    feed = [
        {"post": p} for p in sorted([*answers, news], key=lambda p: p["indexedAt"], reverse=True)
    ]
    replay.add(rp.B_FEED, ok({"feed": feed}))
    by_parent = {a["record"]["reply"]["parent"]["uri"]: a for a in answers}
    view = "app.bsky.feed.defs#threadViewPost"
    for m in mentions:
        reply = by_parent.get(m["uri"])
        thread = {
            "$type": view,
            "post": m,
            "replies": [{"$type": view, "post": reply, "replies": []}] if reply else [],
        }
        replay.add(
            "/xrpc/app.bsky.feed.getPostThread", ok({"thread": thread}), query={"uri": m["uri"]}
        )
    for a in answers:
        parent = next(m for m in mentions if m["uri"] == a["record"]["reply"]["parent"]["uri"])
        thread = {
            "$type": view,
            "post": a,
            "parent": {"$type": view, "post": parent},
            "replies": [],
        }
        replay.add(
            "/xrpc/app.bsky.feed.getPostThread", ok({"thread": thread}), query={"uri": a["uri"]}
        )
    notifications = [
        {
            **{k: m[k] for k in ("uri", "cid", "author", "record", "indexedAt")},
            "reason": "mention",
            "isRead": False,
        }
        for m in reversed(mentions)
    ]
    half = len(notifications) // 2
    # With expire_once the first call finds the access token expired: renew, then go on.
    expired = {"status": 400, "body": {"error": "ExpiredToken", "message": "Token has expired"}}
    replay.add(
        "/xrpc/app.bsky.notification.listNotifications",
        *([expired] if expire_once else []),
        ok({"notifications": notifications[:half], "cursor": "n2"}),
    )
    replay.add(
        "/xrpc/app.bsky.notification.listNotifications",
        ok({"notifications": notifications[half:]}),
        query={"cursor": "n2"},
    )
    replay.add(
        "/xrpc/app.bsky.feed.searchPosts",
        ok({"posts": list(reversed(mentions)), "hitsTotal": len(mentions)}),
    )
    if login_as is not None:
        session = {
            "did": login_as["did"],
            "handle": login_as["handle"],
            "accessJwt": "access-1",
            "refreshJwt": "refresh-1",
        }
        replay.add("/xrpc/com.atproto.server.createSession", ok(session), method="POST")
        replay.add(
            "/xrpc/com.atproto.server.refreshSession",
            ok({**session, "accessJwt": "access-2", "refreshJwt": "refresh-2"}),
            method="POST",
        )
    return World("bluesky", "acmehelp.bsky.social", "acmehelp.bsky.social", "bluesky")


# -- Mastodon -----------------------------------------------------------------------------------

M_ORG = {**rp.M_ACME}


def mastodon_world(replay: Replay, *, token_owner: str | None) -> World:
    """AcmeHelp's statuses (answers + news), contexts, mention notifications and search."""
    customers = [rp._m_user(f"70{i % 5}", f"cust{i % 5}") for i in range(N_MENTIONS)]
    mentions, answers = [], []
    for i in range(N_MENTIONS):
        m = rp.m_status(
            f"2{i:02d}",
            _at(i),
            f"@AcmeHelp my order {i} has not arrived, where is it?",
            customers[i],
            replies=int(answered(i)),
        )
        mentions.append(m)
        if answered(i):
            answers.append(
                rp.m_status(
                    f"3{i:02d}",
                    _at(i, 5),
                    f"@{customers[i]['username']} on it",
                    M_ORG,
                    parent=m["id"],
                )
            )
    dm = rp.m_status("299", "23:00", "@AcmeHelp my card number is 1234", customers[0])
    dm["visibility"] = "direct"
    news = rp.m_status("100", "08:00", "Welcome", M_ORG)
    statuses = sorted([*answers, news], key=lambda s: s["id"], reverse=True)
    replay.add("/api/v1/accounts/lookup", ok(M_ORG), query={"acct": "AcmeHelp"})
    replay.add(rp.M_STATUSES, ok(statuses))
    by_id = {m["id"]: m for m in mentions}
    for a in answers:
        replay.add(
            f"/api/v1/statuses/{a['id']}/context",
            ok({"ancestors": [by_id[a["in_reply_to_id"]]], "descendants": []}),
        )
    for m in mentions:
        kids = [a for a in answers if a["in_reply_to_id"] == m["id"]]
        replay.add(
            f"/api/v1/statuses/{m['id']}/context", ok({"ancestors": [], "descendants": kids})
        )
    replay.add("/api/v1/statuses/299/context", ok({"ancestors": [], "descendants": []}))
    notes = [
        {
            "id": f"n{m['id']}",
            "type": "mention",
            "created_at": m["created_at"],
            "account": m["account"],
            "status": m,
        }
        for m in reversed([*mentions, dm])
    ]
    replay.add("/api/v1/notifications", ok(notes))
    replay.add(
        "/api/v2/search",
        ok({"accounts": [], "hashtags": [], "statuses": list(reversed([*mentions, dm]))}),
    )
    if token_owner is not None:
        me = M_ORG if token_owner == "AcmeHelp" else rp._m_user("8000", token_owner)
        replay.add("/api/v1/accounts/verify_credentials", ok(me))
    return World("mastodon", "AcmeHelp@mastodon.social", "AcmeHelp", "mastodon")


# -- X ------------------------------------------------------------------------------------------

X_ORG = rp.X_USERS[0]


def x_world(replay: Replay) -> World:
    """AcmeHelp's timeline (answers + news), conversations, mentions timeline, recent search."""
    users = [X_ORG, *({"id": f"90{i}", "username": f"cust{i}", "name": f"C{i}"} for i in range(5))]
    mentions, answers = [], []
    for i in range(N_MENTIONS):
        cust = f"90{i % 5}"
        m = rp.x_tweet(
            f"5{i:03d}",
            cust,
            _at(i),
            f"@AcmeHelp my order {i} has not arrived, where is it?",
            f"5{i:03d}",
        )
        mentions.append(m)
        if answered(i):
            answers.append(
                rp.x_tweet(
                    f"6{i:03d}",
                    "100",
                    _at(i, 5),
                    f"@cust{i % 5} on it",
                    f"5{i:03d}",
                    parent=m["id"],
                )
            )
    news = rp.x_tweet("4000", "100", "08:00", "Welcome", "4000")
    tl = sorted([*answers, news], key=lambda t: t["id"], reverse=True)
    replay.add("/2/users/by/username/AcmeHelp", ok({"data": X_ORG}))
    replay.add(
        rp.X_TL, ok({"data": tl, "includes": {"users": users}, "meta": {"result_count": len(tl)}})
    )
    for m in mentions:
        convo = [m, *(a for a in answers if a["conversation_id"] == m["id"])]
        replay.add(
            rp.X_SEARCH,
            ok({"data": convo, "includes": {"users": users}, "meta": {"result_count": len(convo)}}),
            query={"query": f"conversation_id:{m['id']}"},
        )
    replay.add(
        rp.X_SEARCH,
        ok({"data": [news], "includes": {"users": users}, "meta": {"result_count": 1}}),
        query={"query": "conversation_id:4000"},
    )
    half = N_MENTIONS // 2
    newest_first = list(reversed(mentions))
    replay.add(
        "/2/users/100/mentions",
        ok(
            {
                "data": newest_first[:half],
                "includes": {"users": users},
                "meta": {"result_count": half, "next_token": "m2"},
            }
        ),
    )
    replay.add(
        "/2/users/100/mentions",
        ok(
            {
                "data": newest_first[half:],
                "includes": {"users": users},
                "meta": {"result_count": N_MENTIONS - half},
            }
        ),
        query={"pagination_token": "m2"},
    )
    replay.add(
        rp.X_SEARCH,
        ok({"data": newest_first[:3], "includes": {"users": users}, "meta": {"result_count": 3}}),
        query={"query": "@AcmeHelp -from:AcmeHelp"},
    )
    return World("x", "AcmeHelp", "AcmeHelp", "twitter")


# -- Reddit -------------------------------------------------------------------------------------


def reddit_world(replay: Replay) -> World:
    """u/AcmeHelp's comments (answers), their threads, and search for u/AcmeHelp."""
    replay.add(
        "/api/v1/access_token", ok({"access_token": "tok", "token_type": "bearer"}), method="POST"
    )
    subs, comments = [], []
    base = 1677660000
    for i in range(N_MENTIONS):
        s = rp.r_thing(
            "t3",
            f"s{i}",
            f"cust{i % 5}",
            base + 1200 * i,
            f"u/AcmeHelp my order {i} has not arrived, where is it?",
            num_comments=int(answered(i)),
        )
        subs.append(s)
        if answered(i):
            comments.append(
                rp.r_thing(
                    "t1",
                    f"c{i}",
                    "AcmeHelp",
                    base + 1200 * i + 300,
                    "on it",
                    parent_id=f"t3_s{i}",
                    link_id=f"t3_s{i}",
                    replies="",
                )
            )
    overview = sorted(comments, key=lambda c: -c["data"]["created_utc"])
    replay.add("/user/AcmeHelp/overview", ok(rp.listing(overview, None)))
    for s in subs:
        kids = [c for c in comments if c["data"]["link_id"] == s["data"]["name"]]
        replay.add(
            f"/comments/{s['data']['id']}", ok([rp.listing([s], None), rp.listing(kids, None)])
        )
    newest_first = list(reversed(subs))
    replay.add("/search", ok(rp.listing(newest_first, None)), query={"q": '"u/AcmeHelp"'})
    replay.add("/search", ok(rp.listing(newest_first[:2], None)), query={"q": "AcmeHelp"})
    return World("reddit", "u/AcmeHelp", "AcmeHelp", "reddit")


if __name__ == "__main__":
    import sys
    import time

    builders = {
        "mastodon": lambda r: mastodon_world(r, token_owner="AcmeHelp"),
        "bluesky": lambda r: bluesky_world(r, login_as=BSKY_ORG),
        "x": x_world,
        "reddit": reddit_world,
    }
    server = Replay()
    builders[sys.argv[1] if len(sys.argv) > 1 else "mastodon"](server)
    print(server.start(), flush=True)
    while True:
        time.sleep(3600)
