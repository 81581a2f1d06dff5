"""Reddit: listing and comment-tree JSON, and Pushshift-style NDJSON dumps.

Listings are ``/r/x/new.json`` pages and ``/comments/ID.json`` trees.
Ids are fullnames (``t3_abc`` for a submission, ``t1_def`` for a comment), as Reddit's own
``parent_id`` and ``link_id`` refer to them, so a comment's parent links up whether it is a
submission or another comment. A submission is the root of its comments.
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
    first_json_value,
    unescape,
)

PLATFORM = "reddit"
_DELETED = {"[deleted]", "[removed]"}


def _fullname(data: dict[str, Any], kind: str | None) -> str | None:
    name = data.get("name")
    if name:
        return str(name)
    if data.get("id") is None:
        return None
    if kind is None:  # Pushshift: a submission has a title, a comment a link_id
        kind = "t1" if "link_id" in data else "t3"
    return f"{kind}_{data['id']}"


def thing_post(data: dict[str, Any], kind: str | None, line: int | None) -> Post:
    """A submission (t3) or comment (t1) ``data`` object.

    A deleted author (``[deleted]``) is a missing author, and the record is quarantined
    as such rather than attributed to a fake account.
    """
    post_id = _fullname(data, kind)
    is_comment = (post_id or "").startswith("t1_")
    author = data.get("author")
    author_id = data.get("author_fullname") or (
        f"u_{author}" if author and author not in _DELETED else None
    )
    if author in _DELETED:
        author_id = None
    link = data.get("link_id")
    if is_comment:
        text = data.get("body")
        parent = data.get("parent_id")
        root = link
    else:
        title = data.get("title") or ""
        body = data.get("selftext") or ""
        text = "\n\n".join(p for p in (title, body) if p and p not in _DELETED)
        parent = None
        root = post_id
    plink = data.get("permalink")
    account = Account(platform=PLATFORM, account_id=author_id, handle=author) if author_id else None
    return Post(
        platform=PLATFORM,
        post_id=post_id,
        author_id=author_id,
        author_handle=author if author_id else None,
        created_at=str(data.get("created_utc")) if data.get("created_utc") is not None else None,
        text=unescape(text),
        parent_id=parent,
        root_id=root,
        repost_of=data.get("crosspost_parent"),
        permalink=f"https://www.reddit.com{plink}" if plink else None,
        like_count=as_int(data.get("score")),
        reply_count=as_int(data.get("num_comments")),
        raw=data,
        account=account,
        line_no=line,
    )


def walk_things(obj: Any, line: int | None) -> Iterator[Post | Reject]:
    """Listings (also the ``[post, comments]`` pair of a comment page) and reply trees.

    ``more`` stubs (comments not loaded) name no post and are skipped.
    """
    if isinstance(obj, list):
        for part in obj:
            yield from walk_things(part, line)
        return
    if not isinstance(obj, dict):
        yield Reject(line, obj, base.BAD_JSON)
        return
    kind = obj.get("kind")
    data = obj.get("data")
    if kind == "Listing" and isinstance(data, dict):
        for child in data.get("children") or []:
            yield from walk_things(child, line)
    elif kind in ("t1", "t3") and isinstance(data, dict):
        yield thing_post(data, kind, line)
        replies = data.get("replies")
        if isinstance(replies, dict):
            yield from walk_things(replies, line)
    elif kind == "more":
        return
    else:
        yield Reject(line, obj, base.BAD_JSON)


@base.register
class RedditImporter(JsonRecordImporter):
    """Reddit API listings and comment trees, JSON or JSONL."""

    name = "reddit"
    title = "Reddit listing JSON"
    description = (
        "Reddit API JSON: subreddit/user listings and comment pages ([submission, comments] "
        "with nested replies); t3_/t1_ fullnames as ids."
    )
    platform = PLATFORM

    def sniff(self, sample: base.Sample) -> bool:
        """Reddit things: ``"kind": "Listing"`` or ``t1``/``t3`` with a subreddit."""
        head = first_json_value(sample).replace(" ", "")
        return head[:1] in "{[" and (
            '"kind":"Listing"' in head or ('"kind":"t3"' in head and '"subreddit"' in head)
        )

    def document(self, doc: dict[str, Any], line: int | None) -> Iterable[Post | Reject]:
        """A listing (a comment page's two listings arrive one by one)."""
        return walk_things(doc, line)


@base.register
class PushshiftImporter(JsonRecordImporter):
    """Pushshift-style NDJSON dumps: one submission or comment object per line."""

    name = "pushshift"
    title = "Pushshift NDJSON"
    description = (
        "Pushshift-style Reddit dumps: one submission or comment per line (created_utc, "
        "subreddit, link_id/parent_id fullnames)."
    )
    platform = PLATFORM

    def sniff(self, sample: base.Sample) -> bool:
        """Bare things (no ``kind`` wrapper) with ``subreddit`` and ``created_utc``."""
        line = sample.first_line.strip()
        return (
            line.startswith("{")
            and '"subreddit"' in line
            and '"created_utc"' in line
            and '"kind"' not in line
        )

    def document(self, doc: dict[str, Any], line: int | None) -> Iterable[Post | Reject]:
        """One submission or comment."""
        return [thing_post(doc, None, line)]
