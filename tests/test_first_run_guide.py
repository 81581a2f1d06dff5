"""The README's first screen: three lines, one per kind of user, run as a user would run them."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from socialaudit.cli import FIRST_RUN
from tests.test_cli import ROWS
from tests.test_serve_side_by_side import BETA

REPO = Path(__file__).resolve().parents[1]
SOURCES = Path(__file__).parent / "data" / "sources"


def readme_lines() -> list[str]:
    """The command lines of the README's "Start here" block."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Start here.*?```sh\n(.*?)```", text, re.S)
    assert block is not None, "the README has no 'Start here' block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_help_and_code_say_the_same_three_lines(runner, app) -> None:
    assert readme_lines() == list(FIRST_RUN)
    # The README is the first screen: the block comes before any other section.
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert text.index("## Start here") < text.index("## Set-up")
    res = runner.invoke(app, ["--help"], terminal_width=200)
    assert res.exit_code == 0
    tail = [line.strip() for line in res.stdout.strip().splitlines()[-3:]]
    assert tail == list(FIRST_RUN)


def test_readme_first_screen_commands_run(tmp_path: Path, write_twcs) -> None:
    """Each line, through a shell, in a folder holding the files it names."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(write_twcs([*ROWS, *BETA], name="competitors.csv"), work / "competitors.csv")
    shutil.copy(write_twcs(ROWS, name="twcs.csv"), work / "twcs.csv")
    shutil.copy(SOURCES / "x_v2_twarc2.jsonl", work / "mentions.jsonl")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "socialaudit"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m socialaudit "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(REPO / "src"),
    }
    env.pop("SOCIALAUDIT_DB", None)
    for n, line in enumerate(readme_lines()):
        folder = work / f"user{n}"
        shutil.copytree(work, folder, ignore=shutil.ignore_patterns("user*"))
        res = subprocess.run(
            ["sh", "-c", line], cwd=folder, env=env, capture_output=True, text=True,
            timeout=900, check=False,
        )  # fmt: skip
        assert res.returncode == 0, (line, res.stderr[-2000:])
        if n == 0:  # the consultant: a benchmark of both brands and the report
            assert "AcmeHelp" in res.stdout and "BetaCare" in res.stdout
            assert (folder / "audit.html").stat().st_size > 10_000
        elif n == 1:  # the team: its own figures, then who still waits
            assert "Declared organizations: AcmeHelp." in res.stderr
            assert "unanswered turns of AcmeHelp older than 1d" in res.stdout
        else:  # the researcher: JSON and CSV files
            audit = json.loads((folder / "audit.json").read_text())
            assert [o["org"] for o in audit["orgs"]] == ["AcmeHelp"]
            header = (folder / "turns.csv").read_text().splitlines()[0]
            assert header.startswith("org_id,")
