"""The synthetic market: deterministic, well-formed, and its truth.json is really the truth.

Three layers of checking:
1. the files are byte-identical per seed and look like a real TWCS export;
2. an independent brute-force reading of the CSV (plain Python, straight from SPEC section 5)
   reproduces the planted truth, so the truth does not merely restate the generator;
3. the real pipeline (import, orgs, audit) reproduces the truth exactly, over several seeds.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialaudit.synthetic import (
    PROFILES,
    QUARANTINE_REASONS,
    TIERS,
    MarketTruth,
    generate_market,
)
from tests.oracle import brute_force_audit
from tests.oracle import read_records as _read_records

FILES = ("market.csv", "truth.json", "orgs.toml")
MENTION = re.compile(r"(?<![A-Za-z0-9_])@([A-Za-z0-9_]+)")
TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"
METRICS = (
    "turns",
    "answered",
    "response_rate",
    "frt_median_s",
    "frt_p90_s",
    "sla_attainment",
    "negative_frt",
    "backlog_24h",
    "backlog_7d",
    "backlog_30d",
)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> MarketTruth:
    return generate_market(tmp_path_factory.mktemp("market"), seed=7)


# --- 1. determinism and format ------------------------------------------------------------


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    generate_market(tmp_path / "a", seed=11, scale=0.5)
    generate_market(tmp_path / "b", seed=11, scale=0.5)
    generate_market(tmp_path / "c", seed=12, scale=0.5)
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "market.csv").read_bytes() != (
        tmp_path / "c" / "market.csv"
    ).read_bytes()


def test_bad_scale_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale must be positive"):
        generate_market(tmp_path, scale=0)


def test_csv_looks_like_twcs(market: MarketTruth) -> None:
    raw = market.csv_path.read_bytes()
    text = raw.decode("utf-8")
    assert text.startswith(
        "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
    )
    assert "\r\n" not in text and text.endswith("\n")
    lines = text.split("\n")[1:-1]
    assert len(lines) == market.truth["rows_written"]
    assert 2000 <= market.truth["records"] <= 4000
    # Bare CRs sit unquoted inside a record, as in real TWCS copies.
    cr_lines = [line for line in lines if "\r" in line]
    assert len(cr_lines) == market.truth["planted"]["bare_cr_texts"] >= 2
    assert all('"' not in line for line in cr_lines)
    records = _read_records(market.csv_path)
    assert len(records) == market.truth["records"]
    good = [r for r in records if len(r) == 7 and r[0] and r[2] in ("True", "False")]
    stamps = [r[3] for r in good]
    assert all(
        re.fullmatch(r"\w{3} \w{3} \d\d \d\d:\d\d:\d\d \+0000 \d{4}", s) for s in stamps[:50]
    )
    parents = [r[6] for r in good if r[6]]
    assert any(p.endswith(".0") for p in parents) and any(not p.endswith(".0") for p in parents)
    assert any("," in r[5] for r in good)
    assert any("\n" in r[4] for r in good)
    assert any("<script>alert(1)</script>" in r[4] for r in good)
    assert any('" onerror=' in r[4] for r in good)
    assert any("@AcmeHelpDesk" in r[4] for r in good)
    assert any(r[4].startswith("@acmehelp ") for r in good)
    assert any(ord(c) > 0xFFFF for r in good for c in r[4])  # emoji
    brands = {r[1] for r in good if r[2] == "False"}
    customers = {r[1] for r in good if r[2] == "True"}
    assert all(c.isdigit() for c in customers)
    assert brands <= {p.handle for p in PROFILES}
    orgs = tomllib.loads(market.orgs_path.read_text(encoding="utf-8"))["org"]
    assert [o["id"] for o in orgs] == [p.handle for p in PROFILES]
    assert all(o["accounts"]["twitter"] == [o["id"]] for o in orgs)
    assert {o["sla_minutes"] for o in orgs} == {30, 60}


def test_truth_is_self_consistent(market: MarketTruth) -> None:
    t = market.truth
    assert t["inserted"] + t["duplicates"] + t["quarantined"] == t["records"]
    assert sum(t["quarantine_by_reason"].values()) == t["quarantined"]
    assert set(t["quarantine_by_reason"]) == set(QUARANTINE_REASONS)
    assert all(n >= 1 for n in t["quarantine_by_reason"].values())
    assert t["duplicates"] >= 3 and t["quality"]["skew"] >= 1 and t["quality"]["orphans"] >= 1
    assert t["rows_written"] > t["records"]  # quoted newlines inside texts
    assert market.reference_time == datetime(2017, 12, 1, 10, tzinfo=UTC)
    assert {o["tier_intent"] for o in t["orgs"].values()} == set(TIERS)
    assert MarketTruth.load(market.out_dir) == market
    planted = t["planted"]
    for key in (
        "self_thread_before_answer",
        "self_thread_after_answer",
        "replies_to_org_posts",
        "customer_to_customer_mentioning_org",
        "customer_to_customer_silent",
        "mention_traps_not_counted",
        "orphan_openers",
        "negative_frt",
        "deflections",
        "markup_texts",
        "multiline_texts",
    ):
        assert planted[key] >= 1, key
    for org in t["orgs"].values():
        n, a = org["turns"], org["answered"]
        assert len(org["turn_opener_ids"]) == n
        assert len(org["unanswered_opener_ids"]) == n - a
        assert set(org["unanswered_opener_ids"]) <= set(org["turn_opener_ids"])
        assert org["backlog_24h"] >= org["backlog_7d"] >= org["backlog_30d"]
        assert org["backlog_24h"] <= n - a
        if n:
            assert org["response_rate"] == pytest.approx(a / n)


@pytest.mark.parametrize("seed", [7, 8, 9, 10])
def test_every_tier_behaves_as_intended(tmp_path: Path, seed: int) -> None:
    market = generate_market(tmp_path, seed=seed)
    for org in market.orgs.values():
        tier = org["tier_intent"]
        if tier == "leader":
            assert org["response_rate"] >= 0.8 and org["frt_median_s"] < 3600
            assert org["backlog_7d"] == 0 and org["turns"] >= 50
        elif tier == "engaged":
            assert 0.5 <= org["response_rate"] < 0.8
            assert 3600 <= org["frt_median_s"] <= 24 * 3600
        elif tier == "rudimentary":
            assert org["response_rate"] < 0.5 and org["backlog_30d"] > 0
            assert org["frt_median_s"] > 24 * 3600
        elif tier == "dormant":
            assert org["answered"] == 0 and org["turns"] > 0
        else:
            assert org["turns"] == 0
            assert org["response_rate"] is None and org["frt_median_s"] is None
            assert org["sla_attainment"] is None


# --- 2. independent brute-force check of the truth -----------------------------------------


def _close(actual: Any, expected: Any) -> bool:
    if expected is None or actual is None:
        return actual is None and expected is None
    if isinstance(expected, float) or isinstance(actual, float):
        return math.isclose(float(actual), float(expected), rel_tol=0, abs_tol=1e-9)
    return bool(actual == expected)


@pytest.mark.parametrize(("seed", "scale"), [(7, 1.0), (1, 0.3), (2024, 0.1), (99, 1.7)])
def test_truth_matches_brute_force_reading(tmp_path: Path, seed: int, scale: float) -> None:
    market = generate_market(tmp_path, seed=seed, scale=scale)
    got = brute_force_audit(
        market.csv_path,
        {
            o["accounts"]["twitter"][0]: o["sla_minutes"] * 60
            for o in tomllib.loads(market.orgs_path.read_text(encoding="utf-8"))["org"]
        },
    )
    t = market.truth
    assert got["reference_time"] == t["reference_time"]
    assert got["inserted"] == t["inserted"] and got["duplicates"] == t["duplicates"]
    assert got["quarantine_by_reason"] == t["quarantine_by_reason"]
    assert (got["skew"], got["orphans"]) == (t["quality"]["skew"], t["quality"]["orphans"])
    # The design keeps every turn in at most one org's inbox.
    assert all(len(owners) <= 1 for owners in got["turn_owners"].values())
    for handle, expected in t["orgs"].items():
        for key, value in got["orgs"][handle].items():
            assert _close(value, expected[key]), (handle, key, value, expected[key])


# --- 3. the real pipeline reproduces the truth ----------------------------------------------

_API_NAMES = ("open", "import_file", "load_orgs", "audit", "quality", "turns")


def _api() -> Any:
    try:
        import socialaudit
    except ImportError:
        return None
    return socialaudit if all(hasattr(socialaudit, n) for n in _API_NAMES) else None


def _utc(value: Any) -> datetime:
    d = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return d if d.tzinfo else d.replace(tzinfo=UTC)


@pytest.mark.skipif(
    _api() is None,
    reason="socialaudit.open/import_file/load_orgs/audit/quality/turns are not available yet",
)
@settings(max_examples=int(os.environ.get("SA_MARKET_EXAMPLES", "5")), deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**31 - 1), scale=st.sampled_from([0.2, 0.5, 1.0]))
def test_audit_equals_planted_truth(seed: int, scale: float) -> None:
    sa = _api()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "market"
        market = generate_market(out, seed=seed, scale=scale)
        t = market.truth
        store = sa.open(Path(tmp) / "s.duckdb")
        result = sa.import_file(market.csv_path, store=store)
        assert (result.read, result.inserted, result.duplicates, result.quarantined) == (
            t["records"],
            t["inserted"],
            t["duplicates"],
            t["quarantined"],
        )
        sa.load_orgs(market.orgs_path, store=store)
        report = sa.audit(store)
        assert _utc(report["reference_time"]) == market.reference_time
        by_org = {o["org"]: o for o in report["orgs"]}
        assert set(t["orgs"]) <= set(by_org)
        for handle, expected in t["orgs"].items():
            got = by_org[handle]["responsiveness"]["all"]
            diffs = {
                k: (got.get(k), expected[k]) for k in METRICS if not _close(got.get(k), expected[k])
            }
            assert not diffs, f"{handle} (seed={seed}, scale={scale}): (audit, truth) {diffs}"
            turns = sa.turns(store, org=handle)
            openers = sorted((str(x) for x in turns["opener_id"]), key=int)
            assert openers == expected["turn_opener_ids"], handle
            open_ids = sorted(
                (
                    str(x)
                    for x, a in zip(turns["opener_id"], turns["answered"], strict=True)
                    if not a
                ),
                key=int,
            )
            assert open_ids == expected["unanswered_opener_ids"], handle
            assert int(turns["followups"].sum()) == expected["followups"], handle
        quality = sa.quality(store)
        assert (quality["skew"], quality["orphans"], quality["duplicates"]) == (
            t["quality"]["skew"],
            t["quality"]["orphans"],
            t["duplicates"],
        )
        reasons = {k: v for k, v in dict(quality["quarantine_by_reason"]).items() if v}
        assert reasons == {k: v for k, v in t["quarantine_by_reason"].items() if v}
        store_close = getattr(store, "close", None)
        if callable(store_close):
            store_close()


def test_truth_json_is_plain_json(market: MarketTruth) -> None:
    assert json.loads(market.truth_path.read_text(encoding="utf-8")) == dict(market.truth)
