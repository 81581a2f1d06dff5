"""Durations as people write them (``7d``, ``24h``), shared by the CLI and the API."""

from __future__ import annotations

import re

from socialaudit.errors import ConfigError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_duration(text: str) -> int:
    """Read ``90s``, ``30m``, ``24h``, ``7d``, ``2w`` as seconds.

    A bare number other than 0 is refused: ``--older-than 3`` could mean 3 seconds or 3
    days, and guessing silently gives a wrong list without any sign of it.
    """
    m = _DURATION.match(text or "")
    if not m:
        raise ConfigError(
            f"Cannot read duration {text!r}. Use a number with s, m, h, d or w, e.g. 7d or 24h."
        )
    number, unit = float(m.group(1)), m.group(2)
    if not unit and number != 0:
        raise ConfigError(
            f"Duration {text.strip()!r} has no unit. Add one of s (seconds), m (minutes), "
            f"h (hours), d (days) or w (weeks), e.g. {m.group(1)}d."
        )
    return int(number * _UNITS[unit or "s"])


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
