"""Durations as people write them (``7d``, ``24h``), shared by the CLI and the API."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

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


#: UTC offsets in use range from -12:00 to +14:00; anything beyond is a typo or an attack.
MAX_UTC_OFFSET = timedelta(hours=14)


def parse_instant(text: str, name: str = "--reference-time") -> datetime:
    """Read an ISO 8601 time as naive UTC (a time without an offset is taken as UTC).

    The offset must lie within +-14:00, as for the posts an import accepts.
    """
    try:
        value = datetime.fromisoformat((text or "").strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"{name}: cannot read {text!r} as a time. Write it as ISO 8601, e.g. "
            "2017-12-01T00:00:00Z (a time without an offset is taken as UTC)."
        ) from None
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise ConfigError(f"{name}: UTC offset {offset} in {text!r} is beyond +-14:00.")
    if offset is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value
