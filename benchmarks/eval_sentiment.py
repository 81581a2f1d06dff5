"""Sentiment: the floor (VADER), the care lexicon scorer and our model, side by side.

    python benchmarks/eval_sentiment.py [--runs 3] [--train-cv static,none]

What is fitted on what (splits in ``benchmarks/classifier_data.py``, by row position):

1. HELD OUT. The shipped recipe (``fit_classifiers.fit_sentiment``, its class offsets chosen by
   5-fold CV on the same rows) is refitted here on the fit rows only: airline dev rows with
   ``i % 3 != 0`` and TweetEval validation odd rows. It is judged on the rows it never saw:
   airline ``i % 3 == 0`` (2,440 tweets) and TweetEval even rows (1,000), and on our own
   hand-labelled TWCS sample (``benchmarks/data/twcs_sentiment_gold.csv``, 160 customer posts,
   never fitted on by anything). VADER (thresholds +-0.05) and the care lexicon scorer are not
   fitted: their figures on the same rows are the floors.
2. DEV, NOT HELD OUT: the shipped model (fitted on every row of both files) on the whole files.
3. Speed: posts/s of the shipped enricher on one core, as CPU time of this single-threaded
   process (the machine is shared, so wall time is printed too), median of ``--runs``.

``--train-cv`` also runs ``socialaudit train sentiment``'s 5-fold CV on the airline file (slow).
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from classifier_data import AIRLINE, DATA, TWCS, TWEETEVAL, Labelled, absent, airline, tweeteval

GOLD = Path(__file__).resolve().parent / "data" / "twcs_sentiment_gold.csv"
CLASSES = ["negative", "neutral", "positive"]


def scores(gold: Sequence[str], pred: Sequence[str]) -> tuple[float, float]:
    """Macro-F1 and macro-averaged recall over the three classes."""
    from sklearn.metrics import f1_score, recall_score

    return (
        float(f1_score(gold, pred, labels=CLASSES, average="macro")),
        float(recall_score(gold, pred, labels=CLASSES, average="macro")),
    )


def vader_labels(texts: Sequence[str]) -> list[str]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()
    out = []
    for t in texts:
        c = sia.polarity_scores(t)["compound"]
        out.append("positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral")
    return out


def care_labels(texts: Sequence[str]) -> list[str]:
    from socialaudit.enrich.sentiment import label_of, score_texts

    return [label_of(s) for s in score_texts(texts)]


def model_labels(model: object) -> Callable[[Sequence[str]], list[str]]:
    """Labels from a fitted ``LinearTextModel`` (the refitted recipe or the shipped one)."""
    from socialaudit.enrich.sentiment import dense_features

    def run(texts: Sequence[str]) -> list[str]:
        probs = model.proba(texts, dense_features(texts))  # type: ignore[attr-defined]
        return [model.classes[int(k)] for k in probs.argmax(axis=1)]  # type: ignore[attr-defined]

    return run


def read_gold() -> Labelled | None:
    """The hand-labelled TWCS sample: ids and labels in the repo, texts in shared/data."""
    if not TWCS.exists():
        return None
    raw = TWCS.read_text(encoding="utf-8").replace("\r", " ")  # record 3399's bare CRs
    text_of = {r["tweet_id"]: r["text"] for r in csv.DictReader(io.StringIO(raw))}
    with GOLD.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return Labelled(
        "TWCS hand-labelled (ours)",
        [text_of[r["tweet_id"]] for r in rows],
        [r["label"] for r in rows],
        [None] * len(rows),
    )


def table(title: str, sets: Sequence[Labelled], scorers: dict[str, Callable]) -> None:
    print(f"\n## {title}\n")
    print("| data | rows | " + " | ".join(f"{n} F1 / R" for n in scorers) + " |")
    print("|---|---:|" + "---|" * len(scorers))
    for data in sets:
        cells = []
        for fn in scorers.values():
            f1, rec = scores(data.labels, fn(data.texts))
            cells.append(f"{f1:.3f} / {rec:.3f}")
        print(f"| {data.name} | {len(data.texts):,} | " + " | ".join(cells) + " |")
    print("\nF1 = macro-F1, R = macro-averaged recall (TweetEval's measure).")


def rate(fn: Callable[[Sequence[str]], object], texts: Sequence[str], runs: int) -> str:
    """Median posts/s over ``runs`` on fresh texts (no memo across runs): CPU and wall."""
    cpu, wall = [], []
    for r in range(runs):
        batch = [f"{t} {r}" for t in texts]
        c0, w0 = time.process_time(), time.perf_counter()
        fn(batch)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    n = len(texts)
    return f"{n / statistics.median(cpu):,.0f} (wall {n / statistics.median(wall):,.0f})"


def train_cv(embeddings: str) -> None:
    """``socialaudit train sentiment``'s CV on the airline file (the user-trained path)."""
    from socialaudit.enrich.sentiment_model import cross_validate

    air, _ = airline()
    start = time.perf_counter()
    cv = cross_validate(air.texts, air.labels, embeddings=embeddings, folds=5)
    per_fold = ", ".join(f"{x:.3f}" for x in cv.folds)
    print(f"\ntrain sentiment (embeddings {embeddings}), 5-fold CV on the airline dev file:")
    print(f"macro-F1 {cv.macro_f1:.3f} (folds {per_fold}), {time.perf_counter() - start:.0f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--train-cv", default="", help="also CV `train sentiment`: static,none")
    args = ap.parse_args()
    missing = absent(AIRLINE, TWEETEVAL)
    if missing:
        print(f"SKIPPED: {', '.join(map(str, missing))} absent; {DATA} holds the shared data sets")
        return 0
    from fit_classifiers import (
        AIRLINE_SHARE,
        SENTIMENT_MEASURES,
        TWEETEVAL_SHARE,
        fit_sentiment,
    )
    from socialaudit.enrich import sentiment

    air, air_held = airline()
    te, te_held = tweeteval()
    fit_air, fit_te = air.rows([not h for h in air_held]), te.rows([not h for h in te_held])
    refit = fit_sentiment([(fit_air, AIRLINE_SHARE), (fit_te, TWEETEVAL_SHARE)], SENTIMENT_MEASURES)
    offsets = refit.meta["class_offsets"]
    print(
        "class offsets chosen by 5-fold CV on the fit rows only: "
        + ", ".join(f"{c} {v:+.1f}" for c, v in offsets.items())
        + f" (CV mean of airline F1 and TweetEval recall {refit.meta['offsets_cv_score']:.3f})"
    )
    held = [air.rows(air_held), te.rows(te_held)]
    held[0].name, held[1].name = "airline held-out rows", "TweetEval held-out rows"
    gold = read_gold()
    if gold is not None:
        held.append(gold)
    else:
        print(f"(TWCS sample absent under {DATA}: the hand-labelled check is skipped)")
    floors = {"VADER (floor)": vader_labels, "care lexicon": care_labels}
    table(
        f"HELD OUT: ours refitted on {len(fit_air.texts):,} airline + {len(fit_te.texts):,} "
        "TweetEval fit rows",
        held,
        {**floors, "ours": model_labels(refit)},
    )
    air.name, te.name = "airline dev file (DEV)", "TweetEval val file (DEV)"
    table(
        "DEV, NOT HELD OUT: the shipped model was fitted on every row of these files",
        [air, te],
        {**floors, "ours (shipped)": model_labels(sentiment.model())},
    )
    print(f"\n## Speed on the {len(air.texts):,} airline tweets, posts/s on one core (CPU time)\n")
    print(f"- ours (shipped enricher): {rate(sentiment.predict, air.texts, args.runs)}")
    print(f"- care lexicon alone: {rate(sentiment.score_texts, air.texts, args.runs)}")
    print(f"- VADER: {rate(vader_labels, air.texts, args.runs)}")
    for backend in filter(None, args.train_cv.split(",")):
        train_cv(backend.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
