"""Score the intent, deflection and resolution rules against the hand-labelled gold sets.

The gold sets (``benchmarks/gold/``, ids and labels only; guide in ``LABELLING.md``) were
labelled by reading each post, independently of the rules. The posts' text comes from
``../shared/data/twcs/twcs_head5k.csv``, imported through socialaudit's own TWCS importer so
every record (including the one with bare carriage returns) is read exactly.

Honesty about tuning (LABELLING.md, section 5, says what was fitted on what):
- intent: the rules were written and the question/complaint heads fitted on sets A-D
  (``intent_gold.csv``, ``intent_gold_b.csv``, ``intent_gold_c.csv``, ``intent_holdout.csv``:
  1,220 posts; complaints also on the airline dev file). ``intent_gold_e.csv`` (set E, 300
  posts) was drawn and labelled before intent-5 was written and is never used to write or fit
  anything: its column is the fair figure.
- deflection and resolution: the rules were revised after reading the errors on the *dev* half
  of each gold set (even tweet ids) only; the *held-out* half (odd ids) was never inspected.

Usage: python benchmarks/eval_listening.py [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from pathlib import Path

import socialaudit
from socialaudit.enrich import deflection, intent, resolution

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "benchmarks" / "gold"
# The shared data folder sits beside the checkout; SOCIALAUDIT_SHARED_DATA points elsewhere.
DATA = Path(os.environ.get("SOCIALAUDIT_SHARED_DATA") or ROOT.parent / "shared" / "data")
SAMPLE = DATA / "twcs" / "twcs_head5k.csv"

# The floor the issue quotes: a plain keyword list for "asks to move channel".
FLOOR_KEYWORDS = re.compile(
    r"\b(?:dm|direct message|private message|e-?mail|call|phone|chat|contact us|reach out)\b",
    re.IGNORECASE,
)


def prf(gold: list[int], pred: list[int]) -> dict[str, float]:
    """Precision, recall and F1 of the positive class."""
    tp = sum(1 for g, p in zip(gold, pred, strict=True) if g and p)
    fp = sum(1 for g, p in zip(gold, pred, strict=True) if not g and p)
    fn = sum(1 for g, p in zip(gold, pred, strict=True) if g and not p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "support": sum(gold)}


def texts() -> dict[str, str]:
    """Every post of the TWCS sample by id, read by the real importer."""
    store = socialaudit.open(":memory:")
    socialaudit.import_file(SAMPLE, store=store)
    frame = store.frame("SELECT post_id, text FROM posts")
    return dict(zip(frame["post_id"], frame["text"], strict=True))


def gold(name: str) -> list[dict[str, str]]:
    with (GOLD / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


SPLITS = {"dev": 0, "held_out": 1, "all": None}


def split(rows: list[dict[str, str]], parity: int | None) -> list[dict[str, str]]:
    """Rows of one half (by tweet id parity), or all of them."""
    return [r for r in rows if parity is None or int(r["tweet_id"]) % 2 == parity]


def score_split(by_id: dict[str, str], parity: int | None) -> dict[str, dict[str, float]]:
    """Every figure for one half of the gold sets."""
    out: dict[str, dict[str, float]] = {}
    rows = split(gold("deflection_gold.csv"), parity)
    replies = [by_id[r["tweet_id"]] for r in rows]
    kinds = [deflection.classify_reply(t)[0] for t in replies]
    asks = [int(r["asks_move_channel"]) for r in rows]
    out["deflection: asks_move_channel"] = prf(asks, [int(k is not None) for k in kinds])
    out["deflection: only_moves_channel"] = prf(
        [int(r["only_moves_channel"]) for r in rows], [int(k == deflection.ONLY) for k in kinds]
    )
    out["floor (keyword list): asks_move"] = prf(
        asks, [int(bool(FLOOR_KEYWORDS.search(t))) for t in replies]
    )
    rows = split(gold("resolution_gold.csv"), parity)
    out["resolution: resolved"] = prf(
        [int(r["resolved"]) for r in rows],
        [int(resolution.classify(by_id[r["tweet_id"]])[0]) for r in rows],
    )
    return out


INTENT_SETS = {
    "set E, intent_gold_e.csv (untouched)": ("intent_gold_e.csv",),
    "sets A-D (fitted on)": (
        "intent_gold.csv",
        "intent_gold_b.csv",
        "intent_gold_c.csv",
        "intent_holdout.csv",
    ),
}


def intent_floor(posts: list[str]) -> list[set[str]]:
    """The floor: a question mark is a question, a VADER-negative post (compound <= -0.05) a
    complaint, a VADER-positive one (>= 0.05) praise."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    out = []
    for text in posts:
        compound = vader.polarity_scores(text)["compound"]
        labels = {"question"} if "?" in text else set()
        if compound <= -0.05:
            labels.add("complaint")
        elif compound >= 0.05:
            labels.add("praise")
        out.append(labels or {"other"})
    return out


def score_intent(by_id: dict[str, str], names: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Per-label and actionable P/R/F1 of the floor and both intent variants on gold files."""
    rows = [row for name in names for row in gold(name)]
    posts = [by_id[r["tweet_id"]] for r in rows]
    predictions = {
        "floor (? + VADER)": intent_floor(posts),
        "intent rules": [set(p) for p, _ in intent.IntentEnricher("rules").classify_many(posts)],
        "intent default": [set(p) for p, _ in intent.IntentEnricher().classify_many(posts)],
    }
    out: dict[str, dict[str, float]] = {}
    actionable = [int(r["question"] == "1" or r["complaint"] == "1") for r in rows]
    for variant, predicted in predictions.items():
        for label in intent.LABELS:
            out[f"{variant}: {label}"] = prf(
                [int(r[label]) for r in rows], [int(label in p) for p in predicted]
            )
        out[f"{variant}: actionable"] = prf(
            actionable, [int(bool(p & {"question", "complaint"})) for p in predicted]
        )
    return out


def intent_rate(sample: list[str], enricher: intent.IntentEnricher) -> float:
    """Posts per second of one variant on ``sample`` (one core, one batch, first load excluded)."""
    enricher.classify_many(sample[:10])
    start = time.perf_counter()
    enricher.classify_many(sample)
    return len(sample) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not SAMPLE.exists():
        print(f"SKIPPED: {SAMPLE} is not here (the shared data folder is absent).")
        return 0
    by_id = texts()
    results = {name: score_split(by_id, parity) for name, parity in SPLITS.items()}
    intents = {label: score_intent(by_id, name) for label, name in INTENT_SETS.items()}
    sample = list(by_id.values())
    rates = {
        variant: intent_rate(sample, intent.IntentEnricher(variant)) for variant in intent.VARIANTS
    }
    if args.json:
        print(json.dumps({"intent": intents, "splits": results, "intent_posts_per_s": rates}))
        return 0
    print(f"Gold sets in {GOLD.relative_to(ROOT)}; text from {SAMPLE.name}.")
    print("Intent, P / R / F1 (support): the floor and ours on the untouched labels, then on")
    print("the labels the complaint head was fitted on (LABELLING.md says which is which).")
    sets = list(INTENT_SETS)
    print(f"{'':<36}" + "".join(f"{s:>34}" for s in sets))
    for key in intents[sets[0]]:
        cells = "".join(
            "{precision:>12.3f}{recall:>6.3f}{f1:>6.3f} ({support:>3})".format(**intents[s][key])
            for s in sets
        )
        print(f"{key:<36}{cells}")
    print(
        "Deflection and resolution on the dev half (rules revised on it), the held-out half, all:"
    )
    print(f"{'':<36}{'dev':>22}{'held-out':>22}{'all':>22}")
    for key in results["all"]:
        cells = "".join(
            "{precision:>6.3f}{recall:>6.3f}{f1:>6.3f} ({support:>3})".format(**results[s][key])
            for s in SPLITS
        )
        print(f"{key:<36}{cells}")
    for variant, rate in rates.items():
        print(f"intent {variant}: {rate:,.0f} posts/s (one core, all 5,000 posts in one batch)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
