"""The importer registry and the contract every file format implements.

An importer only *stages*: it turns a file into a temporary table of canonical columns
(``_sa_stage``) plus a table of records it could not parse (``_sa_rejects``). Everything
that must hold for every format (validation, de-duplication, counting, the atomic commit)
lives once in :mod:`socialaudit.ingest.core`, so adding a format is one module.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import duckdb

from socialaudit.errors import ConfigError, SourceError
from socialaudit.ingest.checks import IMPLAUSIBLE_TIME, REPLY_CYCLE, time_checks

# Quarantine reasons: short, stable strings users can filter on (`socialaudit quality`).
WRONG_FIELD_COUNT = "wrong number of fields"
UNTERMINATED_QUOTE = "unterminated quote"
BAD_ENCODING = "invalid UTF-8"
BAD_JSON = "not a JSON object"
MISSING_POST_ID = "missing post id"
BAD_POST_ID = "bad post id"
MISSING_AUTHOR = "missing author"
BAD_TIMESTAMP = "bad timestamp"
MISSING_TIMESTAMP = "missing timestamp"
BAD_INBOUND = "bad inbound flag"
BAD_PARENT_ID = "bad parent id"
#: A NUL byte inside a record, wherever in the file it is (issue 14): text never holds one.
NUL_BYTE = "NUL byte"
#: Caught by :mod:`socialaudit.ingest.checks` (re-exported so every reason is listed here).
QUARANTINE_REASONS_CHECKED = (IMPLAUSIBLE_TIME, REPLY_CYCLE)

#: Canonical staged columns and their SQL types; an importer maps what its format has
#: (the rest are NULL).
STAGE_COLUMNS: dict[str, str] = {
    "platform": "VARCHAR",
    "post_id": "VARCHAR",
    "author_id": "VARCHAR",
    "author_handle": "VARCHAR",
    "created_at": "TIMESTAMP",
    "text": "VARCHAR",
    "parent_id": "VARCHAR",
    "root_id": "VARCHAR",
    "repost_of": "VARCHAR",
    "quote_of": "VARCHAR",
    "permalink": "VARCHAR",
    "like_count": "BIGINT",
    "repost_count": "BIGINT",
    "reply_count": "BIGINT",
    "quote_count": "BIGINT",
    "view_count": "BIGINT",
    "lang": "VARCHAR",
    "inbound": "BOOLEAN",
    # Not stored: the raw text of the created-at field, so a bad one can be told from a missing one.
    "created_at_text": "VARCHAR",
}


@dataclass(frozen=True)
class Sample:
    """The first bytes of a file, enough for every importer to recognise its format."""

    path: Path
    head: bytes

    @property
    def text(self) -> str:
        """Return the head decoded as UTF-8 (a split final character is dropped)."""
        return self.head.decode("utf-8", errors="ignore")

    @property
    def first_line(self) -> str:
        """Return the first non-blank line without its terminator (and without a UTF-8 BOM).

        Some exports (one of the UCI YouTube files, say) start with an empty line.
        """
        for line in self.text.lstrip("\ufeff").split("\n"):
            if line.strip():
                return line.rstrip("\r")
        return ""


@dataclass(frozen=True)
class ImportOptions:
    """What the user said about the file; importers read only what concerns them."""

    mapping: dict[str, str] = field(default_factory=dict)
    platform: str | None = None
    time_format: str | None = None


@dataclass(frozen=True)
class Staged:
    """What an importer hands the commit step: counts, and the staged tables by name.

    The commit step reads only the tables named here (no looking tables up by name in the
    catalog): ``rows`` (one row per parsed record, :func:`build_stage`), ``rejects`` (records
    that never became a row), and, when the format has them, ``accounts`` (authors as
    observed, with follower counts) and ``raw_records`` (raw items kept beside their posts).
    """

    read: int
    sha256: str
    rows: str = "_sa_stage"
    rejects: str = "_sa_rejects"
    accounts: str | None = None
    raw_records: str | None = None
    #: ``_sa_pos`` is already filled (the records were numbered where they were staged, e.g.
    #: in a Spark task), so the commit step does not ask the importer for positions.
    positioned: bool = False


class Importer(ABC):
    """Base class: subclasses set the metadata and implement :meth:`sniff` and :meth:`stage`."""

    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    version: ClassVar[str] = "1"
    #: True when the format marks direction (TWCS ``inbound``): authors of outbound posts
    #: then become organizations automatically.
    derives_orgs: ClassVar[bool] = False
    #: Formats that wrap other formats' records (a Zeeschuimer line holds an X tweet) are
    #: asked first.
    sniff_priority: ClassVar[int] = 0

    @abstractmethod
    def sniff(self, sample: Sample) -> bool:
        """Return True when the sample looks like this format."""

    @abstractmethod
    def stage(self, con: duckdb.DuckDBPyConnection, path: Path, options: ImportOptions) -> Staged:
        """Create the temp tables ``_sa_stage`` (with :func:`build_stage`) and ``_sa_rejects``.

        ``_sa_stage`` holds one row per parsed record, in file order, with the STAGE_COLUMNS,
        a ``reason`` (NULL when valid) and the original ``raw`` record for invalid rows.
        ``_sa_rejects`` has ``record_no, line_no, raw, reason`` for records that never
        became a row.
        """

    @abstractmethod
    def positions(self, con: duckdb.DuckDBPyConnection) -> None:
        """Create ``_sa_pos(rid, record_no, line_no)`` and fill ``_sa_rejects``' numbers.

        ``rid`` is the 0-based position of a row in ``_sa_stage``. Called only when something
        is quarantined, so clean imports skip the work.
        """

    def close(self) -> None:  # noqa: B027 - an optional hook, not abstract
        """Release what staging held on to (temporary files); called after every import."""


REGISTRY: dict[str, type[Importer]] = {}


def register(cls: type[Importer]) -> type[Importer]:
    """Class decorator: add an importer to the registry under its ``name``."""
    if cls.name in REGISTRY:
        raise ValueError(f"Importer {cls.name!r} is registered twice")
    REGISTRY[cls.name] = cls
    return cls


def get_importer(name: str) -> Importer:
    """Return a new importer for a format name, or raise ConfigError listing the known ones."""
    try:
        return REGISTRY[name]()
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise ConfigError(f"Unknown format {name!r}. Use one of: {known}.") from None


def read_sample(path: Path, size: int = 65536) -> Sample:
    """Read the head of a file, refusing empty and binary files with a clear message."""
    if not path.exists():
        raise SourceError(f"File {path} does not exist. Check the path.")
    if path.is_dir():
        raise SourceError(f"{path} is a folder. Pass a file.")
    with path.open("rb") as fh:
        head = fh.read(size)
    if not head.strip():
        raise SourceError(f"File {path} is empty. Export the data again or pick another file.")
    if _looks_binary(head):
        raise SourceError(
            f"File {path} is binary, not text (NUL bytes found). "
            "Pass a CSV or JSONL export (decompress it first if it is zipped)."
        )
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character split at the end of the sample is fine.
        if exc.start < len(head) - 4:
            raise SourceError(
                f"File {path} is not UTF-8 (bad byte at offset {exc.start}). "
                "Re-save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)."
            ) from None
    return Sample(path=path, head=head)


#: Compressed and UTF-16 files, by their first bytes.
_BINARY_MAGIC = (b"\x1f\x8b", b"PK\x03\x04", b"BZh", b"\xfd7zXZ", b"\xff\xfe", b"\xfe\xff")


_NON_TEXT = frozenset(range(1, 32)) - {9, 10, 12, 13, 27}


def _looks_binary(head: bytes) -> bool:
    """A binary file, not a text file with a stray NUL byte.

    A stray NUL (a corrupted record) is handled like every bad record, quarantined wherever
    it is, near the start or 170 kB in; a file that is compressed, UTF-16, or full of NULs
    is refused as a whole.
    """
    nuls = head.count(b"\x00")
    if head.startswith(_BINARY_MAGIC) or nuls > max(8, len(head) // 256):
        return True
    # A NUL beside other bytes text never holds (PNG's \x1a, a header's \x01) is binary too.
    return bool(nuls) and any(b in _NON_TEXT for b in head)


def detect(sample: Sample) -> Importer:
    """Return the first registered importer that recognises the sample."""
    for cls in sorted(REGISTRY.values(), key=lambda c: -c.sniff_priority):
        importer = cls()
        if importer.sniff(sample):
            return importer
    known = ", ".join(sorted(REGISTRY))
    raise SourceError(
        f"Cannot tell the format of {sample.path} (first line: {sample.first_line[:60]!r}). "
        f"Pass --format (one of: {known}) and, for generic files, --map field=COLUMN."
    )


def build_stage(
    con: duckdb.DuckDBPyConnection,
    fields: dict[str, str],
    checks: list[tuple[str, str]],
    *,
    source: str,
    raw: str,
) -> None:
    """Create ``_sa_stage`` from canonical field expressions and validity checks.

    ``fields`` maps STAGE_COLUMNS names to SQL over ``source`` (missing ones become NULL);
    ``checks`` are ``(condition, reason)`` pairs over those canonical names, tried in order
    after the checks every format shares; the first failing check is the record's reason.
    ``raw`` (SQL over ``source``) is evaluated only for invalid rows, for the quarantine.
    """
    unknown = set(fields) - set(STAGE_COLUMNS)
    if unknown:
        raise ValueError(f"Unknown stage fields: {sorted(unknown)}")
    cols = [
        f"CAST({fields.get(name, 'NULL')} AS {sql_type}) AS {name}"
        for name, sql_type in STAGE_COLUMNS.items()
    ]
    fields_with_nul = (
        *("platform", "post_id", "author_id", "author_handle", "created_at_text", "text"),
        *("parent_id", "root_id", "repost_of", "quote_of", "permalink", "lang"),
    )
    # One test per field (a NULL field is no NUL): no joined copy of every record's text.
    has_nul = " OR ".join(f"contains({name}, chr(0))" for name in fields_with_nul)
    common = [
        (has_nul, NUL_BYTE),
        ("post_id IS NULL OR post_id = ''", MISSING_POST_ID),
        ("author_id IS NULL OR author_id = ''", MISSING_AUTHOR),
        ("created_at_text IS NULL OR trim(created_at_text) = ''", MISSING_TIMESTAMP),
        ("created_at IS NULL", BAD_TIMESTAMP),
        *time_checks("created_at", "created_at_text", "platform"),
    ]
    whens = " ".join(f"WHEN {cond} THEN '{reason}'" for cond, reason in [*common, *checks])
    con.execute("DROP TABLE IF EXISTS _sa_stage")
    con.execute(
        # The source's own columns pass through untouched, so ``raw`` is built only for
        # the (few) invalid rows: CASE evaluates its branch just where it applies.
        f"""CREATE TEMP TABLE _sa_stage AS
        SELECT {", ".join(n for n in STAGE_COLUMNS if n != "created_at_text")}, reason,
               CASE WHEN reason IS NOT NULL THEN {raw} END AS raw
        FROM (SELECT *, CASE {whens} END AS reason FROM (
                SELECT {", ".join(cols)}, src.* FROM {source} src))"""
    )


def parse_timestamp_sql(expr: str, time_format: str | None = None) -> str:
    """SQL turning text into a UTC ``TIMESTAMP``: Twitter's format, ISO 8601 or epoch seconds.

    Naive ISO times are read as UTC (the store's session time zone), as the CLI help says.
    """
    if time_format:
        fmt = time_format.replace("'", "''")
        return f"CAST(try_strptime(trim({expr}), '{fmt}') AS TIMESTAMP)"
    return f"""CAST(coalesce(
        try_strptime(trim({expr}), '%a %b %d %H:%M:%S %z %Y'),
        try_cast(trim({expr}) AS TIMESTAMPTZ),
        CASE WHEN regexp_full_match(trim({expr}), '[0-9]{{9,10}}(\\.[0-9]+)?')
             THEN to_timestamp(CAST(trim({expr}) AS DOUBLE)) END,
        CASE WHEN regexp_full_match(trim({expr}), '[0-9]{{12,13}}')
             THEN CAST(epoch_ms(CAST(trim({expr}) AS BIGINT)) AS TIMESTAMPTZ) END
    ) AS TIMESTAMP)"""


def parse_bool_sql(expr: str) -> str:
    """SQL reading the usual spellings of a direction flag; anything else is NULL."""
    return f"""CASE lower(trim({expr}))
        WHEN 'true' THEN true WHEN '1' THEN true WHEN 'yes' THEN true WHEN 't' THEN true
        WHEN 'inbound' THEN true
        WHEN 'false' THEN false WHEN '0' THEN false WHEN 'no' THEN false WHEN 'f' THEN false
        WHEN 'outbound' THEN false END"""


def id_sql(expr: str) -> str:
    """SQL for an id column: trimmed, empty as NULL, a float's ``.0`` dropped (pandas writes it)."""
    # suffix() and a slice, not regexp_replace: ids are on every row, a regex is slower.
    text = f"trim({expr})"
    return f"nullif(CASE WHEN suffix({text}, '.0') THEN {text}[:-3] ELSE {text} END, '')"
