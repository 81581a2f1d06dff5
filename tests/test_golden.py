"""The audit, benchmark and report documents hold the golden figures, field by field.

The golden files were captured from the code before the results refactor (``tests/golden.py``
says how to rewrite them). The only differences allowed are the timestamp format (naive or
with ``+00:00``: both are compared as UTC instants) and the last bits of floats (DuckDB's
parallel sums).
"""

from __future__ import annotations

import gzip
import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.golden import GOLDEN, MARKETS, TWCS_SAMPLE, documents

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")


def _instant(text: str) -> datetime:
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def differences(want: Any, got: Any, path: str = "$") -> list[str]:
    """Every place where ``got`` differs from ``want`` (empty when they hold the same figures)."""
    if isinstance(want, dict) and isinstance(got, dict):
        out = [f"{path}.{k}: missing" for k in want if k not in got]
        out += [f"{path}.{k}: unexpected" for k in got if k not in want]
        for k in want.keys() & got.keys():
            out += differences(want[k], got[k], f"{path}.{k}")
        return out
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return [f"{path}: {len(want)} items, got {len(got)}"]
        return [d for i, (w, g) in enumerate(zip(want, got, strict=True))
                for d in differences(w, g, f"{path}[{i}]")]  # fmt: skip
    if isinstance(want, str) and isinstance(got, str) and _ISO.match(want) and _ISO.match(got):
        return [] if _instant(want) == _instant(got) else [f"{path}: {want!r} != {got!r}"]
    numbers = (int, float)
    if (
        isinstance(want, numbers)
        and isinstance(got, numbers)
        and not isinstance(want, bool)
        and not isinstance(got, bool)
    ):
        if math.isclose(float(want), float(got), rel_tol=1e-9, abs_tol=1e-9):
            return []
        return [f"{path}: {want!r} != {got!r}"]
    return [] if want == got and type(want) is type(got) else [f"{path}: {want!r} != {got!r}"]


def test_differences_sees_a_changed_figure_and_ignores_the_timestamp_format() -> None:
    base = {"t": "2017-10-01T12:00:00", "x": [1, 0.5, None], "s": "a"}
    assert differences(base, {**base, "t": "2017-10-01T12:00:00+00:00"}) == []
    assert differences(base, {**base, "x": [1, 0.5000001, None]}) == ["$.x[1]: 0.5 != 0.5000001"]
    assert differences(base, {**base, "t": "2017-10-01T13:00:00+01:00"}) == []
    assert differences(base, {"t": base["t"], "x": base["x"]}) == ["$.s: missing"]
    assert differences({"n": 1}, {"n": True}) == ["$.n: 1 != True"]


@pytest.mark.parametrize("market", MARKETS)
def test_documents_hold_the_golden_figures(market: str, tmp_path: Path) -> None:
    if market == "twcs_sample" and not TWCS_SAMPLE.exists():
        pytest.skip(f"{TWCS_SAMPLE} is not present (shared data missing)")
    want = json.loads(gzip.decompress((GOLDEN / f"{market}.json.gz").read_bytes()))
    got = json.loads(json.dumps(documents(market, tmp_path)))
    diffs = differences(want, got)
    assert not diffs, f"{len(diffs)} differences, first: " + "; ".join(diffs[:10])
