"""The ``socialaudit`` command line: a thin shell over the library.

Every command validates its options, calls one library function and renders the result.
Errors derived from :class:`SocialAuditError` become one line on stderr and a non-zero exit
(2 for bad input, 1 otherwise) in one place, :func:`guarded`.
"""

from __future__ import annotations

import functools
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.text import Text

from socialaudit.cli.output import err_console
from socialaudit.errors import SocialAuditError
from socialaudit.store import DEFAULT_PATH

app = typer.Typer(
    name="socialaudit",
    help="Measure how organizations really engage on social media, from public or exported data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)


@dataclass
class State:
    """Global options, set by the callback before any command runs."""

    db: Path = Path(DEFAULT_PATH)
    sla_minutes: int | None = None
    reference_time: str | None = None
    debug: bool = False


state = State()
F = TypeVar("F", bound=Callable[..., Any])


def guarded(fn: F) -> F:
    """Turn library errors into one stderr line and an exit code; tracebacks only with --debug."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except SocialAuditError as exc:
            if state.debug:
                raise
            err_console.print(Text(f"Error: {exc}"), soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err_console.print(Text("Interrupted; the store keeps only what was committed."))
            raise typer.Exit(130) from None
        except Exception as exc:  # noqa: BLE001 - the one outer boundary
            if state.debug:
                raise
            first = (str(exc).strip().splitlines() or [""])[0]
            err_console.print(
                Text(
                    f"Error: unexpected {type(exc).__name__}: {first} "
                    "(re-run with --debug for the traceback, and please report it)."
                ),
                soft_wrap=True,
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@app.callback()
def main_options(
    db: Annotated[
        Path,
        typer.Option("--db", envvar="SOCIALAUDIT_DB", help="The store (a DuckDB file)."),
    ] = Path(DEFAULT_PATH),
    sla_minutes: Annotated[
        int | None,
        typer.Option(
            "--sla-minutes",
            min=1,
            help="First-response SLA in minutes for every org [default: each org's own, else 60].",
        ),
    ] = None,
    reference_time: Annotated[
        str | None,
        typer.Option(
            "--reference-time",
            envvar="SOCIALAUDIT_REFERENCE_TIME",
            metavar="<time>",
            help="The audit's clock, ISO 8601 (naive = UTC), e.g. 2017-12-01T00:00:00Z "
            "[default: the latest post].",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Measure how organizations really engage on social media.

    Example: socialaudit import twcs.csv && socialaudit audit
    """
    state.db = db
    state.sla_minutes = sla_minutes
    state.reference_time = reference_time
    state.debug = debug
    _set_clock(reference_time)


def _set_clock(text: str | None) -> None:
    """Fix the clock of every store this process opens (a bad time exits 2, with a hint)."""
    from socialaudit.durations import parse_instant
    from socialaudit.store import Store

    try:
        Store.reference_time = None if text is None else parse_instant(text)
    except SocialAuditError as exc:
        err_console.print(Text(f"Error: {exc}"), soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None


#: Every module that registers commands on ``app``, in help order: the one list of commands.
#: A new command group is a module here and a line in this tuple.
COMMAND_MODULES: tuple[str, ...] = (
    "campaign",
    "collect",
    "commands",
    "demo",
    "listen",
    "network",
    "report",
    "serve",
    "train",
    "watch",
)


def _register_commands() -> None:
    """Import every module of :data:`COMMAND_MODULES`, so that each registers its commands."""
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}")


def main() -> None:
    """Console-script entry point.

    Click's own usage errors repeat what was typed (``No such command 'ESC[2J'``), so they
    are printed through the escaping console too, not by Click.
    """
    _register_commands()
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        err_console.print(Text("Aborted."))
        sys.exit(1)
    except typer.TyperException as exc:  # Typer's own Click: usage errors and bad values
        show = getattr(exc, "show", None)
        if show is None:
            raise
        buf = io.StringIO()
        show(file=buf)
        err_console.print(Text(buf.getvalue().rstrip("\n")), soft_wrap=True)
        sys.exit(int(getattr(exc, "exit_code", 2)))
    sys.exit(code if isinstance(code, int) else 0)


def get_app() -> typer.Typer:
    """Return the app with every command registered (for tests and ``python -m``)."""
    _register_commands()
    return app
