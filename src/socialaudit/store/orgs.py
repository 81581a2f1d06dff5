"""Organizations: derived from a source's direction flag, or declared in ``orgs.toml``.

```toml
[[org]]
id = "acme"                 # required; also the name shown unless `name` is given
name = "Acme Corp"
peer_group = "telecom"
sla_minutes = 30
timezone = "America/New_York"
claimed_activity = "very active"
holidays = "US"             # a country's public holidays (or "US-CA"), and/or
holidays_ical = "acme.ics"  # all-day events of an iCal file (relative to this file)
[org.hours]                 # business hours in `timezone`; split shifts are several ranges
mon = ["09:00-12:00", "13:00-17:00"]
sat = ["10:00-14:00"]
[org.accounts]
twitter = ["AcmeHelp", "Acme"]
```
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import ibis
import pandas as pd

from socialaudit.errors import ConfigError
from socialaudit.store.calendar import check_country, parse_hours, read_ical_holidays
from socialaudit.store.store import Store

_ORG_KEYS = {
    "id",
    "name",
    "peer_group",
    "sla_minutes",
    "timezone",
    "claimed_activity",
    "accounts",
    "hours",
    "holidays",
    "holidays_ical",
}


@dataclass(frozen=True)
class OrgSpec:
    """One declared organization."""

    org_id: str
    name: str
    peer_group: str | None = None
    sla_minutes: int | None = None
    timezone: str | None = None
    claimed_activity: str | None = None
    accounts: dict[str, list[str]] = field(default_factory=dict)
    hours: dict[str, list[str]] | None = None
    holidays: str | None = None
    holiday_dates: tuple[tuple[date, str], ...] = ()


def parse_orgs(path: str | os.PathLike[str]) -> list[OrgSpec]:
    """Read and validate an orgs.toml; every error names the org and the field."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"No orgs file at {p}. Check the path.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p} is not valid TOML ({exc}). Fix the line it names.") from None
    entries = data.get("org")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{p} declares no organizations. Add [[org]] tables with an id.")
    specs: list[OrgSpec] = []
    seen: set[str] = set()
    for n, entry in enumerate(entries, start=1):
        where = f"{p}, org #{n}"
        unknown = set(entry) - _ORG_KEYS
        if unknown:
            raise ConfigError(
                f"{where}: unknown key {sorted(unknown)[0]!r}. "
                f"Known: {', '.join(sorted(_ORG_KEYS))}."
            )
        org_id = entry.get("id")
        if not isinstance(org_id, str) or not org_id.strip():
            raise ConfigError(f'{where}: needs an id = "...".')
        if org_id in seen:
            raise ConfigError(f"{where}: id {org_id!r} is declared twice.")
        seen.add(org_id)
        sla = entry.get("sla_minutes")
        if sla is not None and (not isinstance(sla, int) or isinstance(sla, bool) or sla <= 0):
            raise ConfigError(f"{where} ({org_id}): sla_minutes must be a positive integer.")
        tz = entry.get("timezone")
        if tz is not None:
            try:
                ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(
                    f"{where} ({org_id}): unknown timezone {tz!r}. Use an IANA name like "
                    "'Europe/Paris'."
                ) from None
        accounts = entry.get("accounts", {})
        if not isinstance(accounts, dict) or not all(
            isinstance(v, list) and all(isinstance(h, str) for h in v) for v in accounts.values()
        ):
            raise ConfigError(
                f"{where} ({org_id}): accounts must map a platform to a list of handles, "
                'e.g. twitter = ["AcmeHelp"].'
            )
        hours = entry.get("hours")
        if hours is not None:
            parse_hours(hours, where=f"{where} ({org_id})")
            if tz is None:
                raise ConfigError(
                    f'{where} ({org_id}): hours need a timezone = "..." to be read in.'
                )
        country = entry.get("holidays")
        if country is not None:
            check_country(country, where=f"{where} ({org_id})")
        ical = entry.get("holidays_ical")
        holiday_dates: tuple[tuple[date, str], ...] = ()
        if ical is not None:
            if not isinstance(ical, str):
                raise ConfigError(f"{where} ({org_id}): holidays_ical must be a file path.")
            holiday_dates = tuple(read_ical_holidays(p.parent / ical))
        specs.append(
            OrgSpec(
                org_id=org_id,
                name=str(entry.get("name") or org_id),
                peer_group=entry.get("peer_group"),
                sla_minutes=sla,
                timezone=tz,
                claimed_activity=entry.get("claimed_activity"),
                accounts={k: [h.lstrip("@") for h in v] for k, v in accounts.items()},
                hours=hours,
                holidays=country,
                holiday_dates=holiday_dates,
            )
        )
    return specs


def load_orgs(path: str | os.PathLike[str], /, *, store: Store) -> int:
    """Declare the organizations of an orgs.toml, replacing earlier declarations atomically.

    A handle is resolved to the account id the store knows for it (case-insensitively); a
    handle not seen yet is kept as its own id. Derived organizations whose accounts are now
    declared are dropped, so no account counts for two organizations.
    """
    specs = parse_orgs(path)
    org_rows = pd.DataFrame(
        [
            {
                "org_id": s.org_id,
                "name": s.name,
                "peer_group": s.peer_group,
                "sla_minutes": s.sla_minutes,
                "timezone": s.timezone,
                "claimed_activity": s.claimed_activity,
                "origin": "declared",
                "hours": None if s.hours is None else json.dumps(s.hours, sort_keys=True),
                "holidays": s.holidays,
            }
            for s in specs
        ],
        columns=[
            "org_id",
            "name",
            "peer_group",
            "sla_minutes",
            "timezone",
            "claimed_activity",
            "origin",
            "hours",
            "holidays",
        ],
    ).astype({"sla_minutes": "Int64"})
    holiday_rows = pd.DataFrame(
        [
            {"org_id": s.org_id, "day": day, "name": name}
            for s in specs
            for day, name in dict(s.holiday_dates).items()
        ],
        columns=["org_id", "day", "name"],
    )
    acct_rows = pd.DataFrame(
        [
            {"org_id": s.org_id, "platform": platform, "handle": handle}
            for s in specs
            for platform, handles in s.accounts.items()
            for handle in handles
        ],
        columns=["org_id", "platform", "handle"],
    )
    with store.transaction() as con:
        con.register("_sa_org_rows", org_rows)
        con.register("_sa_acct_rows", acct_rows)
        con.register("_sa_holiday_rows", holiday_rows)
        try:
            con.execute(
                """CREATE TEMP TABLE _sa_decl AS
                SELECT r.org_id, r.platform,
                       coalesce(any_value(a.account_id), r.handle) AS account_id,
                       coalesce(any_value(a.handle), r.handle) AS handle
                FROM _sa_acct_rows r LEFT JOIN accounts a
                  ON a.platform = r.platform AND lower(a.handle) = lower(r.handle)
                GROUP BY r.org_id, r.platform, r.handle"""
            )
            clash = con.execute(
                """SELECT platform, handle, count(DISTINCT org_id) FROM _sa_decl
                GROUP BY platform, account_id, handle HAVING count(DISTINCT org_id) > 1"""
            ).fetchall()
            if clash:
                platform, handle, _ = clash[0]
                raise ConfigError(
                    f"{path}: account {platform}:{handle} is declared for two organizations."
                )
            con.execute(
                """DELETE FROM org_accounts WHERE org_id IN
                (SELECT org_id FROM orgs WHERE origin = 'declared')
                OR (platform, account_id) IN (SELECT platform, account_id FROM _sa_decl)
                OR org_id IN (SELECT org_id FROM _sa_org_rows)"""
            )
            con.execute(
                """DELETE FROM orgs WHERE origin = 'declared' OR org_id IN
                (SELECT org_id FROM _sa_org_rows)
                OR (origin = 'derived' AND org_id NOT IN (SELECT org_id FROM org_accounts))"""
            )
            con.execute(
                "DELETE FROM org_holidays WHERE org_id NOT IN (SELECT org_id FROM orgs) "
                "OR org_id IN (SELECT org_id FROM _sa_org_rows)"
            )
            con.execute(
                "INSERT INTO orgs (org_id, name, peer_group, sla_minutes, timezone, "
                "claimed_activity, origin, hours, holidays) SELECT * FROM _sa_org_rows"
            )
            con.execute(
                "INSERT INTO org_holidays SELECT org_id, CAST(day AS DATE), name "
                "FROM _sa_holiday_rows"
            )
            con.execute(
                "INSERT INTO org_accounts SELECT org_id, platform, account_id, handle FROM _sa_decl"
            )
            _turns_follow(con)
        finally:
            con.execute("DROP TABLE IF EXISTS _sa_decl")
            con.unregister("_sa_org_rows")
            con.unregister("_sa_acct_rows")
            con.unregister("_sa_holiday_rows")
    return len(specs)


def orgs_table(store: Store) -> ibis.Table:
    """Organizations with their accounts and post counts, as an expression."""
    orgs = store.table("orgs")
    oa = store.table("org_accounts")
    posts = store.table("posts")
    counts = (
        posts.select("platform", account_id=posts.author_id)
        .join(oa, ["platform", "account_id"])
        .group_by("org_id")
        .agg(posts=ibis._.count())
    )
    accounts = oa.group_by("org_id").agg(
        accounts=(oa.platform + ibis.literal(":") + oa.handle).group_concat(", ")
    )
    j = orgs.left_join(accounts, "org_id").left_join(counts, "org_id")
    return j.select(
        "org_id",
        "name",
        "origin",
        "peer_group",
        "sla_minutes",
        "timezone",
        "claimed_activity",
        accounts=j.accounts,
        posts=j.posts.fill_null(0),
    ).order_by("org_id")


def list_orgs(store: Store) -> list[dict[str, Any]]:
    """Return every organization as a plain dict (for the CLI and API)."""
    frame = store.execute(orgs_table(store))
    return [
        {k: (None if pd.isna(v) else v) for k, v in row.items()} for row in frame.to_dict("records")
    ]


def declare_org(con: duckdb.DuckDBPyConnection, handle: str, /) -> str:
    """Declare the account ``handle`` (on every platform it is known on) an organization.

    Runs on a connection inside the caller's transaction (``import --org`` declares within
    the import's, so a handle missing from the data rolls the import back too). The handle
    matches case-insensitively, as a handle or an account id; the org id is the handle as
    the data spells it. A derived organization holding those accounts gives them up. Returns
    the org id; raises :class:`ConfigError`, with the nearest handles, when no account has it.
    """
    name = handle.strip().lstrip("@")
    if not name:
        raise ConfigError("An organization needs a handle, e.g. --org AcmeHelp.")
    found = con.execute(
        """SELECT platform, account_id, coalesce(handle, account_id) FROM accounts
        WHERE lower(handle) = lower($1) OR account_id = $1 ORDER BY platform, account_id""",
        [name],
    ).fetchall()
    if not found:
        known = [h for (h,) in con.execute("SELECT DISTINCT handle FROM accounts").fetchall() if h]
        raise ConfigError(
            f"No account {name!r} in the store{did_you_mean(name, known)}. Check the handle "
            "against the data (socialaudit orgs lists the organizations)."
        )
    org_id = str(found[0][2])
    existing = con.execute(
        "SELECT org_id FROM orgs WHERE lower(org_id) = lower(?)", [org_id]
    ).fetchall()
    if existing:
        org_id = str(existing[0][0])
    rows = pd.DataFrame(found, columns=["platform", "account_id", "handle"])
    con.register("_sa_declare_rows", rows)
    try:
        con.execute(
            """DELETE FROM org_accounts WHERE (platform, account_id) IN
            (SELECT platform, account_id FROM _sa_declare_rows)"""
        )
        con.execute(
            """DELETE FROM orgs WHERE origin = 'derived'
            AND org_id NOT IN (SELECT org_id FROM org_accounts) AND lower(org_id) <> lower(?)""",
            [org_id],
        )
        if not existing:
            con.execute(
                "INSERT INTO orgs (org_id, name, origin) VALUES (?, ?, 'declared')",
                [org_id, org_id],
            )
        con.execute(
            "INSERT INTO org_accounts SELECT ?, platform, account_id, handle FROM _sa_declare_rows",
            [org_id],
        )
        _turns_follow(con)
    finally:
        con.unregister("_sa_declare_rows")
    return org_id


def _turns_follow(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the persisted turns of the orgs whose accounts just changed (same transaction).

    Imported here: the turn tables use the metrics, which import this module.
    """
    from socialaudit.store.turns import catch_up

    catch_up(con)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'AcmeHelp'?)`` for the nearest of ``known``, or nothing.

    Compared case-insensitively, so a typo in the case alone always finds its match.
    """
    by_lower = {k.lower(): k for k in known}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean {' or '.join(repr(by_lower[c]) for c in close)}?)"


def match_org(name: str, known: Iterable[str]) -> str | None:
    """The one of ``known`` that ``name`` names, ignoring case (exact case wins); else None."""
    ids = list(known)
    if name in ids:
        return name
    hits = [k for k in ids if k.lower() == name.lower()]
    return hits[0] if len(hits) == 1 else None
