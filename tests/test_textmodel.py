"""The plain-array linear text model behind spam and sentiment: features, fit, save, load."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from socialaudit.enrich import textmodel

TEXTS = [
    "sub to my channel pls",
    "subscribe to my channel!!",
    "check out my new video",
    "love this song so much",
    "this song is a classic",
    "best video ever, love it",
]
LABELS = ["spam", "spam", "spam", "ham", "ham", "ham"]


def test_normalise_cuts_elongations_and_placeholders() -> None:
    got = textmodel.normalise("SOOOO gooood @Delta see https://t.co/x 12:45")
    assert got == "soo good  @user  see  httpurl  0:0"


def test_features_cover_words_bigrams_and_character_grams() -> None:
    feats = textmodel.features("Sub 2 me")
    assert {"w:sub", "w:0", "b:sub 0", "b:0 me", "c: s", "c:sub ", "c: me "} <= set(feats)


def test_sparse_matrix_matches_the_tfidf_definition() -> None:
    model = textmodel.fit(TEXTS, LABELS, min_df=1)
    x = model.matrix(["love love song"]).toarray()[0]
    assert abs(float(np.linalg.norm(x)) - 1.0) < 1e-12
    love, song = model.vocab["w:love"], model.vocab["w:song"]
    # Sublinear tf: "love" twice weighs (1 + ln 2) times its idf against "song"'s once.
    ratio = (x[love] / model.idf[love]) / (x[song] / model.idf[song])
    assert abs(ratio - (1 + np.log(2))) < 1e-9


def test_save_load_round_trip_gives_identical_scores(tmp_path: Path) -> None:
    model = textmodel.fit(TEXTS, LABELS, min_df=1, meta={"kind": "test"})
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = textmodel.LinearTextModel.load(path)
    probe = ["pls sub to my channel", "what a song", ""]
    # Stored as float32: equal to the fitted model's scores to float32 precision, and the
    # loaded model is exactly reproducible.
    assert np.allclose(loaded.proba(probe), model.proba(probe), atol=1e-5)
    assert np.array_equal(loaded.proba(probe), textmodel.LinearTextModel.load(path).proba(probe))
    assert loaded.classes == ("ham", "spam") and loaded.meta["kind"] == "test"
    assert loaded.proba(probe)[0, 1] > 0.5 > loaded.proba(probe)[1, 1]
    with np.load(path, allow_pickle=False) as z:  # no pickle anywhere in the file
        assert set(z.files) >= {"vocab", "idf", "coef", "intercept", "classes"}


def test_fit_is_deterministic() -> None:
    a = textmodel.fit(TEXTS, LABELS, min_df=1)
    b = textmodel.fit(list(TEXTS), list(LABELS), min_df=1)
    assert a.vocab == b.vocab and np.array_equal(a.coef, b.coef)


def test_saved_file_is_byte_stable(tmp_path: Path) -> None:
    """The same fit gives the same bytes: no save-time timestamp in the archive."""
    import zipfile

    model = textmodel.fit(TEXTS, LABELS, min_df=1, meta={"kind": "test"})
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    model.save(a)
    model.save(b)
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
