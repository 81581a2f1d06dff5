"""The real TWCS sample: the audit equals an independent reading of the SPEC."""

from __future__ import annotations

import math

import pytest

import socialaudit
from tests.conftest import TWCS_SAMPLE
from tests.oracle import brute_force_audit, read_records

pytestmark = pytest.mark.skipif(
    not TWCS_SAMPLE.exists(), reason=f"{TWCS_SAMPLE} is not present (shared data missing)"
)


def test_audit_matches_independent_reading(store) -> None:
    socialaudit.import_file(TWCS_SAMPLE, store=store)
    brands = {rec[1] for rec in read_records(TWCS_SAMPLE) if rec[2] == "False"}
    expected = brute_force_audit(TWCS_SAMPLE, {b: 3600 for b in brands})
    report = socialaudit.audit(store, window_days=None)  # the oracle reads the whole file
    assert report["reference_time"] == expected["reference_time"]
    got = {o["org"]: o["responsiveness"]["all"] for o in report["orgs"]}
    assert set(got) == brands
    total_turns = 0
    for org, want in expected["orgs"].items():
        total_turns += want["turns"]
        for key, value in got[org].items():
            if value is None or want[key] is None:
                assert value == want[key], (org, key)
            else:
                assert math.isclose(value, want[key], abs_tol=1e-9), (org, key, value, want[key])
    assert total_turns > 1000
    q = socialaudit.quality(store)
    assert (q["orphans"], q["skew"]) == (expected["orphans"], expected["skew"])
    openers = socialaudit.turns(store, org="AmazonHelp").opener_id.tolist()
    assert sorted(openers, key=int) == expected["orgs"]["AmazonHelp"]["turn_opener_ids"]
