"""Sentiment: VADER (the floor) against ours, and the trainable model, in one run.

Figures printed (all on this machine, in the same run):

1. Design check on OUR OWN hand-labelled TWCS sample (``benchmarks/data/twcs_sentiment_gold.csv``,
   160 inbound posts, labels by a developer; the only data used to choose the neutral band):
   macro-F1 of VADER and of the care scorer for each candidate band.
2. The airline evaluation file (``../shared/data/airline_sentiment/airline_sentiment_dev.csv``),
   nothing fitted or tuned on it: macro-F1 of VADER (vaderSentiment, thresholds +-0.05) and of the
   care scorer (``socialaudit.enrich.sentiment``), and posts/s of each (median of ``--runs``).
3. ``socialaudit train sentiment`` on the same file: 5-fold cross-validated macro-F1 (the file IS
   the training data there, as a user's own labelled posts would be), and its posts/s.

Usage::

    python benchmarks/eval_sentiment.py [--runs 3] [--skip-train] [--embeddings static,minilm]
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

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
AIRLINE = DATA / "airline_sentiment" / "airline_sentiment_dev.csv"
TWCS = DATA / "twcs" / "twcs_head5k.csv"
GOLD = Path(__file__).resolve().parent / "data" / "twcs_sentiment_gold.csv"
CLASSES = ["negative", "neutral", "positive"]


def macro_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, pred, labels=CLASSES, average="macro"))


def vader_labels(texts: Sequence[str]) -> list[str]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    sia = SentimentIntensityAnalyzer()
    out = []
    for t in texts:
        c = sia.polarity_scores(t)["compound"]
        out.append("positive" if c >= 0.05 else "negative" if c <= -0.05 else "neutral")
    return out


def ours_labels(texts: Sequence[str], band: float | None = None) -> list[str]:
    from socialaudit.enrich.sentiment import NEUTRAL_BAND, label_of, score_texts

    return [label_of(s, NEUTRAL_BAND if band is None else band) for s in score_texts(texts)]


def rate(fn: Callable[[Sequence[str]], object], texts: Sequence[str], runs: int) -> float:
    """Median posts/s over ``runs`` (each run on fresh, distinct texts: no memo across runs)."""
    times = []
    for r in range(runs):
        batch = [f"{t} {r}" for t in texts]
        start = time.perf_counter()
        fn(batch)
        times.append(time.perf_counter() - start)
    return len(texts) / statistics.median(times)


def read_airline() -> tuple[list[str], list[str]]:
    with AIRLINE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["airline_sentiment"] for r in rows]


def read_gold() -> tuple[list[str], list[str]]:
    """The hand-labelled TWCS sample: ids and labels are in the repo, texts in shared/data."""
    raw = TWCS.read_text(encoding="utf-8").replace("\r", " ")  # record 3399's bare CRs
    text_of = {r["tweet_id"]: r["text"] for r in csv.DictReader(io.StringIO(raw))}
    with GOLD.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [text_of[r["tweet_id"]] for r in rows], [r["label"] for r in rows]


def design_check() -> None:
    texts, gold = read_gold()
    print(f"## Design check: hand-labelled TWCS sample ({len(texts)} inbound posts)\n")
    print("| scorer | neutral band | macro-F1 |")
    print("|---|---|---|")
    print(f"| VADER | 0.05 | {macro_f1(gold, vader_labels(texts)):.3f} |")
    for band in (0.05, 0.25, 0.4):
        print(f"| care scorer | {band} | {macro_f1(gold, ours_labels(texts, band)):.3f} |")
    print()


def airline(runs: int) -> None:
    texts, gold = read_airline()
    print(f"## Airline sentiment dev file ({len(texts)} tweets; nothing fitted on it)\n")
    v_f1 = macro_f1(gold, vader_labels(texts))
    o_f1 = macro_f1(gold, ours_labels(texts))
    v_rate = rate(vader_labels, texts, runs)
    o_rate = rate(ours_labels, texts, runs)
    print("| scorer | macro-F1 | posts/s (median) |")
    print("|---|---|---|")
    print(f"| VADER (floor, +-0.05) | {v_f1:.3f} | {v_rate:,.0f} |")
    print(f"| socialaudit care scorer | {o_f1:.3f} | {o_rate:,.0f} |")
    print(f"\nours/VADER: macro-F1 {o_f1 - v_f1:+.3f}, speed x{o_rate / v_rate:.1f}")
    print("target: macro-F1 >= 0.62 with nothing fitted on this file\n")


def trained(embeddings: str) -> None:
    from socialaudit.enrich.sentiment_model import cross_validate, fit, load_trained

    texts, gold = read_airline()
    print(f"## socialaudit train sentiment on the dev file (embeddings: {embeddings})\n")
    start = time.perf_counter()
    cv = cross_validate(texts, gold, embeddings=embeddings, folds=5, progress=print)
    cv_s = time.perf_counter() - start
    per_fold = ", ".join(f"{x:.3f}" for x in cv.folds)
    print(f"5-fold CV macro-F1: {cv.macro_f1:.3f} (per fold {per_fold})")
    print(f"CV time: {cv_s:.1f} s for {len(texts)} rows (target macro-F1 >= 0.78)")
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        fit(texts, gold, embeddings=embeddings).save(Path(tmp))
        enricher = load_trained(Path(tmp))
        import pyarrow as pa

        batch = pa.table({"text": [f"{t} #{i}" for i, t in enumerate(texts)]})
        start = time.perf_counter()
        enricher.run(batch)
        print(f"trained model labels {len(texts) / (time.perf_counter() - start):,.0f} posts/s\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-train", action="store_true")
    ap.add_argument(
        "--embeddings",
        default="static",
        help="Comma-separated embeddings backends for the trained model: static, minilm, none.",
    )
    ap.add_argument("--only-design", action="store_true", help="Only the TWCS design check.")
    args = ap.parse_args()
    if not AIRLINE.exists() or not TWCS.exists():
        print(f"skipped: {DATA} is absent (the shared data sets are needed for this evaluation)")
        return 0
    design_check()
    if args.only_design:
        return 0
    airline(args.runs)
    if not args.skip_train:
        for backend in args.embeddings.split(","):
            trained(backend.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
