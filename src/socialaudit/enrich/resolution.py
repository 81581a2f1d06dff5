"""Resolution signal: a customer's post that reads as thanks or "solved" (SPEC section 5).

The metric reads this on the customer's last post after the organization's first response;
the enricher only says whether a post reads that way, and which cue made it so. Thanks that
are sarcastic or that close a still-open problem ("thanks but it still doesn't work") do not
count.
"""

from __future__ import annotations

import pyarrow as pa

from socialaudit.enrich.base import Labels, Target, per_distinct, register, texts
from socialaudit.enrich.textrules import first_match, normalise, rules

VERSION = "resolution-rules-1"

SOLVED_RULES = rules(
    [
        (
            "solved",
            (
                r"\b(?:solved|resolved|fixed|sorted(?: it| now| out)?|figured it out)\b",
                r"\b(?:works? (?:now|fine|again|perfectly)|working (?:now|again|fine))\b",
                r"\b(?:all (?:good|set|sorted)|got it(?: working| sorted)?)\b",
                r"\b(?:that (?:did|worked|helped)|problem gone|issue gone)\b",
                r"\b(?:back (?:up|online|to normal)|arrived|received it|came through)\b",
                r"\b(?:went through|refund(?:ed)? received)\b",
            ),
        ),
        (
            "thanks",
            (
                r"\b(?:thanks|thank you|thank u|thx|ty|tysm|cheers|much appreciated)\b",
                r"\bappreciate (?:it|you|the|your|that|all)\b",
                "[\U0001f64f\U0001f44d\u2764\U0001f60a]",
            ),
        ),
    ]
)
NOT_SOLVED_RULES = rules(
    [
        (
            "still_open",
            (
                r"\b(?:still|not|n't|never|no longer|yet|but|however|although|though|again)\b",
                r"\b(?:nothing|useless|in advance|for nothing|waste|worse)\b",
                r"\?",
            ),
        ),
    ]
)


def classify(text: str) -> tuple[bool, str | None]:
    """(reads as resolved, the rule that decided)."""
    t = normalise(text)
    fired = first_match(SOLVED_RULES, t)
    if fired is None:
        return False, None
    if first_match(NOT_SOLVED_RULES, t) is not None:
        return False, "still_open"
    return True, fired


class ResolutionEnricher:
    """Runs on customers' posts."""

    name = "resolution"
    version = VERSION
    target: Target = "customer"
    columns = {"resolved": "boolean", "resolution_rule": "string"}

    def run(self, batch: pa.Table) -> Labels:
        """Label each post resolved / not, with the rule that decided."""
        out = per_distinct(texts(batch), classify)
        return Labels(
            label=["resolved" if ok else "open" for ok, _ in out],
            score=[1.0 if ok else 0.0 for ok, _ in out],
            columns={"resolved": [ok for ok, _ in out], "resolution_rule": [r for _, r in out]},
        )


@register("resolution")
def _factory() -> ResolutionEnricher:
    return ResolutionEnricher()
