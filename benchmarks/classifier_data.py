"""The labelled data sets behind the spam and sentiment models, and their fixed splits.

One place says what is fitted on what, for ``fit_classifiers.py`` (which writes the shipped
models) and the two evaluation scripts (which refit the same recipes on the fit splits only and
judge on the held-out ones). All files live in ``../shared/data`` (``$SOCIALAUDIT_SHARED_DATA``
overrides it); nothing from them is copied into the project.

Splits, by row position in each file, so they are the same on every machine:

- YouTube Spam Collection: by file (leave one file out); the shipped model sees all three.
- TWCS sample: even rows (0, 2, ...) may be fitted on as "not spam"; odd rows are held out, and
  the customer-care false-positive rate is measured on them.
- Airline sentiment dev file: rows with ``i % 3 == 0`` are held out, the rest fitted on.
- TweetEval sentiment validation file: even rows held out, odd rows fitted on.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("SOCIALAUDIT_SHARED_DATA") or ROOT.parent / "shared" / "data")
YOUTUBE_DIR = DATA / "youtube_spam"
TWCS = DATA / "twcs" / "twcs_head5k.csv"
AIRLINE = DATA / "airline_sentiment" / "airline_sentiment_dev.csv"
TWEETEVAL = DATA / "tweeteval_sentiment" / "val.csv"


def absent(*paths: Path) -> list[Path]:
    """The paths that are not here (the evaluation scripts say so and skip)."""
    return [p for p in paths if not p.exists()]


@dataclass
class Labelled:
    """Texts with labels (and authors where the file has them)."""

    name: str
    texts: list[str]
    labels: list[str]
    authors: list[str | None]

    def rows(self, keep: list[bool]) -> Labelled:
        """The subset of rows where ``keep`` is true."""

        def pick(xs: list) -> list:
            return [x for x, k in zip(xs, keep, strict=True) if k]

        return Labelled(self.name, pick(self.texts), pick(self.labels), pick(self.authors))


def youtube_files() -> list[Path]:
    """The YouTube Spam Collection files present, sorted by name."""
    return sorted(YOUTUBE_DIR.glob("Youtube0*.csv"))


def youtube(path: Path) -> Labelled:
    """One comment file, texts decoded exactly as the YouTube importer stores them."""
    from socialaudit.ingest.youtube import comment_text

    with path.open(encoding="utf-8", newline="") as fh:
        lines = (line for line in fh if line.strip())  # one file starts with a blank line
        rows = list(csv.DictReader(lines))
    return Labelled(
        path.stem,
        [comment_text(r["CONTENT"]) for r in rows],
        ["spam" if r["CLASS"].strip() == "1" else "not_spam" for r in rows],
        [r["AUTHOR"] or None for r in rows],
    )


@dataclass
class Twcs:
    """The TWCS sample: text, author, whether a brand wrote it, and the fit/held-out split."""

    texts: list[str]
    authors: list[str]
    is_org: list[bool]
    held_out: list[bool]


def twcs() -> Twcs:
    """All 5,000 records (records end at ``\\n``; some texts carry bare ``\\r``)."""
    import pandas as pd

    df = pd.read_csv(TWCS, lineterminator="\n", dtype={"author_id": str})
    n = len(df)
    return Twcs(
        texts=df["text"].fillna("").tolist(),
        authors=df["author_id"].tolist(),
        is_org=[not b for b in df["inbound"].tolist()],
        held_out=[i % 2 == 1 for i in range(n)],
    )


def airline() -> tuple[Labelled, list[bool]]:
    """The airline dev file and its held-out mask (``i % 3 == 0``)."""
    with AIRLINE.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    data = Labelled(
        "airline", [r["text"] for r in rows], [r["airline_sentiment"] for r in rows], []
    )
    data.authors = [None] * len(rows)
    return data, [i % 3 == 0 for i in range(len(rows))]


def tweeteval() -> tuple[Labelled, list[bool]]:
    """The TweetEval sentiment validation file and its held-out mask (even rows)."""
    with TWEETEVAL.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    data = Labelled("tweeteval", [r["text"] for r in rows], [r["sentiment"] for r in rows], [])
    data.authors = [None] * len(rows)
    return data, [i % 2 == 0 for i in range(len(rows))]
