"""The default sentiment enricher on unmistakable hand-written posts."""

from __future__ import annotations

import pyarrow as pa
import pytest

from socialaudit.enrich import base
from socialaudit.enrich.sentiment import CareSentiment, label_of, score_texts


def run(texts: list[str | None]) -> base.Labels:
    batch = pa.table({"text": pa.array(texts, pa.string()), "author_id": [None] * len(texts)})
    return CareSentiment().run(batch)


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
def test_unmistakable_posts(text: str, expected: str) -> None:
    out = run([text])
    assert out.label == [expected]
    assert out.columns["sentiment_label"] == [expected]


def test_negation_flips_the_sign() -> None:
    good, not_good = score_texts(["the service was good", "the service was not good"])
    assert good > 0 > not_good


def test_handles_do_not_count_as_words() -> None:
    # "united" is a positive word in VADER's lexicon; as a handle it is only an address.
    assert score_texts(["@united"]) == [0.0]
    assert score_texts(["@united when is the next flight to Denver?"])[0] == 0.0


def test_batch_shape_types_and_bounds() -> None:
    texts = ["Great job!", None, "", "Great job!", "Terrible. Just terrible."]
    out = run(texts)
    n = len(texts)
    assert len(out.label) == len(out.score) == n
    assert set(out.columns) == {"sentiment", "sentiment_label"}
    assert out.columns["sentiment"] == out.score
    assert out.label[1] == out.label[2] == "neutral" and out.score[1] == 0.0
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
