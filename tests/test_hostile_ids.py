"""Issue 14: ids from the data are data, never markup, paths or terminal codes.

Each test failed before issue 14: an org id with ``/`` had no dashboard page, ESC and U+202E in
an id reached the terminal raw in titles and error hints, a 5,000-character author id squeezed
the other columns of ``unanswered`` to nothing, a NUL byte 170 kB into a file was stored while
one near the start refused the file, and ``Host: localhost:8000@evil`` passed for localhost.
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import socialaudit
from socialaudit.serve.app import create_app
from tests.conftest import HEADER

T = "Tue Oct 31 22:10:47 +0000 2017"
HOSTILE = [
    "acme/help",
    "50%25off%",
    "..",
    "../../etc",
    "red\x1b[31malert",
    "rtl\u202eplehemca",
    "a&b=c#d?e",
]


def twcs(path: Path, rows: list[tuple[str, str, bool, str, str]]) -> Path:
    """Rows of (id, author, inbound, text, parent)."""
    lines = [",".join(HEADER)]
    for tid, author, inbound, text, parent in rows:
        quoted = '"' + author.replace('"', '""') + '"'
        lines.append(f"{tid},{quoted},{inbound},{T},{text},,{parent}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory) -> Path:
    """One org per hostile id, each with an unanswered customer."""
    out = tmp_path_factory.mktemp("ids")
    rows = []
    for i, org in enumerate(HOSTILE):
        rows.append((f"{100 + i}", org, False, "we are here", ""))
        rows.append((f"{200 + i}", f"cust{i}", True, "help please", f"{100 + i}"))
    db = out / "s.duckdb"
    with socialaudit.open(db) as s:
        result = socialaudit.import_file(twcs(out / "a.csv", rows), store=s)
        assert result.inserted == len(rows)
        ids = {r[0] for r in s.raw.execute("SELECT org_id FROM orgs").fetchall()}
    assert ids == set(HOSTILE)
    return db


def test_every_org_id_has_a_dashboard_page(hostile_store: Path) -> None:
    with TestClient(create_app(hostile_store)) as c:
        overview = c.get("/")
        assert overview.status_code == 200
        links = [unescape(h) for h in re.findall(r'href="([^"]*)"', overview.text)]
        for org in HOSTILE:
            # The overview links each org through the id-safe route, and the link answers.
            link = next(h for h in links if h.startswith("/org") and _target(c, h) == org)
            page = c.get(link)
            assert page.status_code == 200, (org, link)
            for sub in ("topics", "network"):
                res = c.get(f"/org/{sub}", params={"id": org})
                assert res.status_code == 200, (org, sub)
            assert c.get("/api/org", params={"id": org}).json()["org_id"] == org
        assert c.get("/org", params={"id": "nobody/else"}).status_code == 404


def _target(c: TestClient, href: str) -> str | None:
    """The org id a dashboard link names, as the server reads it."""
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(href)
    if parts.path != "/org":
        return None
    return parse_qs(parts.query).get("id", [None])[0]


def test_terminal_output_escapes_ids_everywhere(hostile_store: Path, runner, app) -> None:
    base = ["--db", str(hostile_store), "--reference-time", "2017-11-30T00:00:00"]
    for org in ("red\x1b[31malert", "rtl\u202eplehemca"):
        res = runner.invoke(app, [*base, "unanswered", org])
        assert res.exit_code == 0, res.output
        assert "\x1b" not in res.output and "\u202e" not in res.output
        assert "\\x1b" in res.output or "\\x202e" in res.output  # visible in the title
        # The error for an unknown org repeats the id in its hint: escaped as well.
        res = runner.invoke(app, [*base, "unanswered", org + "x"])
        assert res.exit_code != 0
        assert "\x1b" not in res.output and "\u202e" not in res.output
    res = runner.invoke(app, [*base, "orgs"])
    assert "\x1b" not in res.output and "\u202e" not in res.output


def test_a_very_long_id_is_cut_with_an_ellipsis(tmp_path, runner, app) -> None:
    db = tmp_path / "s.duckdb"
    long_author = "L" * 5000
    rows = [
        ("1", "AcmeHelp", False, "hi", ""),
        ("2", long_author, True, "@AcmeHelp my order never arrived", "1"),
    ]
    with socialaudit.open(db) as s:
        socialaudit.import_file(twcs(tmp_path / "a.csv", rows), store=s)
    clock = ["--reference-time", "2017-11-30T00:00:00"]
    res = runner.invoke(app, ["--db", str(db), *clock, "unanswered", "AcmeHelp"])
    assert res.exit_code == 0, res.output
    assert "1 unanswered turns" in res.output
    assert "L" * 60 not in res.output and "…" in res.output
    assert "never" in res.output  # the text column still has room


@pytest.mark.parametrize("row", [2, 3000])
def test_nul_bytes_are_handled_the_same_wherever_they_are(tmp_path, row: int) -> None:
    lines = [",".join(HEADER)]
    for i in range(1, 4000):
        text = f"hello number {i} " + "x" * 50
        if i == row:
            text = text.replace("hello", "hel\x00lo")
        lines.append(f"{i},u{i % 7},True,{T},{text},,")
    path = tmp_path / "nul.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with socialaudit.open(tmp_path / "s.duckdb") as s:
        result = socialaudit.import_file(path, store=s)
        assert (
            s.raw.execute("SELECT count(*) FROM posts WHERE contains(text, chr(0))").fetchall()[0][
                0
            ]
            == 0
        )
    assert (result.inserted, result.quarantined) == (3998, 1)
    assert result.quarantine_by_reason == {"NUL byte": 1}


@pytest.mark.parametrize(
    "head",
    [b"\x1f\x8b\x08\x00\x00\x00", b"\xff\xfet\x00w\x00e\x00e\x00t\x00", b"\x00" * 64 + b"x"],
)
def test_binary_files_are_still_refused(tmp_path, head: bytes) -> None:
    path = tmp_path / "b.csv"
    path.write_bytes(head + b"tweet_id,author_id\n")
    with socialaudit.open(tmp_path / "s.duckdb") as s, pytest.raises(socialaudit.SourceError):
        socialaudit.import_file(path, store=s)


@pytest.mark.parametrize(
    "host",
    ["localhost:8000@evil", "localhost@evil:8000", "localhost:8000/x", "local host", "[::1", ""],
)
def test_malformed_host_headers_are_refused(hostile_store: Path, host: str) -> None:
    for allowed in (frozenset({"127.0.0.1", "localhost"}), None):
        app = create_app(hostile_store, allowed_hosts=allowed, warm=False)
        with TestClient(app, base_url="http://127.0.0.1:8000") as c:
            assert c.get("/api/health", headers={"host": host}).status_code == 400
            assert c.get("/api/health", headers={"host": "localhost:8000"}).status_code == 200


def test_usage_errors_escape_what_was_typed(tmp_path) -> None:
    """Click's own errors repeat the argument: ``python -m socialaudit`` escapes them too."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-m", "socialaudit", "--db", str(tmp_path / "s.duckdb"),
         "no\x1b[2Jsuch\u202ecommand"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "No such command" in done.stderr
    assert "\x1b" not in done.stderr and "\u202e" not in done.stderr
    assert "\\x1b" in done.stderr
