"""The language enricher on hand-written short posts."""

from __future__ import annotations

import pyarrow as pa
import pytest

from socialaudit.enrich import language
from socialaudit.enrich.base import REGISTRY


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("@AmazonHelp my package says delivered but it is not here, can you help?", "en"),
        ("@Iberia mi maleta no ha llegado y nadie me responde 😤", "es"),
        ("@SNCF encore un train supprimé, c'est vraiment n'importe quoi", "fr"),
        ("@DB_Bahn schon wieder 40 Minuten Verspätung, das ist echt nicht okay", "de"),
        ("@JAL_Official 荷物が届いていません、確認してください", "ja"),
        ("@Aeroflot мой багаж потерялся, ответьте пожалуйста", "ru"),
    ],
)
def test_unmistakable_short_posts(text: str, code: str) -> None:
    langs, scores = language.detect([text])
    assert langs == [code]
    assert 0.5 < scores[0] <= 1.0


@pytest.mark.parametrize(
    "text", ["", "😂😂😂", "https://t.co/abc123XYZ", "@JetBlue @Delta", "#TBT", "12345 !!!", "a"]
)
def test_nothing_to_detect_is_und(text: str) -> None:
    assert language.detect([text]) == (["und"], [0.0])


def test_handles_links_and_hashtags_do_not_vote() -> None:
    # Without cleaning, the English handle and link would pull this short Spanish post to "en".
    assert language.clean("@AmericanAir https://t.co/x #fail no llegó mi vuelo 2x") == (
        "no llegó mi vuelo x"
    )
    assert language.detect(["@AmericanAirSupport @HelpCenterTeam no llegó mi maleta"])[0] == ["es"]


def test_each_distinct_text_is_detected_once(monkeypatch: pytest.MonkeyPatch) -> None:
    model = language._model()
    seen: list[str] = []

    class Counting:
        def predict(self, line: str, k: int = 1) -> tuple[tuple[str, ...], tuple[float, ...]]:
            seen.append(line)
            return model.predict(line, k=k)

    monkeypatch.setattr(language, "_model", lambda: Counting())
    langs, _ = language.detect(["hola qué tal amigos", "😂", "hola qué tal amigos"])
    assert langs == ["es", "und", "es"]
    assert seen == ["hola qué tal amigos"]


def test_enricher_contract_and_registry() -> None:
    enricher = REGISTRY["language"]()
    assert (enricher.name, enricher.target) == ("language", "all")
    assert enricher.columns == {"lang": "string", "lang_score": "float64"}
    batch = pa.table(
        {
            "text": [
                "Thanks for the quick help, all sorted now!",
                None,
                "Merci beaucoup pour tout",
            ],
            "author_id": pa.array([None, None, None], pa.string()),
        }
    )
    out = enricher.run(batch)
    assert out.label == ["en", "und", "fr"]
    assert out.columns["lang"] == out.label
    assert out.columns["lang_score"] == out.score
    assert out.score[1] == 0.0 and all(s > 0.5 for s in (out.score[0], out.score[2]))


def test_punctuation_does_not_change_the_word() -> None:
    # fastText splits on whitespace only: unstripped, "hello?" reads as Italian.
    assert language.clean("@AcmeHelp hello?!") == "hello"
    assert language.detect(["@AcmeHelp hello?"])[0] == ["en"]
