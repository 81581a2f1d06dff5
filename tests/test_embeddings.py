"""The shared embedding API (needs the optional ``embeddings`` extra; CI installs it)."""

from __future__ import annotations

import numpy as np
import pytest

from socialaudit.enrich import embeddings as emb

pytestmark = pytest.mark.skipif(
    not emb.available("static"),
    reason="embeddings extra not installed: pip install torch==2.13.0 'socialaudit[embeddings]'",
)


def test_shape_dtype_and_unit_norm() -> None:
    texts = ["my flight was delayed", "thanks so much, great crew!", "", "🙂"]
    vecs = emb.embed(texts)
    assert vecs.shape == (4, emb.embedder().dim)
    assert vecs.dtype == np.float32
    norms = np.linalg.norm(vecs, axis=1)
    assert np.allclose(norms[[0, 1]], 1.0, atol=1e-5)
    assert np.all((np.abs(norms - 1.0) < 1e-5) | (norms == 0.0))


def test_similar_texts_are_closer_than_unrelated() -> None:
    a, b, c = emb.embed(
        ["my flight was delayed for hours", "the flight is delayed again", "I love this pizza"]
    )
    assert float(a @ b) > float(a @ c)


def test_cache_by_text_and_duplicates() -> None:
    e = emb.Embedder("static", cache_size=3)
    first = e.embed(["alpha post", "beta post", "alpha post"])
    assert e.cached == 2  # duplicates are embedded once
    assert np.array_equal(first[0], first[2])
    again = e.embed(["beta post"])
    assert np.array_equal(again[0], first[1]) and e.cached == 2
    e.embed(["gamma", "delta", "epsilon"])
    assert e.cached == 3  # bounded


def test_empty_input() -> None:
    assert emb.embed([]).shape == (0, emb.embedder().dim)


def test_unknown_backend() -> None:
    with pytest.raises(emb.EmbeddingsUnavailable, match="Unknown embeddings backend"):
        emb.Embedder("word2vec")  # type: ignore[arg-type]
