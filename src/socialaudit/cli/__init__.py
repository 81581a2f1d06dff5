"""The ``socialaudit`` command line: a thin shell over the library.

Every command validates its options, calls one library function and renders the result.
Errors derived from :class:`SocialAuditError` become one line on stderr and a non-zero exit
(2 for bad input, 1 otherwise) in one place, :func:`guarded`.
"""

from __future__ import annotations

import contextlib
import functools
import io
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import click
import typer
from rich.text import Text
from typer.core import TyperGroup

from socialaudit.cli.output import err_console
from socialaudit.errors import SocialAuditError
from socialaudit.store import DEFAULT_PATH

if TYPE_CHECKING:
    from socialaudit.store import Store

#: Global options that take a value, and global flags: accepted before or after the command.
GLOBAL_VALUED = ("--db", "--sla-minutes")
GLOBAL_FLAGS = ("--debug", "--version")

#: The first-run guide: one line per kind of user, three commands each. The README's first
#: screen shows the same lines (a test holds them equal and runs them).
FIRST_RUN = tuple(
    " && ".join(commands)
    for commands in (
        (
            "socialaudit import competitors.csv",
            "socialaudit benchmark",
            "socialaudit report -o audit.html",
        ),
        (
            "socialaudit import mentions.jsonl --org AcmeHelp",
            "socialaudit audit AcmeHelp",
            "socialaudit unanswered AcmeHelp --older-than 1d",
        ),
        (
            "socialaudit import twcs.csv",
            "socialaudit audit --json > audit.json",
            "socialaudit turns --csv > turns.csv",
        ),
    )
)


def hoist_global_options(args: list[str]) -> list[str]:
    """Move global options found after the command to the front, where Click expects them.

    ``socialaudit audit --sla-minutes 30`` then means ``socialaudit --sla-minutes 30 audit``,
    for every command and group alike. Everything after ``--`` is left alone.
    """
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_VALUED and "=" in arg or arg in GLOBAL_FLAGS:
            front.append(arg)
        elif arg in GLOBAL_VALUED and i + 1 < len(args):
            front.extend(args[i : i + 2])
            i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


class _GlobalOptionsAnywhere(TyperGroup):
    """The top-level group: global options may follow the command as well as precede it."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(list(args)))


app = typer.Typer(
    cls=_GlobalOptionsAnywhere,
    name="socialaudit",
    help="Measure how organizations really engage on social media, from public or exported data.",
    epilog="Start here (a consultant, a team, a researcher):\n\n\b\n" + "\n".join(FIRST_RUN),
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


def _store_files(db: Path) -> list[Path]:
    return [db, db.with_name(db.name + ".wal")]


def _forget_new_store(existed: bool) -> None:
    """Remove the store a failing command created, if it holds nothing.

    A failed first import leaves no empty store behind (which would turn the next "No store"
    error into a silent empty audit). A store that got data before the failure (a collection
    that saved some pages, then stopped) is kept: nothing stored is lost.
    """
    from socialaudit.store.store import Store, is_lake, store_exists

    if existed or str(state.db) == ":memory:" or not store_exists(state.db):
        return

    try:
        with Store(state.db, read_only=True) as store:
            held = sum(store.count(name) for name in ("imports", "orgs", "campaigns"))
    except SocialAuditError:
        return
    if held or is_lake(state.db):
        return
    for path in _store_files(state.db):
        with contextlib.suppress(OSError):
            path.unlink()


def guarded(fn: F) -> F:
    """Turn library errors into one stderr line and an exit code; tracebacks only with --debug.

    A failing command leaves nothing on disk it created: a new store is removed again.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from socialaudit.store.store import store_exists

        existed = store_exists(state.db)
        try:
            return fn(*args, **kwargs)
        except typer.Exit as exc:
            if exc.exit_code:
                _forget_new_store(existed)
            raise
        except BaseException:
            _forget_new_store(existed)
            raise

    return _report_errors(wrapper)  # type: ignore[return-value]


def _report_errors(fn: F) -> F:
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


@contextlib.contextmanager
def open_store(*, read_only: bool = False, must_exist: bool = False) -> Iterator[Store]:
    """The ``--db`` store for one command.

    Readers open it read-only, which works beside a running ``serve``. Writers open it
    read-write; when ``serve`` holds it, the server hands it over for the command (see
    :mod:`socialaudit.serve.handoff`) and this says so on stderr. ``must_exist``: refuse to
    create a store (commands that only add to one).
    """
    from socialaudit.errors import StoreNotFound
    from socialaudit.store import Store
    from socialaudit.store.store import store_exists

    if (read_only or must_exist) and not store_exists(state.db):
        raise StoreNotFound(
            f"No store at {state.db}. Run `socialaudit --db {state.db} import FILE` first."
        )
    if read_only:
        with Store(state.db, read_only=True) as store:
            yield store
        return
    from socialaudit.serve.handoff import writable_store

    ctx = click.get_current_context(silent=True)
    command = ctx.command_path if ctx is not None else "socialaudit"

    def notice(line: str) -> None:
        err_console.print(Text(line), soft_wrap=True)

    with writable_store(state.db, command=command, notify=notice) as store:
        yield store


def _print_version(value: bool) -> None:
    if value:
        from socialaudit import __version__

        typer.echo(f"socialaudit {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    db: Annotated[
        Path,
        typer.Option(
            "--db",
            envvar="SOCIALAUDIT_DB",
            help="The store: a DuckDB file, or delta:PATH for a Delta Lake folder or "
            "object-store URI (a lake store).",
        ),
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
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_print_version, help="Print the version and stop."
        ),
    ] = False,
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
