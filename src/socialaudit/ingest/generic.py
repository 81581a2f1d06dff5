"""Generic CSV and JSONL with a column mapping (``--map text=CONTENT --map author=AUTHOR``).

The mapping names canonical fields on the left and source columns (CSV) or dotted paths
(JSONL, e.g. ``author=user.screen_name``) on the right.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from socialaudit.errors import ConfigError, SourceError
from socialaudit.ingest import base
from socialaudit.ingest.csvimporter import CsvImporter, column_index
from socialaudit.ingest.records import REJECT_COLUMNS, rows_table

#: Accepted ``--map`` keys (and aliases) and the canonical field each fills.
MAP_KEYS: dict[str, str] = {
    "id": "post_id",
    "post_id": "post_id",
    "author": "author_id",
    "author_id": "author_id",
    "handle": "author_handle",
    "created_at": "created_at",
    "time": "created_at",
    "text": "text",
    "parent": "parent_id",
    "parent_id": "parent_id",
    "root": "root_id",
    "root_id": "root_id",
    "repost_of": "repost_of",
    "quote_of": "quote_of",
    "permalink": "permalink",
    "likes": "like_count",
    "like_count": "like_count",
    "reposts": "repost_count",
    "repost_count": "repost_count",
    "replies": "reply_count",
    "reply_count": "reply_count",
    "quotes": "quote_count",
    "quote_count": "quote_count",
    "views": "view_count",
    "view_count": "view_count",
    "lang": "lang",
    "inbound": "inbound",
    "platform": "platform",
}
REQUIRED = ("post_id", "author_id", "created_at")
_COUNTS = {"like_count", "repost_count", "reply_count", "quote_count", "view_count"}
_IDS = {"post_id", "parent_id", "root_id", "repost_of", "quote_of"}


def canonical_mapping(mapping: dict[str, str]) -> dict[str, str]:
    """Resolve aliases; refuse unknown keys and a mapping without the required fields."""
    out: dict[str, str] = {}
    for key, source in mapping.items():
        canon = MAP_KEYS.get(key.strip().lower())
        if canon is None:
            raise ConfigError(
                f"Unknown --map field {key!r}. Use one of: {', '.join(sorted(MAP_KEYS))}."
            )
        out[canon] = source
    missing = [k for k in REQUIRED if k not in out]
    if missing:
        names = {"post_id": "id", "author_id": "author", "created_at": "created_at"}
        raise ConfigError(
            "Generic imports need --map for "
            + ", ".join(names[m] for m in missing)
            + " (e.g. --map id=ID --map author=AUTHOR --map created_at=DATE --map text=CONTENT)."
        )
    return out


def mapped_fields(
    columns: dict[str, str], options: base.ImportOptions
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Canonical field SQL from ``canonical field -> SQL column`` pairs."""
    fields: dict[str, str] = {}
    for canon, sql in columns.items():
        if canon in _IDS:
            fields[canon] = base.id_sql(sql)
        elif canon in _COUNTS:
            fields[canon] = f"try_cast(trim({sql}) AS BIGINT)"
        elif canon == "created_at":
            fields["created_at"] = base.parse_timestamp_sql(sql, options.time_format)
            fields["created_at_text"] = sql
        elif canon == "inbound":
            fields["inbound"] = base.parse_bool_sql(sql)
        else:
            fields[canon] = sql
    fields["author_id"] = f"nullif(trim({columns['author_id']}), '')"
    fields.setdefault("author_handle", fields["author_id"])
    platform = options.platform or "generic"
    if "platform" in fields:
        fields["platform"] = f"coalesce(nullif(trim({fields['platform']}), ''), '{platform}')"
    else:
        fields["platform"] = "'" + platform.replace("'", "''") + "'"
    checks = []
    if "inbound" in columns:
        checks.append(
            (
                f"inbound IS NULL AND nullif(trim({columns['inbound']}), '') IS NOT NULL",
                base.BAD_INBOUND,
            )
        )
    return fields, checks


@base.register
class GenericCsvImporter(CsvImporter):
    """Any CSV with a header, mapped with --map."""

    name = "csv"
    title = "Generic CSV"
    description = "Any CSV with a header line; columns are mapped with --map field=COLUMN."

    def sniff(self, sample: base.Sample) -> bool:
        """Never guessed: a generic CSV needs a mapping, so it is chosen with --format/--map."""
        return False

    def fields(
        self, header: list[str], options: base.ImportOptions
    ) -> tuple[dict[str, str], list[tuple[str, str]]]:
        """Resolve each mapped column name to its position in the header."""
        mapping = canonical_mapping(options.mapping)
        index = column_index(header)
        columns = {}
        for canon, name in mapping.items():
            if name not in index:
                shown = ", ".join(h for h in header[:20] if h)
                raise SourceError(f"No column {name!r} in the CSV header. Columns: {shown}.")
            columns[canon] = f"c{index[name]}"
        return mapped_fields(columns, options)


@base.register
class GenericJsonlImporter(base.Importer):
    """One JSON object per line, mapped with --map field=dotted.path."""

    name = "jsonl"
    title = "Generic JSONL"
    description = "One JSON object per line; fields are mapped with --map field=dotted.path."
    batch_size = 50_000

    def sniff(self, sample: base.Sample) -> bool:
        """Never guessed: a generic JSONL file needs a mapping."""
        return False

    def stage(
        self, con: duckdb.DuckDBPyConnection, path: Path, options: base.ImportOptions
    ) -> base.Staged:
        """Parse lines in Python batches into Arrow, then map in SQL like the CSV formats."""
        mapping = canonical_mapping(options.mapping)
        keys = list(mapping)
        digest = hashlib.sha256()
        good: dict[str, list[Any]] = {"__rid": [], "__record": [], "__line": [], "__raw": []}
        for k in keys:
            good[f"m_{k}"] = []
        rejects: list[tuple[int, int, str, str]] = []
        record_no = 0
        for line_no, line, complete in _lines(path, digest):
            if not line.strip():
                continue
            record_no += 1
            try:
                obj = json.loads(line)
            except ValueError:
                if not complete:
                    raise SourceError(
                        f"File {path} looks truncated: its last line ({line_no}) is cut-off "
                        "JSON and the file does not end with a newline. Copy or export it again."
                    ) from None
                rejects.append((record_no, line_no, line, base.BAD_JSON))
                continue
            if not isinstance(obj, dict):
                rejects.append((record_no, line_no, line, base.BAD_JSON))
                continue
            good["__rid"].append(len(good["__rid"]))
            good["__record"].append(record_no)
            good["__line"].append(line_no)
            good["__raw"].append(line)
            for k in keys:
                good[f"m_{k}"].append(_as_text(_dig(obj, mapping[k])))
        schema = pa.schema(
            [("__rid", pa.int64()), ("__record", pa.int64()), ("__line", pa.int64())]
            + [(name, pa.string()) for name in good if name not in ("__rid", "__record", "__line")]
        )
        table = pa.table(good, schema=schema)
        for name in ("_sa_raw", "_sa_rejects"):
            con.execute(f"DROP TABLE IF EXISTS {name}")
        con.register("_sa_arrow", table)
        con.execute("CREATE TEMP TABLE _sa_raw AS SELECT * FROM _sa_arrow")
        con.unregister("_sa_arrow")
        rej = rows_table(rejects, REJECT_COLUMNS)
        con.register("_sa_rej_arrow", rej)
        con.execute("CREATE TEMP TABLE _sa_rejects AS SELECT * FROM _sa_rej_arrow")
        con.unregister("_sa_rej_arrow")
        fields, checks = mapped_fields({k: f'"m_{k}"' for k in keys}, options)
        base.build_stage(con, fields, checks, source="_sa_raw", raw='"__raw"')
        return base.Staged(read=record_no, sha256=digest.hexdigest())

    def positions(self, con: duckdb.DuckDBPyConnection) -> None:
        """Records and lines were counted while reading."""
        con.execute("DROP TABLE IF EXISTS _sa_pos")
        con.execute(
            "CREATE TEMP TABLE _sa_pos AS "
            "SELECT __rid AS rid, __record AS record_no, __line AS line_no FROM _sa_raw"
        )


def _lines(path: Path, digest: Any) -> Iterator[tuple[int, str, bool]]:
    """Yield (line number, text, ended with a newline)."""
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, start=1):
            digest.update(raw)
            try:
                yield n, raw.decode("utf-8").rstrip("\r\n"), raw.endswith(b"\n")
            except UnicodeDecodeError:
                raise SourceError(
                    f"Line {n} of {path} is not UTF-8. Re-save the file as UTF-8."
                ) from None


def _dig(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(obj, dict):
            obj = obj.get(part)
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return None
    return obj


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, ensure_ascii=False)
