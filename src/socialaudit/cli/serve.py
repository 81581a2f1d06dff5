"""``socialaudit serve``: the dashboard and the REST API over one store."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from socialaudit.cli import app, guarded, state
from socialaudit.cli.output import err_console
from socialaudit.errors import ConfigError
from socialaudit.run import DEFAULT_WINDOW_DAYS


@app.command()
@guarded
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to bind. Any non-loopback address needs a token.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="Port to listen on.")
    ] = 8000,
    import_dir: Annotated[
        Path | None,
        typer.Option(
            "--import-dir",
            help="The only folder POST /api/imports may read from (default: imports over HTTP "
            "are off).",
        ),
    ] = None,
    window_days: Annotated[
        int,
        typer.Option(
            "--window-days",
            min=1,
            help="Window of every figure the dashboard and the API show (the default of audit, "
            "benchmark and report too).",
        ),
    ] = DEFAULT_WINDOW_DAYS,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Also watch the declared orgs (Jetstream for Bluesky, polling for the rest) "
            "and show new posts without a restart; see `socialaudit watch`.",
        ),
    ] = False,
) -> None:
    """Serve the dashboard and the REST API (OpenAPI schema at /openapi.json).

    Bound to 127.0.0.1 by default. On any other address it requires a token on every
    request: SOCIALAUDIT_TOKEN, or one it generates and prints once.

    Example: socialaudit --db demo-output/demo.duckdb serve --port 8000
    """
    import uvicorn

    from socialaudit.serve import create_app, handoff
    from socialaudit.serve.security import LOOPBACK_NAMES, TOKEN_ENV, is_loopback, resolve_token
    from socialaudit.store.store import store_exists

    if not store_exists(state.db):
        raise ConfigError(
            f"No store at {state.db}. Import something first (socialaudit --db {state.db} "
            "import FILE) or run `make demo`."
        )
    if import_dir is not None and not import_dir.is_dir():
        raise ConfigError(f"--import-dir {import_dir} is not a folder. Create it or pass another.")
    token, generated = resolve_token(host, os.environ.get(TOKEN_ENV))
    loopback = is_loopback(host)
    # Without a token a loopback server only answers loopback Host names (DNS rebinding).
    hosts = frozenset(LOOPBACK_NAMES | {host.lower()}) if loopback and token is None else None
    port = port or _free_port(host)
    shown = f"[{host}]" if ":" in host else host
    # The server file tells CLI commands on this store where the server is (and lets writers
    # ask it for the store); it names a loopback address when the server listens on all.
    local = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, shown)  # noqa: S104
    info = handoff.ServerInfo(
        url=f"http://{local}:{port}/", pid=os.getpid(), token=token,
        control=handoff.new_control(), db=str(state.db),
    )  # fmt: skip
    # With --watch the server writes the store itself, so it holds it read-write (and the
    # CLI's writers are told to stop it first); otherwise read-only, beside the CLI.
    application = create_app(
        state.db, token=token, allowed_hosts=hosts, import_dir=import_dir,
        window_days=window_days, control=info.control, server_info=info, read_only=not watch,
    )  # fmt: skip
    err_console.print(Text(f"Serving {state.db} on http://{shown}:{port}/ (Ctrl-C stops)."))
    if generated:
        err_console.print(
            Text(
                f"Token (shown once; set {TOKEN_ENV} to choose your own): {token}\n"
                f"Open http://{shown}:{port}/?token={token} once in a browser, or send "
                "'Authorization: Bearer TOKEN' from scripts."
            ),
            soft_wrap=True,
        )
    elif token is not None:
        err_console.print(Text(f"Every request needs the token in {TOKEN_ENV}."))
    watcher = None
    if watch:
        from socialaudit.collect.watch import WatchOptions, watch_in_background

        def log(message: str) -> None:
            err_console.print(Text(message), soft_wrap=True)

        watcher = watch_in_background(str(state.db), options=WatchOptions(log=log))
    try:
        uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False)
    finally:
        handoff.remove_server_file(state.db, info.pid)
        if watcher is not None:
            thread, stop, _ = watcher
            stop.set()
            thread.join(timeout=30)


def _free_port(host: str) -> int:
    """A port the OS has free now (for --port 0), so the server file can name it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
