"""Persisted turns (issue 18): imports in any order and split give the turns of one import.

The turn tables are updated by every import for the conversations its posts touch; these
tests check that the result never depends on how the data arrived, against one import of
everything and against the turns computed from the posts alone.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import socialaudit
from socialaudit.metrics import responsiveness as rs
from socialaudit.store.orgs import declare_org
from tests.conftest import TWCS_SAMPLE, twcs_csv

KEY = ["org_id", "platform", "turn_id"]
AUTHORS = ("c1", "c2", "c3", "AcmeHelp", "BetaCare")


def turns_frame(store: socialaudit.Store) -> pd.DataFrame:
    """Every (org, turn) row, in one order."""
    df = store.execute(rs.build_turns(store).turns)
    return df.sort_values(KEY).reset_index(drop=True)


def rebuilt(store: socialaudit.Store) -> pd.DataFrame:
    """The turns computed from the posts alone (the persisted tables marked behind)."""
    with store.transaction() as con:
        state = con.execute("SELECT * FROM turns_state").fetchall()
        con.execute("DELETE FROM turns_state")
    assert not rs.turns_are_current(store)
    try:
        return turns_frame(store)
    finally:
        with store.transaction() as con:
            con.executemany("INSERT INTO turns_state VALUES (?, ?)", state)


@st.composite
def conversations(draw: st.DrawFn) -> list[tuple[object, ...]]:
    """TWCS rows: customers and two brands replying to earlier posts (never a cycle)."""
    n = draw(st.integers(2, 16))
    rows: list[tuple[object, ...]] = []
    for i in range(1, n + 1):
        author = draw(st.sampled_from(AUTHORS))
        parent = draw(st.one_of(st.none(), st.integers(1, i - 1))) if i > 1 else None
        mention = draw(st.sampled_from(["", "@AcmeHelp ", "@betacare "]))
        rows.append((i, author, author.startswith("c"), i * 7, f"{mention}post {i}", parent))
    return rows


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=conversations(),
    seed=st.integers(0, 10_000),
    parts=st.integers(2, 3),
    declare=st.booleans(),
)
def test_any_order_and_split_gives_the_turns_of_one_import(
    tmp_path_factory: pytest.TempPathFactory,
    rows: list[tuple[object, ...]],
    seed: int,
    parts: int,
    declare: bool,
) -> None:
    tmp = tmp_path_factory.mktemp("incr")
    rng = random.Random(seed)
    shuffled = rows[:]
    rng.shuffle(shuffled)
    cuts = sorted(rng.sample(range(1, len(rows)), min(parts - 1, len(rows) - 1)))
    chunks = [shuffled[a:b] for a, b in zip([0, *cuts], [*cuts, len(rows)], strict=True)]
    with socialaudit.open(":memory:") as one, socialaudit.open(":memory:") as split:
        whole = tmp / "all.csv"
        whole.write_text(twcs_csv(rows))
        socialaudit.import_file(whole, store=one)
        declared = None
        for k, chunk in enumerate(chunks):
            path = tmp / f"part{k}.csv"
            path.write_text(twcs_csv(chunk))
            socialaudit.import_file(path, store=split)
            if declare and declared is None:
                # An org declared between imports: the rows built before must follow it.
                declared = split.frame("SELECT min(handle) AS h FROM accounts")["h"][0]
                with split.transaction() as con:
                    declare_org(con, declared)
        if declared is not None:
            with one.transaction() as con:
                declare_org(con, declared)
        assert rs.turns_are_current(split)
        got = turns_frame(split)
        pd.testing.assert_frame_equal(got, turns_frame(one))
        pd.testing.assert_frame_equal(got, rebuilt(split))


def test_org_declared_after_import_is_in_its_turns(write_twcs, store) -> None:
    socialaudit.import_file(
        write_twcs(
            [
                (1, "c1", True, 0, "@zed hello", None),
                (2, "zed", True, 5, "hi", 1),
                (3, "c2", True, 6, "anyone?", None),
                (4, "c3", True, 9, "me", 3),
            ]
        ),
        store=store,
    )
    assert turns_frame(store).empty
    with store.transaction() as con:
        declare_org(con, "zed")
    assert rs.turns_are_current(store)
    assert store.count("org_turns") == 1
    t = turns_frame(store)
    assert t[["org_id", "turn_id", "answered"]].values.tolist() == [["zed", "1", True]]
    # A write that bypasses the update (raw SQL): the reader computes that org itself.
    with store.transaction() as con:
        con.execute("INSERT INTO org_accounts VALUES ('zed', 'twitter', 'c3', 'c3')")
    t = turns_frame(store)
    assert t[["org_id", "turn_id", "answered"]].values.tolist() == [
        ["zed", "1", True],
        ["zed", "3", True],
    ]
    assert store.count("org_turns") == 1
    pd.testing.assert_frame_equal(t, rebuilt(store))


def test_sla_and_reference_time_need_no_rebuild(write_twcs, store) -> None:
    socialaudit.import_file(
        write_twcs(
            [
                (1, "c1", True, 0, "@AcmeHelp help", None),
                (2, "AcmeHelp", False, 90, "on it", 1),
                (3, "c2", True, 10, "@AcmeHelp hello?", None),
            ]
        ),
        store=store,
    )
    state = store.frame("SELECT * FROM turns_state")
    t = rs.build_turns(store)
    orgs = store.table("orgs")
    strict = store.execute(rs.responsiveness(t.turns, orgs, sla_minutes=60))
    loose = store.execute(rs.responsiveness(t.turns, orgs, sla_minutes=120))
    assert strict.sla_attainment[0] == 0.0 and loose.sla_attainment[0] == 0.5
    store.reference_time = pd.Timestamp("2017-10-03 12:00:00").to_pydatetime()
    aged = store.execute(rs.build_turns(store).turns).set_index("turn_id")
    assert aged.loc["3", "age_s"] == 2 * 86_400 - 600
    pd.testing.assert_frame_equal(store.frame("SELECT * FROM turns_state"), state)


def test_late_parent_reroots_a_self_thread(write_twcs, store) -> None:
    # 3 and 4 are c1's follow-ups of 2, which arrives last; AcmeHelp answered 4 first.
    socialaudit.import_file(
        write_twcs(
            [
                (3, "c1", True, 10, "more", 2),
                (4, "c1", True, 20, "still?", 3),
                (5, "AcmeHelp", False, 30, "yes", 4),
            ],
            name="a.csv",
        ),
        store=store,
    )
    assert turns_frame(store)["turn_id"].tolist() == ["3"]
    socialaudit.import_file(
        write_twcs([(2, "c1", True, 0, "@AcmeHelp broken", None)], name="b.csv"), store=store
    )
    t = turns_frame(store)
    assert t[["turn_id", "followups", "first_response_id"]].values.tolist() == [["2", 2, "5"]]
    pd.testing.assert_frame_equal(t, rebuilt(store))


def _records(data: bytes) -> list[bytes]:
    """CSV records of a TWCS file split on newlines outside quotes (bare CRs stay inside)."""
    out: list[bytes] = []
    cur: list[bytes] = []
    quotes = 0
    for line in data.split(b"\n"):
        cur.append(line)
        quotes += line.count(b'"')
        if quotes % 2 == 0:
            out.append(b"\n".join(cur))
            cur, quotes = [], 0
    return [r for r in out if r]


def _audit_json(store: socialaudit.Store) -> str:
    """The audit as JSON, without coverage windows: those describe each import's file."""
    report = socialaudit.audit(store, window_days=None)
    for org in report["orgs"]:
        org.pop("coverage", None)
    return json.dumps(report, sort_keys=True, default=str)


@pytest.mark.skipif(not TWCS_SAMPLE.exists(), reason=f"{TWCS_SAMPLE} is not present")
def test_twcs_sample_in_ten_imports_in_random_order(tmp_path: Path) -> None:
    header, *body = _records(TWCS_SAMPLE.read_bytes())
    random.Random(18).shuffle(body)
    with socialaudit.open(tmp_path / "one.duckdb") as one:
        socialaudit.import_file(TWCS_SAMPLE, store=one)
        expected = _audit_json(one)
    with socialaudit.open(tmp_path / "ten.duckdb") as ten:
        for k in range(10):
            part = tmp_path / f"part{k}.csv"
            part.write_bytes(b"\n".join([header, *body[k::10]]) + b"\n")
            socialaudit.import_file(part, store=ten)
        assert ten.count("posts") == len(body) and rs.turns_are_current(ten)
        assert _audit_json(ten) == expected
        pd.testing.assert_frame_equal(turns_frame(ten), rebuilt(ten))
