"""Shared staging for the JSON-shaped platform exports (X, Mastodon, Bluesky, Reddit, ...).

Platform formats nest posts inside pages, threads and wrappers, so each one is walked in
Python by its module's ``posts()`` and flattened into :class:`Post` rows; this module turns
those rows into the ``_sa_stage`` table the core import validates and commits, so every
format keeps the same counting, de-duplication and atomicity guarantees. Authors seen along
the way go to ``_sa_accounts`` (with follower counts), and importers that keep the raw item
(4CAT/Zeeschuimer) fill ``_sa_keep``.
"""

from __future__ import annotations

import hashlib
import html
import json
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pyarrow as pa

from socialaudit.errors import SourceError
from socialaudit.ingest import base

_TEXT_FIELDS = (
    "platform",
    "post_id",
    "author_id",
    "author_handle",
    "created_at",
    "text",
    "parent_id",
    "root_id",
    "repost_of",
    "quote_of",
    "permalink",
    "lang",
)
_COUNT_FIELDS = ("like_count", "repost_count", "reply_count", "quote_count", "view_count")
REJECT_COLUMNS = [
    ("record_no", pa.int64()),
    ("line_no", pa.int64()),
    ("raw", pa.string()),
    ("reason", pa.string()),
]
KEEP_COLUMNS = [("platform", pa.string()), ("post_id", pa.string()), ("raw", pa.string())]
POS_COLUMNS = [("rid", pa.int64()), ("record_no", pa.int64()), ("line_no", pa.int64())]


def rows_table(rows: Sequence[Sequence[Any]], columns: list[tuple[str, pa.DataType]]) -> pa.Table:
    """Row tuples as an Arrow table with the given column names and types."""
    return pa.table(
        {name: [r[i] for r in rows] for i, (name, _) in enumerate(columns)},
        schema=pa.schema(columns),
    )


@dataclass
class Account:
    """An author as a platform describes it, observed at import time."""

    platform: str
    account_id: str
    handle: str | None = None
    display_name: str | None = None
    followers_count: int | None = None
    following_count: int | None = None
    created_at: str | None = None
    verified: bool | None = None


@dataclass
class Post:
    """One post in canonical fields, before validation (values may be missing or bad)."""

    platform: str
    post_id: str | None
    author_id: str | None
    created_at: str | None
    text: str | None = None
    author_handle: str | None = None
    parent_id: str | None = None
    root_id: str | None = None
    repost_of: str | None = None
    quote_of: str | None = None
    permalink: str | None = None
    like_count: int | None = None
    repost_count: int | None = None
    reply_count: int | None = None
    quote_count: int | None = None
    view_count: int | None = None
    lang: str | None = None
    #: The record the post came from, as JSON: shown in the quarantine, kept when asked.
    raw: Any = None
    account: Account | None = None
    #: Where in the file the post was found (1-based line for line-delimited files).
    line_no: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reject:
    """A record that never became a post (e.g. a line that is not JSON)."""

    line_no: int | None
    raw: Any
    reason: str


class RecordImporter(base.Importer):
    """A format whose records are walked in Python: subclasses implement :meth:`posts`."""

    platform: ClassVar[str]
    #: Keep every post's raw record in ``raw_records`` (so a mapping can be re-run).
    keep_raw: ClassVar[bool] = False
    #: SQL for every post's ``inbound`` flag when the format implies it (an account archive
    #: holds only its owner's posts: ``false``); None leaves it unknown.
    inbound_sql: ClassVar[str | None] = None

    def __init__(self) -> None:
        self._positions: list[tuple[int, int, int | None]] = []

    @abstractmethod
    def posts(self, path: Path, options: base.ImportOptions) -> Iterable[Post | Reject]:
        """Yield every post (and every unreadable record) of the file, in file order."""

    def stage(
        self, con: duckdb.DuckDBPyConnection, path: Path, options: base.ImportOptions
    ) -> base.Staged:
        """Walk the file into Arrow, then validate with the shared checks in SQL."""
        cols: dict[str, list[Any]] = {name: [] for name in (*_TEXT_FIELDS, *_COUNT_FIELDS)}
        cols["raw"] = []
        rejects: list[tuple[int, int | None, str, str]] = []
        accounts: dict[tuple[str, str], Account] = {}
        keep: list[tuple[str, str, str | None]] = []
        self._positions = []
        record_no = 0
        for item in self.posts(path, options):
            record_no += 1
            if isinstance(item, Reject):
                rejects.append((record_no, item.line_no, _as_json(item.raw) or "", item.reason))
                continue
            raw = _as_json(item.raw)
            self._positions.append((len(self._positions), record_no, item.line_no))
            for name in (*_TEXT_FIELDS, *_COUNT_FIELDS):
                cols[name].append(getattr(item, name))
            cols["raw"].append(raw)
            acct = item.account
            if acct is not None and acct.account_id:
                key = (acct.platform, acct.account_id)
                accounts[key] = _merge(accounts.get(key), acct)
            if self.keep_raw and item.post_id:
                keep.append((item.platform, item.post_id, raw))
        schema = pa.schema(
            [(n, pa.string()) for n in _TEXT_FIELDS]
            + [(n, pa.int64()) for n in _COUNT_FIELDS]
            + [("raw", pa.string())]
        )
        _load(con, "_sa_records", pa.table(cols, schema=schema))
        _load(con, "_sa_rejects", rows_table(rejects, REJECT_COLUMNS))
        _load_accounts(con, list(accounts.values()))
        if self.keep_raw:
            _load(con, "_sa_keep", rows_table(keep, KEEP_COLUMNS))
        fields = {name: name for name in (*_TEXT_FIELDS, *_COUNT_FIELDS)}
        for name in ("post_id", "parent_id", "root_id", "repost_of", "quote_of"):
            fields[name] = base.id_sql(name)
        fields["author_id"] = "nullif(trim(author_id), '')"
        fields["created_at"] = base.parse_timestamp_sql("created_at", options.time_format)
        fields["created_at_text"] = "created_at"
        if self.inbound_sql is not None:
            fields["inbound"] = self.inbound_sql
        base.build_stage(con, fields, [], source="_sa_records", raw="raw")
        return base.Staged(
            read=record_no,
            sha256=_sha256(path),
            accounts="_sa_accounts",
            raw_records="_sa_keep" if self.keep_raw else None,
        )

    def positions(self, con: duckdb.DuckDBPyConnection) -> None:
        """Record and line numbers were noted while walking the file."""
        _load(con, "_sa_pos", rows_table(self._positions, POS_COLUMNS))


def _load(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    con.execute(f"DROP TABLE IF EXISTS {name}")
    con.register("_sa_arrow_in", table)
    try:
        con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM _sa_arrow_in")
    finally:
        con.unregister("_sa_arrow_in")


def _load_accounts(con: duckdb.DuckDBPyConnection, accounts: list[Account]) -> None:
    rows = [asdict(a) for a in accounts]
    schema = pa.schema(
        [
            ("platform", pa.string()),
            ("account_id", pa.string()),
            ("handle", pa.string()),
            ("display_name", pa.string()),
            ("followers_count", pa.int64()),
            ("following_count", pa.int64()),
            ("created_at", pa.string()),
            ("verified", pa.bool_()),
        ]
    )
    table = pa.table({f.name: [r[f.name] for r in rows] for f in schema}, schema=schema)
    _load(con, "_sa_accounts_in", table)
    con.execute("DROP TABLE IF EXISTS _sa_accounts")
    con.execute(
        f"""CREATE TEMP TABLE _sa_accounts AS
        SELECT platform, account_id, handle, display_name, followers_count, following_count,
               {base.parse_timestamp_sql("created_at")} AS created_at, verified
        FROM _sa_accounts_in"""
    )


def _merge(old: Account | None, new: Account) -> Account:
    """The later sighting wins field by field, but a field it lacks keeps the earlier value.

    A feed embeds an author once with follower counts and once without (in reply refs).
    """
    if old is None:
        return new
    merged = asdict(old)
    merged.update({k: v for k, v in asdict(new).items() if v is not None})
    return Account(**merged)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _as_json(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


# -- reading ------------------------------------------------------------------------------------


def read_text(path: Path) -> str:
    """The whole file as text (BOM dropped), refusing bytes that are not UTF-8."""
    try:
        return path.read_bytes().decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"File {path} is not UTF-8 (bad byte at offset {exc.start}). Re-save it as UTF-8."
        ) from None


def load_document(path: Path, text: str | None = None) -> Any:
    """Parse a file holding one JSON document; a cut-off one is refused as truncated."""
    body = read_text(path) if text is None else text
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        near_end = exc.pos >= len(body.rstrip()) - 1
        hint = "looks truncated" if near_end else f"is not valid JSON (line {exc.lineno})"
        raise SourceError(f"File {path} {hint}: {exc.msg}. Export or download it again.") from None


def iter_json(path: Path) -> Iterator[tuple[int | None, Any] | Reject]:
    """Yield ``(line, object)`` for a JSON document or for each line of a JSON-lines file.

    A whole-file document gives one item with line ``None``. In JSON lines, a bad line is a
    :class:`Reject` (quarantined), but a cut-off last line without a newline means the file
    itself was truncated, and the import is refused.
    """
    text = read_text(path)
    stripped = text.strip()
    try:
        yield None, json.loads(stripped)
        return
    except json.JSONDecodeError:
        pass
    lines = text.split("\n")
    if len([ln for ln in lines if ln.strip()]) <= 1:
        load_document(path, text)  # raises the precise message
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            if n == len(lines) and not text.endswith("\n"):
                raise SourceError(
                    f"File {path} looks truncated: its last line ({n}) is cut-off JSON and "
                    "the file does not end with a newline. Copy or export it again."
                ) from None
            yield Reject(n, line, base.BAD_JSON)
            continue
        yield n, obj


def first_json_value(sample: base.Sample) -> str:
    """The head of the file without leading whitespace and BOM, for sniffing."""
    return sample.text.lstrip("\ufeff \t\r\n")


# -- values -------------------------------------------------------------------------------------


def as_id(value: Any) -> str | None:
    """An id as text (ints kept exact; empty as None)."""
    if value is None or value == "":
        return None
    return str(value)


def as_int(value: Any) -> int | None:
    """A count that may come as a number or as text ("12"); anything else is None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def dig(obj: Any, *path: str) -> Any:
    """Follow keys through nested dicts, None as soon as one is missing."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


class JsonRecordImporter(RecordImporter):
    """A JSON format: one document or JSON lines, each document walked by :meth:`document`."""

    def posts(self, path: Path, options: base.ImportOptions) -> Iterable[Post | Reject]:
        """Yield every post (and every unreadable record) of the file, in file order.

        The file is one JSON document or JSON lines; a top-level list is a list
        of documents, and each document goes to :meth:`document`.
        """
        for item in iter_json(path):
            if isinstance(item, Reject):
                yield item
                continue
            line, obj = item
            for doc in obj if isinstance(obj, list) else [obj]:
                if isinstance(doc, dict):
                    yield from self.document(doc, line)
                else:
                    yield Reject(line, doc, base.BAD_JSON)

    @abstractmethod
    def document(self, doc: dict[str, Any], line: int | None) -> Iterable[Post | Reject]:
        """Yield the posts of one JSON document (a page, a thread, a post)."""


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment; block ends and ``<br>`` become newlines."""

    _BREAKS = frozenset({"br"})
    _BLOCKS = frozenset({"p", "div", "li", "blockquote", "pre"})
    _SKIP = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag in self._BREAKS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(fragment: str | None) -> str | None:
    """Visible text of an HTML fragment (Mastodon ``content``), entities decoded.

    A real parser, not tag-stripping regexes: ``<scr<script>ipt>`` or an attribute holding
    ``>`` cannot leave markup behind, and ``&lt;b&gt;`` stays the literal text ``<b>``.
    """
    if fragment is None:
        return None
    parser = _TextExtractor()
    parser.feed(fragment)
    parser.close()
    text = "".join(parser.parts)
    lines = [ln.strip() for ln in text.replace("\r\n", "\n").split("\n")]
    out: list[str] = []
    for ln in lines:
        if ln or (out and out[-1]):
            out.append(ln)
    return "\n".join(out).strip()


def unescape(text: str | None) -> str | None:
    """Decode HTML entities (X's API sends ``&amp;``, ``&lt;`` and ``&gt;`` in tweet text)."""
    return None if text is None else html.unescape(text)
