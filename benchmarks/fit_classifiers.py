"""Fit the shipped spam and sentiment models and write them into the package.

    python benchmarks/fit_classifiers.py            # both
    python benchmarks/fit_classifiers.py --only spam

The recipes are the functions below; ``eval_spam_language.py`` and ``eval_sentiment.py`` call the
same functions on the fit splits only and judge on the held-out ones (``classifier_data.py`` says
which rows are which). What the shipped models are fitted on:

- spam (``src/socialaudit/enrich/models/spam_linear.npz``): the three YouTube Spam Collection
  files (spam and ham) + the even rows of the TWCS sample and the airline file's fit rows as ham
  (customer care: no spam there, so the model learns what ordinary care talk looks like);
- sentiment (``.../sentiment_linear.npz``): every row of the airline dev file and of the TweetEval
  validation file, with the care lexicon's features beside the words; classes balanced within
  each file, the two files weighing half each.

scikit-learn fits; the result is plain arrays (``socialaudit.enrich.textmodel``), so prediction
needs neither scikit-learn nor a pickle, and the same file gives the same labels everywhere.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from classifier_data import (
    Labelled,
    Twcs,
    absent,
    airline,
    twcs,
    tweeteval,
    youtube,
    youtube_files,
)
from socialaudit.enrich import textmodel
from socialaudit.enrich.sentiment import DENSE_FEATURES, dense_features

MODELS = Path(__file__).resolve().parent.parent / "src" / "socialaudit" / "enrich" / "models"
SPAM_C = 4.0
SENTIMENT_C = 1.0
# The share of the total weight each sentiment source gets (within a source, classes are
# balanced): the general-Twitter set is four times smaller than the airline file but weighs as
# much, since the care vocabulary already covers the airline file's genre.
AIRLINE_SHARE = 0.5
TWEETEVAL_SHARE = 0.5


def fit_spam(
    comments: Sequence[Labelled],
    care: Twcs,
    airline_texts: Sequence[str],
    c: float = SPAM_C,
) -> textmodel.LinearTextModel:
    """Spam model: comment files (both classes) + the TWCS fit rows and airline texts as ham.

    The care rows together weigh as much as the comments' ham rows: with their full weight the
    model would learn "sounds like a video comment" instead of "is spam", and flag ordinary
    comments about the video.
    """
    texts: list[str] = []
    labels: list[str] = []
    for part in comments:
        texts += part.texts
        labels += part.labels
    ham = [t for t, held in zip(care.texts, care.held_out, strict=True) if not held]
    ham += list(airline_texts)
    comment_ham = labels.count("not_spam")
    weights = [1.0] * len(texts) + [comment_ham / len(ham)] * len(ham)
    texts += ham
    labels += ["not_spam"] * len(ham)
    meta = {"kind": "spam", "fitted_on": [p.name for p in comments] + ["twcs even rows", "airline"]}
    return textmodel.fit(
        texts, labels, min_df=2, c=c, sample_weight=weights, balanced=False, meta=meta
    )


def fit_sentiment(parts: Sequence[tuple[Labelled, float]]) -> textmodel.LinearTextModel:
    """Sentiment model: words + character n-grams + the care lexicon's features.

    Classes are balanced within each source, and each source weighs its given share in total:
    the airline file is two-thirds complaints and TweetEval mostly neutral and positive, so
    balancing over the pooled rows would teach the model the airline file's prior.
    """
    texts: list[str] = []
    labels: list[str] = []
    weights: list[float] = []
    for data, share in parts:
        counts = Counter(data.labels)
        texts += data.texts
        labels += data.labels
        weights += [share / (len(counts) * counts[lab]) for lab in data.labels]
    scale = len(weights) / sum(weights)
    return textmodel.fit(
        texts,
        labels,
        dense=dense_features(texts),
        dense_names=DENSE_FEATURES,
        min_df=2,
        c=SENTIMENT_C,
        sample_weight=[w * scale for w in weights],
        balanced=False,
        meta={"kind": "sentiment", "fitted_on": [d.name for d, _ in parts]},
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=("spam", "sentiment"))
    args = ap.parse_args(argv)
    from classifier_data import AIRLINE, TWCS, TWEETEVAL, YOUTUBE_DIR

    missing = absent(YOUTUBE_DIR, TWCS, AIRLINE, TWEETEVAL)
    if missing:
        print(f"cannot fit: {', '.join(map(str, missing))} absent (the shared data sets)")
        return 2
    MODELS.mkdir(parents=True, exist_ok=True)
    air, air_held = airline()
    if args.only in (None, "spam"):
        fit_rows = air.rows([not h for h in air_held])
        model = fit_spam([youtube(p) for p in youtube_files()], twcs(), fit_rows.texts)
        model.save(MODELS / "spam_linear.npz")
        print(f"spam: {model.meta['rows']} rows, {model.meta['features']} features")
    if args.only in (None, "sentiment"):
        te, _ = tweeteval()
        model = fit_sentiment([(air, AIRLINE_SHARE), (te, TWEETEVAL_SHARE)])
        model.save(MODELS / "sentiment_linear.npz")
        print(f"sentiment: {model.meta['rows']} rows, {model.meta['features']} features")
    for f in sorted(MODELS.glob("*.npz")):
        print(f"  {f.name}: {f.stat().st_size / 1e6:.2f} MB, sha256 {_digest(f)}")
    return 0


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
