"""Each org's peer group, and where it came from: declared, the shipped sector list, or none.

The peer group decides percentiles and share of voice, so every view (``orgs``, ``campaign``,
``benchmark``, the dashboard, the API) reads it from here, with its source, and they agree.
The sector list shipped for the TWCS brands fills in groups that orgs.toml does not give; it
can be replaced (``--sectors FILE``) or switched off (``--sectors none``, or
``SOCIALAUDIT_SECTORS=none`` for every command and the server).
"""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path

import ibis
import pandas as pd

from socialaudit.errors import ConfigError
from socialaudit.metrics.base import Engine

NO_GROUP = "unassigned"
#: A sectors file for every command, or ``none`` to switch the shipped list off.
SECTORS_ENV = "SOCIALAUDIT_SECTORS"
_OFF = {"none", "off", "no", "false", "0"}
#: ``peer_group_source`` values.
DECLARED, SECTOR_LIST, NO_SOURCE = "declared", "sector list", "none"


def load_sectors(path: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Org id (lower-cased) -> sector: from ``path``, else ``$SOCIALAUDIT_SECTORS``, else shipped.

    ``none`` (as the path or the variable) switches sector lists off: only declared groups.
    """
    if path is None:
        path = os.environ.get(SECTORS_ENV) or None
    if path is not None and str(path).strip().lower() in _OFF:
        return {}
    if path is None:
        text = resources.files("socialaudit.benchmark").joinpath("twcs_sectors.toml")
        text_s, where = text.read_text("utf-8"), "built-in twcs_sectors.toml"
    else:
        p = Path(path)
        try:
            text_s, where = p.read_text(encoding="utf-8"), str(p)
        except FileNotFoundError:
            raise ConfigError(
                f"No sectors file at {p}. Check the --sectors path (or {SECTORS_ENV}); "
                "'none' switches the sector list off."
            ) from None
    try:
        data = tomllib.loads(text_s)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML ({exc}). Fix the line it names.") from None
    out: dict[str, str] = {}
    for sector, orgs in data.items():
        if not isinstance(orgs, list) or not all(isinstance(o, str) for o in orgs):
            raise ConfigError(f'{where}: {sector} must list org ids, e.g. {sector} = ["Acme"].')
        for org in orgs:
            out[org.lower()] = sector
    return out


def peer_groups(orgs: ibis.Table, sectors: dict[str, str], /) -> ibis.Table:
    """``org_id, peer_group, peer_group_source``: declared, else the sector list, else none.

    An org without a group is in ``unassigned`` (source ``none``): percentiles need a group.
    """
    mapping = ibis.memtable(
        pd.DataFrame(
            {"org_l": list(sectors), "sector": list(sectors.values())}, columns=["org_l", "sector"]
        ),
        schema=ibis.schema({"org_l": "string", "sector": "string"}),
    )
    o = orgs.select("org_id", "peer_group", org_l=orgs.org_id.lower())
    j = o.left_join(mapping, "org_l")
    return j.select(
        "org_id",
        peer_group=ibis.coalesce(j.peer_group, j.sector, ibis.literal(NO_GROUP)),
        peer_group_source=ibis.cases(
            (j.peer_group.notnull(), DECLARED),
            (j.sector.notnull(), SECTOR_LIST),
            else_=NO_SOURCE,
        ),
    )


def org_peer_groups(
    engine: Engine, /, *, sectors: dict[str, str] | None = None
) -> dict[str, tuple[str, str]]:
    """Org id -> (peer group, source), for views that show one org at a time."""
    groups = peer_groups(engine.table("orgs"), load_sectors() if sectors is None else sectors)
    frame = engine.execute(groups)
    return {
        str(r["org_id"]): (str(r["peer_group"]), str(r["peer_group_source"]))
        for r in frame.to_dict("records")
    }
