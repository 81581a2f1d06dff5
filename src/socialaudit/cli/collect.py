"""``socialaudit collect [PLATFORM TARGET]``: live collection from public APIs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from socialaudit.cli import app, guarded, open_store
from socialaudit.cli.output import err_console
from socialaudit.collect import PLATFORMS, AccountOutcome, CollectResult, collect, collect_orgs
from socialaudit.errors import ConfigError
from socialaudit.store.orgs import load_orgs


def log_line(message: str) -> None:
    """Print one status line on stderr (untrusted text stays text, never markup)."""
    err_console.print(Text(message), soft_wrap=True)


@app.command("collect")
@guarded
def collect_(
    platform: Annotated[
        str | None,
        typer.Argument(help=f"One of: {', '.join(PLATFORMS)}. Omit to collect every org."),
    ] = None,
    target: Annotated[
        str | None,
        typer.Argument(
            help="mastodon: user@server; bluesky: handle; reddit: r/NAME or u/NAME; x: username."
        ),
    ] = None,
    orgs: Annotated[
        Path | None,
        typer.Option("--orgs", help="Declare the orgs of an orgs.toml, then collect them all."),
    ] = None,
    max_pages: Annotated[
        int | None,
        typer.Option("--max-pages", min=1, help="Stop after this many pages (resume later)."),
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url",
            help="Another API root for every call, login included (a self-hosted AppView, "
            "a mirror).",
        ),
    ] = None,
    no_org: Annotated[
        bool,
        typer.Option("--no-org", help="Do not make an undeclared target an organization."),
    ] = False,
    no_inbound: Annotated[
        bool,
        typer.Option(
            "--no-inbound",
            help="Only the account's own posts and threads (coverage threads_only): saves "
            "API quota, but unanswered mentions stay invisible.",
        ),
    ] = False,
) -> None:
    """Collect posts, and what customers addressed to the account, into the store.

    Inbound posts are fetched by the most complete method the credentials allow (see the
    README's collection table); each run records its coverage. Credentials come from
    environment variables or the config file only (SOCIALAUDIT_BLUESKY_HANDLE /
    SOCIALAUDIT_BLUESKY_APP_PASSWORD, SOCIALAUDIT_MASTODON_TOKEN,
    SOCIALAUDIT_REDDIT_CLIENT_ID/SECRET, SOCIALAUDIT_X_BEARER_TOKEN).

    Example: socialaudit collect mastodon Mastodon@mastodon.social
    Example: socialaudit collect --orgs orgs.toml
    """
    if platform is None or orgs is not None:
        if target is not None or platform is not None:
            raise ConfigError("Give either PLATFORM TARGET or --orgs FILE, not both.")
        _collect_all(orgs, max_pages=max_pages, api_url=api_url, inbound=not no_inbound)
        return
    if platform not in PLATFORMS:
        raise ConfigError(f"Unknown platform {platform!r}. Use one of: {', '.join(PLATFORMS)}.")
    if target is None:
        raise ConfigError(f"Give the {platform} account to collect, e.g. {_EXAMPLE[platform]}.")
    with open_store() as store, _bar() as bar:
        task = bar.add_task(f"Collecting {platform}:{target}…", total=None)

        def progress(result: CollectResult, label: str) -> None:
            bar.update(
                task,
                description=f"{platform}:{target}: {result.pages:,} pages, "
                f"{result.inserted:,} new posts ({label})",
            )

        result = collect(
            platform,
            target,
            store=store,
            base_url=api_url,
            max_pages=max_pages,
            progress=progress,
            client_options={"log": log_line},
            inbound=not no_inbound,
            make_org=not no_org,
        )
    log_line(result.summary())


_EXAMPLE = {
    "mastodon": "AcmeHelp@mastodon.social",
    "bluesky": "acmehelp.bsky.social",
    "reddit": "r/AcmeSupport",
    "x": "AcmeHelp",
}


def _bar() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )


def _collect_all(
    orgs: Path | None, *, max_pages: int | None, api_url: str | None, inbound: bool
) -> None:
    """Every declared account: one line each, a summary, exit 1 if any failed."""
    with open_store() as store:
        if orgs is not None:
            n = load_orgs(orgs, store=store)
            log_line(f"Declared {n:,} organizations from {orgs}.")

        def line(o: AccountOutcome) -> None:
            where = f"{o.org_id}: {o.platform}:{o.target}"
            if o.result is not None:
                log_line(f"{where}: {o.result.summary()}")
            else:
                log_line(f"{where}: failed: {o.error}")

        urls = dict.fromkeys(PLATFORMS, api_url) if api_url else None
        done = collect_orgs(
            store,
            base_urls=urls,
            on_account=line,
            client_options={"log": log_line},
            inbound=inbound,
            max_pages=max_pages,
        )
    log_line(done.summary())
    if done.failed:
        raise typer.Exit(1)
