"""How figures and untrusted text are written into HTML: shared by the report and the dashboard.

Missing figures print as an en dash, never 0. Links are followed only when they are http(s);
JSON meant for a ``<script type="application/json">`` element cannot close it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from socialaudit.results.jsonable import to_jsonable

_SAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


def anchor(value: Any) -> str:
    """A value as an HTML id fragment: anything beyond [A-Za-z0-9_-] becomes _hex."""
    return _SAFE_ID.sub(lambda m: f"_{ord(m.group()):x}", str(value))


def safe_url(value: Any) -> str:
    """Only http(s) links are followed; anything else (javascript:, data:) becomes '#'."""
    s = str(value or "")
    return s if re.match(r"^https?://", s, re.I) else "#"


def json_script(value: Any) -> Markup:
    """JSON that cannot end its ``<script>`` element or open a comment."""
    text = json.dumps(to_jsonable(value), ensure_ascii=False, allow_nan=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, esc)
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)  # noqa: S704 - escaped above for the script-data context


def stamp(value: Any) -> str:
    """A timestamp to the minute, UTC (``2017-10-01T12:00``); "–" when there is none."""
    if missing(value):
        return "–"
    return str(to_jsonable(value))[:16]


def missing(v: Any) -> bool:
    """None, NA, NaT and NaN: a figure the data could not support."""
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def duration(seconds: Any) -> str:
    """Seconds in the unit people read them in: minutes, hours or days."""
    if missing(seconds):
        return "–"
    s = float(seconds)
    if s < 3600:
        return f"{s / 60:.0f} min"
    if s < 86_400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86_400:.1f} d"


def pct(v: Any) -> str:
    """A share as a percentage with one decimal."""
    return "–" if missing(v) else f"{100 * float(v):.1f}%"


def ci(v: Any, lo: Any, hi: Any) -> str:
    """A rate with its 95% interval in whole percent, when there is one."""
    if missing(v):
        return "–"
    if missing(lo):
        return pct(v)
    return f"{pct(v)} ({100 * float(lo):.0f}–{100 * float(hi):.0f})"


def num(v: Any, digits: int = 1) -> str:
    """A number with thousands separators."""
    if missing(v):
        return "–"
    return f"{float(v):,.{digits}f}"


def count(v: Any) -> str:
    """A count with thousands separators."""
    return "–" if missing(v) else f"{int(v):,}"


def label(text: Any) -> str:
    """Chart labels: Plotly reads a few HTML tags in strings, so angle brackets are swapped."""
    return str(text).replace("<", "‹").replace(">", "›")


#: Bar colours of tiers 0-4, "insufficient data" and "insufficient coverage", the same in the
#: report and the dashboard.
TIER_COLORS = ["#6b7280", "#a16207", "#b42318", "#2563eb", "#067647", "#9ca3af", "#d1d5db"]


def environment(package: str) -> Environment:
    """Jinja2 over ``package``'s ``templates`` folder, autoescaping every template.

    It carries the filters untrusted values need (``anchor``, ``safe_url``, ``json_script``);
    callers add their own formatting filters.
    """
    env = Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(anchor=anchor, safe_url=safe_url, json_script=json_script, stamp=stamp)
    return env
