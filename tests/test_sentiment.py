"""The sentiment enrichers (the default linear model and the care lexicon) on hand-written posts."""

from __future__ import annotations

import pyarrow as pa
import pytest

from socialaudit.enrich import base, sentiment
from socialaudit.enrich.sentiment import CareSentiment, label_of, score_texts


def run(texts: list[str | None], enricher: base.Enricher | None = None) -> base.Labels:
    batch = pa.table({"text": pa.array(texts, pa.string()), "author_id": [None] * len(texts)})
    return (enricher or CareSentiment()).run(batch)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@AcmeAir Thank you so much, the crew was wonderful!", "positive"),
        ("Love it 😍", "positive"),
        ("@AcmeHelp that fixed it, thanks!", "positive"),
        ("@AcmeAir worst airline ever, you lost my bag", "negative"),
        ("@AcmeHelp I do not love this :(", "negative"),  # negation flips "love"
        ("@AcmeHelp this is not good at all 😡", "negative"),
        ("@AcmeHelp still waiting for my refund", "negative"),  # no emotion word, a complaint
        ("@AcmeAir flight delayed 3 hours and nobody responded", "negative"),
        ("@AcmeHelp the app doesn't load", "negative"),
        ("@AcmeHelp on hold for an hour 🙄", "negative"),
        ("@AcmeAir what time does boarding start?", "neutral"),
        ("@AcmeHelp can you please help me change my email address?", "neutral"),
        ("@AcmeHelp I sent you a DM", "neutral"),
    ],
)
@pytest.mark.parametrize("default", [False, True], ids=["care-lexicon", "default-model"])
def test_unmistakable_posts(text: str, expected: str, default: bool) -> None:
    out = run([text], base.REGISTRY["sentiment"]() if default else None)
    assert out.label == [expected]
    assert out.columns["sentiment_label"] == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cant wait to see Sam Smith tomorrow with my sister!!", "positive"),
        ("Going to the Foo Fighters concert on Saturday, so excited", "positive"),
        ("I hate that the Bills lost again, so embarrassing", "negative"),
        ("Ugh, my phone died again and I missed the whole game", "negative"),
        ("The debate is on Thursday at 9pm on CNN", "neutral"),
    ],
)
def test_default_model_reads_general_twitter(text: str, expected: str) -> None:
    """Posts outside customer care (the TweetEval genre): events, sport, announcements."""
    assert sentiment.predict([text])[0] == [expected]


def test_negation_flips_the_sign() -> None:
    good, not_good = score_texts(["the service was good", "the service was not good"])
    assert good > 0 > not_good


def test_handles_do_not_count_as_words() -> None:
    # "united" is a positive word in VADER's lexicon; as a handle it is only an address.
    assert score_texts(["@united"]) == [0.0]
    assert score_texts(["@united when is the next flight to Denver?"])[0] == 0.0


@pytest.mark.parametrize("default", [False, True], ids=["care-lexicon", "default-model"])
def test_batch_shape_types_and_bounds(default: bool) -> None:
    texts = ["Great job!", None, "", "Great job!", "Terrible. Just terrible."]
    out = run(texts, base.REGISTRY["sentiment"]() if default else None)
    n = len(texts)
    assert len(out.label) == len(out.score) == n
    assert set(out.columns) == {"sentiment", "sentiment_label"}
    assert out.columns["sentiment"] == out.score
    assert out.label[1] == out.label[2] == "neutral" and out.score[1] == out.score[2]
    assert out.score[0] == out.score[3]  # same text, same result (scored once)
    assert all(-1.0 <= s <= 1.0 for s in out.score)
    assert out.label[0] == "positive" and out.label[4] == "negative"


def test_registered_with_the_contract() -> None:
    enricher = base.REGISTRY["sentiment"]()
    assert enricher.name == "sentiment"
    assert enricher.target == "all"
    assert enricher.columns == {"sentiment": "float64", "sentiment_label": "string"}
    assert enricher.version


def test_label_band() -> None:
    assert label_of(0.9) == "positive"
    assert label_of(-0.9) == "negative"
    assert label_of(0.1) == "neutral"
    assert label_of(0.1, band=0.05) == "positive"


def test_default_is_the_shipped_model_and_says_so() -> None:
    enricher = base.REGISTRY["sentiment"]()
    assert isinstance(enricher, sentiment.LinearSentiment)
    assert enricher.version == "linear-2"  # stores labelled by an older model are recomputed
    model = sentiment.model()
    assert model.classes == ("negative", "neutral", "positive")
    assert model.dense_names == sentiment.DENSE_FEATURES
    # Version 2: class offsets chosen by cross-validation, recorded beside the intercepts.
    offsets = model.meta["class_offsets"]
    assert set(offsets) == set(model.classes) and offsets["positive"] == 0.0
    assert model.meta["fitted_on"] == ["airline", "tweeteval"]


def test_default_labels_are_deterministic_and_batch_independent() -> None:
    texts = ["I hate Mondays so much", "great game last night, what a finish!", "ok", "meh"]
    together = sentiment.predict(texts)
    one_by_one = [sentiment.predict([t]) for t in texts]
    assert together == sentiment.predict(list(texts))
    assert together[0] == [lab[0] for lab, _ in one_by_one]
    assert together[1] == [sc[0] for _, sc in one_by_one]
    assert together[0][:2] == ["negative", "positive"]


def test_dense_features_are_the_lexicon_evidence() -> None:
    got = sentiment.dense_features(["great great", "not great", ""])
    names = list(sentiment.DENSE_FEATURES)
    assert got.shape == (3, len(names))
    assert got[0, names.index("compound")] > 0 > got[1, names.index("compound")]
    assert got[0, names.index("pos_sum")] > 0 and got[1, names.index("neg_sum")] < 0
    assert not got[2].any()
