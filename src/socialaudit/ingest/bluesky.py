"""Bluesky: ``app.bsky.feed.getAuthorFeed`` and ``app.bsky.feed.getPostThread`` responses.

Post ids are AT URIs (``at://did:plc:.../app.bsky.feed.post/3k...``), authors their DIDs
(stable across handle changes); replies carry both their parent and root refs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from socialaudit.ingest import base
from socialaudit.ingest.records import (
    Account,
    JsonRecordImporter,
    Post,
    Reject,
    as_int,
    dig,
    first_json_value,
)

PLATFORM = "bluesky"


def permalink(uri: str | None, handle: str | None) -> str | None:
    """The bsky.app URL of an AT URI (the handle reads better; the DID always works)."""
    if not uri or not uri.startswith("at://"):
        return None
    parts = uri[len("at://") :].split("/")
    if len(parts) != 3:
        return None
    did, _, rkey = parts
    return f"https://bsky.app/profile/{handle or did}/post/{rkey}"


def post_view(view: dict[str, Any], line: int | None, *, repost_by: Any = None) -> Post:
    """A ``postView``: record text, reply refs, counts and the author's profile."""
    author = view.get("author") or {}
    record = view.get("record") or {}
    did = author.get("did")
    account = (
        Account(
            platform=PLATFORM,
            account_id=did,
            handle=author.get("handle"),
            display_name=author.get("displayName"),
            followers_count=as_int(author.get("followersCount")),
            following_count=as_int(author.get("followsCount")),
            created_at=author.get("createdAt"),
        )
        if did
        else None
    )
    embed = record.get("embed") or {}
    quoted = dig(embed, "record", "uri") or dig(embed, "record", "record", "uri")
    uri = view.get("uri")
    return Post(
        platform=PLATFORM,
        post_id=uri,
        author_id=did,
        author_handle=author.get("handle"),
        created_at=record.get("createdAt") or view.get("indexedAt"),
        text=record.get("text"),
        parent_id=dig(record, "reply", "parent", "uri"),
        root_id=dig(record, "reply", "root", "uri"),
        quote_of=quoted if isinstance(quoted, str) else None,
        permalink=permalink(uri, author.get("handle")),
        like_count=as_int(view.get("likeCount")),
        repost_count=as_int(view.get("repostCount")),
        reply_count=as_int(view.get("replyCount")),
        quote_count=as_int(view.get("quoteCount")),
        lang=(record.get("langs") or [None])[0],
        raw=view,
        account=account,
        line_no=line,
    )


def thread_posts(node: Any, line: int | None) -> Iterator[Post | Reject]:
    """A ``threadViewPost``: its parents up the chain, the post, then replies depth-first.

    Deleted or blocked posts in a thread (``notFoundPost``, ``blockedPost``) carry no
    content and are skipped: they are not records of posts.
    """
    if not isinstance(node, dict):
        return
    kind = node.get("$type", "")
    if kind.endswith(("notFoundPost", "blockedPost")) or "post" not in node:
        return
    parent = node.get("parent")
    chain: list[dict[str, Any]] = []
    while isinstance(parent, dict) and isinstance(parent.get("post"), dict):
        chain.append(parent["post"])
        parent = parent.get("parent")
    for view in reversed(chain):
        yield post_view(view, line)
    yield post_view(node["post"], line)
    for reply in node.get("replies") or []:
        yield from thread_posts({**reply, "parent": None}, line)


def feed_posts(doc: dict[str, Any], line: int | None) -> Iterator[Post | Reject]:
    """Feed items: the post, its reply context (root and parent) and reposts as records."""
    for item in doc.get("feed") or []:
        if not isinstance(item, dict) or not isinstance(item.get("post"), dict):
            yield Reject(line, item, base.BAD_JSON)
            continue
        reason = item.get("reason") or {}
        if str(reason.get("$type", "")).endswith("reasonRepost"):
            by = reason.get("by") or {}
            post = item["post"]
            yield post_view(post, line)
            rkey = f"{post.get('uri')}#repost-by-{by.get('did')}"
            yield Post(
                platform=PLATFORM,
                post_id=rkey,
                author_id=by.get("did"),
                author_handle=by.get("handle"),
                created_at=reason.get("indexedAt"),
                repost_of=post.get("uri"),
                raw=item,
                account=Account(PLATFORM, by.get("did") or "", by.get("handle")),
                line_no=line,
            )
            continue
        reply = item.get("reply") or {}
        for key in ("root", "parent"):
            ref = reply.get(key)
            if isinstance(ref, dict) and isinstance(ref.get("author"), dict):
                yield post_view(ref, line)
        yield post_view(item["post"], line)


@base.register
class BlueskyImporter(JsonRecordImporter):
    """Bluesky AppView responses: author feeds and post threads, JSON or JSONL."""

    name = "bluesky"
    title = "Bluesky feed and thread JSON"
    description = (
        "Bluesky app.bsky.feed.getAuthorFeed and getPostThread responses (JSON, or one response "
        "per line): AT URIs as ids, reply parent/root refs, like/repost/reply/quote counts."
    )
    platform = PLATFORM

    def sniff(self, sample: base.Sample) -> bool:
        """AT URIs and an app.bsky record type."""
        head = first_json_value(sample)
        return head[:1] in "{[" and '"at://' in head and "app.bsky.feed" in head

    def document(self, doc: dict[str, Any], line: int | None) -> Iterable[Post | Reject]:
        """A feed page or a thread."""
        if "thread" in doc:
            return thread_posts(doc["thread"], line)
        if "feed" in doc:
            return feed_posts(doc, line)
        return [Reject(line, doc, base.BAD_JSON)]
