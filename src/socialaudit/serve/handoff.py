"""``serve`` and the CLI on one store: the server file, and handing the store over for a write.

DuckDB lets many processes open a file read-only, or one process open it read-write. The
server holds the store read-only, so every reading command works beside it. A writing
command (``import``, ``orgs --add``, ``audit`` labelling new posts) asks the server to let go:

1. The server writes ``<store>.serve.json`` next to the store (mode 0600) with its URL, PID,
   token and a *control* secret; only the same user can read it.
2. A writer that finds the store locked reads that file and POSTs ``/api/store/pause`` with
   the control secret. The server closes its connection (pages it has already built keep
   answering from memory), the writer opens the store read-write, writes and closes.
3. The writer POSTs ``/api/store/resume``; the server reopens read-only and rebuilds. If the
   writer dies first, the server notices its PID is gone and reopens by itself.

When the handover is impossible (an older server, a refused secret), the writer prints one
line naming the server's URL and PID and what to do instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from socialaudit.errors import StoreBusy
from socialaudit.store import Store

CONTROL_HEADER = "X-Socialaudit-Control"
#: How long a writer waits for the store once the server has let go (other readers may
#: still hold it for the query they are running).
OPEN_WAIT_S = 60.0


@dataclass(frozen=True)
class ServerInfo:
    """What the server file says about the running server."""

    url: str
    pid: int
    token: str | None
    control: str
    db: str

    def alive(self) -> bool:
        """Whether the server's process still runs."""
        return pid_alive(self.pid)


def server_file(db: str | os.PathLike[str]) -> Path:
    """Where the server serving ``db`` writes its file: next to the store."""
    p = Path(db)
    return p.with_name(p.name + ".serve.json")


def new_control() -> str:
    """A fresh control secret for one server run."""
    return secrets.token_urlsafe(24)


def write_server_file(info: ServerInfo) -> Path:
    """Write the server file, readable by its owner only (it holds the token)."""
    path = server_file(info.db)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(info), out)
    return path


def remove_server_file(db: str | os.PathLike[str], pid: int) -> None:
    """Remove the server file if it is still this server's (another may have started since)."""
    info = read_server_file(db)
    if info is not None and info.pid == pid:
        with contextlib.suppress(OSError):
            server_file(db).unlink()


def read_server_file(db: str | os.PathLike[str]) -> ServerInfo | None:
    """The running server's file, or None (absent, unreadable, or its process is gone)."""
    try:
        data = json.loads(server_file(db).read_text(encoding="utf-8"))
        info = ServerInfo(**data)
    except (OSError, ValueError, TypeError):
        return None
    return info if info.alive() else None


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _post(info: ServerInfo, path: str, body: dict[str, object]) -> dict[str, object]:
    headers = {"Content-Type": "application/json", CONTROL_HEADER: info.control}
    if info.token:
        headers["Authorization"] = f"Bearer {info.token}"
    request = urllib.request.Request(
        info.url.rstrip("/") + path, data=json.dumps(body).encode(), headers=headers
    )
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 - our own server
        return json.loads(response.read() or b"{}")


def busy_line(db: str | os.PathLike[str], info: ServerInfo, reason: str) -> str:
    """The one line a writer prints when the server cannot hand the store over."""
    return (
        f"Store {db} is served by socialaudit serve (PID {info.pid}, {info.url}) and {reason}. "
        f"Stop the server (kill {info.pid}) and re-run this command, or import through it: "
        f"POST {info.url.rstrip('/')}/api/imports."
    )


@contextlib.contextmanager
def paused(db: str | os.PathLike[str], info: ServerInfo, *, command: str) -> Iterator[None]:
    """The server lets go of the store for the block, and takes it back after."""
    try:
        _post(info, "/api/store/pause", {"pid": os.getpid(), "command": command})
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise StoreBusy(busy_line(db, info, f"did not release it ({reason})")) from None
    try:
        yield
    finally:
        with contextlib.suppress(urllib.error.URLError, OSError, ValueError):
            # If this fails the server sees this process end and reopens by itself.
            _post(info, "/api/store/resume", {"pid": os.getpid()})


def open_when_free(
    db: str | os.PathLike[str], *, read_only: bool = False, wait_s: float = OPEN_WAIT_S
) -> Store:
    """Open the store, retrying while another process still holds it, up to ``wait_s``."""
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            return Store(db, read_only=read_only)
        except StoreBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


@contextlib.contextmanager
def writable_store(
    db: str | os.PathLike[str],
    *,
    command: str,
    notify: Callable[[str], None] | None = None,
) -> Iterator[Store]:
    """The store opened read-write, handed over by a running ``serve`` when it holds it.

    ``notify`` hears one line when the server is asked to let go, so the user knows why the
    dashboard blinks.
    """
    try:
        store = Store(db)
    except StoreBusy:
        info = read_server_file(db)
        if info is None:
            raise
        if notify is not None:
            notify(
                f"The store is served by socialaudit serve (PID {info.pid}, {info.url}); "
                "it lets go of the store while this command writes."
            )
        with paused(db, info, command=command):
            store = open_when_free(db)
            try:
                yield store
            finally:
                store.close()
        return
    try:
        yield store
    finally:
        store.close()
