"""YouTube comments: the UCI YouTube Spam Collection CSV and Data API ``commentThreads`` JSON.

Comment text arrives as HTML (``textDisplay``; the UCI files keep ``<a>`` tags, ``<br />``
and ``&amp;``), so it goes through the same HTML-to-text step as Mastodon.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from socialaudit.ingest import base
from socialaudit.ingest.records import (
    Account,
    JsonRecordImporter,
    Post,
    RecordImporter,
    Reject,
    as_int,
    first_json_value,
    html_to_text,
    read_text,
)

PLATFORM = "youtube"
UCI_HEADER = ["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS"]


def comment_text(content: str | None) -> str | None:
    """The visible text of a comment's HTML: ``&#39;`` is ``'``, ``<br />`` a line break.

    Tags go. The UCI files end every comment with a stray U+FEFF, dropped here too. The raw
    record (HTML included) is kept as imported in ``raw_records``.
    """
    return html_to_text(content.replace("\ufeff", "") if content is not None else None)


def permalink(video_id: str | None, comment_id: str | None) -> str | None:
    """The watch URL that opens the video with the comment highlighted (``lc=``)."""
    if not video_id or not comment_id:
        return None
    return f"https://www.youtube.com/watch?v={video_id}&lc={comment_id}"


@base.register
class YoutubeUciImporter(RecordImporter):
    """The UCI YouTube Spam Collection CSV (COMMENT_ID, AUTHOR, DATE, CONTENT, CLASS)."""

    name = "youtube_csv"
    title = "YouTube comments CSV (UCI)"
    description = (
        "YouTube comment CSV in the UCI spam-collection shape: COMMENT_ID, AUTHOR, DATE, "
        "CONTENT, CLASS. The author's display name is the only author id the file has."
    )
    platform = PLATFORM
    keep_raw = True  # the stored text is decoded HTML; the record as exported stays here

    def sniff(self, sample: base.Sample) -> bool:
        """The five-column header."""
        return [h.strip() for h in sample.first_line.split(",")] == UCI_HEADER

    def posts(self, path: Path, options: base.ImportOptions) -> Iterable[Post | Reject]:
        """Rows through the csv module (the files are small); blank lines are skipped."""
        text = read_text(path)
        reader = csv.reader(io.StringIO(text, newline=""))
        header: list[str] | None = None
        for row in reader:
            line = reader.line_num
            if not any(c.strip() for c in row):
                continue
            if header is None:
                header = [h.strip() for h in row]
                continue
            if len(row) != len(header):
                yield Reject(line, ",".join(row), base.WRONG_FIELD_COUNT)
                continue
            rec = dict(zip(header, row, strict=True))
            author = rec["AUTHOR"].strip() or None
            yield Post(
                platform=PLATFORM,
                post_id=rec["COMMENT_ID"].strip() or None,
                author_id=author,
                author_handle=author,
                created_at=rec["DATE"],
                text=comment_text(rec["CONTENT"]),
                raw=rec,
                account=Account(PLATFORM, author, author) if author else None,
                line_no=line,
            )


def _comment(item: dict[str, Any], parent: str | None, line: int | None) -> Post:
    snip = item.get("snippet") or {}
    channel = (snip.get("authorChannelId") or {}).get("value")
    handle = snip.get("authorDisplayName")
    comment_id = item.get("id")
    video = snip.get("videoId")
    return Post(
        platform=PLATFORM,
        post_id=comment_id,
        author_id=channel,
        author_handle=handle.lstrip("@") if handle else None,
        created_at=snip.get("publishedAt"),
        text=comment_text(snip.get("textDisplay") or snip.get("textOriginal")),
        parent_id=parent or snip.get("parentId"),
        root_id=(parent or snip.get("parentId") or comment_id),
        permalink=permalink(video, comment_id),
        like_count=as_int(snip.get("likeCount")),
        raw=item,
        account=Account(PLATFORM, channel, handle.lstrip("@") if handle else None)
        if channel
        else None,
        line_no=line,
    )


def thread_posts(doc: Any, line: int | None) -> Iterator[Post | Reject]:
    """Top-level comments with their loaded replies (replies have the top comment as parent)."""
    items = doc.get("items") if isinstance(doc, dict) and "items" in doc else [doc]
    for thread in items or []:
        if not isinstance(thread, dict):
            yield Reject(line, thread, base.BAD_JSON)
            continue
        snip = thread.get("snippet") or {}
        top = snip.get("topLevelComment")
        if not isinstance(top, dict):
            yield Reject(line, thread, "not a post")
            continue
        post = _comment(top, None, line)
        post.reply_count = as_int(snip.get("totalReplyCount"))
        yield post
        for reply in (thread.get("replies") or {}).get("comments") or []:
            if isinstance(reply, dict):
                yield _comment(reply, top.get("id"), line)


@base.register
class YoutubeCommentThreadsImporter(JsonRecordImporter):
    """YouTube Data API v3 ``commentThreads.list`` responses, JSON or JSONL."""

    name = "youtube"
    title = "YouTube commentThreads JSON"
    description = (
        "YouTube Data API commentThreads responses (youtube#commentThreadListResponse): "
        "top-level comments and their replies, author channel ids, like counts."
    )
    platform = PLATFORM
    keep_raw = True  # the stored text is decoded HTML; the record as exported stays here

    def sniff(self, sample: base.Sample) -> bool:
        """The API's ``kind`` marker."""
        head = first_json_value(sample)
        return head[:1] in "{[" and "youtube#commentThread" in head

    def document(self, doc: dict[str, Any], line: int | None) -> Iterable[Post | Reject]:
        """A response page, or one comment thread."""
        return thread_posts(doc, line)
