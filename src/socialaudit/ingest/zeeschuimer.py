"""NDJSON written by Zeeschuimer (the browser capture tool researchers use with 4CAT).

One captured item per line: ``source_platform`` (``twitter.com``/``x.com``,
``truthsocial.com``, ...), ``timestamp_collected`` (ms) and the platform's own ``data``.
X items are the web app's GraphQL tweets (a v1.1-shaped ``legacy`` part plus the author in
``core.user_results``); Truth Social items are Mastodon statuses. Each item's raw line is
kept in ``raw_records``, so a better mapping can be re-run over the same capture.
Items of platforms this importer does not map are quarantined (not lost), with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from socialaudit.ingest import base, mastodon, x
from socialaudit.ingest.records import (
    Account,
    JsonRecordImporter,
    Post,
    Reject,
    as_int,
    dig,
    unescape,
)

UNSUPPORTED_PLATFORM = "platform not supported"
X_PLATFORMS = {"twitter.com", "x.com"}
MASTODON_PLATFORMS = {"truthsocial.com": "truthsocial"}


def _graphql_tweet(data: dict[str, Any]) -> dict[str, Any]:
    """Unwrap ``TweetWithVisibilityResults`` and ``tweet_results`` envelopes."""
    while True:
        if isinstance(data.get("tweet"), dict) and "legacy" not in data:
            data = data["tweet"]
        elif isinstance(dig(data, "tweet_results", "result"), dict):
            data = data["tweet_results"]["result"]
        else:
            return data


def x_post(data: dict[str, Any], item: dict[str, Any], line: int) -> Post:
    """A GraphQL tweet as a post; the author comes from ``core.user_results.result``."""
    tweet = _graphql_tweet(data)
    legacy = dict(tweet.get("legacy") or {})
    legacy.setdefault("id_str", tweet.get("rest_id"))
    user = dig(tweet, "core", "user_results", "result") or {}
    ulegacy = user.get("legacy") or {}
    account = Account(
        platform=x.PLATFORM,
        account_id=str(user.get("rest_id") or legacy.get("user_id_str") or ""),
        # Newer captures moved the names out of ``legacy`` into ``core``.
        handle=ulegacy.get("screen_name") or dig(user, "core", "screen_name"),
        display_name=ulegacy.get("name") or dig(user, "core", "name"),
        followers_count=as_int(ulegacy.get("followers_count")),
        following_count=as_int(ulegacy.get("friends_count")),
        created_at=ulegacy.get("created_at") or dig(user, "core", "created_at"),
        verified=user.get("is_blue_verified"),
    )
    legacy.pop("user", None)
    retweeted = dig(legacy, "retweeted_status_result", "result")
    if isinstance(retweeted, dict):
        legacy["retweeted_status"] = {"id_str": _graphql_tweet(retweeted).get("rest_id")}
    post = x.v1_post(legacy, line, owner=account if account.account_id else None, raw=item)
    post.view_count = as_int(dig(tweet, "views", "count"))
    note = dig(tweet, "note_tweet", "note_tweet_results", "result", "text")
    if note:
        post.text = unescape(note)
    return post


def item_posts(item: Any, line: int) -> Iterator[Post | Reject]:
    """Map one captured item by its ``source_platform``."""
    if not isinstance(item, dict) or not isinstance(item.get("data"), dict):
        yield Reject(line, item, base.BAD_JSON)
        return
    source = str(item.get("source_platform") or "").lower()
    data = item["data"]
    if source in X_PLATFORMS:
        yield x_post(data, item, line)
    elif source in MASTODON_PLATFORMS:
        post = mastodon.api_post(data, line, platform=MASTODON_PLATFORMS[source])
        post.raw = item
        yield post
    else:
        yield Reject(line, item, UNSUPPORTED_PLATFORM)


@base.register
class ZeeschuimerImporter(JsonRecordImporter):
    """Zeeschuimer/4CAT NDJSON captures (X and Truth Social items mapped; raw kept)."""

    name = "zeeschuimer"
    title = "Zeeschuimer / 4CAT NDJSON"
    description = (
        "NDJSON captured by Zeeschuimer for 4CAT: one item per line with source_platform, "
        "timestamp_collected and the platform's raw data. X/Twitter and Truth Social items "
        "are mapped; every item's raw record is kept so the mapping can be re-run."
    )
    platform = "zeeschuimer"
    keep_raw = True
    sniff_priority = 20

    def sniff(self, sample: base.Sample) -> bool:
        """Zeeschuimer's envelope keys on the first line."""
        line = sample.first_line
        return (
            line.lstrip().startswith("{")
            and '"source_platform"' in line
            and '"timestamp_collected"' in line
        )

    def document(self, doc: dict[str, Any], line: int | None) -> Iterable[Post | Reject]:
        """One captured item."""
        return item_posts(doc, line or 1)
