"""The benchmark's expressions give the same tables on Spark as on DuckDB."""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd
import pytest

import socialaudit
from socialaudit.benchmark import peers
from socialaudit.metrics import business_hours as bh
from socialaudit.metrics import presence as pr
from socialaudit.metrics import responsiveness as rs
from socialaudit.metrics import survival as sv
from tests.test_business_hours import CASES, ICS, ORGS_TOML, minutes
from tests.test_spark_parity import spark  # noqa: F401 - the shared SparkSession fixture


def _same(on_spark: pd.DataFrame, on_duckdb: pd.DataFrame, name: str) -> None:
    a = on_spark.reset_index(drop=True)
    b = on_duckdb.reset_index(drop=True)
    assert list(a.columns) == list(b.columns), name
    assert len(a) == len(b) and len(b) > 0, name
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


def _tables(engine: Any) -> dict[str, pd.DataFrame]:
    """Every benchmark expression over one engine, executed."""
    turns = rs.build_turns(engine).turns
    posts, oa, orgs = engine.table("posts"), engine.table("org_accounts"), engine.table("orgs")
    groups = peers.peer_groups(orgs, {"acmehelp": "g", "bolthelp": "g"})
    span = {"start_s": 1_506_000_000, "end_s": 1_512_000_000}
    presence = pr.presence_scores(pr.presence(posts, oa, engine.table("accounts"), groups, **span))
    accounts = pr.presence_scores(
        pr.presence(posts, oa, engine.table("accounts"), groups, **span, by_account=True)
    )
    intervals = bh.calendar_intervals(engine, turns)
    metrics = ibis.memtable(
        pd.DataFrame(
            {
                "org_id": ["AcmeHelp", "BoltHelp"],
                "peer_group": ["g", "g"],
                "response_rate": [1, 0.5],
            }
        )
    )
    leaders = ibis.memtable(pd.DataFrame({"org_id": ["AcmeHelp"], "is_leader": [True]}))
    exprs = {
        "presence": presence,
        "accounts": accounts,
        "evidence": pr.presence_evidence(posts, oa, **span),
        "business": bh.business_responsiveness(turns, orgs, intervals),
        "business_frt": bh.business_frt(turns, intervals).order_by("turn_id"),
        "survival": sv.survival_counts(turns),
        "percentiles": peers.peer_percentiles(metrics),
        "divide": peers.social_divide(turns, groups, leaders),
    }
    return {name: engine.execute(expr) for name, expr in exprs.items()}


@pytest.mark.spark
def test_benchmark_expressions_parity(spark, tmp_path, write_twcs) -> None:  # noqa: F811
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
            on_spark = _tables(engine)
        on_duckdb = _tables(store)
    finally:
        store.close()
    for name, frame in on_duckdb.items():
        _same(on_spark[name], frame, name)
