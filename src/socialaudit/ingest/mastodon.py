"""Mastodon: API statuses and the ActivityPub ``outbox.json`` of an account export.

API statuses come as an account's statuses or a status ``context``.
Status content is HTML; it is turned into text with a real HTML parser
(:func:`records.html_to_text`), entities decoded. Handles are stored as the bare username
(``AcmeHelp``), which is what a mention in the text reads as; the full ``acct`` goes in the
display name's place only when no display name is given.
"""

from __future__ import annotations

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
    as_id,
    as_int,
    first_json_value,
    html_to_text,
    iter_json,
)

PLATFORM = "mastodon"


def api_account(acct: dict[str, Any], platform: str = PLATFORM) -> Account:
    """A Mastodon ``Account`` entity."""
    return Account(
        platform=platform,
        account_id=str(acct.get("id") or ""),
        handle=acct.get("username") or acct.get("acct"),
        display_name=acct.get("display_name") or acct.get("acct"),
        followers_count=as_int(acct.get("followers_count")),
        following_count=as_int(acct.get("following_count")),
        created_at=acct.get("created_at"),
    )


def api_post(status: dict[str, Any], line: int | None, platform: str = PLATFORM) -> Post:
    """A Mastodon ``Status`` entity (a boost points at the boosted status)."""
    acct = status.get("account")
    account = api_account(acct, platform) if isinstance(acct, dict) else None
    boosted = status.get("reblog")
    quote = status.get("quote")
    quoted = quote.get("quoted_status") if isinstance(quote, dict) else None
    return Post(
        platform=platform,
        post_id=as_id(status.get("id")),
        author_id=account.account_id if account else None,
        author_handle=account.handle if account else None,
        created_at=status.get("created_at"),
        text=html_to_text(status.get("content")),
        parent_id=as_id(status.get("in_reply_to_id")),
        repost_of=as_id(boosted.get("id")) if isinstance(boosted, dict) else None,
        quote_of=as_id(quoted.get("id")) if isinstance(quoted, dict) else None,
        permalink=status.get("url") or status.get("uri"),
        like_count=as_int(status.get("favourites_count")),
        repost_count=as_int(status.get("reblogs_count")),
        reply_count=as_int(status.get("replies_count")),
        lang=status.get("language"),
        raw=status,
        account=account,
        line_no=line,
    )


def api_posts(obj: Any, line: int | None, platform: str = PLATFORM) -> Iterator[Post | Reject]:
    """Statuses from a list, one status, or a ``context`` (ancestors + descendants)."""
    if isinstance(obj, dict) and ("descendants" in obj or "ancestors" in obj):
        items = [*(obj.get("ancestors") or []), *(obj.get("descendants") or [])]
    elif isinstance(obj, list):
        items = obj
    else:
        items = [obj]
    for status in items:
        if not isinstance(status, dict):
            yield Reject(line, status, base.BAD_JSON)
            continue
        yield api_post(status, line, platform)
        boosted = status.get("reblog")
        if isinstance(boosted, dict):
            yield api_post(boosted, line, platform)


@base.register
class MastodonApiImporter(JsonRecordImporter):
    """Mastodon REST API statuses (account statuses, context descendants), JSON or JSONL."""

    name = "mastodon"
    title = "Mastodon API statuses"
    description = (
        "Mastodon API statuses JSON: /api/v1/accounts/:id/statuses lists, single statuses, "
        "and /api/v1/statuses/:id/context (ancestors and descendants); JSON or JSONL."
    )
    platform = PLATFORM

    def sniff(self, sample: base.Sample) -> bool:
        """Statuses carry ``in_reply_to_account_id`` and an ``account`` with ``acct``."""
        head = first_json_value(sample)
        return head[:1] in "{[" and (
            ('"in_reply_to_account_id"' in head and '"acct"' in head)
            or head.replace(" ", "").startswith(('{"ancestors":', '{"descendants":'))
        )

    def document(self, doc: dict[str, Any], line: int | None) -> Iterable[Post | Reject]:
        """A status or a context."""
        return api_posts(doc, line)


# -- ActivityPub outbox -------------------------------------------------------------------------


def _local_id(url: str | None) -> str | None:
    """The status id in an ActivityPub URL (``.../statuses/109...``, or its ``/activity``)."""
    if not url:
        return None
    parts = url.rstrip("/").split("/")
    if parts[-1] == "activity":
        parts.pop()
    return parts[-1] or None


def _status_ref(url: str | None, own: str) -> str | None:
    """A status on the export's own server by its id; one elsewhere by its URL.

    Mastodon ids are per server: another server's id would be a different status here.
    """
    if not url:
        return None
    return _local_id(url) if url.split("/")[:3] == own.split("/")[:3] else url


def _username(actor_url: Any) -> str | None:
    """The username in an actor URL (``https://host/users/NAME``), when actor.json is absent."""
    if not isinstance(actor_url, str) or "/users/" not in actor_url:
        return None
    return actor_url.rstrip("/").rsplit("/users/", 1)[1] or None


def outbox_posts(doc: dict[str, Any], actor: dict[str, Any] | None) -> Iterator[Post | Reject]:
    """``Create`` activities become posts; ``Announce`` (boosts) become reposts.

    Ids are the statuses' own ids (the last part of the object URL), so an outbox and the
    API statuses of the same account de-duplicate. Replies to other servers keep the full
    URL of the parent as its id, as that is all the export knows.
    """
    owner_id = None
    handle = None
    if actor:
        owner_id = str(actor.get("id") or "")
        handle = actor.get("preferredUsername")
    for activity in doc.get("orderedItems") or []:
        if handle is None and isinstance(activity, dict):
            handle = _username(activity.get("actor"))
        if not isinstance(activity, dict):
            yield Reject(None, activity, base.BAD_JSON)
            continue
        kind = activity.get("type")
        obj = activity.get("object")
        author = activity.get("actor") or owner_id
        account = (
            Account(
                platform=PLATFORM,
                account_id=str(author),
                handle=handle,
                display_name=(actor or {}).get("name"),
            )
            if author
            else None
        )
        if kind == "Announce":
            yield Post(
                platform=PLATFORM,
                post_id=_local_id(activity.get("id")),
                author_id=author,
                author_handle=handle,
                created_at=activity.get("published"),
                repost_of=_status_ref(obj, str(activity.get("id") or ""))
                if isinstance(obj, str)
                else None,
                raw=activity,
                account=account,
            )
            continue
        if not isinstance(obj, dict):
            yield Reject(None, activity, "not a post")
            continue
        parent = obj.get("inReplyTo")
        replies = obj.get("replies")
        yield Post(
            platform=PLATFORM,
            post_id=_local_id(obj.get("id")),
            author_id=obj.get("attributedTo") or author,
            author_handle=handle,
            created_at=obj.get("published") or activity.get("published"),
            text=html_to_text(obj.get("content")),
            parent_id=_status_ref(parent, str(obj.get("id") or "")),
            permalink=obj.get("url") or obj.get("id"),
            reply_count=as_int(replies.get("totalItems")) if isinstance(replies, dict) else None,
            lang=next(iter(obj.get("contentMap") or {}), None),
            raw=activity,
            account=account,
        )


@base.register
class MastodonOutboxImporter(RecordImporter):
    """``outbox.json`` from a Mastodon account export (ActivityPub)."""

    name = "mastodon_outbox"
    title = "Mastodon export outbox.json"
    description = (
        "outbox.json of a Mastodon account export (ActivityPub OrderedCollection of Create and "
        "Announce activities); the owner comes from actor.json beside it when present."
    )
    platform = PLATFORM
    # An outbox holds only its owner's posts (and boosts): the owner becomes an organization,
    # as an X archive's does, instead of the data naming only the customers it answered.
    inbound_sql = "false"
    derives_orgs = True

    def sniff(self, sample: base.Sample) -> bool:
        """An ActivityStreams collection with ``orderedItems``."""
        head = first_json_value(sample)
        return head.startswith("{") and "activitystreams" in head and '"orderedItems"' in head

    def posts(self, path: Path, options: base.ImportOptions) -> Iterable[Post | Reject]:
        """Read the outbox, and the actor beside it for the owner's username."""
        actor = None
        actor_path = path.with_name("actor.json")
        if actor_path.exists():
            for item in iter_json(actor_path):
                if not isinstance(item, Reject) and isinstance(item[1], dict):
                    actor = item[1]
        for item in iter_json(path):
            if isinstance(item, Reject):
                yield item
            elif isinstance(item[1], dict):
                yield from outbox_posts(item[1], actor)
            else:
                yield Reject(None, item[1], base.BAD_JSON)
