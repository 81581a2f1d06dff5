"""``socialaudit watch [PLATFORM]``: keep the store current without a cron job."""

from __future__ import annotations

from typing import Annotated

import typer

from socialaudit.cli import app, guarded, state
from socialaudit.cli.collect import log_line
from socialaudit.collect import PLATFORMS
from socialaudit.collect.watch import DEFAULT_JETSTREAM, WatchOptions, watch
from socialaudit.errors import ConfigError
from socialaudit.store import open as open_store


@app.command("watch")
@guarded
def watch_(
    platform: Annotated[
        str | None,
        typer.Argument(help=f"Only this platform ({', '.join(PLATFORMS)}); default: all."),
    ] = None,
    jetstream_url: Annotated[
        str, typer.Option("--jetstream-url", help="The Jetstream instance to read Bluesky from.")
    ] = DEFAULT_JETSTREAM,
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url", help="API root for resolving Bluesky handles and for polled collectors."
        ),
    ] = None,
    until_idle: Annotated[
        float | None,
        typer.Option(
            "--until-idle", min=0.1, help="Exit once no event has come for this many seconds."
        ),
    ] = None,
    interval: Annotated[
        float,
        typer.Option("--interval", min=1.0, help="Seconds between polls of other platforms."),
    ] = 900.0,
) -> None:
    """Follow the store's declared orgs: Bluesky live from Jetstream, other platforms polled.

    Posts by, mentioning, replying to or quoting a tracked account are stored as they arrive,
    with the stream cursor in the same transaction; a restart resumes without a gap. Ctrl-C
    stops cleanly. To watch and serve the same store at once, use `serve --watch`.

    Example: socialaudit watch bluesky --until-idle 600
    """
    if platform is not None and platform not in PLATFORMS:
        raise ConfigError(f"Unknown platform {platform!r}. Use one of: {', '.join(PLATFORMS)}.")
    options = WatchOptions(
        jetstream_url=jetstream_url,
        api_url=api_url,
        until_idle=until_idle,
        interval=interval,
        jetstream=platform in (None, "bluesky"),
        poll=platform != "bluesky",
        log=log_line,
        base_urls=dict.fromkeys(PLATFORMS, api_url) if api_url else None,
    )
    if platform not in (None, "bluesky"):
        options.platforms = {platform}
    with open_store(state.db) as store:
        log_line("Watching (Ctrl-C stops)…")
        result = watch(store, options=options)
    log_line(result.summary())
