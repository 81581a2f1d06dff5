"""X/Twitter: API v2 pages and JSONL as twarc2 writes them, API v1.1 JSON, account archives.

All three land on platform ``twitter`` (the name TWCS uses), so exports of one account in
different shapes de-duplicate against each other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from socialaudit.errors import SourceError
from socialaudit.ingest import base
from socialaudit.ingest.records import (
    Account,
    JsonRecordImporter,
    Post,
    RecordImporter,
    Reject,
    as_id,
    as_int,
    dig,
    first_json_value,
    load_document,
    read_text,
    unescape,
)

PLATFORM = "twitter"


def permalink(tweet_id: str | None, handle: str | None) -> str | None:
    """The status URL; without a handle, the ``i/web`` form X redirects to the right one."""
    if not tweet_id:
        return None
    if handle:
        return f"https://x.com/{handle}/status/{tweet_id}"
    return f"https://x.com/i/web/status/{tweet_id}"


# -- API v2 -------------------------------------------------------------------------------------


def v2_account(user: dict[str, Any]) -> Account:
    """An ``includes.users`` (or flattened ``author``) object as an account."""
    metrics = user.get("public_metrics") or {}
    return Account(
        platform=PLATFORM,
        account_id=str(user.get("id") or ""),
        handle=user.get("username"),
        display_name=user.get("name"),
        followers_count=as_int(metrics.get("followers_count")),
        following_count=as_int(metrics.get("following_count")),
        created_at=user.get("created_at"),
        verified=user.get("verified"),
    )


def v2_post(tweet: dict[str, Any], users: dict[str, Account], line: int | None) -> Post:
    """One v2 tweet object; ``users`` resolves ``author_id`` (from includes or ``author``)."""
    refs = {r.get("type"): as_id(r.get("id")) for r in tweet.get("referenced_tweets") or []}
    author_id = as_id(tweet.get("author_id"))
    if isinstance(tweet.get("author"), dict):  # twarc2 flatten
        acct = v2_account(tweet["author"])
        author_id = author_id or acct.account_id
        users.setdefault(acct.account_id, acct)
    account = users.get(author_id or "")
    handle = account.handle if account else None
    metrics = tweet.get("public_metrics") or {}
    tweet_id = as_id(tweet.get("id"))
    text = tweet.get("text")
    note = dig(tweet, "note_tweet", "text")  # long posts: the full text lives here
    return Post(
        platform=PLATFORM,
        post_id=tweet_id,
        author_id=author_id,
        author_handle=handle,
        created_at=tweet.get("created_at"),
        text=unescape(note or text),
        parent_id=refs.get("replied_to") or as_id(tweet.get("in_reply_to_status_id")),
        root_id=as_id(tweet.get("conversation_id")),
        repost_of=refs.get("retweeted"),
        quote_of=refs.get("quoted"),
        permalink=permalink(tweet_id, handle),
        like_count=as_int(metrics.get("like_count")),
        repost_count=as_int(metrics.get("retweet_count")),
        reply_count=as_int(metrics.get("reply_count")),
        quote_count=as_int(metrics.get("quote_count")),
        view_count=as_int(metrics.get("impression_count")),
        lang=tweet.get("lang"),
        raw=tweet,
        account=account,
        line_no=line,
    )


def v2_posts(page: dict[str, Any], line: int | None) -> Iterator[Post]:
    """Every tweet of a v2 response: ``data`` first, then the tweets in ``includes``."""
    users = {
        str(u.get("id")): v2_account(u)
        for u in dig(page, "includes", "users") or []
        if isinstance(u, dict)
    }
    data = page.get("data")
    tweets = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
    if "data" not in page and "id" in page:
        tweets = [page]  # one flattened tweet per line
    for tweet in [*tweets, *(dig(page, "includes", "tweets") or [])]:
        if isinstance(tweet, dict):
            yield v2_post(tweet, users, line)


@base.register
class XV2Importer(JsonRecordImporter):
    """X API v2 responses (and twarc2 JSONL, paged or flattened)."""

    name = "x_v2"
    title = "X API v2 JSON"
    description = (
        "X/Twitter API v2 responses as JSON or JSONL (twarc2 pages or flattened tweets): "
        "data, includes.users/tweets, conversation_id, referenced_tweets, public_metrics."
    )
    platform = PLATFORM

    def sniff(self, sample: base.Sample) -> bool:
        """Names v1.1 never used: ``public_metrics``, ``conversation_id``, edit history."""
        head = first_json_value(sample)
        return head[:1] in "{[" and any(
            k in head for k in ('"public_metrics"', '"conversation_id"', '"edit_history_tweet_ids"')
        )

    def document(self, doc: dict[str, Any], line: int | None) -> Iterable[Post | Reject]:
        """A response page or one flattened tweet."""
        return v2_posts(doc, line)


# -- API v1.1 -----------------------------------------------------------------------------------


def v1_account(user: dict[str, Any]) -> Account:
    """A v1.1 ``user`` object as an account."""
    return Account(
        platform=PLATFORM,
        account_id=str(user.get("id_str") or user.get("id") or ""),
        handle=user.get("screen_name"),
        display_name=user.get("name"),
        followers_count=as_int(user.get("followers_count")),
        following_count=as_int(user.get("friends_count")),
        created_at=user.get("created_at"),
        verified=user.get("verified"),
    )


def v1_post(
    tweet: dict[str, Any], line: int | None, owner: Account | None = None, raw: Any = None
) -> Post:
    """One v1.1 tweet (also the ``legacy`` part of GraphQL tweets and archive entries)."""
    user = tweet.get("user")
    account = v1_account(user) if isinstance(user, dict) else owner
    tweet_id = as_id(tweet.get("id_str") or tweet.get("id"))
    handle = account.handle if account else None
    text = tweet.get("full_text") or tweet.get("text")
    ext = dig(tweet, "extended_tweet", "full_text")  # streaming API's long tweets
    retweeted = tweet.get("retweeted_status")
    return Post(
        platform=PLATFORM,
        post_id=tweet_id,
        author_id=account.account_id if account else as_id(tweet.get("user_id_str")),
        author_handle=handle,
        created_at=tweet.get("created_at"),
        text=unescape(ext or text),
        parent_id=as_id(
            tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id")
        ),
        root_id=as_id(tweet.get("conversation_id_str")),
        repost_of=as_id(retweeted.get("id_str")) if isinstance(retweeted, dict) else None,
        quote_of=as_id(tweet.get("quoted_status_id_str")),
        permalink=permalink(tweet_id, handle),
        like_count=as_int(tweet.get("favorite_count")),
        repost_count=as_int(tweet.get("retweet_count")),
        reply_count=as_int(tweet.get("reply_count")),
        quote_count=as_int(tweet.get("quote_count")),
        lang=tweet.get("lang"),
        raw=tweet if raw is None else raw,
        account=account,
        line_no=line,
    )


def v1_posts(tweet: dict[str, Any], line: int | None) -> Iterator[Post]:
    """A tweet and the retweeted and quoted tweets embedded in it (each one a record)."""
    yield v1_post(tweet, line)
    for key in ("retweeted_status", "quoted_status"):
        inner = tweet.get(key)
        if isinstance(inner, dict):
            yield from v1_posts(inner, line)


@base.register
class XV1Importer(JsonRecordImporter):
    """X API v1.1 tweets: a JSON list, a search response, or one tweet per line."""

    name = "x_v1"
    title = "X API v1.1 JSON"
    description = (
        "X/Twitter API v1.1 tweets (id_str, user, in_reply_to_status_id_str, "
        "retweeted_status): a JSON list, a search response with statuses, or JSONL."
    )
    platform = PLATFORM

    def sniff(self, sample: base.Sample) -> bool:
        """A v1.1 tweet carries ``id_str`` and a ``user`` with a ``screen_name``."""
        head = first_json_value(sample)
        return head[:1] in "{[" and '"id_str"' in head and '"screen_name"' in head

    def document(self, doc: dict[str, Any], line: int | None) -> Iterable[Post | Reject]:
        """A tweet, or a search response's ``statuses``."""
        if isinstance(doc.get("statuses"), list):
            for tweet in doc["statuses"]:
                if isinstance(tweet, dict):
                    yield from v1_posts(tweet, line)
                else:
                    yield Reject(line, tweet, base.BAD_JSON)
        else:
            yield from v1_posts(doc, line)


# -- account archive ----------------------------------------------------------------------------

_YTD = re.compile(r"^\s*window\.YTD\.(\w+)\.part\d+\s*=\s*")


def read_ytd(path: Path) -> tuple[str, Any]:
    """Parse an archive ``data/*.js`` file: ``window.YTD.<name>.partN = <JSON>``."""
    text = read_text(path)
    m = _YTD.match(text)
    if not m:
        raise SourceError(
            f"{path} is not an X archive data file (it should start with window.YTD.). "
            "Pass data/tweets.js from the unzipped archive."
        )
    return m.group(1), load_document(path, text[m.end() :])


def archive_owner(tweets_js: Path) -> Account:
    """The archive's owner, from ``account.js`` beside ``tweets.js``: they wrote the tweets."""
    account_js = tweets_js.with_name("account.js")
    if not account_js.exists():
        raise SourceError(
            f"No account.js beside {tweets_js}: it names the archive's owner, who wrote "
            "these tweets. Import tweets.js from the archive's data/ folder, unmoved."
        )
    _, data = read_ytd(account_js)
    acct = dig(data[0] if isinstance(data, list) and data else {}, "account") or {}
    if not acct.get("accountId"):
        raise SourceError(f"{account_js} has no accountId. Is it from the same archive?")
    return Account(
        platform=PLATFORM,
        account_id=str(acct["accountId"]),
        handle=acct.get("username"),
        display_name=acct.get("accountDisplayName"),
        created_at=acct.get("createdAt"),
    )


@base.register
class XArchiveImporter(RecordImporter):
    """The X account archive's ``data/tweets.js`` (owner from ``account.js``)."""

    name = "x_archive"
    title = "X account archive tweets.js"
    description = (
        "data/tweets.js of an X/Twitter account archive (window.YTD.tweets.part0 = [...]); "
        "the author is the archive's owner, read from account.js in the same folder."
    )
    platform = PLATFORM
    sniff_priority = 10
    # Every post is the owner's own, so the owner becomes an organization, as TWCS brands do.
    inbound_sql = "false"
    derives_orgs = True

    def sniff(self, sample: base.Sample) -> bool:
        """The archive's JavaScript wrapper around the tweet list."""
        return bool(re.match(r"window\.YTD\.(tweets|tweet)\.part\d+", first_json_value(sample)))

    def posts(self, path: Path, options: base.ImportOptions) -> Iterable[Post | Reject]:
        """Each ``{"tweet": {...}}`` entry, written by the owner."""
        _, data = read_ytd(path)
        owner = archive_owner(path)
        if not isinstance(data, list):
            raise SourceError(f"{path} does not hold a list of tweets.")
        for entry in data:
            tweet = entry.get("tweet", entry) if isinstance(entry, dict) else None
            if not isinstance(tweet, dict):
                yield Reject(None, entry, base.BAD_JSON)
                continue
            yield v1_post(tweet, None, owner=owner, raw=entry)
