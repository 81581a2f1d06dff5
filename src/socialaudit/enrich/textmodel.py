"""A small linear text model stored as plain arrays: the fitted part of spam and sentiment.

Why not a pickled scikit-learn pipeline: a pickle is tied to the scikit-learn version that wrote
it, and loading one runs code. The shipped models are instead a ``.npz`` of arrays (feature
strings, IDF weights, coefficients, intercepts, class names) loaded with ``allow_pickle=False``,
and the features are computed here, by this module, on every install: the same text gives the
same scores wherever it runs. scikit-learn is needed only to fit (``fit``), never to predict.

Features (one vocabulary, prefixed by kind):

- ``w:`` words and ``b:`` word bigrams of the normalised text (lower case, links as ``httpurl``,
  handles as ``@user``, digits as ``0``, letters repeated three or more times cut to two, so
  "PLEASSSSE" and "pleasse" are one word);
- ``c:`` character 2-5-grams inside each word padded with spaces (scikit-learn's ``char_wb``),
  which carry misspellings and word pieces ("subscrib", "chan");
- optional dense features supplied by the caller (e.g. a lexicon score), appended after them.

Values are TF-IDF with sublinear term frequency (1 + ln tf), L2-normalised over the sparse part,
as scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` does. Character n-grams of each distinct
word are computed once and memoised, which keeps prediction at tens of thousands of posts/s.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

_URL = re.compile(r"https?://\S+|\bwww\.\S+", re.IGNORECASE)
_HANDLE = re.compile(r"[@＠]\w+")
_DIGITS = re.compile(r"\d+")
_ELONGATED = re.compile(r"(\w)\1{2,}")
_TOKEN = re.compile(r"[\w']+|[^\w\s]")
_CHAR_N = (2, 5)
_WORD_CACHE_MAX = 200_000


def normalise(text: str) -> str:
    """Lower case; links, handles and digits replaced by placeholders; elongations cut to two."""
    text = _URL.sub(" httpurl ", text)
    text = _HANDLE.sub(" @user ", text)
    text = _DIGITS.sub("0", text.lower().replace("’", "'"))
    return _ELONGATED.sub(r"\1\1", text)


def _char_grams(word: str) -> list[str]:
    padded = f" {word} "
    lo, hi = _CHAR_N
    return ["c:" + padded[i : i + n] for n in range(lo, hi + 1) for i in range(len(padded) - n + 1)]


def features(text: str) -> list[str]:
    """Every feature string of one text, with repeats (the term frequencies)."""
    norm = normalise(text)
    tokens = _TOKEN.findall(norm)
    out = ["w:" + t for t in tokens]
    out.extend("b:" + a + " " + b for a, b in zip(tokens, tokens[1:], strict=False))
    for word in norm.split():
        out.extend(_char_grams(word))
    return out


@dataclass
class LinearTextModel:
    """Multinomial (or binary) logistic regression over TF-IDF features, as plain arrays.

    ``coef`` has one column per class (one column for a binary model: the positive class's
    log-odds); its first ``len(vocab)`` rows weigh the sparse features, the rest the dense ones.
    """

    vocab: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    classes: tuple[str, ...]
    dense_names: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)
    _word_memo: dict[str, list[int]] = field(default_factory=dict, repr=False)

    def _word_indices(self, word: str) -> list[int]:
        """Vocabulary indices of one word's character n-grams (memoised per distinct word)."""
        got = self._word_memo.get(word)
        if got is None:
            vocab = self.vocab
            got = [j for g in _char_grams(word) if (j := vocab.get(g, -1)) >= 0]
            if len(self._word_memo) >= _WORD_CACHE_MAX:
                self._word_memo.clear()
            self._word_memo[word] = got
        return got

    def _indices(self, text: str, out: list[int]) -> None:
        """Append the vocabulary index of every feature occurrence in ``text`` to ``out``."""
        norm = normalise(text)
        tokens = _TOKEN.findall(norm)
        vocab = self.vocab
        keys = ["w:" + t for t in tokens]
        keys += ["b:" + a + " " + b for a, b in zip(tokens, tokens[1:], strict=False)]
        out.extend(j for j in (vocab.get(k, -1) for k in keys) if j >= 0)
        memo = self._word_memo
        for word in norm.split():
            got = memo.get(word)
            out.extend(got if got is not None else self._word_indices(word))

    def matrix(self, items: Sequence[str]) -> Any:
        """The L2-normalised TF-IDF matrix (scipy CSR) of ``items``.

        Python only collects feature indices (per-word n-grams come from the memo); counting,
        weighting and normalising run in numpy over the whole batch.
        """
        from scipy import sparse

        flat: list[int] = []
        lengths = np.zeros(len(items), dtype=np.int64)
        for i, text in enumerate(items):
            before = len(flat)
            self._indices(text, flat)
            lengths[i] = len(flat) - before
        n_vocab = len(self.vocab)
        key = np.repeat(np.arange(len(items), dtype=np.int64), lengths) * n_vocab + np.asarray(
            flat, dtype=np.int64
        )
        uniq, counts = np.unique(key, return_counts=True)
        rows, cols = uniq // n_vocab, uniq % n_vocab
        vals = (1.0 + np.log(counts)) * self.idf[cols]
        norms = np.sqrt(np.bincount(rows, weights=vals * vals, minlength=len(items)))
        vals = vals / np.where(norms > 0, norms, 1.0)[rows]
        return sparse.csr_matrix((vals, (rows, cols)), shape=(len(items), n_vocab))

    def decision(self, items: Sequence[str], dense: np.ndarray | None = None) -> np.ndarray:
        """Raw scores, one row per text and one column per ``coef`` column."""
        n_sparse = len(self.vocab)
        out = self.matrix(items) @ self.coef[:n_sparse] + self.intercept
        if self.dense_names:
            if dense is None or dense.shape != (len(items), len(self.dense_names)):
                raise ValueError(f"this model needs dense features {self.dense_names}")
            out = out + dense @ self.coef[n_sparse:]
        return np.asarray(out, dtype=np.float64)

    def proba(self, items: Sequence[str], dense: np.ndarray | None = None) -> np.ndarray:
        """Class probabilities, columns in ``classes`` order."""
        z = self.decision(items, dense)
        if z.shape[1] == 1:
            p = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.column_stack([1.0 - p, p])
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def save(self, path: Path) -> None:
        """Write the model as a compressed ``.npz`` of plain arrays (no pickle), byte-stable.

        ``numpy.savez_compressed`` stamps each member with the current time, so refitting the
        same data would give a different file; members are written here with a fixed date, so
        the same fit gives the same bytes (and the same sha256 in ``fit_classifiers.py``).
        """
        import io
        import zipfile

        words = sorted(self.vocab, key=self.vocab.__getitem__)
        arrays = {
            "vocab": np.array(words, dtype=str),
            "idf": self.idf.astype(np.float32),
            "coef": self.coef.astype(np.float32),
            "intercept": self.intercept.astype(np.float64),
            "classes": np.array(self.classes, dtype=str),
            "dense_names": np.array(self.dense_names, dtype=str),
            "meta": np.array(json.dumps(self.meta, sort_keys=True)),
        }
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, arr in arrays.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, arr, allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, buf.getvalue())

    @classmethod
    def load(cls, path: Path | Any) -> LinearTextModel:
        """Read a model written by ``save`` (a path or an open binary file)."""
        with np.load(path, allow_pickle=False) as z:
            words = [str(w) for w in z["vocab"]]
            return cls(
                vocab={w: i for i, w in enumerate(words)},
                idf=z["idf"].astype(np.float64),
                coef=z["coef"].astype(np.float64),
                intercept=z["intercept"].astype(np.float64),
                classes=tuple(str(c) for c in z["classes"]),
                dense_names=tuple(str(d) for d in z["dense_names"]),
                meta=json.loads(str(z["meta"])),
            )


def fit(
    items: Sequence[str],
    labels: Sequence[str],
    *,
    dense: np.ndarray | None = None,
    dense_names: Sequence[str] = (),
    min_df: int = 2,
    c: float = 1.0,
    sample_weight: Sequence[float] | None = None,
    balanced: bool = True,
    meta: dict[str, Any] | None = None,
) -> LinearTextModel:
    """Fit a logistic regression on these texts (training only: needs scikit-learn).

    Classes are balanced unless ``balanced`` is false (then ``sample_weight`` alone weighs rows).

    The vocabulary is every feature seen in at least ``min_df`` texts, sorted, so the same
    data gives the same model. A binary problem stores one coefficient column.
    """
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    df: dict[str, int] = {}
    for text in items:
        for f in set(features(text)):
            df[f] = df.get(f, 0) + 1
    kept = sorted(f for f, n in df.items() if n >= min_df)
    n = len(items)
    idf = np.array([math.log((1 + n) / (1 + df[f])) + 1.0 for f in kept])
    model = LinearTextModel(
        vocab={f: i for i, f in enumerate(kept)},
        idf=idf,
        coef=np.zeros((len(kept) + len(dense_names), 1)),
        intercept=np.zeros(1),
        classes=tuple(sorted(set(labels))),
        dense_names=tuple(dense_names),
        meta=dict(meta or {}),
    )
    x = model.matrix(items)
    if dense_names:
        assert dense is not None
        x = sparse.hstack([x, sparse.csr_matrix(dense)]).tocsr()
    clf = LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=5000)
    clf.fit(x, list(labels), sample_weight=sample_weight)
    model.classes = tuple(str(k) for k in clf.classes_)
    model.coef = clf.coef_.T.copy()
    model.intercept = clf.intercept_.copy()
    model.meta.update({"rows": n, "features": len(kept), "c": c, "min_df": min_df})
    return model
