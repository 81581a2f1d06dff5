"""The whole pipeline on Spark ``local[2]`` over a lake store equals the embedded DuckDB path.

Import counts, stored rows, quarantine, labels and the audit JSON (floats within 1e-9), on a
hand-made pair of overlapping files, the TWCS sample and the demo market. Spark reads the lake
straight from the pinned snapshot's files: no copy is made. The 2.8 M-row parity run is a
benchmark (benchmarks/bench_lake_spark.py), not a test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import socialaudit
from tests.conftest import TWCS_SAMPLE, twcs_csv
from tests.test_spark_parity import assert_same, spark  # noqa: F401 - the session fixture

pytest.importorskip("deltalake", reason="the lake extra (deltalake) is not installed")

ROWS_A = [
    (1, "AcmeHelp", False, 0, "Our new app is out", None),
    (2, "9", True, 1, "@AcmeHelp it crashes #fail", 1),
    (3, "AcmeHelp", False, 5, "@9 which phone? https://acme.example/help", 2),
]
ROWS_B = [
    (3, "AcmeHelp", False, 5, "@9 which phone? https://acme.example/help", 2),  # in file A
    (4, "9", True, 9, "@AcmeHelp a Pixel, thanks", 3),
    (4, "9", True, 9, "@AcmeHelp a Pixel, thanks", 3),  # twice in this file
    (5, "10", True, 20, "@AcmeHelp where is my refund?", 77),  # parent missing
]
BAD_LINE = '6,9,True,not a time,"@AcmeHelp broken",,\n'
POSTS = "SELECT * FROM posts ORDER BY platform, post_id"
LABELS = "SELECT * FROM enrichments ORDER BY platform, post_id"
QUARANTINE = "SELECT import_id, record_no, line_no, reason, kept FROM quarantine ORDER BY ALL"


def two_files(tmp_path: Path) -> list[Path]:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(twcs_csv(ROWS_A), encoding="utf-8")
    b.write_text(twcs_csv(ROWS_B) + BAD_LINE, encoding="utf-8")
    return [a, b]


def counts(results: list[Any]) -> list[tuple[int, int, int, int]]:
    return [(r.read, r.inserted, r.duplicates, r.quarantined) for r in results]


def embedded(tmp_path: Path, files: list[Path]) -> socialaudit.Store:
    store = socialaudit.open(tmp_path / "embedded.duckdb")
    for path in files:
        socialaudit.import_file(path, store=store)
    return store


@pytest.mark.spark
def test_spark_import_and_enrich_equal_the_embedded_path(spark, tmp_path, runner, app) -> None:  # noqa: F811
    from socialaudit.enrich.runner import enrich
    from socialaudit.enrich.spark import enrich_on_spark
    from socialaudit.ingest.spark import import_on_spark

    files = two_files(tmp_path)
    db = f"delta:{tmp_path / 'lake'}"
    with socialaudit.open(db) as lake:
        on_spark = import_on_spark(files, store=lake)
        labelled = enrich_on_spark(lake)
    want = socialaudit.open(tmp_path / "embedded.duckdb")
    try:
        results = [socialaudit.import_file(f, store=want) for f in files]
        assert counts(on_spark) == counts(results) == [(3, 3, 0, 0), (5, 2, 2, 1)]
        assert labelled.rows == enrich(want).rows
        with socialaudit.open(db, read_only=True) as lake:
            for sql in (POSTS, QUARANTINE, LABELS):
                got, expected = lake.frame(sql), want.frame(sql)
                pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    finally:
        want.close()
    # The CLI runs the same path; a re-import on Spark is idempotent.
    again = runner.invoke(app, ["--db", db, "import", "--engine", "spark", *map(str, files)])
    assert again.exit_code == 0, again.output
    assert "Imported 0 of 3" in again.output and "Imported 0 of 5" in again.output


def audit_on_spark_from_lake(db: str) -> dict:
    """The audit on Spark, reading the lake's pinned files (asserts that nothing is copied)."""
    from socialaudit.store.lake import LakeStore
    from socialaudit.store.spark import SparkEngine

    with socialaudit.open(db, read_only=True) as lake:
        assert isinstance(lake, LakeStore)
        with SparkEngine.from_store(lake) as engine:
            assert engine.snapshot is None
            read = engine.session.table("posts").inputFiles()
            assert read and all(f.removeprefix("file://").startswith(lake.lake.uri) for f in read)
            return socialaudit.audit(engine)


@pytest.mark.spark
@pytest.mark.skipif(not TWCS_SAMPLE.exists(), reason=f"{TWCS_SAMPLE} is not present")
def test_twcs_sample_parity_through_the_lake(spark, tmp_path, runner, app) -> None:  # noqa: F811
    db = f"delta:{tmp_path / 'lake'}"
    done = runner.invoke(app, ["--db", db, "import", "--engine", "spark", str(TWCS_SAMPLE)])
    assert done.exit_code == 0, done.output
    assert "Imported 5,000 of 5,000" in done.output
    want = embedded(tmp_path, [TWCS_SAMPLE])
    try:
        expected = socialaudit.audit(want)
    finally:
        want.close()
    assert len(expected["orgs"]) > 50
    assert_same(audit_on_spark_from_lake(db), expected)
    # And the CLI's --engine spark audit reads the same lake to the same JSON.
    cli = runner.invoke(app, ["--db", db, "audit", "--engine", "spark", "--no-enrich", "--json"])
    assert cli.exit_code == 0, cli.output
    assert_same(json.loads(cli.stdout)["orgs"], expected["orgs"])


@pytest.mark.spark
def test_demo_market_parity_through_the_lake(spark, tmp_path) -> None:  # noqa: F811
    from socialaudit.ingest.spark import import_on_spark
    from socialaudit.synthetic import generate_market

    out = tmp_path / "market"
    generate_market(out, seed=7)
    db = f"delta:{tmp_path / 'lake'}"
    with socialaudit.open(db) as lake:
        on_spark = import_on_spark([out / "market.csv"], store=lake)
        socialaudit.load_orgs(out / "orgs.toml", store=lake)
    want = embedded(tmp_path, [out / "market.csv"])
    try:
        socialaudit.load_orgs(out / "orgs.toml", store=want)
        assert counts(on_spark) == [
            (r.read, r.inserted, r.duplicates, r.quarantined)
            for r in [want.frame("SELECT * FROM imports").iloc[0]]
        ]
        expected = socialaudit.audit(want)
    finally:
        want.close()
    assert_same(audit_on_spark_from_lake(db), expected)
