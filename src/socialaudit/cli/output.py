"""Rendering results: Rich tables for people, JSON and CSV for pipes.

Post text, handles and URLs come from strangers. In tables they are shown as plain
``rich.text.Text`` (never parsed as markup) with control characters made visible, so a
post cannot inject terminal escape sequences or Rich markup. Ids from the data reach titles,
hints and error messages too, so both consoles escape control characters in *everything*
they write (:class:`SafeConsole`), and long ids are cut with an ellipsis in tables so one
5,000-character id cannot squeeze the other columns away.
"""

from __future__ import annotations

import csv
import json
import math
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd
from rich.console import Console
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from socialaudit.cli.options import Format

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

#: Widest id, handle or figure shown in a table cell (free text wraps instead).
CELL_MAX = 48
#: Links stay whole enough to copy (a long one still cannot take the whole table).
LINK_MAX = 120


def escape_controls(text: str) -> str:
    """Control characters (ESC, NUL, bidi overrides ...) as visible hex escapes, like x1b."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class SafeConsole(Console):
    """A Rich console that never writes a control character it did not generate itself.

    Rich's own styling and cursor codes come as styles and control segments; only the text
    of segments (titles, cells, messages: possibly from the data) is escaped. Tabs and line
    breaks stay.
    """

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            seg if seg.control else Segment(escape_controls(seg.text), seg.style, seg.control)
            for seg in buffer
        )


# Pipes and test runners get a wide fixed width instead of Rich's 80-column fallback.
console = SafeConsole(highlight=False, width=None if sys.stdout.isatty() else 200)
err_console = SafeConsole(stderr=True, highlight=False)


def safe_text(value: Any, *, max_len: int | None = None) -> Text:
    """Untrusted value as inert terminal text (no markup, no escape sequences)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Text("")
    s = str(value).replace("\r\n", "\n").replace("\r", "\\r").replace("\n", " ⏎ ")
    s = escape_controls(s)
    if max_len and len(s) > max_len:
        s = s[: max_len - 1] + "…"
    return Text(s)


def jsonable(value: Any) -> Any:
    """Convert pandas/numpy values into plain JSON types."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        ts = pd.Timestamp(value)
        return (ts if ts.tzinfo else ts.tz_localize("UTC")).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "item"):
        return jsonable(value.item())
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as JSON-ready dicts."""
    return [{k: jsonable(v) for k, v in row.items()} for row in frame.to_dict("records")]


def emit_json(data: Any) -> None:
    """Print JSON to stdout (UTF-8, not ASCII-escaped, so text stays readable)."""
    sys.stdout.write(json.dumps(jsonable(data), ensure_ascii=False, indent=2) + "\n")


def emit_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    """Print rows as CSV to stdout."""
    writer = csv.DictWriter(
        sys.stdout, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({k: jsonable(row.get(k)) for k in columns})


def emit_table(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    *,
    title: str | None = None,
    formatters: dict[str, Any] | None = None,
    untrusted: Sequence[str] = (),
) -> None:
    """Print a Rich table; ``columns`` are (key, header) pairs."""
    # A plain Text title: titles carry org names from the data, never parsed as markup.
    table = Table(
        title=safe_text(title) if title else None, title_justify="left", header_style="bold"
    )
    for key, header in columns:
        free_text = key.endswith("text")
        table.add_column(
            header,
            justify="left" if key in untrusted else "right",
            # Numbers, names and links stay on one line; only free text wraps.
            no_wrap=not free_text,
            overflow="fold",
            ratio=1 if free_text else None,
            min_width=20 if free_text else None,
        )
    fmt = formatters or {}
    for row in rows:
        cells = []
        for key, _ in columns:
            value = row.get(key)
            if key in fmt:
                cells.append(Text(fmt[key](value)))
            elif key.endswith("text"):
                cells.append(safe_text(value, max_len=200))
            elif key in untrusted:
                limit = LINK_MAX if "permalink" in key or "url" in key else CELL_MAX
                cells.append(safe_text(value, max_len=limit))
            else:
                cells.append(safe_text(_plain(value), max_len=CELL_MAX))
        table.add_row(*cells)
    console.print(table)


def emit(
    fmt: Format,
    rows: list[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    *,
    title: str | None = None,
    formatters: dict[str, Any] | None = None,
    untrusted: Sequence[str] = (),
    json_data: Any = None,
) -> None:
    """Print rows in the chosen format."""
    if fmt is Format.json:
        emit_json(rows if json_data is None else json_data)
    elif fmt is Format.csv:
        emit_csv(rows, [k for k, _ in columns] if rows is None else _all_keys(rows, columns))
    else:
        emit_table(rows, columns, title=title, formatters=formatters, untrusted=untrusted)


def _all_keys(rows: list[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> list[str]:
    return list(rows[0].keys()) if rows else [k for k, _ in columns]


def _plain(value: Any) -> str:
    value = jsonable(value)
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, str) and len(value) == 25 and value[10] == "T" and value[19:] == "+00:00":
        return value[:16].replace("T", " ")  # ISO UTC -> "2017-10-31 22:21"
    return str(value)


def duration(seconds: Any) -> str:
    """Seconds as a short human duration (``3 h 05 m``)."""
    seconds = jsonable(seconds)
    if seconds is None:
        return "–"
    s = float(seconds)
    sign = "-" if s < 0 else ""
    s = abs(s)
    if s < 60:
        return f"{sign}{s:.0f} s"
    if s < 3600:
        return f"{sign}{s / 60:.0f} min"
    if s < 86400:
        return f"{sign}{int(s // 3600)} h {int(s % 3600 // 60):02d} m"
    return f"{sign}{s / 86400:.1f} d"


def percent(value: Any) -> str:
    """A rate as a percentage."""
    value = jsonable(value)
    return "–" if value is None else f"{100 * float(value):.1f}%"


def peer_group_text(group: Any, source: Any) -> str:
    """A peer group with where it came from: ``tech (sector list)``, ``none``."""
    if source is None or source == "none" or group is None:
        return "none"
    return f"{group} ({source})"
