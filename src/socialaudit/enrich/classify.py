"""Run one enricher over any CSV/JSONL file: how users test the models on their own data.

The input rows come back unchanged with ``label`` and ``score`` appended. Files are streamed in
batches (the enricher sees a batch at a time, as in the store), so a large file never sits
in memory whole.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyarrow as pa

from socialaudit.enrich.base import Enricher
from socialaudit.errors import SourceError
from socialaudit.ingest.base import read_sample
from socialaudit.ingest.youtube import UCI_HEADER, comment_text

BATCH_ROWS = 5_000
JSON_SUFFIXES = {".jsonl", ".ndjson", ".json"}


@dataclass
class ClassifyResult:
    """How many rows were labelled, and the label counts."""

    rows: int
    labels: dict[str, int]


def classify_file(
    path: Path,
    enricher: Enricher,
    *,
    text_column: str,
    out: IO[str] | None = None,
    batch_rows: int = BATCH_ROWS,
    platform: str | None = None,
) -> ClassifyResult:
    """Label every row's ``text_column`` and write rows plus ``label``/``score`` as CSV.

    ``platform`` tells the enricher where the posts come from (spam judges video comment
    sections differently from customer care). Without it, a file in the UCI YouTube comment
    shape is read as YouTube comments, as ``import`` would store it: comment HTML decoded,
    ``AUTHOR`` as the author (near-duplicates by different authors count).
    """
    sample = read_sample(path)  # empty, binary and non-UTF-8 files stop here with one clear line
    uci = [h.strip() for h in sample.first_line.split(",")] == UCI_HEADER
    platform = platform or ("youtube" if uci else None)
    rows: Iterator[dict[str, object]] = (
        _json_rows(path) if path.suffix.lower() in JSON_SUFFIXES else _csv_rows(path)
    )
    first = next(rows, None)
    if first is None:
        raise SourceError(f"File {path} has a header but no rows. Nothing to classify.")
    header = list(first)
    if text_column not in first:
        raise SourceError(
            f"No column {text_column!r} in {path} (columns: {', '.join(header[:12])}). "
            "Pass the right --text-column."
        )
    writer = csv.writer(out or sys.stdout, lineterminator="\n")
    writer.writerow([*header, "label", "score"])
    counts: dict[str, int] = {}
    total = 0
    seen_text = False
    for batch in _batches(_chain(first, rows), batch_rows):
        texts = [_text(r.get(text_column)) for r in batch]
        seen_text = seen_text or any(t.strip() for t in texts)
        authors = pa.nulls(len(texts), pa.string())
        if uci:
            texts = [comment_text(t) or "" for t in texts]
            authors = pa.array([_text(r.get("AUTHOR")) or None for r in batch], pa.string())
        table = pa.table(
            {
                "text": pa.array(texts, pa.string()),
                "author_id": authors,
                "platform": pa.array([platform] * len(texts), pa.string()),
            }
        )
        labels = enricher.run(table)
        for row, label, score in zip(batch, labels.label, labels.score, strict=True):
            writer.writerow(
                [_text(row.get(c)) for c in header]
                + [label or "", "" if score is None else f"{score:.4f}"]
            )
            counts[label or ""] = counts.get(label or "", 0) + 1
        total += len(batch)
    if not seen_text:
        raise SourceError(
            f"Column {text_column!r} of {path} is empty in every row. "
            "Pass the column that holds the post text."
        )
    return ClassifyResult(rows=total, labels=counts)


def _csv_rows(path: Path) -> Iterator[dict[str, object]]:
    # The csv module keeps bare \r inside quoted fields, which naive line splitting breaks.
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(_skip_leading_blank(fh))
        if not reader.fieldnames:
            raise SourceError(f"File {path} has no header row. Add one naming the columns.")
        for row in reader:
            # Extra fields of a long row sit under the None key: dropped, not written.
            yield {k: v for k, v in row.items() if k is not None}


def _skip_leading_blank(lines: IO[str]) -> Iterator[str]:
    """Lines from the first non-blank one: some exports start with an empty line."""
    started = False
    for line in lines:
        if not started and not line.strip():
            continue
        started = True
        yield line


def _json_rows(path: Path) -> Iterator[dict[str, object]]:
    with path.open(encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                raise SourceError(
                    f"Line {number} of {path} is not JSON. Pass JSONL (one object per line) "
                    "or a CSV file."
                ) from None
            if not isinstance(obj, dict):
                raise SourceError(f"Line {number} of {path} is not a JSON object.")
            yield obj


def _chain(first: dict[str, object], rest: Iterator[dict[str, object]]) -> Iterator[dict]:
    yield first
    yield from rest


def _batches(rows: Iterator[dict], size: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
