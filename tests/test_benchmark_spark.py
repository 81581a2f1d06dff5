"""The benchmark's expressions give the same tables on Spark as on DuckDB."""

from __future__ import annotations

import pandas as pd
import pytest

import socialaudit
from socialaudit.benchmark.run import run_benchmark
from tests.test_business_hours import CASES, ICS, ORGS_TOML, minutes
from tests.test_spark_parity import spark  # noqa: F401 - the shared SparkSession fixture

TABLES = ("benchmark", "presence", "accounts", "business_hours", "km_curves", "divide")


def _same(on_spark: pd.DataFrame, on_duckdb: pd.DataFrame, name: str) -> None:
    a = on_spark.reset_index(drop=True)
    b = on_duckdb.reset_index(drop=True)
    assert list(a.columns) == list(b.columns), name
    assert len(a) == len(b), name
    for col in a.columns:
        x, y = a[col], b[col]
        if pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y):
            pd.testing.assert_series_equal(
                pd.to_numeric(x, errors="coerce").astype("float64"),
                pd.to_numeric(y, errors="coerce").astype("float64"),
                check_names=False,
                rtol=1e-9,
                obj=f"{name}.{col}",
            )
        else:
            assert [None if pd.isna(v) else str(v) for v in x] == [
                None if pd.isna(v) else str(v) for v in y
            ], f"{name}.{col}"


@pytest.mark.spark
def test_benchmark_parity_with_calendars(spark, tmp_path, write_twcs) -> None:  # noqa: F811
    from socialaudit.store.spark import SparkEngine

    rows = []
    for n, (tid, org, opened, answered, _) in enumerate(CASES):
        rows.append((tid, f"c{n}", True, minutes(opened), f"@{org} help please", None))
        rows.append((str(int(tid) + 1), org, False, minutes(answered), "on it", tid))
    (tmp_path / "orgs.toml").write_text(ORGS_TOML)
    (tmp_path / "bolt.ics").write_text(ICS)
    store = socialaudit.open(tmp_path / "s.duckdb")
    try:
        socialaudit.import_file(write_twcs(rows), store=store)
        socialaudit.load_orgs(tmp_path / "orgs.toml", store=store)
        with SparkEngine.from_store(store) as engine:
            on_spark = run_benchmark(engine)
        on_duckdb = run_benchmark(store)
    finally:
        store.close()
    assert on_duckdb.business_hours["bh_frt_median_s"].notna().all()
    for name in TABLES:
        _same(on_spark.tables[name], on_duckdb.tables[name], name)
    assert [t.as_dict() for t in on_spark.tiers] == [t.as_dict() for t in on_duckdb.tiers]
