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
    bare_cr: bool
    placeholder: str | None
    crlf: bool
    ends_with_newline: bool
    last_newline_at: int
    header: list[str]
    #: Blank lines before the header, skipped when parsing.
    skip_lines: int = 0


def sha256_file(path: Path) -> str:
    """Hash a file; hashlib releases the GIL, so this can run beside DuckDB's parsing."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def scan(path: Path) -> CsvFile:
    """Find bare carriage returns and the line ending, in one pass at memchr speed."""
    bare_cr = False
    present: set[int] = set()
    size = 0
    last_nl = -1
    tail = b""
    first_ph = _PLACEHOLDERS[0].encode()
    with path.open("rb") as fh:
        chunk = fh.read(_CHUNK)
        while chunk:
            window = tail + chunk
            if not bare_cr and b"\r" in chunk:
                # A '\r' at the very end of the window may be followed by '\n' in the next chunk.
                for m in _BARE_CR.finditer(window):
                    if m.start() < len(window) - 1:
                        bare_cr = True
                        break
            if first_ph in window:
                present.add(0)
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
        if present:  # rare: look for a free placeholder among the others
            data = path.read_bytes()
            present |= {i for i, ph in enumerate(_PLACEHOLDERS) if ph.encode() in data}
        free = [ph for i, ph in enumerate(_PLACEHOLDERS) if i not in present]
        if not free:
            raise SourceError(
                f"File {path} has bare carriage returns and uses every placeholder character. "
                "Replace the bare \\r characters before importing."
            )
        placeholder = free[0]
    with path.open("rb") as fh:
        head = fh.read(1 << 16).decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = head.split("\n")
    skip = 0
    while skip < len(lines) - 1 and not lines[skip].strip():
        skip += 1
    first_line = lines[skip]
    header = next(csv.reader(io.StringIO(first_line.rstrip("\r"))), [])
    return CsvFile(
        path=path,
        size=size,
        bare_cr=bare_cr,
        placeholder=placeholder,
        crlf=first_line.endswith("\r"),
        ends_with_newline=tail.endswith(b"\n"),
        last_newline_at=last_nl,
        header=header,
        skip_lines=skip,
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
            dst.write(_replace_bare_cr(data, ph))
        if carry:
            dst.write(ph)
    return out


def _replace_bare_cr(data: bytes, placeholder: bytes) -> bytes:
    """Swap each bare carriage return for the placeholder, at memchr speed (they are rare)."""
    parts = []
    start = 0
    pos = data.find(b"\r")
    while pos >= 0:
        if data[pos + 1 : pos + 2] != b"\n":
            parts.append(data[start:pos])
            parts.append(placeholder)
            start = pos + 1
        pos = data.find(b"\r", pos + 1)
    if not parts:
        return data
    parts.append(data[start:])
    return b"".join(parts)


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def read_csv_sql(info: CsvFile, path: Path, *, rejects: str) -> str:
    """A subquery reading every field as text, with bare carriage returns put back."""
    ncols = len(info.header)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(ncols)) + "}"
    new_line = "\\r\\n" if info.crlf else "\\n"
    select = ", ".join(f"{restore_sql(info, f'c{i}')} AS c{i}" for i in range(ncols))
    return f"""(SELECT {select} FROM read_csv(
        {_sql_str(str(path))}, header=true, skip={info.skip_lines}, auto_detect=false,
        columns={columns},
        delim=',', quote='"', escape='"', new_line='{new_line}',
        store_rejects=true, rejects_table='{rejects}', rejects_scan='{rejects}_scan'))"""


def parse_path(info: CsvFile, folder: Path) -> Path:
    """The file DuckDB should read: the original, or a copy without bare carriage returns."""
    if info.bare_cr:
        return _sanitized_copy(info, folder)
    return info.path


def stage(
    con: duckdb.DuckDBPyConnection,
    info: CsvFile,
    path: Path,
    fields: dict[str, str],
    checks: list[tuple[str, str]],
) -> int:
    """Parse straight into ``_sa_stage`` and collect unparseable records in ``_sa_rejects``.

    One pass: the canonical columns are computed while DuckDB parses, so the 2.8 M-row TWCS
    is never held twice. Returns the number of records read (rows plus rejected records).
    """
    if not info.header:
        raise SourceError(f"File {info.path} has no header line. Add one or check the file.")
    pairs = ", ".join(
        f"{_sql_str(name or f'column{i}')}, c{i}" for i, name in enumerate(info.header)
    )
    for name in ("_sa_rejects", "_sa_rj", "_sa_rj_scan"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    try:
        base.build_stage(
            con,
            fields,
            checks,
            source=read_csv_sql(info, path, rejects="_sa_rj"),
            raw=f"CAST(json_object({pairs}) AS VARCHAR)",
        )
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        raise SourceError(
            f"Cannot parse {info.path} as CSV ({first}). Check that it is a comma-separated "
            "export with a header line."
        ) from None
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
    rows = con.execute("SELECT count(*) FROM _sa_stage").fetchall()[0][0]
    rejects = con.execute("SELECT count(*) FROM _sa_rejects").fetchall()[0][0]
    return int(rows) + int(rejects)


def restore_sql(info: CsvFile, expr: str) -> str:
    """Return SQL that puts the bare carriage returns back into ``expr``."""
    if not info.placeholder:
        return expr
    ph = _sql_str(info.placeholder)
    # Only the few fields that had one are rewritten (replace() copies every string).
    return f"CASE WHEN contains({expr}, {ph}) THEN replace({expr}, {ph}, chr(13)) ELSE {expr} END"


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


def positions(con: duckdb.DuckDBPyConnection, info: CsvFile, path: Path) -> None:
    """Number every record in file order: ``_sa_pos(rid, record_no, line_no)``.

    DuckDB reports a rejected record's "line" as its record ordinal plus the header, and
    gives nothing for parsed rows. Reject ``n`` (1-based) with record number ``r`` has
    ``r - n`` parsed rows before it, so it precedes parsed row ``k`` (0-based) exactly when
    ``k + 1 >= r - n + 1``: an ASOF join (adjacent rejects share ``g``; the last
    counts). Physical line numbers then follow from the lines
    every earlier record spans (1 + the newlines inside its quoted fields). Only run when
    something is quarantined: clean files need neither.
    """
    ncols = len(info.header)
    first_line = info.skip_lines + 2  # DuckDB counts skipped lines in its line numbers too
    newlines = " + ".join(
        f"coalesce(length(c{i}) - length(replace(c{i}, chr(10), '')), 0)" for i in range(ncols)
    )
    for name in ("_sa_pos", "_sa_rg", "_sa_good", "_sa_all", "_sa_spans", "_sa_rj2"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    # A second read for the spans: rows come in the same order as in ``_sa_stage``.
    con.execute(
        f"CREATE TEMP TABLE _sa_spans AS SELECT 1 + {newlines} AS span "
        f"FROM {read_csv_sql(info, path, rejects='_sa_rj2')}"
    )
    con.execute(
        f"""CREATE TEMP TABLE _sa_rg AS
        SELECT line_no AS reported, line_no - {first_line - 1} AS record_no, span,
               row_number() OVER (ORDER BY line_no) AS n
        FROM _sa_rejects"""
    )
    con.execute(
        """CREATE TEMP TABLE _sa_good AS
        SELECT p.rid, p.rid + 1 + coalesce(r.n, 0) AS record_no, p.span
        FROM (SELECT rowid - (SELECT min(rowid) FROM _sa_spans) AS rid, span FROM _sa_spans) p
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
