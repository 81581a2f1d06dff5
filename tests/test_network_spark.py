"""Network and campaign metrics give the same figures on Spark as on DuckDB (SPEC section 2.3).

Reuses the hand-built fixtures of test_network and test_campaigns and the Spark session of
test_spark_parity (one JVM for the whole run).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import socialaudit as sa
from socialaudit.metrics import network_audit as na
from tests import test_campaigns as tc
from tests import test_network as tn
from tests.test_spark_parity import spark  # noqa: F401  (the shared session fixture)


def _both(store: sa.Store, fn: Any) -> tuple[Any, Any]:
    from socialaudit.store.spark import SparkEngine

    with SparkEngine.from_store(store) as engine:
        on_spark = fn(engine)
    return on_spark, fn(store)


@pytest.mark.spark
def test_network_parity(spark, store: sa.Store, write_twcs) -> None:  # noqa: F811
    sa.import_file(write_twcs(tn.ROWS), store=store)
    on_spark, on_duckdb = _both(store, lambda e: na.network(e, "AcmeHelp"))
    for r in (on_spark, on_duckdb):
        for v in r["trusted_voices"]:
            v["pagerank"] = round(v["pagerank"], 9)
    assert on_spark == on_duckdb
    assert [v["voice"] for v in on_duckdb["trusted_voices"]] == ["v1", "v2", "v3"]


@pytest.mark.spark
def test_campaign_parity(spark, store: sa.Store, write_twcs, tmp_path: Path) -> None:  # noqa: F811
    sa.import_file(write_twcs(tc.ROWS), store=store)
    (tmp_path / "orgs.toml").write_text(tc.ORGS, encoding="utf-8")
    sa.load_orgs(tmp_path / "orgs.toml", store=store)
    (tmp_path / "costs.csv").write_text(tc.COSTS, encoding="utf-8")
    (tmp_path / "campaigns.toml").write_text(tc.CAMPAIGNS, encoding="utf-8")
    sa.load_campaigns(tmp_path / "campaigns.toml", store=store)
    on_spark, on_duckdb = _both(store, lambda e: sa.campaign_report(e, "fiber"))
    assert on_spark == on_duckdb
    assert on_duckdb["window"]["mentions"] == 4
