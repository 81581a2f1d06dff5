"""Bluesky: an account's feed and threads, plus what customers addressed to it.

Own posts (no login needed): ``app.bsky.feed.getAuthorFeed`` (newest first, opaque
``cursor``) and ``app.bsky.feed.getPostThread`` for each post that is a reply or has
replies. A later run stops paging once it reaches posts indexed before the newest one
already collected.

Inbound, by the most complete method the credentials allow (SPEC section 5):

- logged in (``com.atproto.server.createSession`` with an app password) as the target
  itself: ``app.bsky.notification.listNotifications``, keeping mentions, replies and quotes.
  Coverage ``complete``: every post that notified the account.
- logged in as another account: ``app.bsky.feed.searchPosts`` with the ``mentions`` filter
  (``q`` is required by the lexicon, so ``*``), ``sort=latest``, bounded by ``since`` and
  ``until``. Coverage ``search``: as complete as the AppView's index (the public AppView
  answers 403 to unauthenticated search).
- no credentials: nothing beyond the threads. Coverage ``threads_only``.

Every inbound post's thread is fetched too, so an answer that came later is linked. An
access token lasts minutes; when the server answers ``ExpiredToken`` the session is renewed
with ``com.atproto.server.refreshSession`` (or a fresh login when that is refused too).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from socialaudit.collect.base import (
    Collector,
    Listing,
    Page,
    credential_hint,
    inbound_page,
    optional_credential,
    paginate,
    paginate_by_time,
)
from socialaudit.collect.http import Client
from socialaudit.errors import ConfigError, CredentialError

PUBLIC_APPVIEW = "https://public.api.bsky.app"
#: Where app-password logins go; the PDS behind it proxies app.bsky calls to the AppView.
ENTRYWAY = "https://bsky.social"
PAGE_SIZE = 100
INBOUND_REASONS = ("mention", "reply", "quote")
HANDLE_VAR = "SOCIALAUDIT_BLUESKY_HANDLE"
PASSWORD_VAR = "SOCIALAUDIT_BLUESKY_APP_PASSWORD"


def login_from_env() -> tuple[str, str] | None:
    """(handle, app password) from the environment or ``[bluesky]``; None when neither is set.

    One of the two without the other is a configuration error naming the missing one.
    """
    handle = optional_credential(HANDLE_VAR, "bluesky", "handle")
    password = optional_credential(PASSWORD_VAR, "bluesky", "app_password")
    if handle and password:
        return handle.strip().lstrip("@"), password
    if handle or password:
        missing = (
            credential_hint(PASSWORD_VAR, "bluesky", "app_password")
            if handle
            else credential_hint(HANDLE_VAR, "bluesky", "handle")
        )
        raise ConfigError(f"Bluesky login is half configured: set {missing} too.")
    return None


class Session:
    """An app-password session: logs in, renews its token when the server says it expired."""

    def __init__(self, client: Client, identifier: str, password: str) -> None:
        self.client = client
        self.identifier = identifier
        self._password = password
        self._refresh_jwt: str | None = None
        self.did: str | None = None
        self.handle: str | None = None
        self.refreshes = 0

    def login(self) -> None:
        """``createSession``; a refused password names the variables to fix."""
        self.client.credential_hint = (
            f"{credential_hint(HANDLE_VAR, 'bluesky', 'handle')} and "
            f"{credential_hint(PASSWORD_VAR, 'bluesky', 'app_password')}"
        )
        saved, self.client.refresh = self.client.refresh, None
        try:
            data = self.client.get_json(
                "/xrpc/com.atproto.server.createSession",
                method="POST",
                json_body={"identifier": self.identifier, "password": self._password},
            ).data
        finally:
            self.client.refresh = saved
        self._take(data)
        self.client.refresh = self.renew

    def renew(self) -> None:
        """``refreshSession`` with the refresh token; log in again if that is refused too."""
        self.refreshes += 1
        self.client.refresh = None
        try:
            data = self.client.get_json(
                "/xrpc/com.atproto.server.refreshSession",
                method="POST",
                headers={"Authorization": f"Bearer {self._refresh_jwt}"},
            ).data
        except CredentialError:
            self.login()
            return
        finally:
            self.client.refresh = self.renew
        self._take(data)

    def _take(self, data: Any) -> None:
        if not isinstance(data, dict) or not data.get("accessJwt"):
            raise CredentialError(
                f"Bluesky did not return a session for {self.identifier}. Check "
                f"{credential_hint(HANDLE_VAR, 'bluesky', 'handle')}."
            )
        self.client.set_header("Authorization", f"Bearer {data['accessJwt']}")
        self._refresh_jwt = data.get("refreshJwt") or self._refresh_jwt
        self.did = data.get("did") or self.did
        self.handle = data.get("handle") or self.handle


class BlueskyCollector(Collector):
    """Author feed and threads of one handle (or DID), and its inbound posts."""

    platform = "bluesky"
    format = "bluesky"

    def __init__(
        self,
        client: Client,
        actor: str,
        *,
        threads: bool = True,
        session: Session | None = None,
    ) -> None:
        super().__init__(client, actor.strip().lstrip("@"))
        self.threads = threads
        self.session = session
        if actor.startswith("did:"):
            self.account_id = self.target
        else:
            self.handle = self.target

    def prepare(self, state: dict[str, Any]) -> None:
        """Log in when credentials are given; the account logged in decides the method."""
        if self.session is None:
            self.method = "threads_only"
            return
        self.session.login()
        me = {(self.session.did or "").lower(), (self.session.handle or "").lower()}
        self.method = "complete" if self.target.lower() in me else "search"
        if self.method == "complete" and self.session.did:
            self.account_id = self.session.did

    def own_pages(self, state: dict[str, Any]) -> Iterator[Page]:
        """Feed pages down to the last run's newest post, each with its threads."""
        newest = state.get("newest")

        def fetch(cursor: str | None) -> Listing:
            resp = self.client.get_json(
                "/xrpc/app.bsky.feed.getAuthorFeed",
                {"actor": self.target, "limit": PAGE_SIZE, "cursor": cursor},
            )
            data = resp.data if isinstance(resp.data, dict) else {}
            feed = [f for f in data.get("feed") or [] if isinstance(f, dict)]
            self._learn_identity(feed)
            return Listing(feed, data.get("cursor"))

        def build(listing: Listing, nxt: str | None, top: str | None) -> Page:
            feed = listing.records
            docs: list[Any] = [{"feed": feed}]
            if self.threads:
                for item in feed:
                    post = item.get("post") or {}
                    if _is_repost(item) or not post.get("uri"):
                        continue
                    if (post.get("replyCount") or 0) > 0 or "reply" in (post.get("record") or {}):
                        docs.append(self._thread(post["uri"]))
            return Page(
                docs=docs,
                state={"newest": newest, "top": top, "cursor": nxt},
                cursor=nxt,
                label=f"feed page {nxt or 'last'}",
            )

        yield from paginate_by_time(
            fetch, build, state=state, cursor=state.get("cursor"), stamps=_feed_stamps
        )

    def inbound_pages(self, state: dict[str, Any], *, since: str | None) -> Iterator[Page]:
        """Notifications (complete) or mention search (search), each post with its thread."""
        if self.method == "complete":
            yield from self._notifications(state)
        elif self.method == "search":
            yield from self._search(state, since)

    def _notifications(self, state: dict[str, Any]) -> Iterator[Page]:
        newest = state.get("newest")

        def fetch(cursor: str | None) -> Listing:
            data = self.client.get_json(
                "/xrpc/app.bsky.notification.listNotifications",
                {"limit": PAGE_SIZE, "cursor": cursor, "reasons": list(INBOUND_REASONS)},
            ).data
            items = [n for n in (data or {}).get("notifications") or [] if isinstance(n, dict)]
            return Listing(items, (data or {}).get("cursor"))

        def build(listing: Listing, nxt: str | None, top: str | None) -> Page:
            posts = [
                n
                for n in listing.records
                if n.get("reason") in INBOUND_REASONS
                and str(n.get("uri", "")).split("/")[-2:-1] == ["app.bsky.feed.post"]
                and (newest is None or str(n.get("indexedAt") or "") > newest)
            ]
            return self._inbound_page(posts, {"newest": newest, "top": top, "cursor": nxt}, nxt)

        yield from paginate_by_time(
            fetch, build, state=state, cursor=state.get("cursor"), stamps=_notification_stamps
        )

    def _search(self, state: dict[str, Any], since: str | None) -> Iterator[Page]:
        def fetch(cursor: str | None) -> Listing:
            data = self.client.get_json(
                "/xrpc/app.bsky.feed.searchPosts",
                {
                    "q": "*",
                    "mentions": self.target,
                    "sort": "latest",
                    "since": since,
                    "until": self.until,
                    "limit": PAGE_SIZE,
                    "cursor": cursor,
                },
            ).data
            posts = [p for p in (data or {}).get("posts") or [] if isinstance(p, dict)]
            return Listing(posts, (data or {}).get("cursor"))

        def build(listing: Listing, nxt: str | None, _top: Any) -> Page:
            return self._inbound_page(listing.records, {"cursor": nxt}, nxt)

        yield from paginate(fetch, build, cursor=state.get("cursor"))

    def _inbound_page(
        self, views: list[dict[str, Any]], state: dict[str, Any], nxt: str | None
    ) -> Page:
        """Inbound post views as a feed document, with the thread of each."""
        views = [v for v in views if (v.get("author") or {}).get("did") != self.account_id]
        return inbound_page(
            views,
            document=lambda found: {"feed": [{"post": v} for v in found]},
            thread=self._thread if self.threads else None,
            key="uri",
            state=state,
            cursor=nxt,
            label=f"inbound ({self.method}) page {nxt or 'last'}",
        )

    def _thread(self, uri: str) -> Any:
        return self.client.get_json(
            "/xrpc/app.bsky.feed.getPostThread", {"uri": uri, "depth": 10, "parentHeight": 10}
        ).data

    def _learn_identity(self, feed: list[dict[str, Any]]) -> None:
        if self.account_id and self.handle:
            return
        for item in feed:
            author = (item.get("post") or {}).get("author") or {}
            if self.target.lower() in (
                str(author.get("handle", "")).lower(),
                str(author.get("did", "")).lower(),
            ):
                self.account_id = author.get("did") or self.account_id
                self.handle = author.get("handle") or self.handle
                return

    def finish(self, state: dict[str, Any]) -> dict[str, Any]:
        """Next time, stop at this run's newest post."""
        return {"newest": state.get("top") or state.get("newest")}

    def finish_inbound(self, state: dict[str, Any]) -> dict[str, Any]:
        """Next time, notifications down to this run's newest (search is bounded by time)."""
        return {"newest": state.get("top") or state.get("newest")}


def _feed_stamps(feed: list[dict[str, Any]]) -> list[str]:
    """When each feed item was indexed (items without a time left out)."""
    return [s for s in map(_indexed, feed) if s]


def _notification_stamps(items: list[dict[str, Any]]) -> list[str]:
    """When each notification was indexed (those without a time left out)."""
    return [s for s in (str(n.get("indexedAt") or "") for n in items) if s]


def _indexed(item: dict[str, Any]) -> str:
    reason = item.get("reason") or {}
    return str(reason.get("indexedAt") or (item.get("post") or {}).get("indexedAt") or "")


def _is_repost(item: dict[str, Any]) -> bool:
    return str((item.get("reason") or {}).get("$type", "")).endswith("reasonRepost")
