"""Issue 14: no record can break a store (reply cycles, impossible dates).

Each test here failed on the code before issue 14: the records below imported with exit 0 and
then every analysis stopped with "self-thread walk did not converge", or moved the audit's
clock to the year 9999.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

import socialaudit
from socialaudit.metrics import responsiveness as rs
from socialaudit.store import cycles
from tests.conftest import HEADER, org_figures

T = "Tue Oct 31 22:10:47 +0000 2017"
ANALYSES = (
    ["audit", "--no-enrich", "--json"],
    ["turns", "--json"],
    ["unanswered", "AcmeHelp", "--json"],
    ["quality", "--json"],
    ["network", "AcmeHelp", "--json"],
    ["benchmark", "--json"],
)


def csv_file(path: Path, rows: list[tuple[str, str, bool, str, str, str]]) -> Path:
    """TWCS rows (id, author, inbound, created_at, text, parent id)."""
    lines = [",".join(HEADER)]
    for tid, author, inbound, created, text, parent in rows:
        lines.append(f"{tid},{author},{inbound},{created},{text},,{parent}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def base_rows() -> list[tuple[str, str, bool, str, str, str]]:
    """An org that answers one customer: analyses have something to show."""
    return [
        ("1", "AcmeHelp", False, T, "hello", ""),
        ("2", "115712", True, T, "@AcmeHelp help me", "1"),
        ("3", "AcmeHelp", False, "Tue Oct 31 22:20:47 +0000 2017", "@115712 sure", "2"),
    ]


def run_all(runner, app, db: Path) -> None:
    for args in ANALYSES:
        result = runner.invoke(app, ["--db", str(db), *args])
        assert result.exit_code == 0, (args, result.output)
        assert "Traceback" not in result.output


# -- reply cycles ---------------------------------------------------------------------------


def test_self_reply_keeps_the_post_and_drops_its_link(tmp_path, runner, app) -> None:
    db = tmp_path / "s.duckdb"
    path = csv_file(
        tmp_path / "a.csv", [*base_rows(), ("990001", "115712", True, T, "hi", "990001")]
    )
    result = runner.invoke(app, ["--db", str(db), "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Dropped the parent link of 1 self-replies" in result.output
    with socialaudit.open(db, read_only=True) as s:
        parent, root = s.raw.execute(
            "SELECT parent_id, root_id FROM posts WHERE post_id = '990001'"
        ).fetchall()[0]
        kept = s.raw.execute("SELECT reason, kept, raw FROM quarantine").fetchall()
        counts = s.raw.execute(
            "SELECT read, inserted, duplicates, quarantined FROM imports"
        ).fetchall()
    assert parent is None and root == "990001"
    assert [(r, k) for r, k, _ in kept] == [("reply cycle", True)]
    assert json.loads(kept[0][2])["parent_id"] == "990001"
    assert counts == [(4, 4, 0, 0)]
    run_all(runner, app, db)
    quality = json.loads(runner.invoke(app, ["--db", str(db), "quality", "--json"]).output)
    assert quality["reply_cycles_repaired"] == 1
    assert quality["posts_on_reply_cycles"] == 0


def test_two_posts_replying_to_each_other_close_a_cycle(tmp_path, runner, app) -> None:
    db = tmp_path / "s.duckdb"
    rows = [
        *base_rows(),
        ("10", "115712", True, T, "a", "11"),
        ("11", "115712", True, T, "b", "10"),
    ]
    result = runner.invoke(
        app, ["--db", str(db), "import", str(csv_file(tmp_path / "a.csv", rows))]
    )
    assert result.exit_code == 0, result.output
    with socialaudit.open(db, read_only=True) as s:
        q = s.raw.execute("SELECT record_no, reason, kept FROM quarantine").fetchall()
        assert s.raw.execute("SELECT read, inserted, quarantined FROM imports").fetchall() == [
            (5, 4, 1)
        ]
    # The record that closes the cycle is the later one in the file (record 5: post 11).
    assert q == [(5, "reply cycle", False)]
    run_all(runner, app, db)


def test_a_cycle_through_stored_posts_is_refused_at_the_closing_import(tmp_path, runner, app):
    db = tmp_path / "s.duckdb"
    # A customer<->org cycle across two imports: 21 -> 20 is stored (20 is missing), then 20
    # arrives replying to 21.
    first = [*base_rows(), ("21", "AcmeHelp", False, T, "@115712 ok", "20")]
    second = [("20", "115712", True, T, "@AcmeHelp again", "21")]
    for i, rows in enumerate((first, second)):
        path = csv_file(tmp_path / f"{i}.csv", rows)
        result = runner.invoke(app, ["--db", str(db), "import", str(path)])
        assert result.exit_code == 0, result.output
    assert "1 quarantined (1 reply cycle)" in result.output
    run_all(runner, app, db)


@pytest.mark.parametrize("length", [1, 2, 3, 5, 17])
def test_walks_stop_on_cycles_in_an_old_store(tmp_path, length: int) -> None:
    """A store written before the fix (cycles inserted behind the importer's back)."""
    with socialaudit.open(tmp_path / "s.duckdb") as s:
        socialaudit.import_file(csv_file(tmp_path / "a.csv", base_rows()), store=s)
        for i in range(length):
            s.raw.execute(
                "INSERT INTO posts (platform, post_id, author_id, created_at, parent_id, inbound)"
                " VALUES ('twitter', ?, '115712', TIMESTAMP '2017-10-31 22:00:00', ?, true)",
                [f"c{i}", f"c{(i + 1) % length}"],
            )
        # A tail leading into the cycle, and a same-author thread under it.
        s.raw.execute(
            "INSERT INTO posts (platform, post_id, author_id, created_at, parent_id, inbound)"
            " VALUES ('twitter', 'tail', '115712', TIMESTAMP '2017-10-31 22:01:00', 'c0', true)"
        )
        tt = rs.build_turns(s)
        assert s.execute(tt.turns.count()) >= 1
        assert socialaudit.quality(s)["posts_on_reply_cycles"] == length + 1
        report = socialaudit.audit(s, org="AcmeHelp")
        assert org_figures(report, "AcmeHelp")["answered"] == 1
        socialaudit.network(s, "AcmeHelp")
        from socialaudit.ingest.core import derive_roots

        s.raw.execute("UPDATE posts SET root_id = NULL")
        derive_roots(s.raw)  # stops instead of spinning; cycle members keep no root
        assert (
            s.raw.execute("SELECT count(*) FROM posts WHERE root_id IS NULL").fetchall()[0][0]
            == length + 1
        )


def test_migration_5_repairs_cycles_of_an_old_store(tmp_path) -> None:
    db = tmp_path / "old.duckdb"
    with socialaudit.open(db) as s:
        socialaudit.import_file(csv_file(tmp_path / "a.csv", base_rows()), store=s)
        s.raw.execute(
            "INSERT INTO posts (platform, post_id, author_id, created_at, parent_id, inbound, "
            "import_id, record_no) VALUES "
            "('twitter', 'x', '115712', TIMESTAMP '2017-10-31 22:00:00', 'x', true, 1, 10), "
            "('twitter', 'y', '115712', TIMESTAMP '2017-10-31 22:00:00', 'z', true, 1, 11), "
            "('twitter', 'z', '115712', TIMESTAMP '2017-10-31 22:00:00', 'y', true, 1, 12)"
        )
        # Roll the store back to schema 4, as it was before issue 14.
        s.raw.execute("DELETE FROM _socialaudit_migrations WHERE version = 5")
        s.raw.execute("ALTER TABLE quarantine DROP COLUMN kept")
    with socialaudit.open(db) as s:
        links = dict(
            s.raw.execute(
                "SELECT post_id, parent_id FROM posts WHERE post_id IN ('x', 'y', 'z')"
            ).fetchall()
        )
        assert links == {"x": None, "y": "z", "z": None}  # z came last in its cycle
        q = s.raw.execute("SELECT record_no, reason, kept FROM quarantine ORDER BY 1").fetchall()
        assert q == [(10, "reply cycle", True), (12, "reply cycle", True)]
        assert socialaudit.quality(s)["reply_cycles_repaired"] == 2


def test_find_cycles_picks_one_member_per_cycle() -> None:
    con = duckdb.connect()
    # Two cycles (a-b-c, d-e), a self-loop f, a tail t -> a, and a plain chain g -> h.
    edges = [("a", "b", 1), ("b", "c", 5), ("c", "a", 3), ("d", "e", 2), ("e", "d", 9)]
    edges += [("f", "f", 4), ("t", "a", 99), ("g", "h", 7)]
    con.execute("CREATE TABLE n (platform VARCHAR, post_id VARCHAR, up VARCHAR, val BIGINT)")
    con.executemany("INSERT INTO n VALUES ('x', ?, ?, ?)", edges)
    found = cycles.find_cycles(con, "SELECT * FROM n")
    assert found == cycles.Cycles(members=6, cuts=3)
    cut = sorted(r[0] for r in con.execute("SELECT post_id FROM _sa_cycle_cut").fetchall())
    assert cut == ["b", "e", "f"]


def test_serve_answers_after_a_self_reply_import(tmp_path) -> None:
    from fastapi.testclient import TestClient

    from socialaudit.serve.app import create_app

    db = tmp_path / "s.duckdb"
    with socialaudit.open(db) as s:
        socialaudit.import_file(
            csv_file(tmp_path / "a.csv", [*base_rows(), ("9", "115712", True, T, "hi", "9")]),
            store=s,
        )
    with TestClient(create_app(db)) as client:
        for url in ("/api/health", "/api/audit", "/", "/quality"):
            assert client.get(url).status_code == 200, url


# -- plausible times ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "created",
    [
        "Fri Dec 31 23:59:59 +0000 9999",  # the year 9999
        "Thu Jan 01 00:00:00 +0000 1970",  # epoch 0: before Twitter existed
        "Tue Oct 31 22:10:47 +9999 2017",  # an offset of 99 hours
        "Tue Oct 31 22:10:47 -1430 2017",  # beyond -14:00
    ],
)
def test_implausible_times_are_quarantined(tmp_path, runner, app, created: str) -> None:
    db = tmp_path / "s.duckdb"
    rows = [*base_rows(), ("50", "115712", True, created, "@AcmeHelp when", "")]
    result = runner.invoke(
        app, ["--db", str(db), "import", str(csv_file(tmp_path / "a.csv", rows))]
    )
    assert result.exit_code == 0, result.output
    assert "1 quarantined (1 implausible time)" in result.output
    report = json.loads(
        runner.invoke(app, ["--db", str(db), "audit", "--no-enrich", "--json"]).output
    )
    assert report["reference_time"].startswith("2017-10-31T22:20:47")


def test_plausible_offsets_pass(tmp_path) -> None:
    rows = [
        *base_rows(),
        ("60", "115712", True, "Tue Oct 31 22:10:47 +1400 2017", "@AcmeHelp kiribati", ""),
        ("61", "115712", True, "Tue Oct 31 22:10:47 -1200 2017", "@AcmeHelp baker", ""),
        ("62", "115712", True, "Tue Oct 31 22:10:47 +0530 2017", "@AcmeHelp india", ""),
    ]
    with socialaudit.open(tmp_path / "s.duckdb") as s:
        result = socialaudit.import_file(csv_file(tmp_path / "a.csv", rows), store=s)
    assert result.quarantined == 0 and result.inserted == 6


def test_old_store_time_outliers_are_listed_and_ignored_by_the_clock(tmp_path) -> None:
    with socialaudit.open(tmp_path / "s.duckdb") as s:
        socialaudit.import_file(csv_file(tmp_path / "a.csv", base_rows()), store=s)
        s.raw.execute(
            "INSERT INTO posts (platform, post_id, author_id, created_at, inbound) VALUES "
            "('twitter', 'future', '9', TIMESTAMP '9999-12-31 00:00:00', true), "
            "('twitter', 'past', '9', TIMESTAMP '1970-01-01 00:00:00', true)"
        )
        q = socialaudit.quality(s)
        report = socialaudit.audit(s)
    assert q["time_outliers"] == 2
    assert [(p["post_id"], p["why"]) for p in q["time_outlier_posts"]] == [
        ("past", "before the platform existed"),
        ("future", "after the reference time"),
    ]
    assert report["reference_time"].startswith("2017-10-31T22:20:47")


def test_reference_time_sets_the_audit_clock(tmp_path, runner, app) -> None:
    db = tmp_path / "s.duckdb"
    rows = [*base_rows(), ("70", "115712", True, T, "@AcmeHelp still waiting", "")]
    runner.invoke(app, ["--db", str(db), "import", str(csv_file(tmp_path / "a.csv", rows))])
    base = ["--db", str(db), "--reference-time", "2017-11-30T22:10:47Z"]
    report = json.loads(runner.invoke(app, [*base, "audit", "--no-enrich", "--json"]).output)
    assert report["reference_time"].startswith("2017-11-30T22:10:47")
    figures = org_figures(report, "AcmeHelp")
    assert (figures["backlog_24h"], figures["backlog_7d"], figures["backlog_30d"]) == (1, 1, 0)
    bad = runner.invoke(app, ["--db", str(db), "--reference-time", "soon", "audit"])
    assert bad.exit_code == 2
    assert "ISO 8601" in bad.output


def test_quality_lists_time_outliers_in_the_cli_and_the_dashboard(tmp_path, runner, app) -> None:
    from fastapi.testclient import TestClient

    from socialaudit.serve.app import create_app

    db = tmp_path / "s.duckdb"
    with socialaudit.open(db) as s:
        socialaudit.import_file(csv_file(tmp_path / "a.csv", base_rows()), store=s)
        s.raw.execute(
            "INSERT INTO posts (platform, post_id, author_id, created_at, inbound) VALUES "
            "('twitter', 'far-future', '9', TIMESTAMP '9999-12-31 00:00:00', true)"
        )
    res = runner.invoke(app, ["--db", str(db), "quality"])
    assert res.exit_code == 0, res.output
    assert "far-future" in res.output and "after the reference time" in res.output
    with TestClient(create_app(db)) as c:
        page = c.get("/quality")
        assert page.status_code == 200
        assert "far-future" in page.text
        assert c.get("/api/quality").json()["time_outliers"] == 1
