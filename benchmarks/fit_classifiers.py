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
  each file, the two files weighing half each; per-class offsets added to the intercepts, chosen
  by 5-fold cross-validation on the same rows (``choose_offsets``).

The files are written byte-stable (``LinearTextModel.save``): the same data and library
versions give the same sha256, printed at the end.

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
# The measure each source is judged by in the issue: macro-F1 on airline tweets, macro-averaged
# recall on TweetEval (its leaderboard's measure); ``choose_offsets`` maximises their mean.
SENTIMENT_MEASURES = ("f1", "recall")
# Candidate log-odds offsets for the negative and neutral classes (positive stays at 0).
OFFSET_GRID = tuple(round(x * 0.1, 1) for x in range(-8, 6))


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


def _sentiment_rows(
    parts: Sequence[tuple[Labelled, float]],
) -> tuple[list[str], list[str], list[float], list[int]]:
    """Texts, labels, weights and source index of each row (weighted as ``fit_sentiment`` says)."""
    texts: list[str] = []
    labels: list[str] = []
    weights: list[float] = []
    source: list[int] = []
    for k, (data, share) in enumerate(parts):
        counts = Counter(data.labels)
        texts += data.texts
        labels += data.labels
        weights += [share / (len(counts) * counts[lab]) for lab in data.labels]
        source += [k] * len(data.texts)
    scale = len(weights) / sum(weights)
    return texts, labels, [w * scale for w in weights], source


def _fit_linear(
    texts: Sequence[str], labels: Sequence[str], weights: Sequence[float], names: list[str]
) -> textmodel.LinearTextModel:
    return textmodel.fit(
        texts,
        labels,
        dense=dense_features(texts),
        dense_names=DENSE_FEATURES,
        min_df=2,
        c=SENTIMENT_C,
        sample_weight=weights,
        balanced=False,
        meta={"kind": "sentiment", "fitted_on": names},
    )


def source_score(gold: Sequence[str], pred: Sequence[str], measure: str) -> float:
    """A source's measure: macro-F1 (``"f1"``) or macro-averaged recall (``"recall"``)."""
    from sklearn.metrics import f1_score, recall_score

    fn = f1_score if measure == "f1" else recall_score
    return float(fn(gold, pred, labels=sorted(set(gold)), average="macro"))


def choose_offsets(
    parts: Sequence[tuple[Labelled, float]], measures: Sequence[str]
) -> tuple[dict[str, float], float]:
    """Per-class log-odds offsets chosen by 5-fold cross-validation on these rows only.

    Why: a logistic regression fitted with balanced weights still leans to the class whose
    words it has seen most (neutral, here), while macro-averaged recall and macro-F1 reward
    balanced recall. Each fold refits the whole recipe (vocabulary included) on four fifths
    and predicts the fifth; the offsets (added to the negative and neutral log-odds, positive
    fixed at 0) that maximise the mean of each source's measure over the out-of-fold
    predictions are kept. No row outside ``parts`` is read, so the held-out rows stay untouched.
    """
    from sklearn.model_selection import StratifiedKFold

    texts, labels, weights, source = _sentiment_rows(parts)
    strata = [f"{lab}/{k}" for lab, k in zip(labels, source, strict=True)]
    logp = np.zeros((len(texts), 3))
    classes: tuple[str, ...] = ()
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    for train, test in folds.split(np.zeros(len(texts)), strata):
        model = _fit_linear(
            [texts[i] for i in train],
            [labels[i] for i in train],
            [weights[i] for i in train],
            [],
        )
        part = [texts[i] for i in test]
        logp[test] = np.log(np.clip(model.proba(part, dense_features(part)), 1e-12, 1.0))
        classes = model.classes
    gold = np.array(labels)
    src = np.array(source)
    best, best_score = {c: 0.0 for c in classes}, -1.0
    for neg in OFFSET_GRID:
        for neu in OFFSET_GRID:
            shift = np.array([{"negative": neg, "neutral": neu}.get(c, 0.0) for c in classes])
            pred = np.array(classes)[(logp + shift).argmax(axis=1)]
            score = float(
                np.mean(
                    [
                        source_score(gold[src == k], pred[src == k], m)
                        for k, m in enumerate(measures)
                    ]
                )
            )
            if score > best_score + 1e-9:
                best = {c: float(s) for c, s in zip(classes, shift, strict=True)}
                best_score = score
    return best, best_score


def fit_sentiment(
    parts: Sequence[tuple[Labelled, float]], measures: Sequence[str] | None = None
) -> textmodel.LinearTextModel:
    """Sentiment model: words + character n-grams + the care lexicon's features + class offsets.

    Classes are balanced within each source, and each source weighs its given share in total:
    the airline file is two-thirds complaints and TweetEval mostly neutral and positive, so
    balancing over the pooled rows would teach the model the airline file's prior. With
    ``measures`` (one per part: ``"f1"`` or ``"recall"``), per-class offsets are chosen by
    cross-validation on the same rows (``choose_offsets``) and added to the intercepts.
    """
    texts, labels, weights, _ = _sentiment_rows(parts)
    model = _fit_linear(texts, labels, weights, [d.name for d, _ in parts])
    if measures:
        offsets, cv_score = choose_offsets(parts, measures)
        model.intercept = model.intercept + np.array([offsets[c] for c in model.classes])
        model.meta.update({"class_offsets": offsets, "offsets_cv_score": round(cv_score, 4)})
    return model


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
        model = fit_sentiment([(air, AIRLINE_SHARE), (te, TWEETEVAL_SHARE)], SENTIMENT_MEASURES)
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
