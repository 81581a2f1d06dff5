"""Option sets shared by several commands, defined once."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from socialaudit.durations import parse_duration  # noqa: F401 - re-exported for commands
from socialaudit.errors import ConfigError


class Format(StrEnum):
    """How results are printed."""

    table = "table"
    json = "json"
    csv = "csv"


EngineOpt = Annotated[
    str, typer.Option("--engine", help="duckdb (embedded) or spark (needs socialaudit[spark]).")
]
SparkMasterOpt = Annotated[
    str, typer.Option("--spark-master", help="Spark master URL for --engine spark.")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
CsvFlag = Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")]
Limit = Annotated[int | None, typer.Option("--limit", min=1, help="Show at most this many rows.")]
SectorsOpt = Annotated[
    Path | None,
    typer.Option(
        "--sectors",
        help="A sectors TOML (sector = [org ids]) for orgs without a declared peer_group, or "
        "'none' for no sector list [default: $SOCIALAUDIT_SECTORS, else the shipped TWCS list].",
    ),
]


def pick_format(json_flag: bool, csv_flag: bool) -> Format:
    """Resolve --json/--csv into one output format."""
    if json_flag and csv_flag:
        raise ConfigError("Choose one of --json and --csv.")
    return Format.json if json_flag else Format.csv if csv_flag else Format.table


def parse_map(values: list[str]) -> dict[str, str]:
    """Read repeated ``--map field=COLUMN`` options."""
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError(f"Cannot read --map {item!r}. Write it as field=COLUMN.")
        out[key.strip()] = value.strip()
    return out
