"""Shared fixtures: a migrated store, a CLI runner, and TWCS rows written by hand."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

import socialaudit
from socialaudit.cli import get_app

# CI must be reproducible: the same examples every run (locally they vary, to explore).
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TWCS_SAMPLE = SHARED / "twcs" / "twcs_head5k.csv"
HEADER = [
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
]
T0 = datetime(2017, 10, 1, 12, 0, 0, tzinfo=UTC)


def twcs_time(minutes: float) -> str:
    """TWCS's created_at format for T0 + minutes."""
    return (T0 + timedelta(minutes=minutes)).strftime("%a %b %d %H:%M:%S +0000 %Y")


def twcs_csv(rows: Sequence[Sequence[object]]) -> str:
    """Rows of (tweet_id, author, inbound, minutes, text, parent) as TWCS CSV text."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for tweet_id, author, inbound, minutes, text, parent in rows:
        w.writerow(
            [
                tweet_id,
                author,
                "True" if inbound else "False",
                twcs_time(minutes),  # type: ignore[arg-type]
                text,
                "",
                "" if parent is None else f"{parent}.0",
            ]
        )
    return buf.getvalue()


@pytest.fixture
def store(tmp_path: Path) -> socialaudit.Store:
    s = socialaudit.open(tmp_path / "test.duckdb")
    yield s
    s.close()


@pytest.fixture
def write_twcs(tmp_path: Path) -> Callable[..., Path]:
    def write(rows: Sequence[Sequence[object]], name: str = "posts.csv") -> Path:
        path = tmp_path / name
        path.write_text(twcs_csv(rows), encoding="utf-8")
        return path

    return write


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def app():
    return get_app()


def org_figures(report: dict, org: str) -> dict:
    """The `all` figures of one org in an audit report."""
    for o in report["orgs"]:
        if o["org"] == org:
            return o["responsiveness"]["all"]
    raise KeyError(org)
