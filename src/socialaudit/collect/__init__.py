"""Live collectors: public APIs into the store, resumable and rate-limit aware.

Each platform module has a :class:`~socialaudit.collect.base.Collector`; :func:`collect`
builds the HTTP client (with credentials from the environment or the config file) and runs
one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from socialaudit.collect.base import Collector, CollectResult
from socialaudit.collect.http import Client, RetryPolicy
from socialaudit.errors import ConfigError
from socialaudit.store import Store

PLATFORMS = ("mastodon", "bluesky", "reddit", "x")


def make_collector(
    platform: str,
    target: str,
    *,
    base_url: str | None = None,
    client_options: dict[str, Any] | None = None,
    **options: Any,
) -> Collector:
    """The collector for ``platform`` over a client pointed at its API (or ``base_url``)."""
    opts = dict(client_options or {})
    if platform == "mastodon":
        from socialaudit.collect.mastodon import MastodonCollector, parse_account

        _, server = parse_account(target)
        client = Client(base_url or f"https://{server}", **opts)
        return MastodonCollector(client, target, **options)
    if platform == "bluesky":
        from socialaudit.collect.bluesky import PUBLIC_APPVIEW, BlueskyCollector

        return BlueskyCollector(Client(base_url or PUBLIC_APPVIEW, **opts), target, **options)
    if platform == "reddit":
        from socialaudit.collect.reddit import RedditCollector

        return RedditCollector.create(target, base_url=base_url, client_options=opts, **options)
    if platform == "x":
        from socialaudit.collect.x import XCollector

        return XCollector.create(target, base_url=base_url, client_options=opts, **options)
    raise ConfigError(f"Unknown platform {platform!r}. Use one of: {', '.join(PLATFORMS)}.")


def collect(
    platform: str,
    target: str,
    /,
    *,
    store: Store,
    base_url: str | None = None,
    max_pages: int | None = None,
    progress: Callable[[CollectResult, str], None] | None = None,
    client_options: dict[str, Any] | None = None,
    **options: Any,
) -> CollectResult:
    """Collect ``target`` on ``platform`` into the store, resuming where the last run stopped.

    Parameters
    ----------
    platform
        ``mastodon``, ``bluesky``, ``reddit`` or ``x``.
    target
        ``user@server`` (Mastodon), a handle (Bluesky), ``r/name`` or ``u/name`` (Reddit),
        a username (X).
    store
        The store to collect into; its cursor table says where the last run stopped.
    base_url
        Another API root (a local replay server in tests).
    max_pages
        Stop after this many pages; the next run resumes from there.
    progress
        Called after each stored page with the running totals and a label.
    client_options
        Passed to :class:`~socialaudit.collect.http.Client` (``sleep``, ``clock``,
        ``jitter``, ``policy``, ``log``).
    **options
        Per platform: ``contexts`` (Mastodon), ``threads`` (Bluesky), ``comments`` (Reddit),
        ``conversations`` (X), each True by default.
    """
    collector = make_collector(
        platform, target, base_url=base_url, client_options=client_options, **options
    )
    try:
        return collector.run(store, max_pages=max_pages, progress=progress)
    finally:
        collector.client.close()


__all__ = ["CollectResult", "Collector", "RetryPolicy", "collect", "make_collector"]
