"""X: a user's timeline, the mentions it received and the conversations of both.

The token comes from ``SOCIALAUDIT_X_BEARER_TOKEN`` or ``[x] bearer_token`` in the config
file. Endpoints (API v2): ``/2/users/by/username/:name``, ``/2/users/:id/tweets`` (paged
with ``pagination_token``; later runs ask only for tweets after the newest one collected,
``since_id``) and ``/2/tweets/search/recent`` with ``conversation_id:ID`` for each
conversation the timeline takes part in (recent search covers the last 7 days only).

Inbound: ``/2/users/:id/mentions`` (the mentions timeline: the most recent mentions, up to
800) is ``complete`` for the window it returns; recent search for ``@name -from:name`` adds
what it finds in the last 7 days and is ``search`` coverage beyond that window.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from socialaudit.collect.base import (
    Collector,
    Listing,
    Page,
    credential,
    credential_hint,
    paginate,
    parse_time,
)
from socialaudit.collect.http import Client
from socialaudit.errors import CollectError, ConfigError
from socialaudit.store.coverage import CoverageRow

API_URL = "https://api.x.com"
FIELDS = {
    "tweet.fields": "created_at,author_id,conversation_id,referenced_tweets,public_metrics,"
    "lang,in_reply_to_user_id,edit_history_tweet_ids",
    "expansions": "author_id,referenced_tweets.id,referenced_tweets.id.author_id",
    "user.fields": "username,name,public_metrics,created_at,verified",
}
MAX_CONVERSATION_PAGES = 10
RECENT_SEARCH_DAYS = 7
TOKEN_VAR = "SOCIALAUDIT_X_BEARER_TOKEN"


class XCollector(Collector):
    """Timeline of one user, with its conversations."""

    platform = "x"
    store_platform = "twitter"
    format = "x_v2"

    def __init__(self, client: Client, username: str, *, conversations: bool = True) -> None:
        name = username.strip().lstrip("@")
        if not name:
            raise ConfigError("Give an X username, e.g. AcmeHelp.")
        super().__init__(client, name)
        self.handle = name
        self.conversations = conversations
        self.method = "complete"
        self._done: set[str] = set()
        self._oldest_mention: str | None = None

    def prepare(self, state: dict[str, Any]) -> None:
        """The bearer token reads the mentions timeline: inbound is always fetched."""
        self.account_id = (state.get("own") or {}).get("user_id")
        self.method = "complete"
        self._oldest_mention = (
            (state.get("inbound") or {}).get("oldest") if state.get("resume") else None
        )

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
        token = credential(TOKEN_VAR, "x", "bearer_token", hint="X bearer token")
        client = Client(
            base_url or API_URL, headers={"Authorization": f"Bearer {token}"}, **client_options
        )
        client.credential_hint = credential_hint(TOKEN_VAR, "x", "bearer_token")
        return cls(client, target, **options)

    def _user_id(self) -> str:
        data = self.client.get_json(f"/2/users/by/username/{self.target}").data
        uid = (data or {}).get("data", {}).get("id") if isinstance(data, dict) else None
        if not uid:
            raise CollectError(f"X returned no user for {self.target!r}; check the username.")
        return str(uid)

    def own_pages(self, state: dict[str, Any]) -> Iterator[Page]:
        """Timeline pages, each with the conversations it touches."""
        user_id = state.get("user_id") or self._user_id()
        self.account_id = user_id
        newest = state.get("newest")
        params = {"max_results": 100, "since_id": newest, **FIELDS}

        def build(listing: Listing, nxt: str | None, top: str) -> Page:
            return Page(
                docs=[listing.doc, *self._conversations(listing.records)],
                state={"user_id": user_id, "newest": newest, "top": top, "token": nxt},
                cursor=nxt,
                label=f"timeline page {nxt or 'last'}",
            )

        def fetch(token: str | None) -> Listing:
            return self._tweets(f"/2/users/{user_id}/tweets", params, "pagination_token", token)

        yield from paginate(
            fetch,
            build,
            cursor=state.get("token"),
            top=state.get("top"),
            advance=_highest_id,
        )

    def _tweets(self, path: str, params: dict[str, Any], token_name: str, token: Any) -> Listing:
        """One page of tweets and the token to the next."""
        page = self.client.get_json(path, {**params, token_name: token}).data
        tweets = [t for t in (page or {}).get("data") or [] if isinstance(t, dict)]
        return Listing(tweets, ((page or {}).get("meta") or {}).get("next_token"), page)

    def _conversations(self, tweets: list[dict[str, Any]]) -> list[Any]:
        """The pages of every conversation these tweets are in, each conversation once a run."""
        docs: list[Any] = []
        if self.conversations:
            for cid in dict.fromkeys(str(t.get("conversation_id")) for t in tweets):
                if cid and cid != "None" and cid not in self._done:
                    self._done.add(cid)
                    docs.extend(self._conversation(cid))
        return docs

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

    def inbound_pages(self, state: dict[str, Any], *, since: str | None) -> Iterator[Page]:
        """The mentions timeline, then recent search for ``@name -from:name``."""
        user_id = self.account_id or self._user_id()
        self.account_id = user_id
        step = state.get("step") or "mentions"
        if step == "mentions":
            for page in self._paged(
                f"/2/users/{user_id}/mentions",
                {"max_results": 100, "since_id": state.get("newest_mention"), **FIELDS},
                "pagination_token",
                state,
                "mentions",
            ):
                state = page.state  # the search step carries the newest mention seen on
                yield page
            state = {**state, "step": "search", "token": None}
        yield from self._paged(
            "/2/tweets/search/recent",
            {
                "query": f"@{self.target} -from:{self.target}",
                "max_results": 100,
                "since_id": state.get("newest_search"),
                **FIELDS,
            },
            "next_token",
            state,
            "search",
        )

    def _paged(
        self, path: str, params: dict[str, Any], token_name: str, state: dict[str, Any], step: str
    ) -> Iterator[Page]:
        token = state.get("token") if state.get("step", "mentions") == step else None

        def build(listing: Listing, nxt: str | None, top: str) -> Page:
            tweets = listing.records
            inbound = [t for t in tweets if str(t.get("author_id")) != str(self.account_id)]
            stamps = [str(t.get("created_at") or "") for t in tweets if t.get("created_at")]
            if step == "mentions" and stamps:
                self._oldest_mention = min([self._oldest_mention or stamps[0], *stamps])
            docs = [listing.doc, *self._conversations(tweets)]
            after = {**state, "step": step, "token": nxt, f"top_{step}": top}
            after["oldest"] = self._oldest_mention
            return Page(
                docs=docs,
                state=after,
                cursor=f"{step}:{nxt}" if nxt else None,
                label=f"inbound {step} page {nxt or 'last'}",
                inbound=len(inbound),
            )

        yield from paginate(
            lambda cursor: self._tweets(path, params, token_name, cursor),
            build,
            cursor=token,
            top=state.get(f"top_{step}"),
            advance=_highest_id,
        )

    def finish_inbound(self, state: dict[str, Any]) -> dict[str, Any]:
        """Next time, only mentions and search results after this run's newest."""
        return {
            "newest_mention": state.get("top_mentions") or state.get("newest_mention"),
            "newest_search": state.get("top_search") or state.get("newest_search"),
        }

    def coverage_rows(
        self, run_id: str, *, start: datetime | None, end: datetime, seen: int
    ) -> list[CoverageRow]:
        """Complete for the mentions timeline's window; search for recent search's 7 days."""
        oldest = parse_time(self._oldest_mention)
        complete_from = (
            start if start is not None and (oldest is None or start > oldest) else oldest
        )
        rows = [
            CoverageRow(
                platform=self.stored_platform,
                account_id=self.account_id or self.target,
                run_id=run_id,
                inbound=self.method,
                covered_from=complete_from or end,
                covered_to=end,
                inbound_seen=seen,
                target=self.target,
            )
        ]
        if self.method == "complete":
            rows.append(
                CoverageRow(
                    platform=self.stored_platform,
                    account_id=self.account_id or self.target,
                    run_id=run_id,
                    inbound="search",
                    covered_from=end - timedelta(days=RECENT_SEARCH_DAYS),
                    covered_to=end,
                    inbound_seen=seen,
                    target=self.target,
                )
            )
        return rows


def _highest_id(top: str | None, tweets: list[dict[str, Any]]) -> str:
    """The run's top: the highest tweet id seen so far."""
    return max([top or "0", *(str(t.get("id")) for t in tweets)], key=_id_key)


def _id_key(tweet_id: str) -> int:
    return int(tweet_id) if tweet_id.isdigit() else 0
