"""A sentiment model fitted on the user's own labelled posts (``socialaudit train sentiment``).

The default scorer knows customer-care language in general; a team that has labelled some of its
own posts can do better on its own domain. The model is deliberately plain, so it trains in
seconds to minutes on a laptop and its cross-validated score is honest:

- features: word 1-2-grams and character 2-5-grams (TF-IDF), the care scorer's compound score,
  and sentence embeddings (by default the static MiniLM model shipped in every install);
- a multinomial logistic regression with balanced class weights and scikit-learn's default
  regularisation, fixed in advance (nothing is tuned on the data it is scored on; each CV fold
  refits the TF-IDF vocabularies and the classifier on its own training rows).

The saved model is a folder: ``model.joblib`` (scikit-learn objects; load only models you trust,
as with any pickle) and ``meta.json`` (what it was trained on, classes, the CV score).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from socialaudit.enrich.base import Labels, Target, texts
from socialaudit.errors import SocialAuditError

CLASSES = ("negative", "neutral", "positive")
_SYNONYMS = {
    "negative": "negative",
    "neg": "negative",
    "-1": "negative",
    "neutral": "neutral",
    "neu": "neutral",
    "0": "neutral",
    "positive": "positive",
    "pos": "positive",
    "1": "positive",
}
MIN_PER_CLASS = 5
FORMAT = 1


class TrainError(SocialAuditError, ValueError):
    """Raised for labelled data that cannot train a model (missing column, too few labels)."""

    exit_code = 2


def normalise_labels(labels: Sequence[object]) -> list[str]:
    """Map label spellings (pos/neg/neu, 1/0/-1, any case) to the three classes."""
    out = []
    bad: set[str] = set()
    for raw in labels:
        key = str(raw).strip().lower()
        lab = _SYNONYMS.get(key)
        if lab is None:
            bad.add(str(raw))
        else:
            out.append(lab)
    if bad:
        shown = ", ".join(sorted(repr(b) for b in bad)[:5])
        raise TrainError(
            f"Unknown sentiment labels {shown}; use negative/neutral/positive "
            "(or neg/neu/pos, -1/0/1)."
        )
    return out


def check_training_set(items: Sequence[str], labels: Sequence[str], folds: int) -> None:
    """Refuse data too small to fit or to cross-validate, with a line saying what is missing."""
    if not items:
        raise TrainError("No labelled rows to train on; the file has a header but no data.")
    counts = {c: labels.count(c) for c in sorted(set(labels))}
    if len(counts) < 2:
        raise TrainError(
            f"Need at least two sentiment classes to train; found only {next(iter(counts))!r}."
        )
    need = max(MIN_PER_CLASS, folds)
    thin = {c: n for c, n in counts.items() if n < need}
    if thin:
        shown = ", ".join(f"{c}: {n}" for c, n in thin.items())
        raise TrainError(f"Too few labelled posts ({shown}); need at least {need} per class.")


def _embedding_backend(embeddings: str) -> str | None:
    if embeddings == "none":
        return None
    if embeddings not in ("core", "static", "minilm"):
        raise TrainError(f"Unknown --embeddings {embeddings!r}; use core, static, minilm or none.")
    return embeddings


def _embeddings_version(backend: str | None) -> str | None:
    """Which embedding model the features came from (a different one needs a retrain)."""
    if backend is None:
        return None
    from socialaudit.enrich.embeddings import STATIC_VERSION
    from socialaudit.enrich.static_model import VERSION as CORE_VERSION

    return {"core": CORE_VERSION, "static": STATIC_VERSION}.get(backend, "all-minilm-l6-v2")


class _Features:
    """Turns texts into the model's feature matrix; fitted on training rows only."""

    def __init__(self, embeddings: str | None) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.embeddings = embeddings
        self.words = TfidfVectorizer(
            ngram_range=(1, 2), min_df=2, sublinear_tf=True, lowercase=True, max_features=100_000
        )
        self.chars = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=(2, 5),
            min_df=2,
            sublinear_tf=True,
            max_features=200_000,
        )

    def _dense(self, items: Sequence[str]) -> np.ndarray:
        from socialaudit.enrich.sentiment import score_texts

        care = np.asarray(score_texts(items), dtype=np.float32)[:, None]
        parts = [care, np.abs(care)]
        if self.embeddings is not None:
            from socialaudit.enrich.embeddings import embed

            parts.append(embed(items, backend=self.embeddings))  # type: ignore[arg-type]
        return np.hstack(parts)

    def fit_transform(self, items: Sequence[str]) -> Any:
        from scipy import sparse

        return sparse.hstack(
            [self.words.fit_transform(items), self.chars.fit_transform(items), self._dense(items)]
        ).tocsr()

    def transform(self, items: Sequence[str]) -> Any:
        from scipy import sparse

        return sparse.hstack(
            [self.words.transform(items), self.chars.transform(items), self._dense(items)]
        ).tocsr()


def _classifier() -> Any:
    from sklearn.linear_model import LogisticRegression

    # scikit-learn's default regularisation (C=1), fixed beforehand rather than searched: an
    # inner search tripled training time here and would need nesting to keep the CV honest.
    return LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)


@dataclass
class TrainedModel:
    """A fitted feature pipeline and classifier, with what it was trained on."""

    features: _Features
    classifier: Any
    meta: dict[str, Any] = field(default_factory=dict)

    def predict(self, items: Sequence[str]) -> tuple[list[str], list[float]]:
        """Class and -1..1 score (P(positive) - P(negative)) for each text."""
        if not items:
            return [], []
        probs = self.classifier.predict_proba(self.features.transform(items))
        classes = list(self.classifier.classes_)
        pos = probs[:, classes.index("positive")] if "positive" in classes else 0.0
        neg = probs[:, classes.index("negative")] if "negative" in classes else 0.0
        scores = np.asarray(pos - neg, dtype=np.float64).reshape(-1)
        if scores.size != len(items):
            scores = np.zeros(len(items))
        labels = [classes[i] for i in probs.argmax(axis=1)]
        return labels, [round(float(s), 4) for s in scores]

    def save(self, folder: Path) -> None:
        """Write ``model.joblib`` and ``meta.json`` into ``folder`` (created if needed)."""
        import joblib

        folder.mkdir(parents=True, exist_ok=True)
        joblib.dump(
            {"features": self.features, "classifier": self.classifier}, folder / "model.joblib"
        )
        digest = hashlib.sha256((folder / "model.joblib").read_bytes()).hexdigest()[:12]
        meta = {**self.meta, "format": FORMAT, "digest": digest}
        (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        self.meta = meta


def fit(items: Sequence[str], labels: Sequence[str], embeddings: str = "static") -> TrainedModel:
    """Fit on all rows (labels already normalised)."""
    backend = _embedding_backend(embeddings)
    features = _Features(backend)
    x = features.fit_transform(list(items))
    clf = _classifier().fit(x, list(labels))
    meta = {
        "kind": "sentiment",
        "embeddings": backend or "none",
        "embeddings_version": _embeddings_version(backend),
        "rows": len(items),
        "classes": sorted(set(labels)),
    }
    return TrainedModel(features=features, classifier=clf, meta=meta)


@dataclass
class CVResult:
    """Cross-validated macro-F1: the mean and each fold's."""

    macro_f1: float
    folds: list[float]


def cross_validate(
    items: Sequence[str],
    labels: Sequence[str],
    embeddings: str = "static",
    folds: int = 5,
    progress: Any = None,
) -> CVResult:
    """Stratified k-fold macro-F1; every fold refits features and classifier on its train rows."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    items, labels = list(items), list(labels)
    check_training_set(items, labels, folds)
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    scores = []
    y = np.asarray(labels)
    for train_idx, test_idx in skf.split(np.zeros(len(items)), y):
        model = fit([items[i] for i in train_idx], [labels[i] for i in train_idx], embeddings)
        pred, _ = model.predict([items[i] for i in test_idx])
        scores.append(float(f1_score(y[test_idx], pred, average="macro")))
        if progress is not None:
            progress(f"fold {len(scores)}/{folds}: macro-F1 {scores[-1]:.3f}")
    return CVResult(macro_f1=float(np.mean(scores)), folds=scores)


class TrainedSentiment:
    """The ``sentiment`` enricher backed by a model from ``socialaudit train sentiment``."""

    name = "sentiment"
    target: Target = "all"
    columns = {"sentiment": "float64", "sentiment_label": "string"}

    def __init__(self, model: TrainedModel) -> None:
        self.model = model
        # A retrained model is a new version: enrich recomputes sentiment with it.
        self.version = f"trained-{model.meta.get('digest', 'unsaved')}"

    def run(self, batch: pa.Table) -> Labels:
        """Label the batch, each distinct text once."""
        items = texts(batch)
        distinct = list(dict.fromkeys(items))
        labels, scores = self.model.predict(distinct)
        by_text = dict(zip(distinct, zip(labels, scores, strict=True), strict=True))
        lab = [by_text[t][0] for t in items]
        sco = [by_text[t][1] for t in items]
        return Labels(
            label=list(lab),
            score=list(sco),
            columns={"sentiment": list(sco), "sentiment_label": list(lab)},
        )


def load_trained(path: Path | str) -> TrainedSentiment:
    """The enricher of a saved model folder (for ``enrich``/``classify`` ``--sentiment-model``)."""
    import joblib

    folder = Path(path)
    meta_file, model_file = folder / "meta.json", folder / "model.joblib"
    if not meta_file.exists() or not model_file.exists():
        raise TrainError(
            f"{folder} is not a trained sentiment model (no meta.json/model.joblib); "
            "make one with: socialaudit train sentiment LABELLED.csv --out DIR"
        )
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    if meta.get("kind") != "sentiment" or meta.get("format") != FORMAT:
        raise TrainError(
            f"{folder} holds a {meta.get('kind')!r} model of format {meta.get('format')!r}; "
            "retrain it with this socialaudit."
        )
    if meta.get("embeddings", "none") != "none":
        from socialaudit.enrich.embeddings import embedder

        embedder(meta["embeddings"])  # fail now, clearly, if the extra is missing
    parts = joblib.load(model_file)
    return TrainedSentiment(TrainedModel(parts["features"], parts["classifier"], meta))


def read_labelled(path: Path, text_column: str, label_column: str) -> tuple[list[str], list[str]]:
    """Texts and normalised labels from a CSV or JSONL file; rows without a label are skipped."""
    import pandas as pd

    if not path.is_file():
        raise TrainError(f"No such file: {path}")
    try:
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            frame = pd.read_json(path, lines=True, dtype=False)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise TrainError(f"{path} is empty; it needs a header row and labelled posts.") from None
    except (UnicodeDecodeError, ValueError, pd.errors.ParserError) as exc:
        first = (str(exc).splitlines() or [""])[0]
        raise TrainError(f"Cannot read {path} as CSV/JSONL: {first}") from None
    missing = [c for c in (text_column, label_column) if c not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns[:12])) or "none"
        raise TrainError(
            f"{path} has no column {missing[0]!r} (columns: {have}); "
            "name them with --text-column and --label-column."
        )
    frame = frame[[text_column, label_column]].fillna("").astype(str)
    frame = frame[frame[label_column].str.strip() != ""]
    return frame[text_column].tolist(), normalise_labels(frame[label_column].tolist())


def train_from_file(
    path: Path,
    *,
    text_column: str = "text",
    label_column: str = "label",
    out: Path,
    embeddings: str = "auto",
    folds: int = 5,
    progress: Any = None,
) -> dict[str, Any]:
    """Read, check, cross-validate, fit on everything and save; return what to report."""
    items, labels = read_labelled(path, text_column, label_column)
    check_training_set(items, labels, folds)
    if embeddings == "auto":
        # The static model shipped in every install: the same model whatever is installed.
        embeddings = "core"
    _embedding_backend(embeddings)
    say = progress or (lambda _msg: None)
    say(f"Cross-validating ({folds} folds) on {len(items)} posts, embeddings: {embeddings} ...")
    cv = cross_validate(items, labels, embeddings=embeddings, folds=folds, progress=say)
    say("Fitting on all posts ...")
    model = fit(items, labels, embeddings=embeddings)
    model.meta.update(
        {"source": str(path), "cv_folds": folds, "cv_macro_f1": round(cv.macro_f1, 4)}
    )
    model.save(out)
    return {
        "rows": len(items),
        "class_counts": {c: labels.count(c) for c in CLASSES if c in labels},
        "embeddings": embeddings,
        "cv_macro_f1": round(cv.macro_f1, 4),
        "cv_folds": [round(x, 4) for x in cv.folds],
        "out": str(out),
    }
