"""Reddit: a subreddit's or user's posts and their comment trees, with app credentials.

An app-only OAuth token (client credentials: ``SOCIALAUDIT_REDDIT_CLIENT_ID`` and
``SOCIALAUDIT_REDDIT_CLIENT_SECRET``, or ``[reddit]`` in the config file) is fetched first;
listings are paged with ``after`` and each submission with comments gets its comment tree.
A later run stops at the newest submission already collected.

Inbound coverage: a subreddit's full listing (``r/NAME/new`` with every comment tree) is
``complete`` for that subreddit. For a user (``u/NAME``: its submissions and comments from
``/user/NAME/overview``, each with its thread), ``/search`` for ``"u/NAME"`` and for
``NAME`` finds the submissions that address it: ``search`` coverage, since Reddit's search
returns submissions only (a comment naming the user is found through its thread, if at all).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from socialaudit.collect.base import Collector, Listing, Page, credential, paginate_by_time
from socialaudit.collect.http import Client
from socialaudit.errors import CollectError, ConfigError

TOKEN_URL = "https://www.reddit.com"
API_URL = "https://oauth.reddit.com"
PAGE_SIZE = 100


def parse_target(target: str) -> str:
    """``r/name`` or ``u/name`` as the listing path."""
    t = target.strip().strip("/")
    kind, _, name = t.partition("/")
    if kind in ("r", "u", "user") and name:
        return f"/r/{name}/new" if kind == "r" else f"/user/{name}/overview"
    raise ConfigError(f"Cannot read Reddit target {target!r}. Write r/NAME or u/NAME.")


class RedditCollector(Collector):
    """Submissions of a subreddit or user, with comment trees."""

    platform = "reddit"
    format = "reddit"

    def __init__(self, client: Client, target: str, *, comments: bool = True) -> None:
        super().__init__(client, target.strip().strip("/"))
        self.listing = parse_target(target)
        self.comments = comments
        self.subreddit = self.target.startswith("r/")
        name = self.target.partition("/")[2]
        self.name = name
        if self.subreddit:
            self.account_id = self.target  # the subreddit is the page customers write on
        else:
            self.handle = name
        self.method = "complete" if self.subreddit else "search"

    def prepare(self, state: dict[str, Any]) -> None:
        """A subreddit's listing is complete; a user's inbound comes from search."""
        self.method = "complete" if self.subreddit else "search"

    @classmethod
    def create(
        cls,
        target: str,
        *,
        base_url: str | None,
        client_options: dict[str, Any],
        **options: Any,
    ) -> RedditCollector:
        """Fetch an app token, then build the collector over the OAuth API."""
        parse_target(target)
        client_id = credential(
            "SOCIALAUDIT_REDDIT_CLIENT_ID", "reddit", "client_id", hint="Reddit app client id"
        )
        secret = credential(
            "SOCIALAUDIT_REDDIT_CLIENT_SECRET",
            "reddit",
            "client_secret",
            hint="Reddit app client secret",
        )
        client = Client(base_url or API_URL, **client_options)
        token = client.get_json(
            f"{base_url or TOKEN_URL}/api/v1/access_token",
            method="POST",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
        ).data
        if not isinstance(token, dict) or not token.get("access_token"):
            client.close()
            raise CollectError("Reddit did not return an access token; check the app type.")
        client.set_header("Authorization", f"Bearer {token['access_token']}")
        return cls(client, target, **options)

    def own_pages(self, state: dict[str, Any]) -> Iterator[Page]:
        """Listing pages, newest first, down to the last run's newest submission."""
        newest = state.get("newest")

        def build(listing: Listing, nxt: str | None, top: float) -> Page:
            children = listing.records
            return Page(
                docs=[listing.doc, *self._trees(children)],
                state={"newest": newest, "top": top, "after": nxt},
                cursor=nxt,
                label=f"listing after {nxt or 'the end'}",
                inbound=len(children) if self.subreddit else 0,
            )

        yield from paginate_by_time(
            lambda after: self._listing(self.listing, {"limit": PAGE_SIZE, "after": after}),
            build,
            state=state,
            cursor=state.get("after"),
            stamps=_stamps,
        )

    def _listing(self, path: str, params: dict[str, Any]) -> Listing:
        """One page of a listing (``raw_json``: text without HTML entities) and its ``after``."""
        listing = self.client.get_json(path, {**params, "raw_json": 1}).data
        data = listing.get("data") if isinstance(listing, dict) else None
        children = [c for c in (data or {}).get("children") or [] if isinstance(c, dict)]
        return Listing(children, (data or {}).get("after"), listing)

    def finish(self, state: dict[str, Any]) -> dict[str, Any]:
        """Next time, stop at this run's newest submission."""
        return {"newest": state.get("top") or state.get("newest")}

    def _trees(self, children: list[dict[str, Any]]) -> list[Any]:
        """The comment tree of each submission with comments, and of each comment's post."""
        if not self.comments:
            return []
        docs: list[Any] = []
        wanted: list[str] = []
        for child in children:
            thing = child.get("data") or {}
            if child.get("kind") == "t3" and (thing.get("num_comments") or 0) > 0:
                wanted.append(str(thing["id"]))
            elif child.get("kind") == "t1" and str(thing.get("link_id", "")).startswith("t3_"):
                wanted.append(str(thing["link_id"])[3:])
        for sid in dict.fromkeys(wanted):
            tree = self.client.get_json(f"/comments/{sid}", {"limit": 500, "raw_json": 1}).data
            docs.extend(tree if isinstance(tree, list) else [tree])
        return docs

    def inbound_pages(self, state: dict[str, Any], *, since: str | None) -> Iterator[Page]:
        """For a user: search for ``"u/NAME"``, then for ``NAME``, newest first."""
        if self.method != "search":
            return
        queries = [f'"u/{self.name}"', self.name]
        start = int(state.get("query") or 0)
        for i in range(start, len(queries)):
            after = state.get("after") if i == start else None
            for page in self._search(queries[i], i, after, state):
                state = page.state
                yield page
            state = {**state, "query": i + 1, "after": None}

    def _search(
        self, query: str, i: int, after: str | None, state: dict[str, Any]
    ) -> Iterator[Page]:
        """The pages of search ``i`` (``query``), down to its newest result of the last run."""
        mine = self.name.lower()

        def build(listing: Listing, nxt: str | None, top: float) -> Page:
            children = listing.records
            inbound = [
                c for c in children if str((c.get("data") or {}).get("author", "")).lower() != mine
            ]
            return Page(
                docs=[listing.doc, *self._trees(children)],
                state={**state, "query": i, "after": nxt, f"top_{i}": top},
                cursor=f"{i}:{nxt}" if nxt else None,
                label=f"search {query} after {nxt or 'the end'}",
                inbound=len(inbound),
            )

        params = {"q": query, "sort": "new", "type": "link", "limit": PAGE_SIZE}
        yield from paginate_by_time(
            lambda cursor: self._listing("/search", {**params, "after": cursor}),
            build,
            state=state,
            cursor=after,
            stamps=_stamps,
            top_key=f"top_{i}",
            newest_key=f"newest_{i}",
        )

    def finish_inbound(self, state: dict[str, Any]) -> dict[str, Any]:
        """Next time, each search stops at this run's newest result."""
        return {f"newest_{i}": state.get(f"top_{i}") or state.get(f"newest_{i}") for i in range(2)}


def _stamps(children: list[dict[str, Any]]) -> list[float]:
    """When each listing child was created (0 when unknown)."""
    return [float((c.get("data") or {}).get("created_utc") or 0) for c in children]
