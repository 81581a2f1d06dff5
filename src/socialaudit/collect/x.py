"""X: a user's timeline and the replies in its conversations, with a bearer token.

The token comes from ``SOCIALAUDIT_X_BEARER_TOKEN`` or ``[x] bearer_token`` in the config
file. Endpoints (API v2): ``/2/users/by/username/:name``, ``/2/users/:id/tweets`` (paged
with ``pagination_token``; later runs ask only for tweets after the newest one collected,
``since_id``) and ``/2/tweets/search/recent`` with ``conversation_id:ID`` for each
conversation the timeline takes part in (recent search covers the last 7 days only).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from socialaudit.collect.base import Collector, Page, credential
from socialaudit.collect.http import Client
from socialaudit.errors import CollectError, ConfigError

API_URL = "https://api.x.com"
FIELDS = {
    "tweet.fields": "created_at,author_id,conversation_id,referenced_tweets,public_metrics,"
    "lang,in_reply_to_user_id,edit_history_tweet_ids",
    "expansions": "author_id,referenced_tweets.id,referenced_tweets.id.author_id",
    "user.fields": "username,name,public_metrics,created_at,verified",
}
MAX_CONVERSATION_PAGES = 10


class XCollector(Collector):
    """Timeline of one user, with its conversations."""

    platform = "x"
    format = "x_v2"

    def __init__(self, client: Client, username: str, *, conversations: bool = True) -> None:
        name = username.strip().lstrip("@")
        if not name:
            raise ConfigError("Give an X username, e.g. AcmeHelp.")
        super().__init__(client, name)
        self.conversations = conversations

    @classmethod
    def create(
        cls,
        target: str,
        *,
        base_url: str | None,
        client_options: dict[str, Any],
        **options: Any,
    ) -> XCollector:
        """Build the client with the bearer token from the environment or config file."""
        token = credential("SOCIALAUDIT_X_BEARER_TOKEN", "x", "bearer_token", hint="X bearer token")
        client = Client(
            base_url or API_URL, headers={"Authorization": f"Bearer {token}"}, **client_options
        )
        return cls(client, target, **options)

    def _user_id(self) -> str:
        data = self.client.get_json(f"/2/users/by/username/{self.target}").data
        uid = (data or {}).get("data", {}).get("id") if isinstance(data, dict) else None
        if not uid:
            raise CollectError(f"X returned no user for {self.target!r}; check the username.")
        return str(uid)

    def pages(self, state: dict[str, Any]) -> Iterator[Page]:
        """Timeline pages, each with the conversations it touches."""
        user_id = state.get("user_id") or self._user_id()
        newest = state.get("newest")
        top = state.get("top")
        token = state.get("token")
        done: set[str] = set()
        while True:
            page = self.client.get_json(
                f"/2/users/{user_id}/tweets",
                {"max_results": 100, "pagination_token": token, "since_id": newest, **FIELDS},
            ).data
            tweets = [t for t in (page or {}).get("data") or [] if isinstance(t, dict)]
            if not tweets:
                return
            top = max([top or "0", *(str(t.get("id")) for t in tweets)], key=_id_key)
            docs: list[Any] = [page]
            if self.conversations:
                for cid in dict.fromkeys(str(t.get("conversation_id")) for t in tweets):
                    if cid and cid != "None" and cid not in done:
                        done.add(cid)
                        docs.extend(self._conversation(cid))
            nxt = ((page or {}).get("meta") or {}).get("next_token")
            yield Page(
                docs=docs,
                state={"user_id": user_id, "newest": newest, "top": top, "token": nxt},
                cursor=nxt,
                label=f"timeline page {nxt or 'last'}",
            )
            if not nxt:
                return
            token = nxt

    def _conversation(self, conversation_id: str) -> list[Any]:
        pages: list[Any] = []
        token = None
        seen: set[str] = set()
        for _ in range(MAX_CONVERSATION_PAGES):
            data = self.client.get_json(
                "/2/tweets/search/recent",
                {
                    "query": f"conversation_id:{conversation_id}",
                    "max_results": 100,
                    "next_token": token,
                    **FIELDS,
                },
            ).data
            pages.append(data)
            token = ((data or {}).get("meta") or {}).get("next_token")
            if not token or token in seen:
                break
            seen.add(token)
        return pages

    def finish(self, state: dict[str, Any]) -> dict[str, Any]:
        """Next time, only tweets after this run's newest (``since_id``)."""
        return {"user_id": state.get("user_id"), "newest": state.get("top") or state.get("newest")}


def _id_key(tweet_id: str) -> int:
    return int(tweet_id) if tweet_id.isdigit() else 0
