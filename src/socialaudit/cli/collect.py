"""``socialaudit collect PLATFORM TARGET``: live collection from public APIs."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from socialaudit.cli import app, guarded, open_store
from socialaudit.cli.output import err_console
from socialaudit.collect import PLATFORMS, CollectResult, collect
from socialaudit.errors import ConfigError


@app.command("collect")
@guarded
def collect_(
    platform: Annotated[str, typer.Argument(help=f"One of: {', '.join(PLATFORMS)}.")],
    target: Annotated[
        str,
        typer.Argument(
            help="mastodon: user@server; bluesky: handle; reddit: r/NAME or u/NAME; x: username."
        ),
    ],
    max_pages: Annotated[
        int | None,
        typer.Option("--max-pages", min=1, help="Stop after this many pages (resume later)."),
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option("--api-url", help="Another API root, e.g. a self-hosted AppView or a mirror."),
    ] = None,
) -> None:
    """Collect posts from a platform's API into the store, resuming where the last run stopped.

    Credentials (Reddit, X) come from environment variables or the config file only
    (SOCIALAUDIT_REDDIT_CLIENT_ID/SECRET, SOCIALAUDIT_X_BEARER_TOKEN; see README).

    Example: socialaudit collect mastodon Mastodon@mastodon.social
    """
    if platform not in PLATFORMS:
        raise ConfigError(f"Unknown platform {platform!r}. Use one of: {', '.join(PLATFORMS)}.")

    def log(message: str) -> None:
        err_console.print(Text(message), soft_wrap=True)

    with (
        open_store() as store,
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=not err_console.is_terminal,
        ) as bar,
    ):
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
            client_options={"log": log},
        )
    err_console.print(Text(result.summary()), soft_wrap=True)
