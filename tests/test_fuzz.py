"""Issue 14: a fuzz suite that keeps "no record can break a store" true.

Hypothesis writes random reply graphs (cycles of every length, self-threads, orphans,
duplicates, clock skew, impossible dates) and random mutations of every importer's fixtures.
The invariants, after every import:

- no traceback: an import succeeds or refuses the file with a :class:`SourceError` (exit 2);
- ``read = inserted + duplicates + quarantined``, in the result and in the ``imports`` table;
- no post is left on a reply cycle;
- every analysis (audit, turns, unanswered, quality, network, benchmark, report and the
  dashboard pages) still answers on the store.

Bounded: a few dozen examples per test, a fixed seed on CI (``CI=1``); the whole file runs
in well under three minutes.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import socialaudit
from socialaudit.metrics.quality import posts_on_cycles
from tests.conftest import HEADER

SOURCES = Path(__file__).parent / "data" / "sources"
FUZZ = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
ORG = "AcmeHelp"
TIMES = [
    "Tue Oct 31 22:10:47 +0000 2017",
    "Tue Oct 31 21:10:47 +0000 2017",  # earlier than its parent: skew
    "Wed Nov 01 09:00:00 +0000 2017",
    "Fri Dec 31 23:59:59 +0000 9999",  # implausible
    "Thu Jan 01 00:00:00 +0000 1970",  # implausible
    "Tue Oct 31 22:10:47 +9999 2017",  # implausible offset
    "not a time",
]


@st.composite
def reply_graphs(draw: st.DrawFn) -> list[tuple[str, str, bool, str, str]]:
    """TWCS rows (id, author, inbound, time, parent) over a small id space.

    Ids come from a pool of 12, so parents often exist, point back (cycles of any length,
    self-replies), repeat (duplicates) or are missing (orphans); authors come from a pool of
    3 customers and the org, so same-author self-threads form too.
    """
    n = draw(st.integers(min_value=1, max_value=14))
    ids = st.integers(min_value=1, max_value=12).map(str)
    rows = []
    for _ in range(n):
        post = draw(ids)
        author = draw(st.sampled_from([ORG, "c1", "c2", "c3"]))
        parent = draw(st.one_of(st.just(""), ids, st.just("999")))
        created = draw(st.sampled_from(TIMES))
        rows.append((post, author, author != ORG, created, parent))
    return rows


def write_twcs(path: Path, rows: list[tuple[str, str, bool, str, str]]) -> Path:
    lines = [",".join(HEADER)]
    lines += [f"{p},{a},{i},{t},@{ORG} text of {p},,{par}" for p, a, i, t, par in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def checked_import(store: socialaudit.Store, path: Path) -> socialaudit.ImportResult | None:
    """Import, holding the invariants; None when the file was refused as bad input."""
    before = store.count("imports")
    try:
        result = socialaudit.import_file(path, store=store)
    except (socialaudit.SourceError, socialaudit.ConfigError):
        assert store.count("imports") == before  # refused whole: nothing written
        return None
    assert result.read == result.inserted + result.duplicates + result.quarantined
    row = store.raw.execute(
        "SELECT read, inserted, duplicates, quarantined FROM imports WHERE import_id = ?",
        [result.import_id],
    ).fetchall()[0]
    assert row == (result.read, result.inserted, result.duplicates, result.quarantined)
    return result


def store_is_sound(store: socialaudit.Store) -> None:
    """The check after each example: quality builds the turns and walks every reply chain."""
    figures = socialaudit.quality(store)
    assert figures["posts_on_reply_cycles"] == posts_on_cycles(store) == 0
    assert figures["time_outliers"] == 0


def analyses_answer(store: socialaudit.Store) -> None:
    """Every analysis runs on the store (the CLI and the dashboard call these)."""
    store_is_sound(store)
    report = socialaudit.audit(store)
    socialaudit.turns(store)
    for org in [o["org"] for o in report["orgs"]][:2]:
        socialaudit.turns(store, org=org, unanswered_older_than_s=0)  # unanswered
        socialaudit.network(store, org)
    socialaudit.run_benchmark(store)


@pytest.fixture(scope="module")
def graph_store() -> Iterator[socialaudit.Store]:
    """One store every graph example imports into: cycles can span imports."""
    with tempfile.TemporaryDirectory() as tmp, socialaudit.open(Path(tmp) / "g.duckdb") as s:
        s.tmp = Path(tmp)  # type: ignore[attr-defined]
        yield s


@FUZZ
@given(graph=reply_graphs())
def test_random_reply_graphs_never_break_the_store(graph_store, graph) -> None:
    path = write_twcs(graph_store.tmp / "g.csv", graph)
    checked_import(graph_store, path)
    store_is_sound(graph_store)


def test_every_command_and_page_answers_on_the_fuzzed_store(graph_store, runner, app) -> None:
    """After the graph examples: the CLI, the report and the dashboard on the same store."""
    from fastapi.testclient import TestClient

    from socialaudit.serve.app import create_app

    db = graph_store.path
    # Seed cycles directly too, in case the examples never closed one.
    write_twcs(
        graph_store.tmp / "c.csv",
        [("501", "c1", True, TIMES[0], "502"), ("502", "c1", True, TIMES[0], "501")],
    )
    checked_import(graph_store, graph_store.tmp / "c.csv")
    graph_store.close()
    for args in (
        ["audit", "--no-enrich"],
        ["turns"],
        ["unanswered", ORG],
        ["quality"],
        ["network", ORG],
        ["benchmark"],
        ["report", "--no-enrich", "--out", str(Path(db).parent / "report.html")],
    ):
        res = runner.invoke(app, ["--db", db, *args])
        assert res.exit_code == 0, (args, res.output)
    with TestClient(create_app(db)) as c:
        for url in ("/", "/inbox", "/quality", "/campaigns", "/api/health", "/api/audit"):
            assert c.get(url).status_code == 200, url
        assert c.get("/org", params={"id": ORG}).status_code == 200


# -- mutations of every importer's fixtures ---------------------------------------------------


def fixture_files() -> list[Path]:
    return sorted(p for p in SOURCES.rglob("*") if p.is_file())


NASTY = [b"\x00", b"\x1b[31m", "\u202e".encode(), b'"', b",", b"\n", b"{", b"}", b"\xff"]


@st.composite
def mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """A few random edits: cut, insert nasty bytes, duplicate or drop a line, truncate."""
    out = bytearray(data)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["insert", "delete", "dup_line", "drop_line", "truncate"]))
        at = draw(st.integers(min_value=0, max_value=max(0, len(out) - 1)))
        if kind == "insert":
            out[at:at] = draw(st.sampled_from(NASTY))
        elif kind == "delete":
            del out[at : at + draw(st.integers(min_value=1, max_value=40))]
        elif kind == "truncate":
            del out[at:]
        else:
            lines = bytes(out).split(b"\n")
            k = draw(st.integers(min_value=0, max_value=max(0, len(lines) - 1)))
            if kind == "dup_line":
                lines.insert(k, lines[k])
            elif len(lines) > 1:
                del lines[k]
            out = bytearray(b"\n".join(lines))
    return bytes(out)


@pytest.fixture(scope="module")
def mutation_store() -> Iterator[socialaudit.Store]:
    """One store every mutated file imports into (the analyses run once, at the end)."""
    with tempfile.TemporaryDirectory() as tmp, socialaudit.open(Path(tmp) / "m.duckdb") as s:
        s.tmp = Path(tmp)  # type: ignore[attr-defined]
        yield s


@pytest.mark.parametrize("source", fixture_files(), ids=lambda p: str(p.relative_to(SOURCES)))
def test_mutated_fixtures_import_or_refuse_cleanly(mutation_store, source: Path) -> None:
    data = source.read_bytes()
    seen: list[int] = []

    @settings(FUZZ, max_examples=4)
    @given(blob=mutations(data))
    def check(blob: bytes) -> None:
        path = mutation_store.tmp / source.name
        path.write_bytes(blob)
        result = checked_import(mutation_store, path)
        seen.append(0 if result is None else result.read)

    check()
    assert seen


def test_analyses_answer_after_the_mutated_imports(mutation_store) -> None:
    declare_busiest_author(mutation_store, mutation_store.tmp / "orgs.toml")
    analyses_answer(mutation_store)


def declare_busiest_author(store: socialaudit.Store, path: Path) -> None:
    """Platform exports name no organization: declare the busiest author one (or anyone)."""
    busiest = store.raw.execute(
        """SELECT p.platform, a.handle FROM posts p JOIN accounts a
        ON a.platform = p.platform AND a.account_id = p.author_id
        WHERE a.handle IS NOT NULL GROUP BY ALL ORDER BY count(*) DESC, 1, 2 LIMIT 1"""
    ).fetchall()
    # Every example may have been refused: an org without posts still gets a tier (0).
    platform, handle = busiest[0] if busiest else ("twitter", "nobody")
    accounts = f"{json.dumps(platform)} = [{json.dumps(handle)}]"
    path.write_text(f'[[org]]\nid = "fuzzorg"\n[org.accounts]\n{accounts}\n', encoding="utf-8")
    socialaudit.load_orgs(path, store=store)
