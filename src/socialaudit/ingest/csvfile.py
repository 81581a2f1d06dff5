r"""Reading CSV exports fast and exactly, shared by every CSV importer.

DuckDB's CSV reader does the parsing (it is what makes a 2.8 M-row import take seconds), but
it takes a bare carriage return for a line end, as do Python's csv and pandas. Real TWCS copies
carry bare ``\r`` inside unquoted text, so a naive read splits such a record in two. We scan
the file once (hashing it on the way); only if a bare ``\r`` is present do we write a copy with
each one replaced by a private-use placeholder, and restore it in SQL after parsing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from socialaudit.errors import SourceError
from socialaudit.ingest import base

_CHUNK = 1 << 24
_BARE_CR = re.compile(rb"\r(?!\n)")
_PLACEHOLDERS = ("\ue000", "\ue001", "\U000f0000", "\U000f0001")


@dataclass(frozen=True)
class CsvFile:
    """Facts about a CSV file learnt in one streaming pass."""

    path: Path
    size: int
    sha256: str
    bare_cr: bool
    placeholder: str | None
    crlf: bool
    ends_with_newline: bool
    last_newline_at: int
    header: list[str]


def scan(path: Path) -> CsvFile:
    """Hash the file and find bare carriage returns, in one pass at disk speed."""
    digest = hashlib.sha256()
    bare_cr = False
    present = set()
    size = 0
    last_nl = -1
    tail = b""
    with path.open("rb") as fh:
        first = fh.read(_CHUNK)
        chunk = first
        while chunk:
            digest.update(chunk)
            window = tail + chunk
            if b"\r" in chunk and not bare_cr:
                # A '\r' at the very end of the window may be followed by '\n' in the next chunk.
                for m in _BARE_CR.finditer(window):
                    if m.start() < len(window) - 1:
                        bare_cr = True
                        break
            for i, ph in enumerate(_PLACEHOLDERS):
                if ph.encode() in window:
                    present.add(i)
            pos = chunk.rfind(b"\n")
            if pos >= 0:
                last_nl = size + pos
            size += len(chunk)
            tail = chunk[-4:]
            chunk = fh.read(_CHUNK)
    if tail.endswith(b"\r"):
        bare_cr = True
    placeholder = None
    if bare_cr:
        free = [ph for i, ph in enumerate(_PLACEHOLDERS) if i not in present]
        if not free:
            raise SourceError(
                f"File {path} has bare carriage returns and uses every placeholder character. "
                "Replace the bare \\r characters before importing."
            )
        placeholder = free[0]
    with path.open("rb") as fh:
        head = fh.read(1 << 16).decode("utf-8", errors="replace").lstrip("\ufeff")
    first_line = head.split("\n", 1)[0]
    header = next(csv.reader(io.StringIO(first_line.rstrip("\r"))), [])
    return CsvFile(
        path=path,
        size=size,
        sha256=digest.hexdigest(),
        bare_cr=bare_cr,
        placeholder=placeholder,
        crlf=first_line.endswith("\r"),
        ends_with_newline=tail.endswith(b"\n"),
        last_newline_at=last_nl,
        header=header,
    )


def _sanitized_copy(info: CsvFile, folder: Path) -> Path:
    assert info.placeholder is not None
    out = folder / "sanitized.csv"
    ph = info.placeholder.encode()
    carry = b""
    with info.path.open("rb") as src, out.open("wb") as dst:
        while chunk := src.read(_CHUNK):
            data = carry + chunk
            # Keep a trailing '\r' back: its '\n' may start the next chunk.
            if data.endswith(b"\r"):
                data, carry = data[:-1], b"\r"
            else:
                carry = b""
            dst.write(_BARE_CR.sub(ph, data) if b"\r" in data else data)
        if carry:
            dst.write(ph)
    return out


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def load(con: duckdb.DuckDBPyConnection, info: CsvFile) -> int:
    """Parse the file into temp tables ``_sa_raw`` (c0..cN, __rid) and ``_sa_rejects``.

    Returns the number of records read (parsed rows plus rejected records).
    """
    ncols = len(info.header)
    if ncols == 0:
        raise SourceError(f"File {info.path} has no header line. Add one or check the file.")
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(ncols)) + "}"
    with tempfile.TemporaryDirectory(prefix="socialaudit-") as tmp:
        path = _sanitized_copy(info, Path(tmp)) if info.bare_cr else info.path
        new_line = "\\r\\n" if info.crlf else "\\n"
        select = ", ".join(f"{restore_sql(info, f'c{i}')} AS c{i}" for i in range(ncols))
        for name in ("_sa_raw", "_sa_rejects", "_sa_rj", "_sa_rs"):
            con.execute(f"DROP TABLE IF EXISTS {name}")
        try:
            con.execute(
                f"""CREATE TEMP TABLE _sa_raw AS SELECT {select} FROM read_csv(
                    {_sql_str(str(path))}, header=true, auto_detect=false, columns={columns},
                    delim=',', quote='"', escape='"', new_line='{new_line}',
                    store_rejects=true, rejects_table='_sa_rj', rejects_scan='_sa_rs')"""
            )
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            raise SourceError(
                f"Cannot parse {info.path} as CSV ({first}). Check that it is a comma-separated "
                "export with a header line."
            ) from None
        con.execute("ALTER TABLE _sa_raw ADD COLUMN __rid BIGINT")
        # Inside a transaction new rows get transaction-local row ids (offset by a large
        # constant); they are still contiguous and in file order.
        con.execute("UPDATE _sa_raw SET __rid = rowid - (SELECT min(rowid) FROM _sa_raw)")
    # One reject per record: DuckDB may report several errors for one line.
    con.execute(
        f"""CREATE TEMP TABLE _sa_rejects AS
        SELECT CAST(NULL AS BIGINT) AS record_no, line AS line_no,
               any_value(line_byte_position) AS byte_at,
               {restore_sql(info, "any_value(csv_line)")} AS raw,
               CASE
                 WHEN bool_or(error_type IN ('MISSING COLUMNS', 'TOO MANY COLUMNS'))
                   THEN '{base.WRONG_FIELD_COUNT}'
                 WHEN bool_or(error_type = 'UNQUOTED VALUE') THEN '{base.UNTERMINATED_QUOTE}'
                 WHEN bool_or(error_type = 'INVALID UNICODE') THEN '{base.BAD_ENCODING}'
                 ELSE lower(any_value(error_type))
               END AS reason,
               1 + length(rtrim(any_value(csv_line), chr(10) || chr(13)))
                 - length(replace(rtrim(any_value(csv_line), chr(10) || chr(13)), chr(10), ''))
                 AS span
        FROM _sa_rj GROUP BY line"""
    )
    _refuse_truncated(con, info)
    rows = con.execute("SELECT count(*) FROM _sa_raw").fetchall()[0][0]
    rejects = con.execute("SELECT count(*) FROM _sa_rejects").fetchall()[0][0]
    return int(rows) + int(rejects)


def restore_sql(info: CsvFile, expr: str) -> str:
    """Return SQL that puts the bare carriage returns back into ``expr``."""
    if not info.placeholder:
        return expr
    return f"replace({expr}, {_sql_str(info.placeholder)}, chr(13))"


def _refuse_truncated(con: duckdb.DuckDBPyConnection, info: CsvFile) -> None:
    """A last record that breaks off mid-way means the file was cut, not that one row is bad."""
    if info.ends_with_newline:
        return
    last = con.execute(
        "SELECT line_no, reason FROM _sa_rejects WHERE byte_at > ? ORDER BY line_no DESC LIMIT 1",
        [info.last_newline_at],
    ).fetchall()
    if not last:
        # A quoted record still open at end of file also starts before the last newline.
        last = con.execute(
            "SELECT line_no, reason FROM _sa_rejects WHERE reason = ? "
            "ORDER BY line_no DESC LIMIT 1",
            [base.UNTERMINATED_QUOTE],
        ).fetchall()
        if (
            last
            and last[0][0] != con.execute("SELECT max(line_no) FROM _sa_rejects").fetchall()[0][0]
        ):
            last = []
    if last:
        raise SourceError(
            f"File {info.path} looks truncated: its last record (line {last[0][0]}) breaks off "
            f"({last[0][1]}) and the file does not end with a newline. Copy or export it again."
        )


def positions(con: duckdb.DuckDBPyConnection, ncols: int, first_line: int = 2) -> None:
    """Number every record in file order: ``_sa_pos(rid, record_no, line_no)``.

    DuckDB reports a rejected record's "line" as its record ordinal plus the header, and
    gives nothing for parsed rows. Reject ``n`` (1-based) with record number ``r`` has
    ``r - n`` parsed rows before it, so it precedes parsed row ``k`` (0-based) exactly when
    ``k + 1 >= r - n + 1``: an ASOF join (adjacent rejects share ``g``; the last
    counts). Physical line numbers then follow from the lines
    every earlier record spans (1 + the newlines inside its quoted fields). Only run when
    something is quarantined: clean files need neither.
    """
    newlines = " + ".join(
        f"coalesce(length(c{i}) - length(replace(c{i}, chr(10), '')), 0)" for i in range(ncols)
    )
    for name in ("_sa_pos", "_sa_rg", "_sa_good", "_sa_all"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute(
        f"""CREATE TEMP TABLE _sa_rg AS
        SELECT line_no AS reported, line_no - {first_line - 1} AS record_no, span,
               row_number() OVER (ORDER BY line_no) AS n
        FROM _sa_rejects"""
    )
    con.execute(
        f"""CREATE TEMP TABLE _sa_good AS
        SELECT p.rid, p.rid + 1 + coalesce(r.n, 0) AS record_no, p.span
        FROM (SELECT __rid AS rid, 1 + {newlines} AS span FROM _sa_raw) p
        ASOF LEFT JOIN (SELECT record_no - n + 1 AS g, max(n) AS n FROM _sa_rg GROUP BY g) r
            ON p.rid + 1 >= r.g"""
    )
    con.execute(
        f"""CREATE TEMP TABLE _sa_all AS
        SELECT rid, record_no, {first_line} + coalesce(sum(span) OVER (
            ORDER BY record_no ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS line_no
        FROM (SELECT rid, record_no, span FROM _sa_good
              UNION ALL SELECT NULL, record_no, span FROM _sa_rg)"""
    )
    con.execute(
        "CREATE TEMP TABLE _sa_pos AS SELECT rid, record_no, line_no FROM _sa_all "
        "WHERE rid IS NOT NULL"
    )
    con.execute(
        """UPDATE _sa_rejects SET record_no = a.record_no, line_no = a.line_no
        FROM _sa_rg r JOIN _sa_all a ON a.rid IS NULL AND a.record_no = r.record_no
        WHERE _sa_rejects.line_no = r.reported"""
    )
