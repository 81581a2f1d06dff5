"""Org calendars as declared in orgs.toml: weekly opening hours, holiday countries, iCal dates.

Only parsing and validation live here (the store keeps what orgs.toml says); turning a calendar
into open intervals over a data window is the metrics layer's job (``metrics.business_hours``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from socialaudit.errors import ConfigError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_range(text: str, *, where: str) -> tuple[int, int]:
    """Read ``"09:00-17:30"`` as minutes since midnight (start, end); ``24:00`` may end a day."""
    m = _RANGE.match(text) if isinstance(text, str) else None
    if not m:
        raise ConfigError(f'{where}: cannot read hours {text!r}. Write them as "09:00-17:30".')
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or start >= 24 * 60 or end > 24 * 60 or end <= start:
        raise ConfigError(
            f"{where}: hours {text!r} must run forward within one day (00:00-24:00); "
            'split a night shift into "22:00-24:00" and the next day\'s "00:00-06:00".'
        )
    return start, end


def parse_hours(hours: Any, *, where: str) -> dict[str, list[tuple[int, int]]]:
    """Validate a weekly schedule (weekday -> list of ranges); shifts of a day may not overlap."""
    if not isinstance(hours, Mapping):
        raise ConfigError(f'{where}: hours must be a table like mon = ["09:00-17:00"].')
    out: dict[str, list[tuple[int, int]]] = {}
    for day, ranges in hours.items():
        if day not in WEEKDAYS:
            raise ConfigError(
                f"{where}: unknown weekday {day!r} in hours. Use {', '.join(WEEKDAYS)}."
            )
        if isinstance(ranges, str):
            ranges = [ranges]
        if not isinstance(ranges, list):
            raise ConfigError(f'{where}: hours.{day} must be a list like ["09:00-17:00"].')
        parsed = sorted(parse_range(r, where=f"{where} hours.{day}") for r in ranges)
        for (_, end), (start, _) in zip(parsed, parsed[1:], strict=False):
            if start < end:
                raise ConfigError(f"{where}: shifts of hours.{day} overlap. Merge them.")
        out[day] = parsed
    return out


def check_country(code: Any, *, where: str) -> None:
    """Fail unless ``holidays`` knows the country (``"US"``) or subdivision (``"US-CA"``)."""
    if not isinstance(code, str) or not code.strip():
        raise ConfigError(f'{where}: holidays must be a country code like "US" or "US-CA".')
    country_holidays(code, years=[2020], where=where)


def country_holidays(code: str, *, years: list[int], where: str = "holidays") -> dict[date, str]:
    """Public holidays of a country (``"FR"``) or subdivision (``"US-CA"``) over some years."""
    import holidays

    country, _, subdiv = code.strip().partition("-")
    try:
        found = holidays.country_holidays(country.upper(), subdiv=subdiv or None, years=years)
    except NotImplementedError:
        raise ConfigError(
            f"{where}: no public-holiday calendar for {code!r}. Use an ISO country code such "
            'as "US", "GB" or "DE", optionally with a subdivision ("US-CA").'
        ) from None
    return dict(found.items())


def read_ical_holidays(path: Path) -> Iterator[tuple[date, str]]:
    """Every day covered by the all-day (or timed) events of an iCal file, with the summary.

    A timed event closes its whole local day: a partial-day closure is rare enough that
    calendars write it as an all-day event anyway.
    """
    from icalendar import Calendar

    try:
        cal = Calendar.from_ical(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"No iCal file at {path}. Check holidays_ical in orgs.toml.") from None
    except ValueError as exc:
        raise ConfigError(f"{path} is not a valid iCal file ({exc}).") from None
    for event in cal.walk("VEVENT"):
        start_prop = event.get("DTSTART")
        if start_prop is None:
            continue
        start = start_prop.dt
        end_prop = event.get("DTEND")
        end = end_prop.dt if end_prop is not None else None
        name = str(event.get("SUMMARY", "holiday"))
        first = start.date() if isinstance(start, datetime) else start
        if end is None:
            last = first
        elif isinstance(end, datetime):
            last = end.date()
        else:
            last = end - timedelta(days=1)  # DTEND of an all-day event is exclusive
        day = first
        while day <= max(first, last):
            yield day, name
            day += timedelta(days=1)


def minutes_to_time(minutes: int) -> time:
    """Minutes since midnight as a time (24:00 is not a time; callers add a day instead)."""
    return time(minutes // 60, minutes % 60)
