"""Spark parity: the same metric code gives the same audit on Spark as on DuckDB (SPEC §2.3).

Every Spark test shares one session (starting the JVM costs ~15 s) and compares with DuckDB
on the same store: ints equal, floats within 1e-9 (DuckDB's ``quantile_cont`` and Spark's
``percentile`` interpolate in a different order and may differ in the last bit), reference
times equal.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import socialaudit
from socialaudit.metrics import responsiveness as rs
from tests.conftest import TWCS_SAMPLE, twcs_csv

HAVE_PYSPARK = importlib.util.find_spec("pyspark") is not None
# Spark runs $JAVA_HOME/bin/java when JAVA_HOME is set, else the java on PATH.
HAVE_JAVA = (
    Path(os.environ["JAVA_HOME"], "bin", "java").is_file()
    if os.environ.get("JAVA_HOME")
    else shutil.which("java") is not None
)

R = 10 * 1440  # reference time: the last post, 10 days after T0 (minutes)

# (tweet_id, author, inbound, minutes, text, parent): every turn shape of SPEC §5.
ROWS = [
    # A: a four-post self-thread (pointer jumping needs two rounds); Acme answers the
    # third post, 50 min after the opener.
    (10, "101", True, 0, "@AcmeHelp my order is late", None),
    (11, "101", True, 2, "@AcmeHelp hello?", 10),
    (12, "101", True, 4, "@AcmeHelp anyone there?", 11),
    (13, "101", True, 6, "@AcmeHelp ...", 12),
    (14, "AcmeHelp", False, 50, "@101 sorry, looking into it", 12),
    # B: never answered, older than 7 days at the reference time.
    (20, "102", True, 100, "@AcmeHelp refund please", None),
    # C: answered before it was asked (clock skew): a negative FRT.
    (30, "103", True, 200, "no mention at all", None),
    (31, "AcmeHelp", False, 190, "@103 hi", 30),
    # D: a reply to an org broadcast opens a turn; answered in 10 min.
    (40, "AcmeHelp", False, 300, "Our new app is out", None),
    (41, "104", True, 310, "@AcmeHelp it crashes", 40),
    (42, "AcmeHelp", False, 320, "@104 which phone?", 41),
    # D': the customer's answer to the org is a new turn with a self-reply follow-up.
    (43, "104", True, 330, "@AcmeHelp a Pixel", 42),
    (44, "104", True, 331, "@AcmeHelp (the 7)", 43),
    # E: lower-case mention; two answers, the earlier one counts (1 h: outside a 30 min SLA).
    (50, "105", True, 400, "@acmehelp where is my parcel", None),
    (51, "AcmeHelp", False, 500, "@105 second answer", 50),
    (52, "AcmeHelp", False, 460, "@105 first answer", 50),
    # F: someone else joins E's conversation: a new turn, unanswered.
    (53, "106", True, 470, "@105 @AcmeHelp same here", 50),
    # G: parent missing from the data (orphan opener), answered in 5 min.
    (60, "107", True, 600, "@AcmeHelp replying to a lost tweet", 9999),
    (61, "AcmeHelp", False, 605, "@107 hello", 60),
    # H: Beta answers, the customer's reply opens a new turn with a follow-up; unanswered.
    (80, "109", True, 800, "@BetaCare help", None),
    (81, "BetaCare", False, 900, "@109 sure", 80),
    (82, "109", True, 905, "@BetaCare thanks, and?", 81),
    (83, "109", True, 906, "@BetaCare hello?", 82),
    # I: one turn in both inboxes; only Beta answers.
    (90, "110", True, 1000, "@AcmeHelp @BetaCare anyone?", None),
    (91, "BetaCare", False, 1010, "@110 we can help", 90),
    # J: a longer handle is not a mention of AcmeHelp.
    (95, "111", True, 1050, "@AcmeHelpDesk hi", None),
    # K: young unanswered turns around the 24 h and 7 d backlog edges.
    (96, "112", True, R - 60, "@AcmeHelp quick one", None),
    (97, "114", True, R - 1441, "@AcmeHelp a day and a minute", None),
    (98, "115", True, R - 7 * 1440, "@AcmeHelp exactly a week", None),
    # Broadcast that sets the reference time.
    (99, "AcmeHelp", False, R, "Big news today!", None),
]

ORGS_TOML = """
[[org]]
id = "acme"
name = "Acme"
sla_minutes = 30
timezone = "Europe/Paris"
[org.accounts]
twitter = ["acmehelp"]

[[org]]
id = "gamma"
name = "Gamma (declared, no posts)"
[org.accounts]
twitter = ["GammaCare"]
"""

# Ties the engines must break the same way: three org replies in the same second (which
# one is "first"?), and unanswered turns of the same age in two orgs' inboxes (which row
# comes first in the unanswered list?).
TIE_ROWS = [
    (300, "120", True, 1100, "@AcmeHelp two answers at once", None),
    (301, "AcmeHelp", False, 1110, "@120 answer a", 300),
    (302, "AcmeHelp", False, 1110, "@120 answer b", 300),
    (303, "AcmeHelp", False, 1110, "@120 answer c", 300),
    (304, "BetaCare", False, 1200, "We are here to help", None),
    *[(n, str(n), True, 1000, "@AcmeHelp @BetaCare anyone?", None) for n in range(310, 316)],
]


def assert_same(got: Any, want: Any, where: str = "$") -> None:
    """Deep equality with floats within 1e-9 (relative or absolute) and ints exactly equal."""
    if isinstance(want, dict):
        assert isinstance(got, dict), where
        assert list(got) == list(want), f"{where}: keys {list(got)} != {list(want)}"
        for key in want:
            assert_same(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{where}: {got!r} != {want!r}"
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same(g, w, f"{where}[{i}]")
    elif isinstance(want, float) and not isinstance(got, bool):
        assert isinstance(got, float), f"{where}: {got!r} is not a float like {want!r}"
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9), f"{where}: {got} != {want}"
    else:
        assert type(got) is type(want) and got == want, f"{where}: {got!r} != {want!r}"


def build_store(path: Path, csv_text: str, orgs_toml: str | None = None) -> socialaudit.Store:
    """A store holding one TWCS import (and optionally declared orgs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    csv_path = path.with_suffix(".csv")
    csv_path.write_text(csv_text, encoding="utf-8")
    store = socialaudit.open(path)
    socialaudit.import_file(csv_path, store=store)
    if orgs_toml is not None:
        toml_path = path.with_suffix(".toml")
        toml_path.write_text(orgs_toml, encoding="utf-8")
        socialaudit.load_orgs(toml_path, store=store)
    return store


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """The shared SparkSession: started once for the module, skipped without PySpark or Java."""
    if not HAVE_PYSPARK:
        pytest.skip("PySpark is not installed (make test installs the spark extra)")
    if not HAVE_JAVA:
        pytest.skip("Java is not installed: Spark needs Java 17 (java on PATH or JAVA_HOME)")
    from socialaudit.store.spark import spark_session

    yield spark_session("local[2]")


@pytest.fixture
def hand_built(tmp_path: Path) -> Iterator[socialaudit.Store]:
    store = build_store(tmp_path / "s.duckdb", twcs_csv(ROWS), ORGS_TOML)
    yield store
    store.close()


def audit_both(store: socialaudit.Store, **kwargs: Any) -> tuple[dict, dict]:
    """The audit on Spark and on DuckDB, each run end to end on its own engine."""
    from socialaudit.store.spark import SparkEngine

    engine = SparkEngine.from_store(store)
    try:
        on_spark = socialaudit.audit(engine, **kwargs)
    finally:
        engine.close()
    return on_spark, socialaudit.audit(store, **kwargs)


# --- parity ---------------------------------------------------------------------------------


@pytest.mark.spark
def test_audit_parity_hand_built(spark, hand_built) -> None:
    on_spark, on_duckdb = audit_both(hand_built)
    assert_same(on_spark, on_duckdb)
    # The store really covers the shapes above (so parity is not vacuous).
    acme = next(o for o in on_duckdb["orgs"] if o["org"] == "acme")["responsiveness"]["all"]
    assert (acme["turns"], acme["answered"], acme["negative_frt"]) == (12, 5, 1)
    gamma = next(o for o in on_duckdb["orgs"] if o["org"] == "gamma")["responsiveness"]["all"]
    assert gamma["turns"] == 0 and gamma["response_rate"] is None


@pytest.mark.spark
def test_options_turns_and_quality_parity(spark, hand_built) -> None:
    """SLA override, one org, the per-turn export and quality flags, from one Spark snapshot."""
    from socialaudit.store.spark import SparkEngine

    with SparkEngine.from_store(hand_built) as engine:
        tt = rs.build_turns(engine)
        for kwargs in ({"sla_minutes": 5}, {"org": "BetaCare"}, {"org": "gamma"}):
            assert_same(
                socialaudit.audit(engine, turns=tt, **kwargs),
                socialaudit.audit(hand_built, **kwargs),
            )
        pd.testing.assert_frame_equal(socialaudit.turns(engine), socialaudit.turns(hand_built))
        pd.testing.assert_frame_equal(
            socialaudit.turns(engine, org="acme", unanswered_older_than_s=86_400, limit=3),
            socialaudit.turns(hand_built, org="acme", unanswered_older_than_s=86_400, limit=3),
        )
        assert_same(socialaudit.quality(engine), socialaudit.quality(hand_built))


@pytest.mark.spark
def test_spark_computes_the_stored_turns(spark, hand_built) -> None:
    """Issue 18: DuckDB reads the turns its imports stored; Spark, with them marked behind,
    computes them from the posts with the same expressions, and gets the same rows."""
    from socialaudit.store.spark import SparkEngine

    key = ["org_id", "platform", "turn_id"]
    assert rs.turns_are_current(hand_built)
    stored = hand_built.execute(rs.build_turns(hand_built).turns)
    with hand_built.transaction() as con:
        con.execute("DELETE FROM turns_state")
    with SparkEngine.from_store(hand_built) as engine:
        assert not rs.turns_are_current(engine)
        computed = engine.execute(rs.build_turns(engine).turns)
    pd.testing.assert_frame_equal(
        computed.sort_values(key).reset_index(drop=True),
        stored.sort_values(key).reset_index(drop=True),
    )


@pytest.mark.spark
def test_ties_are_broken_the_same_way(spark, tmp_path) -> None:
    store = build_store(tmp_path / "tie.duckdb", twcs_csv(TIE_ROWS))
    from socialaudit.store.spark import SparkEngine

    try:
        with SparkEngine.from_store(store) as engine:
            on_spark = socialaudit.turns(engine, org="AcmeHelp")
            unanswered_spark = socialaudit.turns(engine, unanswered_older_than_s=0)
        on_duckdb = socialaudit.turns(store, org="AcmeHelp")
        unanswered_duckdb = socialaudit.turns(store, unanswered_older_than_s=0)
    finally:
        store.close()
    assert on_spark.first_response_id.tolist() == on_duckdb.first_response_id.tolist()
    assert len(unanswered_duckdb) == 12
    pd.testing.assert_frame_equal(unanswered_spark, unanswered_duckdb)


@pytest.mark.spark
@pytest.mark.skipif(
    not TWCS_SAMPLE.exists(), reason=f"{TWCS_SAMPLE} is not present (shared data missing)"
)
def test_audit_parity_twcs_sample(spark, tmp_path) -> None:
    store = socialaudit.open(tmp_path / "s.duckdb")
    try:
        socialaudit.import_file(TWCS_SAMPLE, store=store)
        on_spark, on_duckdb = audit_both(store)
    finally:
        store.close()
    assert len(on_duckdb["orgs"]) > 50
    assert_same(on_spark, on_duckdb)


@pytest.mark.spark
def test_audit_parity_synthetic_market(spark, tmp_path) -> None:
    try:
        from socialaudit.synthetic import generate_market
    except ImportError as exc:
        pytest.skip(f"socialaudit.synthetic.generate_market is not importable yet ({exc})")
    out = tmp_path / "market"
    generate_market(out, seed=7)
    store = socialaudit.open(tmp_path / "s.duckdb")
    try:
        socialaudit.import_file(out / "market.csv", store=store)
        socialaudit.load_orgs(out / "orgs.toml", store=store)
        on_spark, on_duckdb = audit_both(store)
    finally:
        store.close()
    assert_same(on_spark, on_duckdb)


# --- engine contract -------------------------------------------------------------------------


@pytest.mark.spark
def test_engine_results_have_duckdb_types(spark, hand_built) -> None:
    """Scalars and frames come back as DuckDB gives them, whatever the machine's time zone."""
    from socialaudit.store.spark import SparkEngine

    with SparkEngine.from_store(hand_built) as engine:
        assert engine.backend_name == "pyspark"
        for make in (
            lambda e: e.table("posts").count(),
            lambda e: e.table("posts").created_at.max(),
            lambda e: e.table("posts").created_at.min().epoch_seconds(),
            lambda e: e.table("posts").like_count.max(),  # all NULL integers
            lambda e: e.table("campaigns").start.max(),  # an empty table
            lambda e: e.table("posts").post_id.min(),
        ):
            got, want = engine.execute(make(engine)), hand_built.execute(make(hand_built))
            assert type(got) is type(want) and str(got) == str(want)
        frame = engine.execute(engine.table("posts").order_by("post_id"))
        expected = hand_built.execute(hand_built.table("posts").order_by("post_id"))
        pd.testing.assert_frame_equal(frame, expected)
        arrow = hand_built.to_pyarrow(hand_built.table("posts").order_by("post_id"))
        got = engine.to_pyarrow(engine.table("posts").order_by("post_id"))
        assert got.cast(arrow.schema).equals(arrow)  # only `not null` flags may differ
        with pytest.raises(socialaudit.StoreError, match="No table 'tweets'"):
            engine.table("tweets")
        snapshot = engine.snapshot
        assert snapshot.is_dir()
    assert not snapshot.exists()


@pytest.mark.spark
def test_second_engine_in_the_same_process(spark, hand_built) -> None:
    """Two engines at once keep their own tables; closing one does not break the next."""
    from socialaudit.store.spark import SparkEngine

    first = SparkEngine.from_store(hand_built)
    socialaudit.import_file(_extra_rows(hand_built), store=hand_built)
    second = SparkEngine.from_store(hand_built)
    try:
        n_first = first.execute(first.table("posts").count())
        n_second = second.execute(second.table("posts").count())
        assert (n_first, n_second) == (len(ROWS), len(ROWS) + 1)
        first.close()
        assert second.execute(second.table("posts").count()) == len(ROWS) + 1
    finally:
        first.close()
        second.close()
    with SparkEngine.from_store(hand_built) as third:
        assert third.execute(third.table("posts").count()) == len(ROWS) + 1


@pytest.mark.spark
def test_from_store_after_the_session_was_stopped(spark, hand_built) -> None:
    """Someone stopping Spark (us or the user) only costs a restart, not an error."""
    from socialaudit.store.spark import SparkEngine, stop_spark

    with SparkEngine.from_store(hand_built) as engine:
        engine.session.sparkContext.stop()
    with SparkEngine.from_store(hand_built) as engine:
        assert engine.execute(engine.table("posts").count()) == len(ROWS)
    stop_spark()
    with SparkEngine.from_store(hand_built) as engine:
        assert engine.execute(engine.table("posts").count()) == len(ROWS)


def _extra_rows(store: socialaudit.Store) -> Path:
    path = Path(store.path).with_name("extra.csv")
    path.write_text(twcs_csv([(500, "130", True, 5, "@AcmeHelp one more", None)]))
    return path


@pytest.mark.spark
def test_by_platform_parity_on_a_mixed_store(spark, tmp_path) -> None:
    """One org on four networks: the per-platform split is the same on both engines."""
    from tests.test_mixed_platforms import DATA, FILES, ORGS

    store = socialaudit.open(tmp_path / "mixed.duckdb")
    try:
        for name in FILES:
            socialaudit.import_file(DATA / name, store=store)
        (tmp_path / "orgs.toml").write_text(ORGS, encoding="utf-8")
        socialaudit.load_orgs(tmp_path / "orgs.toml", store=store)
        on_spark, on_duckdb = audit_both(store, by_platform=True)
    finally:
        store.close()
    assert_same(on_spark, on_duckdb)
    assert len(on_duckdb["orgs"][0]["platforms"]) == 5


# --- CLI ----------------------------------------------------------------------------------


@pytest.mark.spark
def test_cli_audit_engine_spark_matches_duckdb(spark, tmp_path, runner, app) -> None:
    db = tmp_path / "cli.duckdb"
    build_store(db, twcs_csv(ROWS), ORGS_TOML).close()
    results = {}
    for engine in ("spark", "duckdb"):
        res = runner.invoke(app, ["--db", str(db), "audit", "--engine", engine, "--json"])
        assert res.exit_code == 0, res.output
        results[engine] = json.loads(res.stdout)
    assert_same(results["spark"], results["duckdb"])
    assert [o["org"] for o in results["spark"]["orgs"]] == ["BetaCare", "acme", "gamma"]


def test_cli_engine_spark_without_the_extra(tmp_path, runner, app, monkeypatch) -> None:
    """Without PySpark, --engine spark says how to install it and exits 2 (bad usage)."""
    db = tmp_path / "cli.duckdb"
    build_store(db, twcs_csv(ROWS[:5])).close()
    monkeypatch.setitem(sys.modules, "pyspark", None)  # makes `import pyspark` fail
    args = ["--db", str(db), "audit", "--no-enrich", "--engine", "spark", "--json"]
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    assert res.stderr.strip() == (
        "Error: Spark needs the spark extra: pip install 'socialaudit[spark]'."
    )
    assert res.stdout == ""
