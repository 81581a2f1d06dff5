"""First-response time in the customer's eyes: counted in the org's business hours only.

An org's calendar (time zone, weekly shifts including split shifts, holidays) becomes a small
table of open intervals in UTC covering the data window; :func:`open_intervals` builds it in
Python (calendars are a few rows per org and day, never per post). The metric itself stays an
Ibis expression: a range join of turns with the intervals they overlap, summing the overlaps
(:func:`business_frt`), so it runs on DuckDB and Spark alike.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import ibis
import pandas as pd

from socialaudit.metrics import responsiveness as rs
from socialaudit.metrics.base import Engine, MetricFamily, epoch_s, register
from socialaudit.store.calendar import WEEKDAYS, country_holidays, minutes_to_time, parse_hours

INTERVAL_COLUMNS = ["org_id", "open_start", "open_end"]


def _utc_naive(local: datetime) -> datetime:
    return local.astimezone(UTC).replace(tzinfo=None)


def org_intervals(
    org_id: str,
    *,
    timezone: str,
    hours: dict[str, list[tuple[int, int]]],
    closed: set[date],
    start: date,
    end: date,
) -> list[tuple[str, datetime, datetime]]:
    """Open intervals (UTC, naive) of one org for every local day from ``start`` to ``end``.

    Local wall-clock shifts are converted day by day, so a DST change moves them in UTC as it
    should (a 09:00 opening is 13:00 UTC in summer and 14:00 in winter in New York).
    """
    tz = ZoneInfo(timezone)
    out: list[tuple[str, datetime, datetime]] = []
    day = start
    while day <= end:
        if day not in closed:
            for begin_m, end_m in hours.get(WEEKDAYS[day.weekday()], []):
                lo = datetime.combine(day, minutes_to_time(begin_m), tzinfo=tz)
                if end_m == 24 * 60:
                    hi = datetime.combine(day + timedelta(days=1), minutes_to_time(0), tzinfo=tz)
                else:
                    hi = datetime.combine(day, minutes_to_time(end_m), tzinfo=tz)
                out.append((org_id, _utc_naive(lo), _utc_naive(hi)))
        day += timedelta(days=1)
    return out


def open_intervals(
    orgs: pd.DataFrame,
    holidays: pd.DataFrame,
    /,
    *,
    start: datetime,
    end: datetime,
) -> pd.DataFrame:
    """The open intervals of every org that declares hours, over ``start``..``end`` (UTC).

    ``orgs`` has ``org_id, timezone, hours, holidays`` (hours as stored: JSON); ``holidays``
    has ``org_id, day`` (explicit dates from an iCal file). A day is closed when it is a public
    holiday of the org's country or an explicit holiday, in the org's local calendar.
    """
    rows: list[tuple[str, datetime, datetime]] = []
    # One local day of margin each side: a UTC window edge can fall on either local date.
    first, last = (start - timedelta(days=1)).date(), (end + timedelta(days=1)).date()
    years = list(range(first.year, last.year + 1))
    explicit: dict[str, set[date]] = {}
    for row in holidays.itertuples(index=False):
        explicit.setdefault(row.org_id, set()).add(pd.Timestamp(row.day).date())
    for org in orgs.itertuples(index=False):
        if not isinstance(org.hours, str) or not isinstance(org.timezone, str):
            continue
        hours = parse_hours(json.loads(org.hours), where=f"org {org.org_id}")
        closed = set(explicit.get(org.org_id, set()))
        if isinstance(org.holidays, str) and org.holidays:
            closed |= set(country_holidays(org.holidays, years=years, where=f"org {org.org_id}"))
        rows += org_intervals(
            org.org_id, timezone=org.timezone, hours=hours, closed=closed, start=first, end=last
        )
    frame = pd.DataFrame(rows, columns=INTERVAL_COLUMNS)
    return frame.astype({"open_start": "datetime64[us]", "open_end": "datetime64[us]"})


def intervals_table(frame: pd.DataFrame) -> ibis.Table:
    """The interval frame as a table expression any backend can join."""
    return ibis.memtable(
        frame,
        schema=ibis.schema(
            {"org_id": "string", "open_start": "timestamp(6)", "open_end": "timestamp(6)"}
        ),
    )


def business_seconds(
    spans: ibis.Table, intervals: ibis.Table, /, *, start: str, end: str
) -> ibis.Table:
    """Business seconds inside each span ``[start, end)`` of ``spans`` (keyed by org_id, etc.).

    A range join with the open intervals each span overlaps, summing the overlaps; spans that
    overlap none get 0 (a question sent and answered overnight waited no business time).
    """
    keys = [c for c in spans.columns if c not in (start, end)]
    s = spans.mutate(_lo=epoch_s(spans[start]), _hi=epoch_s(spans[end]))
    iv = intervals.select(
        iv_org=intervals.org_id,
        iv_lo=epoch_s(intervals.open_start),
        iv_hi=epoch_s(intervals.open_end),
    )
    j = s.join(iv, [s.org_id == iv.iv_org, iv.iv_lo < s._hi, iv.iv_hi > s._lo])
    overlap = ibis.least(j.iv_hi, j._hi) - ibis.greatest(j.iv_lo, j._lo)
    summed = j.group_by(keys).agg(business_s=overlap.sum().cast("int64"))
    summed = summed.rename({f"_k_{k}": k for k in keys})
    # Fresh names on both sides: `summed` derives from `spans`, and Ibis would otherwise
    # resolve the spans' key columns to the (null, when unmatched) right-hand ones.
    left = spans.rename({f"_l_{c}": c for c in spans.columns})
    joined = left.left_join(summed, [left[f"_l_{k}"] == summed[f"_k_{k}"] for k in keys])
    return joined.select(
        **{c: joined[f"_l_{c}"] for c in spans.columns},
        business_s=joined.business_s.fill_null(0),
    )


def business_frt(turns: ibis.Table, intervals: ibis.Table, /) -> ibis.Table:
    """Answered, timed turns of orgs with a calendar, with their FRT in business seconds."""
    with_calendar = intervals.select("org_id").distinct()
    timed = turns.filter(turns.answered & (turns.frt_s >= 0)).semi_join(with_calendar, "org_id")
    spans = timed.select("org_id", "platform", "turn_id", "opener_created_at", "first_response_at")
    return business_seconds(spans, intervals, start="opener_created_at", end="first_response_at")


BUSINESS_HOURS = MetricFamily(
    name="business_hours",
    title="Business-hours responsiveness",
    description=(
        "First-response time and SLA attainment counted only while the organization is open "
        "(its time zone, weekly shifts and holidays), shown next to the 24/7 figures."
    ),
    requires=("posts", "org_accounts", "orgs", "org_holidays"),
    params={"sla_minutes": "SLA in business minutes for orgs without their own (default 60)"},
)


@register(BUSINESS_HOURS)
def business_responsiveness(
    turns: ibis.Table,
    orgs: ibis.Table,
    intervals: ibis.Table,
    /,
    *,
    sla_minutes: int | None = None,
) -> ibis.Table:
    """Per org with a calendar: business-hours FRT median/p90 and SLA attainment.

    SLA attainment follows SPEC section 5 with business seconds in place of wall-clock ones:
    answered within the SLA / (turns - negative-FRT turns), unanswered turns counting as misses.
    """
    if sla_minutes is not None:
        o = orgs.select("org_id", sla_s=ibis.literal(int(sla_minutes) * 60, type="int64"))
    else:
        o = orgs.select(
            "org_id",
            sla_s=(orgs.sla_minutes.fill_null(rs.DEFAULT_SLA_MINUTES) * 60).cast("int64"),
        )
    with_calendar = intervals.select("org_id").distinct()
    o = o.semi_join(with_calendar, "org_id")
    bfrt = business_frt(turns, intervals).join(o, "org_id")
    timed = bfrt.group_by("org_id").agg(
        bh_timed=bfrt.count(),
        bh_within_sla=(bfrt.business_s <= bfrt.sla_s).cast("int64").sum(),
        bh_frt_median_s=bfrt.business_s.cast("float64").quantile(0.5),
        bh_frt_p90_s=bfrt.business_s.cast("float64").quantile(0.9),
    )
    t = turns.semi_join(with_calendar, "org_id")
    denom = t.group_by("org_id").agg(
        bh_denominator=(~(t.answered & (t.frt_s < 0))).cast("int64").sum()
    )
    j = o.left_join(timed, "org_id").left_join(denom, "org_id")
    return j.select(
        org_id=j.org_id,
        bh_frt_median_s=j.bh_frt_median_s,
        bh_frt_p90_s=j.bh_frt_p90_s,
        bh_within_sla=j.bh_within_sla.fill_null(0),
        bh_sla_attainment=j.bh_within_sla.fill_null(0).cast("float64")
        / j.bh_denominator.nullif(0).cast("float64"),
    ).order_by("org_id")


def calendar_intervals(engine: Engine, turns: ibis.Table) -> ibis.Table:
    """Build the interval table for the window the turns span (opener to last response)."""
    orgs = engine.execute(engine.table("orgs").select("org_id", "timezone", "hours", "holidays"))
    holidays = engine.execute(engine.table("org_holidays").select("org_id", "day"))
    if not orgs["hours"].notna().any():
        return intervals_table(pd.DataFrame(columns=INTERVAL_COLUMNS))
    span = engine.execute(
        turns.aggregate(
            lo=turns.opener_created_at.min(),
            hi=ibis.greatest(
                turns.opener_created_at.max(),
                turns.first_response_at.max().fill_null(turns.opener_created_at.max()),
            ),
        )
    ).iloc[0]
    if pd.isna(span["lo"]):
        return intervals_table(pd.DataFrame(columns=INTERVAL_COLUMNS))
    frame = open_intervals(
        orgs,
        holidays,
        start=pd.Timestamp(span["lo"]).to_pydatetime(),
        end=pd.Timestamp(span["hi"]).to_pydatetime(),
    )
    return intervals_table(frame)
