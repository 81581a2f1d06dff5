"""Business-hours FRT across a weekend, a split shift, a holiday and a DST change."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

import socialaudit
from socialaudit.metrics import business_hours as bh
from socialaudit.metrics import responsiveness as rs
from socialaudit.store.calendar import parse_hours
from tests.conftest import T0

HOURS = {d: ["09:00-12:00", "13:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
ORGS_TOML = """
[[org]]
id = "AcmeHelp"
timezone = "America/New_York"
holidays = "US"
sla_minutes = 60
[org.hours]
mon = ["09:00-12:00", "13:00-17:00"]
tue = ["09:00-12:00", "13:00-17:00"]
wed = ["09:00-12:00", "13:00-17:00"]
thu = ["09:00-12:00", "13:00-17:00"]
fri = ["09:00-12:00", "13:00-17:00"]
[org.accounts]
twitter = ["AcmeHelp"]

[[org]]
id = "BoltHelp"
timezone = "America/New_York"
holidays_ical = "bolt.ics"
hours = {tue = ["09:00-12:00", "13:00-17:00"], wed = "09:00-17:00"}
[org.accounts]
twitter = ["BoltHelp"]
"""
ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:1@test
DTSTART;VALUE=DATE:20171114
DTEND;VALUE=DATE:20171115
SUMMARY:Team day
END:VEVENT
END:VCALENDAR
"""


def minutes(ts: datetime) -> float:
    """Offset from the fixture's T0 in minutes, for a UTC time."""
    return (ts.replace(tzinfo=UTC) - T0).total_seconds() / 60


# (turn id, org, opened UTC, answered UTC, business seconds expected)
CASES = [
    # Fri 16:30 EST -> Mon 09:30 EST: 30 min Friday + 30 min Monday; the weekend is closed.
    ("100", "AcmeHelp", datetime(2017, 11, 17, 21, 30), datetime(2017, 11, 20, 14, 30), 3600),
    # Tue 11:30 -> 13:30 EST: the 12:00-13:00 lunch break between the two shifts is closed.
    ("200", "AcmeHelp", datetime(2017, 11, 14, 16, 30), datetime(2017, 11, 14, 18, 30), 3600),
    # Wed 16:00 -> Fri 10:00 EST: Thursday is Thanksgiving (US public holiday).
    ("300", "AcmeHelp", datetime(2017, 11, 22, 21, 0), datetime(2017, 11, 24, 15, 0), 7200),
    # Fri 16:00 EDT -> Mon 10:00 EST across the end of DST (Sun Nov 5): Monday opens at
    # 14:00 UTC, not 13:00, so the answer at 15:00 UTC is one business hour in, not two.
    ("400", "AcmeHelp", datetime(2017, 11, 3, 20, 0), datetime(2017, 11, 6, 15, 0), 7200),
    # Tue 23:00 -> Wed 08:30 EST: asked and answered while closed.
    ("500", "AcmeHelp", datetime(2017, 11, 15, 4, 0), datetime(2017, 11, 15, 13, 30), 0),
    # Bolt's iCal closes Tue Nov 14; Wednesday is one 09:00-17:00 shift: 30 min.
    ("600", "BoltHelp", datetime(2017, 11, 14, 16, 30), datetime(2017, 11, 15, 14, 30), 1800),
]


@pytest.fixture
def calendar_store(tmp_path, write_twcs):
    rows = []
    for n, (tid, org, opened, answered, _) in enumerate(CASES):
        rows.append((tid, f"c{n}", True, minutes(opened), f"@{org} help please", None))
        rows.append((str(int(tid) + 1), org, False, minutes(answered), "on it", tid))
    # A late post fixes the reference time after every case.
    rows.append(("999", "c99", True, minutes(datetime(2017, 11, 30)), "@AcmeHelp hi", None))
    path = write_twcs(rows)
    (tmp_path / "orgs.toml").write_text(ORGS_TOML)
    (tmp_path / "bolt.ics").write_text(ICS)
    store = socialaudit.open(tmp_path / "bh.duckdb")
    socialaudit.import_file(path, store=store)
    socialaudit.load_orgs(tmp_path / "orgs.toml", store=store)
    yield store
    store.close()


def test_business_frt_per_turn(calendar_store) -> None:
    store = calendar_store
    turns = rs.build_turns(store).turns
    intervals = bh.calendar_intervals(store, turns)
    got = store.execute(bh.business_frt(turns, intervals))
    by_turn = dict(zip(got["turn_id"], got["business_s"], strict=True))
    assert by_turn == {tid: want for tid, _, _, _, want in CASES}


def test_business_responsiveness_next_to_24_7(calendar_store) -> None:
    store = calendar_store
    turns = rs.build_turns(store).turns
    intervals = bh.calendar_intervals(store, turns)
    out = store.execute(bh.business_responsiveness(turns, store.table("orgs"), intervals))
    acme = out.set_index("org_id").loc["AcmeHelp"]
    # Acme's business FRTs: 3600, 3600, 7200, 7200, 0 -> median 3600; p90 7200.
    assert acme["bh_frt_median_s"] == 3600.0 and acme["bh_frt_p90_s"] == 7200.0
    # Within a 60-minute SLA: 3600, 3600, 0 of 6 turns (the unanswered one is a miss).
    assert acme["bh_within_sla"] == 3
    assert acme["bh_sla_attainment"] == pytest.approx(3 / 6)
    # 24/7, the same turns all miss the hour but the overnight one (9.5 h) does too.
    wall = store.execute(rs.responsiveness(turns, store.table("orgs")))
    assert wall.set_index("org_id").loc["AcmeHelp", "sla_attainment"] == 0.0


def test_dst_moves_opening_hours_in_utc() -> None:
    hours = parse_hours(HOURS, where="test")
    rows = bh.org_intervals(
        "o",
        timezone="America/New_York",
        hours=hours,
        closed=set(),
        start=date(2017, 11, 3),
        end=date(2017, 11, 6),
    )
    utc = [(a.isoformat(), b.isoformat()) for _, a, b in rows]
    assert utc == [
        ("2017-11-03T13:00:00", "2017-11-03T16:00:00"),
        ("2017-11-03T17:00:00", "2017-11-03T21:00:00"),
        ("2017-11-06T14:00:00", "2017-11-06T17:00:00"),
        ("2017-11-06T18:00:00", "2017-11-06T22:00:00"),
    ]


def test_open_intervals_skip_country_holidays() -> None:
    orgs = pd.DataFrame(
        {
            "org_id": ["o"],
            "timezone": ["America/New_York"],
            "hours": ['{"thu": ["09:00-17:00"]}'],
            "holidays": ["US"],
        }
    )
    no_explicit = pd.DataFrame(columns=["org_id", "day"])
    frame = bh.open_intervals(
        orgs, no_explicit, start=datetime(2017, 11, 15), end=datetime(2017, 12, 1)
    )
    days = sorted({ts.date() for ts in frame["open_start"]})
    assert days == [date(2017, 11, 16), date(2017, 11, 30)]  # Thanksgiving (23rd) closed


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ('hours = {mon = ["09:00-12:00"]}', "hours need a timezone"),
        ('timezone = "UTC"\nhours = {mon = ["9-17"]}', "cannot read hours"),
        ('timezone = "UTC"\nhours = {mon = ["17:00-09:00"]}', "must run forward"),
        ('timezone = "UTC"\nhours = {mon = ["09:00-13:00", "12:00-17:00"]}', "overlap"),
        ('timezone = "UTC"\nhours = {mo = ["09:00-17:00"]}', "unknown weekday"),
        ('holidays = "XX"', "no public-holiday calendar"),
        ('holidays_ical = "missing.ics"', "No iCal file"),
    ],
)
def test_calendar_config_errors(tmp_path, snippet, message) -> None:
    f = tmp_path / "orgs.toml"
    f.write_text(f'[[org]]\nid = "A"\n{snippet}\n')
    store = socialaudit.open(tmp_path / "x.duckdb")
    with pytest.raises(socialaudit.ConfigError, match=message):
        socialaudit.load_orgs(f, store=store)
    assert store.count("orgs") == 0
    store.close()


def _plain_business_seconds(opened, answered, *, tz, hours, closed) -> float:
    """Independent reading: walk local days, clip each shift to the span, add up."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    a, b = opened.tz_localize("UTC"), answered.tz_localize("UTC")
    total = 0.0
    day = a.astimezone(zone).date() - timedelta(days=1)
    while day <= b.astimezone(zone).date():
        if day not in closed:
            for shift in hours.get(
                ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()], []
            ):
                lo_s, hi_s = shift.split("-")
                lo = pd.Timestamp(f"{day} {lo_s}").tz_localize(zone)
                hi = pd.Timestamp(f"{day} {hi_s}").tz_localize(zone)
                total += max(0.0, (min(hi, b) - max(lo, a)).total_seconds())
        day += timedelta(days=1)
    return total


def test_business_hours_equal_plain_python_on_market(tmp_path) -> None:
    import json

    import holidays

    from socialaudit.synthetic import generate_market

    generate_market(tmp_path, seed=3)
    store = socialaudit.open(tmp_path / "m.duckdb")
    try:
        socialaudit.import_file(tmp_path / "market.csv", store=store)
        socialaudit.load_orgs(tmp_path / "orgs.toml", store=store)
        turns = rs.build_turns(store).turns
        got = store.execute(bh.business_frt(turns, bh.calendar_intervals(store, turns)))
        orgs = store.execute(store.table("orgs")).set_index("org_id")
    finally:
        store.close()
    calendared = sorted(orgs.index[orgs["hours"].notna()])
    assert calendared == ["AcmeHelp", "VireoSupport"] and len(got) > 300
    for row in got.itertuples():
        org = orgs.loc[row.org_id]
        closed = set(holidays.country_holidays(org["holidays"], years=[2017, 2018]))
        want = _plain_business_seconds(
            row.opener_created_at,
            row.first_response_at,
            tz=org["timezone"],
            hours=json.loads(org["hours"]),
            closed=closed,
        )
        assert row.business_s == want, (row.org_id, row.turn_id)
