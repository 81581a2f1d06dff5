"""The lake store (``--db delta:PATH``): atomic, idempotent imports that DuckDB reads in place.

Every test works on a real Delta Lake folder written by delta-rs. The kill tests kill a real
importing process with SIGKILL at the worst moments: between two table commits, and after
every table is committed but before the store commit that makes them visible.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import socialaudit
from tests.conftest import TWCS_SAMPLE, twcs_csv
from tests.test_spark_parity import assert_same

deltalake = pytest.importorskip("deltalake", reason="the lake extra (deltalake) is not installed")

from socialaudit.store.lake import Lake, LakeStore  # noqa: E402

ROWS = [
    (1, "AcmeHelp", False, 0, "hi there", None),
    (2, "9", True, 1, "@AcmeHelp my order", 1),
    (3, "AcmeHelp", False, 5, "@9 on its way", 2),
    (2, "9", True, 1, "@AcmeHelp my order", 1),  # repeated in the file: a duplicate
]
#: A record TWCS cannot take (its time is not a time): quarantined with a reason.
BAD_LINE = '4,9,True,not a time,"@AcmeHelp broken",,\n'
COUNTED = ("posts", "accounts", "orgs", "imports", "quarantine", "raw_records")


def lake_db(tmp_path: Path) -> str:
    return f"delta:{tmp_path / 'lake'}"


def counts(db: str) -> dict[str, int]:
    with socialaudit.open(db, read_only=True) as s:
        return {t: s.count(t) for t in COUNTED}


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "posts.csv"
    path.write_text(twcs_csv(ROWS) + BAD_LINE, encoding="utf-8")
    return path


def test_import_reconciles_and_reimport_is_idempotent(tmp_path: Path, export: Path) -> None:
    db = lake_db(tmp_path)
    with socialaudit.open(db) as s:
        assert isinstance(s, LakeStore)
        first = socialaudit.import_file(export, store=s)
    assert (first.read, first.inserted, first.duplicates, first.quarantined) == (5, 3, 1, 1)
    lake = Lake.from_db(db)
    head = lake.head()
    assert head is not None and head.lake_version == 1
    with socialaudit.open(db) as s:
        again = socialaudit.import_file(export, store=s)
    assert (again.read, again.inserted, again.duplicates, again.quarantined) == (5, 0, 4, 1)
    assert again.read == again.inserted + again.duplicates + again.quarantined
    after = lake.head()
    assert after is not None and after.lake_version == 2
    # The re-import added nothing to posts: that table was not even rewritten.
    assert after.tables["posts"] == head.tables["posts"]
    assert after.tables["imports"] > head.tables["imports"]
    assert counts(db) == {
        "posts": 3,
        "accounts": 2,
        "orgs": 1,
        "imports": 2,
        "quarantine": 2,
        "raw_records": 0,  # TWCS rows are their columns: no raw record kept
    }


def test_duckdb_reads_the_pinned_files_in_place(tmp_path: Path, export: Path) -> None:
    db = lake_db(tmp_path)
    with socialaudit.open(db) as s:
        socialaudit.import_file(export, store=s)
    lake = Lake.from_db(db)
    head = lake.head()
    assert head is not None
    with socialaudit.open(db, read_only=True) as s:
        kind = s.raw.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_name = 'posts'"
        ).fetchall()
        assert kind == [("VIEW",)]
        sql = s.raw.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'posts'").fetchall()
        for path in lake.files("posts", head.tables["posts"]):
            assert path in sql[0][0]
        # A commit after the reader opened is not seen: it reads its snapshot.
        with socialaudit.open(db) as w:
            more = tmp_path / "more.csv"
            more.write_text(twcs_csv([(9, "7", True, 9, "@AcmeHelp hello", None)]))
            socialaudit.import_file(more, store=w)
        assert s.count("posts") == 3
    assert counts(db)["posts"] == 4


def test_a_failed_first_import_leaves_no_lake(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01binary")
    db = lake_db(tmp_path)
    with socialaudit.open(db) as s, pytest.raises(socialaudit.SourceError):
        socialaudit.import_file(bad, store=s)
    assert not Lake.from_db(db).exists()


KILLER = """
import os, signal, sys
import socialaudit
from socialaudit.store import lake

point, db, src = sys.argv[1:]
real_write = lake.Lake.write
writes = []

def write(self, name, *args, **kwargs):
    if point == "write" and len(writes) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    writes.append(name)
    return real_write(self, name, *args, **kwargs)

def commit(self, *args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

lake.Lake.write = write
if point == "commit":
    lake.Lake.commit = commit
with socialaudit.open(db) as s:
    socialaudit.import_file(src, store=s)
"""


@pytest.mark.parametrize("point", ["write", "commit"])
def test_kill_9_mid_commit_leaves_the_previous_version(
    tmp_path: Path, export: Path, point: str
) -> None:
    db = lake_db(tmp_path)
    with socialaudit.open(db) as s:
        socialaudit.import_file(export, store=s)
    lake = Lake.from_db(db)
    head = lake.head()
    before = counts(db)
    more = tmp_path / "more.csv"
    rows = [(10 + i, str(100 + i), True, i, "@AcmeHelp hey", None) for i in range(50)]
    more.write_text(twcs_csv(rows))
    proc = subprocess.run(
        [sys.executable, "-c", KILLER, point, db, str(more)], capture_output=True, text=True
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    # Table commits landed (nobody reads them), the store commit did not.
    assert lake.head() == head
    assert head is not None
    latest = {name: deltalake.DeltaTable(lake.table_uri(name)).version() for name in head.tables}
    assert any(latest[name] > v for name, v in head.tables.items())
    assert counts(db) == before
    # The next writer undoes the orphaned commits before appending: the import lands whole.
    with socialaudit.open(db) as s:
        result = socialaudit.import_file(more, store=s)
    assert result.inserted == 50
    after = counts(db)
    assert after["posts"] == before["posts"] + 50
    assert after["imports"] == before["imports"] + 1
    with socialaudit.open(db, read_only=True) as s:
        dupes = s.frame(
            "SELECT count(*) AS n FROM (SELECT platform, post_id FROM posts "
            "GROUP BY ALL HAVING count(*) > 1)"
        )
        assert int(dupes.n[0]) == 0


@pytest.mark.skipif(not TWCS_SAMPLE.exists(), reason=f"{TWCS_SAMPLE} is not present")
def test_lake_audit_equals_the_duckdb_file(tmp_path: Path) -> None:
    db = lake_db(tmp_path)
    with socialaudit.open(db) as lake_store, socialaudit.open(tmp_path / "f.duckdb") as file:
        on_lake = socialaudit.import_file(TWCS_SAMPLE, store=lake_store)
        on_file = socialaudit.import_file(TWCS_SAMPLE, store=file)
        assert (on_lake.read, on_lake.inserted, on_lake.duplicates, on_lake.quarantined) == (
            on_file.read,
            on_file.inserted,
            on_file.duplicates,
            on_file.quarantined,
        )
        want = socialaudit.audit(file)
    with socialaudit.open(db, read_only=True) as lake_store:
        assert_same(socialaudit.audit(lake_store), want)


def test_cli_on_a_lake(tmp_path: Path, export: Path, runner, app) -> None:
    db = lake_db(tmp_path)
    missing = runner.invoke(app, ["--db", db, "audit", "--json"])
    assert missing.exit_code != 0 and "No store" in missing.output
    done = runner.invoke(app, ["--db", db, "import", str(export)])
    assert done.exit_code == 0, done.output
    again = runner.invoke(app, ["--db", db, "import", str(export)])
    assert "Imported 0 of 5" in again.output
    audit = runner.invoke(app, ["--db", db, "audit", "--json"])
    assert audit.exit_code == 0, audit.output
    report = json.loads(audit.stdout)
    assert [o["org"] for o in report["orgs"]] == ["AcmeHelp"]


def test_object_store_uris_survive_the_cli_path() -> None:
    # --db arrives as a pathlib.Path, which folds "s3://" into "s3:/".
    assert Lake.from_db(Path("delta:s3://bucket/audit")).uri == "s3://bucket/audit"
    assert not Lake.from_db("delta:gs://b/x").is_local
    assert Lake.from_db("delta:rel/lake").uri == str(Path("rel/lake").resolve())


def test_object_store_reading_path(tmp_path: Path, export: Path, monkeypatch) -> None:
    """Off a local disk, DuckDB reads delta-rs's Arrow dataset instead of file paths."""
    monkeypatch.setattr(Lake, "is_local", property(lambda self: False))
    db = lake_db(tmp_path)
    with socialaudit.open(db) as s:
        socialaudit.import_file(export, store=s)
    with socialaudit.open(db) as s:
        again = socialaudit.import_file(export, store=s)
    assert again.inserted == 0
    with socialaudit.open(db, read_only=True) as s:
        sql = s.raw.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'posts'").fetchall()
        assert "read_parquet" not in sql[0][0]
        assert s.count("posts") == 3 and s.count("imports") == 2
