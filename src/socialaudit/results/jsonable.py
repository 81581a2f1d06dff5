"""The one conversion of results to JSON-ready Python, for every JSON output.

Timestamps become UTC ISO-8601 with an offset (``2017-10-01T12:00:00+00:00``; naive values
are UTC by the store's convention); NaN, NA, NaT and infinities become None; NumPy scalars
become Python numbers; dataclasses become objects of their fields (a ``__json__`` method
may add derived keys); DataFrames become lists of row objects.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd


def iso_utc(value: datetime | pd.Timestamp) -> str:
    """A timestamp as UTC ISO-8601 with its offset (naive means UTC)."""
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert(UTC)
    return stamp.isoformat()


def fields_of(obj: Any) -> dict[str, Any]:
    """A dataclass's fields as JSON, leaving out those marked ``omit_none``/``omit_empty``."""
    out: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if f.metadata.get("omit_none") and value is None:
            continue
        converted = to_jsonable(value)
        if f.metadata.get("omit_empty") and not converted:
            continue
        out[f.name] = converted
    return out


def to_jsonable(value: Any) -> Any:
    """``value`` as plain JSON-ready Python (see the module docstring)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if is_dataclass(value) and not isinstance(value, type):
        hook = getattr(value, "__json__", None)
        return hook() if hook is not None else fields_of(value)
    if isinstance(value, datetime | pd.Timestamp):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(r) for r in value.to_dict("records")]
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "tolist"):  # NumPy/Arrow arrays and scalars
        return to_jsonable(value.tolist())
    if hasattr(value, "item"):
        return to_jsonable(value.item())
    return value
