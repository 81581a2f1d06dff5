"""A `kill -9` in the middle of a large import leaves the store exactly as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import socialaudit
from tests.conftest import HEADER

T = "Tue Oct 31 22:10:47 +0000 2017"


def big_twcs(path: Path, n: int) -> None:
    lines = [",".join(HEADER)]
    lines += [
        f"{i},{i % 5000},True,{T},@AcmeHelp post number {i} with some words in it,,{i - 1}"
        for i in range(1000, 1000 + n)
    ]
    path.write_text("\n".join(lines) + "\n")


def state(db: Path) -> dict[str, int]:
    with socialaudit.open(db, read_only=True) as s:
        return {t: s.count(t) for t in ("posts", "accounts", "orgs", "imports", "quarantine")}


@pytest.mark.slow
def test_kill_9_mid_import(tmp_path: Path, write_twcs) -> None:
    db = tmp_path / "k.duckdb"
    with socialaudit.open(db) as s:
        socialaudit.import_file(
            write_twcs([(1, "AcmeHelp", False, 0, "hi", None), (2, "9", True, 1, "@AcmeHelp", 1)]),
            store=s,
        )
    before = state(db)
    big = tmp_path / "big.csv"
    big_twcs(big, 600_000)
    killed_mid = 0
    # Start-up takes about a second; the import itself about three more on this machine.
    for delay in (1.2, 1.8, 2.4, 3.0):
        proc = subprocess.Popen(
            [sys.executable, "-m", "socialaudit", "--db", str(db), "import", str(big)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            after = state(db)
            if after == before:
                killed_mid += 1
                continue
            # Killed after the commit (while closing): then the import must be whole.
            assert after["posts"] == before["posts"] + 600_000
            assert after["imports"] == before["imports"] + 1
            break
        else:
            # Finished before the kill: it must then be whole (and we undo nothing).
            assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
            break
    assert killed_mid >= 2, "the import finished before the kills; make the file bigger"
    # The store still works and the import, run to the end, lands whole.
    with socialaudit.open(db) as s:
        r = socialaudit.import_file(big, store=s)
        assert r.read == 600_000 and r.read == r.inserted + r.duplicates + r.quarantined
        assert s.count("posts") == before["posts"] + 600_000
