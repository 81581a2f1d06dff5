"""Shared staging for CSV formats: parse with :mod:`csvfile`, then map columns to the canon."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path

import duckdb

from socialaudit.ingest import base, csvfile


class CsvImporter(base.Importer):
    """A CSV format: subclasses say how header columns map to canonical fields."""

    def __init__(self) -> None:
        self._info: csvfile.CsvFile | None = None

    @abstractmethod
    def fields(
        self, header: list[str], options: base.ImportOptions
    ) -> tuple[dict[str, str], list[tuple[str, str]]]:
        """Return canonical field SQL over ``c0..cN`` and format-specific checks."""

    def stage(
        self, con: duckdb.DuckDBPyConnection, path: Path, options: base.ImportOptions
    ) -> base.Staged:
        """Parse the file and build ``_sa_stage`` (see :meth:`Importer.stage`)."""
        info = csvfile.scan(path)
        fields, checks = self.fields(info.header, options)  # refuse a wrong header before parsing
        self._info = info
        read = csvfile.load(con, info)
        base.build_stage(con, fields, checks)
        return base.Staged(read=read, sha256=info.sha256)

    def positions(self, con: duckdb.DuckDBPyConnection) -> None:
        """Number records and lines (see :func:`csvfile.positions`)."""
        assert self._info is not None
        csvfile.positions(con, len(self._info.header))

    def raw_sql(self) -> str:
        """Rebuild the record as a JSON object of header name to field value."""
        assert self._info is not None
        pairs = ", ".join(
            f"{_sql_str(name or f'column{i}')}, c{i}" for i, name in enumerate(self._info.header)
        )
        return f"CAST(json_object({pairs}) AS VARCHAR)"


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def column_index(header: list[str]) -> dict[str, int]:
    """Map header names (stripped) to their first position."""
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        index.setdefault(name.strip(), i)
    return index
