"""Shared text handling for the rule-based enrichers: normalising posts and naming rules.

Rules are named regular expressions so every result can say which rule fired; the order of a
rule list is the order of precedence.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

_HANDLE = re.compile(r"(?<![\w@])@\w{1,30}")
_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
# Customer-care sign-offs: "^EB", "-Becky", "*AFC", "/RA", "- MH", "^Helen", "2/2".
_SIGNATURE = re.compile(r"(?:\s+(?:[\^*/~]\s?\w{1,20}|-\s?[A-Z]\w{0,15})\s*|\s+\d/\d\s*)+$")
_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\s*\n+\s*")


def normalise(text: str) -> str:
    """Decoded entities, no URLs or leading handles, single spaces: what the rules read."""
    t = html.unescape(text or "")
    t = _URL.sub(" URL ", t)
    t = _SPACE.sub(" ", t).strip()
    # Leading @handles address the post; they say nothing about its content.
    while True:
        m = re.match(r"@\w{1,30}\s*", t)
        if not m:
            break
        t = t[m.end() :]
    return t


def strip_signature(text: str) -> str:
    """Drop a customer-care agent's sign-off from the end of a reply."""
    return _SIGNATURE.sub("", text).strip()


def sentences(text: str) -> list[str]:
    """Split into sentences (good enough for short posts: punctuation and line breaks)."""
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def without_handles(text: str) -> str:
    """Text with every @handle removed."""
    return _SPACE.sub(" ", _HANDLE.sub(" ", text)).strip()


@dataclass(frozen=True)
class Rule:
    """A named pattern; ``name`` is what results report when it fires."""

    name: str
    pattern: re.Pattern[str]

    def search(self, text: str) -> bool:
        """Whether the rule fires on ``text``."""
        return self.pattern.search(text) is not None


def rules(
    spec: Sequence[tuple[str, str | Sequence[str]]], flags: int = re.IGNORECASE
) -> tuple[Rule, ...]:
    """Compile ``(name, regex or alternatives)`` pairs once, at import.

    Alternatives are listed one per line in the rule tables (readable, reviewable diffs) and
    joined into one pattern here.
    """
    compiled = []
    for name, rx in spec:
        pattern = rx if isinstance(rx, str) else "|".join(f"(?:{alt})" for alt in rx)
        compiled.append(Rule(name, re.compile(pattern, flags)))
    return tuple(compiled)


def first_match(rule_list: Sequence[Rule], text: str) -> str | None:
    """The name of the first rule that fires, or None."""
    for rule in rule_list:
        if rule.search(text):
            return rule.name
    return None


def all_matches(rule_list: Sequence[Rule], text: str) -> list[str]:
    """The names of every rule that fires, in rule order."""
    return [rule.name for rule in rule_list if rule.search(text)]
