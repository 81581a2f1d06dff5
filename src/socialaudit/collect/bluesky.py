"""Bluesky: an account's author feed and the threads of its posts, from the public AppView.

Endpoints (no login): ``app.bsky.feed.getAuthorFeed`` (newest first, opaque ``cursor``) and
``app.bsky.feed.getPostThread`` for each post that is a reply or has replies. A later run
stops paging once it reaches posts indexed before the newest one already collected.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from socialaudit.collect.base import Collector, Page
from socialaudit.collect.http import Client

PUBLIC_APPVIEW = "https://public.api.bsky.app"
PAGE_SIZE = 100


class BlueskyCollector(Collector):
    """Author feed and threads of one handle (or DID)."""

    platform = "bluesky"
    format = "bluesky"

    def __init__(self, client: Client, actor: str, *, threads: bool = True) -> None:
        super().__init__(client, actor.strip().lstrip("@"))
        self.threads = threads

    def pages(self, state: dict[str, Any]) -> Iterator[Page]:
        """Feed pages down to the last run's newest post, each with its threads."""
        newest = state.get("newest")
        top = state.get("top")
        cursor = state.get("cursor")
        while True:
            resp = self.client.get_json(
                "/xrpc/app.bsky.feed.getAuthorFeed",
                {"actor": self.target, "limit": PAGE_SIZE, "cursor": cursor},
            )
            data = resp.data if isinstance(resp.data, dict) else {}
            feed = [f for f in data.get("feed") or [] if isinstance(f, dict)]
            if not feed:
                return
            stamps = [_indexed(f) for f in feed if _indexed(f)]
            top = max([top or "", *stamps]) or None
            reached_old = newest is not None and any(s <= newest for s in stamps)
            docs: list[Any] = [{"feed": feed}]
            if self.threads:
                for item in feed:
                    post = item.get("post") or {}
                    if _is_repost(item) or not post.get("uri"):
                        continue
                    if (post.get("replyCount") or 0) > 0 or "reply" in (post.get("record") or {}):
                        docs.append(
                            self.client.get_json(
                                "/xrpc/app.bsky.feed.getPostThread",
                                {"uri": post["uri"], "depth": 10, "parentHeight": 10},
                            ).data
                        )
            nxt = data.get("cursor") if not reached_old else None
            yield Page(
                docs=docs,
                state={"newest": newest, "top": top, "cursor": nxt},
                cursor=nxt,
                label=f"feed page {nxt or 'last'}",
            )
            if not nxt:
                return
            cursor = nxt

    def finish(self, state: dict[str, Any]) -> dict[str, Any]:
        """Next time, stop at this run's newest post."""
        return {"newest": state.get("top") or state.get("newest")}


def _indexed(item: dict[str, Any]) -> str:
    reason = item.get("reason") or {}
    return str(reason.get("indexedAt") or (item.get("post") or {}).get("indexedAt") or "")


def _is_repost(item: dict[str, Any]) -> bool:
    return str((item.get("reason") or {}).get("$type", "")).endswith("reasonRepost")
