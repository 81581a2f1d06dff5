"""Campaigns: declared in ``campaigns.toml`` or one at a time, with costs from a CSV.

```toml
[[campaign]]
id = "acme-fiber"              # required; what `socialaudit campaign ID` takes
name = "Acme Fiber launch"     # shown; defaults to the id
org = "AcmeHelp"               # required: an organization in the store
start = 2017-11-01             # a date (00:00 UTC) or a UTC date-time
end = 2017-11-10               # a date means through that whole day; a date-time is exclusive
hashtags = ["AcmeFiber"]       # without '#'; matched case-insensitively
keywords = ["fiber deal"]      # matched inside the text, case-insensitively
accounts = ["AcmeFiber"]       # campaign accounts: mentions of them count
costs = "acme_fiber_costs.csv" # optional; relative to this file
```

The costs CSV has the header ``day,channel,spend,impressions,clicks,conversions`` (one row per
day and channel; empty counts are unknown, not zero).
"""

from __future__ import annotations

import csv
import os
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from socialaudit.errors import ConfigError
from socialaudit.store.store import Store

COST_COLUMNS = ("day", "channel", "spend", "impressions", "clicks", "conversions")
_KEYS = {"id", "name", "org", "start", "end", "hashtags", "keywords", "accounts", "costs"}


@dataclass(frozen=True)
class CampaignSpec:
    """One campaign; ``end`` is exclusive."""

    campaign_id: str
    org_id: str
    start: datetime
    end: datetime
    name: str = ""
    hashtags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    costs: Path | None = field(default=None, compare=False)


def parse_when(value: Any, *, end: bool, where: str) -> datetime:
    """A TOML/CLI date or date-time as naive UTC; a date ``end`` means the next midnight."""
    if isinstance(value, str):
        try:
            value = (
                datetime.fromisoformat(value)
                if "T" in value or " " in value
                else (date.fromisoformat(value))
            )
        except ValueError:
            raise ConfigError(
                f"{where}: cannot read {value!r} as a date. Write it like 2017-11-01 or "
                "2017-11-01T09:00."
            ) from None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value
    if isinstance(value, date):
        d = value + timedelta(days=1) if end else value
        return datetime.combine(d, time())
    raise ConfigError(f"{where}: expected a date like 2017-11-01, got {value!r}.")


def _strings(value: Any, key: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f'{where}: {key} must be a list of words, e.g. {key} = ["word"].')
    strip = "#" if key == "hashtags" else "@" if key == "accounts" else ""
    return tuple(v.strip().lstrip(strip) for v in value)


def make_spec(entry: dict[str, Any], *, where: str, base: Path | None = None) -> CampaignSpec:
    """Validate one campaign's fields (from TOML or the CLI); errors name the field."""
    unknown = set(entry) - _KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {sorted(unknown)[0]!r}. Known: {', '.join(sorted(_KEYS))}."
        )
    cid = entry.get("id")
    if not isinstance(cid, str) or not cid.strip():
        raise ConfigError(f'{where}: needs an id = "...".')
    org = entry.get("org")
    if not isinstance(org, str) or not org.strip():
        raise ConfigError(f'{where} ({cid}): needs org = "ORG_ID" (see `socialaudit orgs`).')
    for key in ("start", "end"):
        if entry.get(key) is None:
            raise ConfigError(f"{where} ({cid}): needs {key} = 2017-11-01 (a date).")
    start = parse_when(entry["start"], end=False, where=f"{where} ({cid}) start")
    end = parse_when(entry["end"], end=True, where=f"{where} ({cid}) end")
    if end <= start:
        raise ConfigError(f"{where} ({cid}): end {end} is not after start {start}.")
    spec = CampaignSpec(
        campaign_id=cid.strip(),
        org_id=org.strip(),
        start=start,
        end=end,
        name=str(entry.get("name") or cid).strip(),
        hashtags=_strings(entry.get("hashtags"), "hashtags", f"{where} ({cid})"),
        keywords=_strings(entry.get("keywords"), "keywords", f"{where} ({cid})"),
        accounts=_strings(entry.get("accounts"), "accounts", f"{where} ({cid})"),
        costs=None
        if entry.get("costs") is None
        else (base or Path.cwd()) / Path(str(entry["costs"])),
    )
    if not (spec.hashtags or spec.keywords or spec.accounts):
        raise ConfigError(
            f"{where} ({cid}): give at least one of hashtags, keywords or accounts, or "
            "nothing can match."
        )
    return spec


def parse_campaigns(path: str | os.PathLike[str]) -> list[CampaignSpec]:
    """Read and validate a campaigns.toml."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"No campaigns file at {p}. Check the path.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p} is not valid TOML ({exc}). Fix the line it names.") from None
    entries = data.get("campaign")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{p} declares no campaigns. Add [[campaign]] tables with an id.")
    specs = [
        make_spec(e, where=f"{p}, campaign #{n}", base=p.parent)
        for n, e in enumerate(entries, start=1)
    ]
    seen: set[str] = set()
    for s in specs:
        if s.campaign_id in seen:
            raise ConfigError(f"{p}: campaign id {s.campaign_id!r} is declared twice.")
        seen.add(s.campaign_id)
    return specs


def read_costs(path: str | os.PathLike[str], /) -> pd.DataFrame:
    """Read a costs CSV; every bad cell is reported with its line and column."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"No costs file at {p}. Check the path.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p} is not UTF-8 text. Save it as UTF-8 CSV.") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or [h.strip().lower() for h in rows[0]] != list(COST_COLUMNS):
        raise ConfigError(
            f"{p}: the header must be {','.join(COST_COLUMNS)} (got "
            f"{','.join(rows[0]) if rows else 'an empty file'})."
        )
    out: list[dict[str, Any]] = []
    seen: set[tuple[date, str]] = set()
    for line_no, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(COST_COLUMNS):
            raise ConfigError(
                f"{p}, line {line_no}: expected {len(COST_COLUMNS)} fields, got {len(row)}."
            )
        cells = dict(zip(COST_COLUMNS, (c.strip() for c in row), strict=True))
        try:
            day = date.fromisoformat(cells["day"])
        except ValueError:
            raise ConfigError(
                f"{p}, line {line_no}: day {cells['day']!r} is not a date like 2017-11-01."
            ) from None
        channel = cells["channel"] or "all"
        if (day, channel) in seen:
            raise ConfigError(f"{p}, line {line_no}: {day} / {channel} appears twice.")
        seen.add((day, channel))
        record: dict[str, Any] = {"day": day, "channel": channel}
        for key in COST_COLUMNS[2:]:
            record[key] = _number(cells[key], key=key, where=f"{p}, line {line_no}")
        out.append(record)
    if not out:
        raise ConfigError(f"{p} has a header but no cost rows.")
    frame = pd.DataFrame(out, columns=list(COST_COLUMNS))
    return frame.astype(
        {"spend": "float64", "impressions": "Int64", "clicks": "Int64", "conversions": "Int64"}
    )


def _number(text: str, *, key: str, where: str) -> float | int | None:
    if text == "":
        return None
    try:
        value: float | int = float(text) if key == "spend" else int(text)
    except ValueError:
        kind = "a number" if key == "spend" else "a whole number"
        raise ConfigError(f"{where}: {key} {text!r} is not {kind}.") from None
    if value < 0:
        raise ConfigError(f"{where}: {key} {text!r} is negative.")
    return value


def save_campaigns(specs: list[CampaignSpec], /, *, store: Store) -> int:
    """Insert or replace campaigns (and the costs files they name) in one transaction."""
    known = set(store.execute(store.table("orgs").select("org_id"))["org_id"])
    for s in specs:
        if s.org_id not in known:
            raise ConfigError(
                f"Campaign {s.campaign_id!r}: no organization {s.org_id!r} in the store. "
                "Run `socialaudit orgs` to list them."
            )
    costs = {s.campaign_id: read_costs(s.costs) for s in specs if s.costs is not None}
    rows = pd.DataFrame(
        [
            {
                "campaign_id": s.campaign_id,
                "org_id": s.org_id,
                "name": s.name or s.campaign_id,
                "start": s.start,
                "end": s.end,
                "hashtags": list(s.hashtags),
                "keywords": list(s.keywords),
                "accounts": list(s.accounts),
            }
            for s in specs
        ]
    )
    with store.transaction() as con:
        con.register("_sa_campaigns", rows)
        try:
            con.execute(
                "DELETE FROM campaigns WHERE campaign_id IN (SELECT campaign_id FROM _sa_campaigns)"
            )
            con.execute(
                'INSERT INTO campaigns SELECT campaign_id, org_id, name, start, "end", '
                "hashtags::VARCHAR[], keywords::VARCHAR[], accounts::VARCHAR[] FROM _sa_campaigns"
            )
        finally:
            con.unregister("_sa_campaigns")
        for cid, frame in costs.items():
            _replace_costs(con, cid, frame)
    return len(specs)


def load_campaigns(path: str | os.PathLike[str], /, *, store: Store) -> int:
    """Declare (or replace) every campaign of a campaigns.toml, with its costs files."""
    return save_campaigns(parse_campaigns(path), store=store)


def save_costs(campaign_id: str, path: str | os.PathLike[str], /, *, store: Store) -> int:
    """Replace a campaign's costs with a CSV's rows; return how many were stored."""
    require_campaign(store, campaign_id)
    frame = read_costs(path)
    with store.transaction() as con:
        _replace_costs(con, campaign_id, frame)
    return len(frame)


def _replace_costs(con: Any, campaign_id: str, frame: pd.DataFrame) -> None:
    con.execute("DELETE FROM campaign_costs WHERE campaign_id = ?", [campaign_id])
    con.register("_sa_costs", frame)
    try:
        con.execute(
            "INSERT INTO campaign_costs SELECT ?, day, channel, spend, impressions, clicks, "
            "conversions FROM _sa_costs",
            [campaign_id],
        )
    finally:
        con.unregister("_sa_costs")


def require_campaign(store: Any, campaign_id: str) -> dict[str, Any]:
    """Return a stored campaign as a dict, or raise ConfigError listing known ones."""
    c = store.table("campaigns")
    frame = store.execute(
        c.filter((c.campaign_id == campaign_id) | (c.name.lower() == campaign_id.lower()))
    )
    if len(frame) == 0:
        known = store.execute(c.select("campaign_id").order_by("campaign_id").limit(8))
        hint = ", ".join(known["campaign_id"]) if len(known) else "none yet"
        raise ConfigError(
            f"No campaign {campaign_id!r} in the store (known: {hint}). Add one with "
            "`socialaudit campaign add` or `socialaudit campaign load campaigns.toml`."
        )
    row = frame.iloc[0].to_dict()
    for key in ("hashtags", "keywords", "accounts"):
        row[key] = [] if row[key] is None else [str(v) for v in row[key]]
    return row
