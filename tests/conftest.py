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


@pytest.fixture(scope="session")
def enriched_market(tmp_path_factory) -> dict:
    """The synthetic market (seed 7), enriched, with its campaigns and AcmeHelp's topics fitted.

    Shared by the API and dashboard tests, which only read it: ``db`` is the store, ``topics``
    what fitting returned.
    """
    from socialaudit.cli.listen import enrich_store
    from socialaudit.synthetic import generate_market

    out = tmp_path_factory.mktemp("enriched_market")
    generate_market(out, seed=7)
    db = out / "m.duckdb"
    with socialaudit.open(db) as store:
        socialaudit.import_file(out / "market.csv", store=store)
        socialaudit.load_orgs(out / "orgs.toml", store=store)
        socialaudit.load_campaigns(out / "campaigns.toml", store=store)
        enrich_store(store)
        topics = socialaudit.topics(store, org="AcmeHelp")
    assert topics["topics"]
    return {"db": db, "topics": topics}


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
