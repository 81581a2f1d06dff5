"""Mastodon: an account's public statuses and conversations, and the mentions it received.

Own posts (no login needed): ``/api/v1/accounts/lookup`` (handle to id),
``/api/v1/accounts/:id/statuses`` (newest first, paged down by ``max_id`` from the ``Link``
header) and ``/api/v1/statuses/:id/context`` for every status that is a reply or has
replies. A later run asks only for statuses newer than the newest one already collected
(``since_id``).

Inbound, with an access token (``SOCIALAUDIT_MASTODON_TOKEN`` or ``[mastodon] token``):

- the org's own token (``verify_credentials`` names the target): ``/api/v1/notifications``
  with ``types[]=mention``. Coverage ``complete``.
- another account's token: ``/api/v2/search`` for statuses naming ``@user@server``.
  Coverage ``search``: Mastodon's full-text search finds only indexed posts of authors who
  opted in to being found.
- no token: ``threads_only``.

Statuses with ``direct`` visibility (private messages) are never stored. Status ids are
per server: collect each account from the server it lives on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from socialaudit.collect.base import (
    Collector,
    Listing,
    Page,
    credential_hint,
    inbound_page,
    optional_credential,
    paginate,
)
from socialaudit.collect.http import Client
from socialaudit.errors import ConfigError

PAGE_SIZE = 40
TOKEN_VAR = "SOCIALAUDIT_MASTODON_TOKEN"


def token_from_env() -> str | None:
    """The access token from the environment or ``[mastodon] token``; None when unset."""
    return optional_credential(TOKEN_VAR, "mastodon", "token")


def parse_account(account: str) -> tuple[str, str]:
    """``@user@server`` (or ``user@server``) as (user, server)."""
    parts = account.strip().lstrip("@").split("@")
    if len(parts) != 2 or not all(parts):
        raise ConfigError(
            f"Cannot read Mastodon account {account!r}. Write it as user@server, "
            "e.g. Mastodon@mastodon.social."
        )
    return parts[0], parts[1]


class MastodonCollector(Collector):
    """Statuses and contexts of one account."""

    platform = "mastodon"
    format = "mastodon"

    def __init__(
        self, client: Client, account: str, *, contexts: bool = True, token: str | None = None
    ) -> None:
        user, server = parse_account(account)
        super().__init__(client, f"{user}@{server}")
        self.user = user
        self.handle = user
        self.contexts = contexts
        self.token = token

    def prepare(self, state: dict[str, Any]) -> None:
        """With a token: whose it is decides between notifications and search."""
        self.account_id = (state.get("own") or {}).get("account_id")
        if not self.token:
            self.method = "threads_only"
            return
        self.client.set_header("Authorization", f"Bearer {self.token}")
        self.client.credential_hint = credential_hint(TOKEN_VAR, "mastodon", "token")
        me = self.client.get_json("/api/v1/accounts/verify_credentials").data
        mine = isinstance(me, dict) and str(me.get("username", "")).lower() == self.user.lower()
        self.method = "complete" if mine else "search"

    def _account_id(self) -> str:
        acct = self.client.get_json("/api/v1/accounts/lookup", {"acct": self.user}).data
        if not isinstance(acct, dict) or not acct.get("id"):
            raise ConfigError(f"The server did not return an account for {self.target}.")
        return str(acct["id"])

    def own_pages(self, state: dict[str, Any]) -> Iterator[Page]:
        """Page down from the newest status (or the saved ``max_id``) to the last run's top."""
        account_id = state.get("account_id") or self._account_id()
        self.account_id = account_id
        newest = state.get("newest")

        def fetch(max_id: str | None) -> Listing:
            return self._listing(
                f"/api/v1/accounts/{account_id}/statuses",
                {"limit": PAGE_SIZE, "max_id": max_id, "since_id": newest},
            )

        def build(listing: Listing, next_max: str | None, top: str | None) -> Page:
            statuses = listing.records
            docs: list[Any] = [_public(statuses)]
            if self.contexts:
                for status in statuses:
                    if status.get("in_reply_to_id") or (status.get("replies_count") or 0) > 0:
                        docs.append(self._context(status["id"]))
            return Page(
                docs=docs,
                state={"account_id": account_id, "newest": newest, "top": top, "max_id": next_max},
                cursor=next_max,
                label=f"statuses before {next_max or 'the start'}",
            )

        yield from paginate(
            fetch, build, cursor=state.get("max_id"), top=state.get("top"), advance=_first_id
        )

    def _listing(self, path: str, params: dict[str, Any]) -> Listing:
        """A page of a timeline paged by ``max_id``, newest first."""
        resp = self.client.get_json(path, params)
        records = [r for r in resp.data or [] if isinstance(r, dict)]
        return Listing(records, _next_max_id(resp.links, records))

    def finish(self, state: dict[str, Any]) -> dict[str, Any]:
        """Next time, only statuses newer than this run's newest."""
        return {
            "account_id": state.get("account_id"),
            "newest": state.get("top") or state.get("newest"),
        }

    def inbound_pages(self, state: dict[str, Any], *, since: str | None) -> Iterator[Page]:
        """Mention notifications (complete) or a status search (search), with contexts."""
        if self.method == "complete":
            yield from self._notifications(state)
        elif self.method == "search":
            yield from self._search(state)

    def _notifications(self, state: dict[str, Any]) -> Iterator[Page]:
        newest = state.get("newest")

        def fetch(max_id: str | None) -> Listing:
            return self._listing(
                "/api/v1/notifications",
                {"types[]": "mention", "limit": PAGE_SIZE, "max_id": max_id, "since_id": newest},
            )

        def build(listing: Listing, next_max: str | None, top: str | None) -> Page:
            statuses = [
                n["status"]
                for n in listing.records
                if n.get("type") == "mention" and isinstance(n.get("status"), dict)
            ]
            return self._inbound_page(
                statuses, {"newest": newest, "top": top, "max_id": next_max}, next_max
            )

        yield from paginate(
            fetch, build, cursor=state.get("max_id"), top=state.get("top"), advance=_first_id
        )

    def _search(self, state: dict[str, Any]) -> Iterator[Page]:
        server = self.target.split("@", 1)[1]

        def fetch(offset: int) -> Listing:
            data = self.client.get_json(
                "/api/v2/search",
                {
                    "q": f"@{self.user}@{server}",
                    "type": "statuses",
                    "resolve": "false",
                    "limit": PAGE_SIZE,
                    "offset": offset,
                },
            ).data
            statuses = [s for s in (data or {}).get("statuses") or [] if isinstance(s, dict)]
            more = len(statuses) >= PAGE_SIZE
            return Listing(statuses, offset + len(statuses) if more else None)

        def build(listing: Listing, offset: int | None, _top: Any) -> Page:
            return self._inbound_page(
                listing.records, {"offset": offset or 0}, str(offset) if offset else None
            )

        yield from paginate(fetch, build, cursor=int(state.get("offset") or 0))

    def _inbound_page(
        self, statuses: list[dict[str, Any]], state: dict[str, Any], cursor: str | None
    ) -> Page:
        posts = [
            s
            for s in _public(statuses)
            if str((s.get("account") or {}).get("id")) != str(self.account_id)
        ]
        return inbound_page(
            posts,
            document=lambda found: found,
            thread=self._context if self.contexts else None,
            key="id",
            state=state,
            cursor=cursor,
            label=f"inbound ({self.method}) before {cursor or 'the start'}",
        )

    def finish_inbound(self, state: dict[str, Any]) -> dict[str, Any]:
        """Next time, only notifications newer than this run's newest."""
        return {"newest": state.get("top") or state.get("newest")}

    def _context(self, status_id: Any) -> Any:
        """A status's ancestors and descendants, direct messages left out."""
        ctx = self.client.get_json(f"/api/v1/statuses/{status_id}/context").data
        if not isinstance(ctx, dict):
            return ctx
        return {k: _public(v) if isinstance(v, list) else v for k, v in ctx.items()}


def _public(statuses: list[Any]) -> list[Any]:
    """Everything but ``direct`` statuses: private messages are never stored."""
    return [s for s in statuses if not (isinstance(s, dict) and s.get("visibility") == "direct")]


def _first_id(top: str | None, records: list[dict[str, Any]]) -> str:
    """The run's top: the first (newest) record of its first page, kept when resuming."""
    return top or str(records[0].get("id"))


def _next_max_id(links: dict[str, str], statuses: list[dict[str, Any]]) -> str | None:
    nxt = links.get("next")
    if nxt:
        return httpx.URL(nxt).params.get("max_id")
    if len(statuses) >= PAGE_SIZE:  # servers without Link headers: page by the last id
        return str(statuses[-1].get("id"))
    return None
