"""Durations as people write them (``7d``, ``24h``), shared by the CLI and the API."""

from __future__ import annotations

import re

from socialaudit.errors import ConfigError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_duration(text: str) -> int:
    """Read ``90s``, ``30m``, ``24h``, ``7d``, ``2w`` (or plain seconds) as seconds."""
    m = _DURATION.match(text or "")
    if not m:
        raise ConfigError(
            f"Cannot read duration {text!r}. Use a number with s, m, h, d or w, e.g. 7d or 24h."
        )
    return int(float(m.group(1)) * _UNITS[m.group(2) or "s"])


def parse_age(value: str | None, name: str) -> int | None:
    """An optional age filter (``older_than=7d``): None when absent or empty, else seconds.

    The error names the parameter, since a page or request may carry several.
    """
    if value is None or value == "":
        return None
    try:
        return parse_duration(value)
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def parse_window(text: str) -> int | None:
    """A window in whole days (``90d``, ``12w``), or None for ``all`` (all the data)."""
    if text.strip().lower() == "all":
        return None
    return max(1, parse_duration(text) // 86_400)
