"""Mastodon: an account's public statuses and each one's conversation, no login needed.

Endpoints: ``/api/v1/accounts/lookup`` (handle to id), ``/api/v1/accounts/:id/statuses``
(newest first, paged down by ``max_id`` from the ``Link`` header) and
``/api/v1/statuses/:id/context`` for every status that is a reply or has replies, which
brings the customers' posts the account answered and the replies it got. A later run asks
only for statuses newer than the newest one already collected (``since_id``).

Status ids are per server: collect each account from the server it lives on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from socialaudit.collect.base import Collector, Page
from socialaudit.collect.http import Client
from socialaudit.errors import ConfigError

PAGE_SIZE = 40


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

    def __init__(self, client: Client, account: str, *, contexts: bool = True) -> None:
        user, server = parse_account(account)
        super().__init__(client, f"{user}@{server}")
        self.user = user
        self.contexts = contexts

    def _account_id(self) -> str:
        acct = self.client.get_json("/api/v1/accounts/lookup", {"acct": self.user}).data
        if not isinstance(acct, dict) or not acct.get("id"):
            raise ConfigError(f"The server did not return an account for {self.target}.")
        return str(acct["id"])

    def pages(self, state: dict[str, Any]) -> Iterator[Page]:
        """Page down from the newest status (or the saved ``max_id``) to the last run's top."""
        account_id = state.get("account_id") or self._account_id()
        newest = state.get("newest")
        top = state.get("top")
        max_id = state.get("max_id")
        while True:
            resp = self.client.get_json(
                f"/api/v1/accounts/{account_id}/statuses",
                {"limit": PAGE_SIZE, "max_id": max_id, "since_id": newest},
            )
            statuses = [s for s in resp.data or [] if isinstance(s, dict)]
            if not statuses:
                return
            top = top or str(statuses[0].get("id"))
            docs: list[Any] = [statuses]
            if self.contexts:
                for status in statuses:
                    if status.get("in_reply_to_id") or (status.get("replies_count") or 0) > 0:
                        docs.append(
                            self.client.get_json(f"/api/v1/statuses/{status['id']}/context").data
                        )
            next_max = _next_max_id(resp.links, statuses)
            yield Page(
                docs=docs,
                state={"account_id": account_id, "newest": newest, "top": top, "max_id": next_max},
                cursor=next_max,
                label=f"statuses before {next_max or 'the start'}",
            )
            if next_max is None:
                return
            max_id = next_max

    def finish(self, state: dict[str, Any]) -> dict[str, Any]:
        """Next time, only statuses newer than this run's newest."""
        return {
            "account_id": state.get("account_id"),
            "newest": state.get("top") or state.get("newest"),
        }


def _next_max_id(links: dict[str, str], statuses: list[dict[str, Any]]) -> str | None:
    nxt = links.get("next")
    if nxt:
        return httpx.URL(nxt).params.get("max_id")
    if len(statuses) >= PAGE_SIZE:  # servers without Link headers: page by the last id
        return str(statuses[-1].get("id"))
    return None
