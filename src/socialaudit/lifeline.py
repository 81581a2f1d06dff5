"""Make a worker process die with its parent, whatever kills the parent.

A ``kill -9`` of ``socialaudit enrich`` used to leave its worker processes alive (about 240 MB
each), blocked on a pipe nobody would write to again. ``SIGKILL`` cannot be caught, so the
parent cannot clean up; the workers must notice themselves. Two ways, both set by
:func:`die_with_parent` in the worker's initializer:

- on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the worker the moment its
  parent thread exits;
- everywhere, a daemon thread that checks once a second whether the parent is still the
  process that started the worker (an orphan is re-parented, so ``getppid()`` changes).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1
#: How often the watchdog looks at its parent, in seconds.
POLL_S = 1.0


def die_with_parent(parent_pid: int) -> None:
    """Arrange for this process to end when ``parent_pid`` (its parent) ends."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watchdog below still works
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)
    threading.Thread(
        target=_watch, args=(parent_pid,), name="socialaudit-lifeline", daemon=True
    ).start()


def _watch(parent_pid: int) -> None:
    stop = threading.Event()
    while not stop.wait(POLL_S):
        if os.getppid() != parent_pid:
            os._exit(1)
