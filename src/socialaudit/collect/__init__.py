"""Live collectors: public APIs into the store, resumable, rate-limit aware, coverage recorded.

Each platform module has a :class:`~socialaudit.collect.base.Collector`; :func:`collect`
builds the HTTP client (with credentials from the environment or the config file) and runs
one; :func:`collect_orgs` runs one per declared account of every organization.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from socialaudit.collect.base import Collector, CollectResult
from socialaudit.collect.http import Client, RetryPolicy
from socialaudit.errors import ConfigError, SocialAuditError
from socialaudit.store import Store

PLATFORMS = ("mastodon", "bluesky", "reddit", "x")
#: orgs.toml account keys -> collector platform (X's posts are stored as ``twitter``).
ORG_PLATFORMS = {
    "mastodon": "mastodon",
    "bluesky": "bluesky",
    "reddit": "reddit",
    "x": "x",
    "twitter": "x",
}


def make_collector(
    platform: str,
    target: str,
    *,
    base_url: str | None = None,
    client_options: dict[str, Any] | None = None,
    inbound: bool = True,
    **options: Any,
) -> Collector:
    """The collector for ``platform`` over a client pointed at its API (or ``base_url``).

    With ``inbound`` the credentials the environment gives are used for the inbound phase
    (Bluesky app password, Mastodon token); without, none are read.
    """
    opts = dict(client_options or {})
    if platform == "mastodon":
        from socialaudit.collect.mastodon import MastodonCollector, parse_account, token_from_env

        _, server = parse_account(target)
        client = Client(base_url or f"https://{server}", **opts)
        token = token_from_env() if inbound else None
        return MastodonCollector(client, target, token=token, **options)
    if platform == "bluesky":
        from socialaudit.collect.bluesky import (
            ENTRYWAY,
            PUBLIC_APPVIEW,
            BlueskyCollector,
            Session,
            login_from_env,
        )

        login = login_from_env() if inbound else None
        client = Client(base_url or (ENTRYWAY if login else PUBLIC_APPVIEW), **opts)
        session = Session(client, *login) if login else None
        return BlueskyCollector(client, target, session=session, **options)
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
    inbound: bool = True,
    org_id: str | None = None,
    make_org: bool = True,
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
        Another API root for every call, logins included (a local replay server in tests).
    max_pages
        Stop after this many pages; the next run resumes from there.
    progress
        Called after each stored page with the running totals and a label.
    client_options
        Passed to :class:`~socialaudit.collect.http.Client` (``sleep``, ``clock``,
        ``jitter``, ``policy``, ``log``).
    inbound
        Fetch what customers addressed to the account, by the most complete method the
        credentials allow (False: the account's own posts and threads, ``threads_only``).
    org_id
        The organization the account belongs to. When None, the org that declares the
        account; when none does, a new org named after the handle (see ``make_org``).
    make_org
        False: an account no org declares stays outside every org (``--no-org``).
    **options
        Per platform: ``contexts`` (Mastodon), ``threads`` (Bluesky), ``comments`` (Reddit),
        ``conversations`` (X), each True by default.
    """
    collector = make_collector(
        platform,
        target,
        base_url=base_url,
        client_options=client_options,
        inbound=inbound,
        **options,
    )

    def adopt(con: duckdb.DuckDBPyConnection, c: Collector) -> str | None:
        return adopt_account(con, c, org_id=org_id, make_org=make_org)

    try:
        return collector.run(
            store, max_pages=max_pages, progress=progress, inbound=inbound, on_finish=adopt
        )
    finally:
        collector.client.close()


def adopt_account(
    con: duckdb.DuckDBPyConnection,
    collector: Collector,
    *,
    org_id: str | None,
    make_org: bool,
) -> str | None:
    """Attach the collected account to its organization (inside the run's last transaction).

    The org that declares the account (by its id, its handle or the target as written, case
    insensitive) gets the platform's id and handle, so that mentions of the handle count for
    it. An account no org declares becomes an org of its own (id = the handle) unless
    ``make_org`` is False. A subreddit is not an account: it joins only the org given.
    """
    platform = collector.stored_platform
    account_id = collector.account_id
    handle = collector.handle
    names = [n.lower() for n in (collector.target, handle, account_id) if n]
    found = con.execute(
        """SELECT org_id, account_id FROM org_accounts
        WHERE platform = ? AND (lower(handle) IN (SELECT unnest(?)) OR account_id = ?)
        ORDER BY org_id""",
        [platform, names, account_id or ""],
    ).fetchall()
    if org_id is None and found:
        org_id = found[0][0]
    if account_id is None or handle is None:
        return org_id
    if org_id is None:
        if not make_org:
            return None
        org_id = handle
        exists = con.execute("SELECT count(*) FROM orgs WHERE org_id = ?", [org_id]).fetchall()
        if not exists[0][0]:
            con.execute(
                "INSERT INTO orgs (org_id, name, origin) VALUES (?, ?, 'derived')", [org_id, handle]
            )
    con.execute(
        """DELETE FROM org_accounts WHERE org_id = ? AND platform = ?
        AND (lower(handle) IN (SELECT unnest(?)) OR account_id = ?)""",
        [org_id, platform, names, account_id],
    )
    taken = con.execute(
        "SELECT count(*) FROM org_accounts WHERE platform = ? AND account_id = ?",
        [platform, account_id],
    ).fetchall()[0][0]
    if not taken:
        con.execute(
            "INSERT INTO org_accounts VALUES (?, ?, ?, ?)", [org_id, platform, account_id, handle]
        )
    return org_id


@dataclass
class AccountOutcome:
    """One account of a multi-account collection: its result, or why it failed."""

    org_id: str
    platform: str
    target: str
    result: CollectResult | None = None
    error: str | None = None


@dataclass
class OrgsCollection:
    """What :func:`collect_orgs` did for every account."""

    outcomes: list[AccountOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[AccountOutcome]:
        """The accounts that stopped with an error."""
        return [o for o in self.outcomes if o.error is not None]

    def summary(self) -> str:
        """One status line for people."""
        ok = [o for o in self.outcomes if o.result is not None]
        new = sum(o.result.inserted for o in ok if o.result is not None)
        line = f"Collected {len(ok):,} of {len(self.outcomes):,} accounts ({new:,} new posts)."
        if self.failed:
            line += (
                f" {len(self.failed):,} failed: "
                + ", ".join(f"{o.platform}:{o.target}" for o in self.failed)
                + ". Run the same command again to resume them."
            )
        return line


def declared_targets(store: Store) -> list[tuple[str, str, str]]:
    """(org, collector platform, target) for every declared account the collectors can read.

    A Mastodon handle needs its server: when org_accounts holds only the username (after a
    first collection), the target last collected for that account is used.
    """
    rows = store.raw.execute(
        """SELECT oa.org_id, oa.platform, oa.handle,
                  (SELECT c.target FROM coverage c WHERE c.platform = oa.platform
                     AND c.account_id = oa.account_id AND c.target IS NOT NULL
                   ORDER BY c.recorded_at DESC LIMIT 1) AS target
        FROM org_accounts oa JOIN orgs o USING (org_id)
        ORDER BY oa.org_id, oa.platform, oa.handle"""
    ).fetchall()
    out: list[tuple[str, str, str]] = []
    for org_id, platform, handle, target in rows:
        collector_platform = ORG_PLATFORMS.get(platform)
        if collector_platform is not None:
            out.append((org_id, collector_platform, target or handle))
    return out


def collect_orgs(
    store: Store,
    /,
    *,
    base_urls: dict[str, str] | None = None,
    on_account: Callable[[AccountOutcome], None] | None = None,
    client_options: dict[str, Any] | None = None,
    inbound: bool = True,
    max_pages: int | None = None,
    platforms: set[str] | None = None,
) -> OrgsCollection:
    """Collect every declared account of every organization, inbound included.

    Each account is its own resumable run: one that fails (refused credentials, retries
    exhausted) is reported and the others go on. ``on_account`` is called once per account
    when it is done; ``platforms`` limits the run to those collector platforms.
    """
    targets = [t for t in declared_targets(store) if platforms is None or t[1] in platforms]
    if not targets:
        raise ConfigError(
            "No declared accounts to collect. Declare orgs first: socialaudit orgs load "
            "orgs.toml (or pass --orgs orgs.toml)."
        )
    out = OrgsCollection()
    for org_id, platform, target in targets:
        outcome = AccountOutcome(org_id, platform, target)
        try:
            outcome.result = collect(
                platform,
                target,
                store=store,
                base_url=(base_urls or {}).get(platform),
                client_options=client_options,
                inbound=inbound,
                org_id=org_id,
                max_pages=max_pages,
            )
        except SocialAuditError as exc:
            outcome.error = str(exc)
        out.outcomes.append(outcome)
        if on_account is not None:
            on_account(outcome)
    return out


__all__ = [
    "AccountOutcome",
    "CollectResult",
    "Collector",
    "OrgsCollection",
    "RetryPolicy",
    "collect",
    "collect_orgs",
    "declared_targets",
    "make_collector",
]
