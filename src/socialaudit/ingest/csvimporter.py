"""Shared staging for CSV formats: parse with :mod:`csvfile`, then map columns to the canon."""

from __future__ import annotations

import tempfile
from abc import abstractmethod
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb

from socialaudit.ingest import base, csvfile


class CsvImporter(base.Importer):
    """A CSV format: subclasses say how header columns map to canonical fields."""

    def __init__(self) -> None:
        self._info: csvfile.CsvFile | None = None
        self._parsed: Path | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @abstractmethod
    def fields(
        self, header: list[str], options: base.ImportOptions
    ) -> tuple[dict[str, str], list[tuple[str, str]]]:
        """Return canonical field SQL over ``c0..cN`` and format-specific checks."""

    def stage(
        self, con: duckdb.DuckDBPyConnection, path: Path, options: base.ImportOptions
    ) -> base.Staged:
        """Parse the file straight into ``_sa_stage`` (see :meth:`Importer.stage`)."""
        info = csvfile.scan(path)
        fields, checks = self.fields(info.header, options)  # refuse a wrong header first
        with ThreadPoolExecutor(max_workers=1) as pool:
            # Hashing runs beside DuckDB's parse: both release the GIL.
            digest = pool.submit(csvfile.sha256_file, path)
            self._info = info
            self._tmp = tempfile.TemporaryDirectory(prefix="socialaudit-")
            self._parsed = csvfile.parse_path(info, Path(self._tmp.name))
            read = csvfile.stage(con, info, self._parsed, fields, checks)
            return base.Staged(read=read, sha256=digest.result())

    def positions(self, con: duckdb.DuckDBPyConnection) -> None:
        """Number records and lines (see :func:`csvfile.positions`)."""
        assert self._info is not None and self._parsed is not None
        csvfile.positions(con, self._info, self._parsed)

    def close(self) -> None:
        """Remove the sanitized copy, if one was made."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def column_index(header: list[str]) -> dict[str, int]:
    """Map header names (stripped) to their first position."""
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        index.setdefault(name.strip(), i)
    return index
