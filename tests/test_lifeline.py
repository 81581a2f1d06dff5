"""Issue 14: ``kill -9`` of a command that labels posts in worker processes kills the workers.

Before, the two workers of ``enrich`` stayed alive (about 240 MB each), blocked on a pipe.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PARENT = """
import sys, time
import pyarrow as pa
from socialaudit.enrich import runner
from socialaudit.enrich.catalog import load

enricher = load("resolution")
table = pa.table({"text": ["thanks, solved"] * 50, "author_id": ["1"] * 50,
                  "platform": ["x"] * 50, "post_id": [str(i) for i in range(50)]})
labelled = runner._labelled(enricher, iter([table, table, table, table]), 2)
next(labelled)
print("ready", flush=True)
time.sleep(600)
"""


def children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(entry.name))
    return out


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc")
def test_workers_die_when_the_parent_is_killed(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        assert parent.stdout is not None
        assert parent.stdout.readline().strip() == "ready"
        workers = [p for p in children(parent.pid) if alive(p)]
        # The spawn context also starts a resource tracker; the workers are the rest.
        assert len(workers) >= 2
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(alive(p) for p in workers):
            time.sleep(0.2)
        left = [p for p in workers if alive(p)]
        for p in left:
            os.kill(p, signal.SIGKILL)
        assert left == []
    finally:
        if parent.poll() is None:
            parent.kill()
