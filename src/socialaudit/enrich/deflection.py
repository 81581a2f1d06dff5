"""Deflection: brand replies that move the customer to another channel (SPEC section 5).

Transparent rules, sentence by sentence. Each sentence of a reply is a *redirect* (asks the
customer to go to DM, email, phone, chat, a contact link or form, or another account or team;
the rule that fired is recorded), *courtesy* (greeting, apology, empathy, an offer to help,
thanks, a sign-off) or *substantive* (anything else: an answer, a question about the problem, a
step to try). A reply **asks to move channel** when any sentence redirects, and **only moves
channel** when it redirects and says nothing substantive.
"""

from __future__ import annotations

import pyarrow as pa

from socialaudit.enrich.base import Labels, Target, per_distinct, register, texts
from socialaudit.enrich.textrules import (
    all_matches,
    normalise,
    rules,
    sentences,
    strip_signature,
)

VERSION = "deflection-rules-2"
ASKS = "asks_move_channel"
ONLY = "only_moves_channel"

_CONTACT_VERB = r"(?:reach(?:ing)? out|contact|get in touch|connect|speak|talk|chat|write|tweet)"
_TEAMS = (
    r"(?:local )?(?:bank|carrier|seller|store|airline|retailer|provider|team|department|"
    r"manufacturer|card issuer|branch|station staff|staff|customer (?:service|care|support)|"
    r"support team|help ?desk|specialists?|agents?|representatives?)"
)
REDIRECT_RULES = rules(
    [
        (
            "dm",
            (
                r"\b(?:dm|dms|dm'?d|dm'?ing|d\.m\.?)\b",
                r"\bdirect(?:ly)?[ -]?messag",
                # es / pt / fr / it / de: "mensaje directo", "mensagem privada", "message privé".
                r"\bmensa(?:je|gem|ggio)s? (?:directos?|privad[oa]s?|diret[ao]s?|privat[oi])\b",
                r"\bmessages? priv[ée]s?\b|\bdirektnachricht",
                # "Follow us so we can DM you"; es "síguenos".
                r"\bfollow (?:us|me)\b|\bs[ií]gue(?:nos|me)\b",
            ),
        ),
        (
            "private_message",
            (
                r"\bprivate(?:ly)?[ -]?messag",
                r"\bmessage (?:us|me) privately",
                r"\bpm (?:us|me)\b",
                r"\binbox (?:us|me)\b",
            ),
        ),
        (
            "email",
            (
                r"\be-?mail (?:us|me|our|the team)\b",
                r"\b(?:send|drop|shoot) (?:us |me )?(?:an? )?e-?mail\b",
                r"\b(?:via|by|through) e-?mail\b",
                r"\be-?mailed you\b|\bcheck your (?:e-?mail|inbox)\b|\bfollow up there\b",
                r"\b[\w.+-]+@[\w-]+\.(?:com|net|org|co\.uk|co)\b",
            ),
        ),
        (
            "phone",
            (
                # Imperative or offered calls, not "they call us Southbest".
                (
                    r"(?:^|\b(?:please|pls|can|could|may|to|and|or|just|then|free to)\s+)"
                    r"(?:call|ring|phone) (?:us|me|our|the|them|your)\b"
                ),
                r"\bcall and ask\b|\bcalling (?:back|us|the)\b",
                r"\bask(?:ing)? (?:for|to speak to) (?:the|a) manager\b",
                r"\bgive (?:us|me|them) a (?:call|ring)\b",
                r"\b(?:by|via|over the) (?:phone|telephone)\b",
                r"\bphone or chat\b",
                r"\b1?[-. (]*\d{3}[-. )]+\d{3}[-. ]+\d{4}\b",
                r"\b0\d{3,4}[ -]?\d{3}[ -]?\d{3,4}\b",
            ),
        ),
        (
            "chat",
            (
                r"\blive ?chat\b",
                r"\bchat (?:with|to) (?:us|our|a|an|the)\b",
                r"\b(?:via|by|through|on|over) (?:our )?(?:online )?chat\b",
                r"\bchat support\b",
            ),
        ),
        (
            "contact_link",
            (
                (
                    rf"\b(?:{_CONTACT_VERB}|tell us more|let us know|fill (?:out|in)|submit|"
                    r"report|send us|send (?:info|details)|feedback|suggest|click here)\b"
                    r"[^.!?]*\bURL\b"
                ),
                (
                    r"\b(?:here|via|at|using|through|on) (?:this|the|our) (?:link|form|page)\b"
                    r"[^.!?]*\b(?:contact|reach|help|touch|details|tell)"
                ),
                r"\b(?:contact|support|help|feedback) (?:form|page)\b",
                r"\b(?:use|click|follow) (?:the|this|that) link\b",
                r"\b(?:our|the) (?:community|forums?)\b[^.!?]*\b(?:at|here|URL)\b",
                # ja: "please tell customer service" / "contact us" pages.
                "カスタマーサービス|お問い合わせ",
            ),
        ),
        (
            "other_account",
            (
                rf"\b{_CONTACT_VERB}\b[^.!?]{{0,60}}@\w+",
                r"@\w+[^.!?]{0,30}\b(?:can|will|would be able to) (?:help|assist)",
            ),
        ),
        (
            "other_team",
            (
                rf"\b(?:{_CONTACT_VERB}|speak|visit|go to|ask|check with)\b[^.!?]{{0,25}}"
                rf"\b(?:your|the|our|a|their|to) {_TEAMS}\b"
            ),
        ),
    ]
)
COURTESY_RULES = rules(
    [
        ("greeting", r"^(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening)|greetings)\b"),
        ("apology", r"\b(?:sorry|apologi[sz]e|apologies|regret)\b"),
        (
            "empathy",
            (
                r"\b(?:understand|hear (?:the|your)|frustrat|oh no|uh oh|yikes|not good)\b",
                r"\bnot (?:the|what) (?:we|experience)\b",
                r"\bhate to (?:hear|see)\b",
                r"\b(?:concern(?:ing|ed)|troubl(?:ing|esome)|disappointing)\b",
                r"\bcan'?t believe\b|\bso sorry\b",
            ),
        ),
        (
            "offer_help",
            (
                r"\b(?:love|like|glad|happy|want|here) to (?:help|assist|look|take a look|get)\b",
                r"\bhelp(?:'s| is) here\b",
                r"\bcan help\b",
                r"\blook (?:into|further)\b",
                r"\btake a (?:closer )?look\b",
                r"\b(?:so|and) (?:that )?(?:we|i) can (?:help|assist|look|check|take)\b",
                r"\b(?:further assist|assist (?:you )?further)\b",
            ),
        ),
        ("thanks", r"\b(?:thanks|thank you|thx|cheers|appreciate)\b"),
        (
            "goodwill",
            (
                (
                    r"\b(?:we|i)(?:'d| would| always| only| really)? "
                    r"(?:want|like|love|hope|wish|aim)\b"
                ),
                r"\b(?:we're|we are|i'm|i am) (?:here )?to help\b",
                r"\b(?:glad|happy|pleased) to (?:check|address|assist|look|sort|investigate)\b",
                r"\binvestigate (?:this )?further\b",
                r"\bbest (?:possible )?(?:service|experience)\b",
                r"\bkeep (?:us|me) (?:updated|posted)\b|\blet (?:us|me) know how it goes\b",
            ),
        ),
    ]
)
_MAX_COURTESY_WORDS = 16


def classify_sentence(sentence: str) -> tuple[str, list[str]]:
    """('redirect', rules) / ('courtesy', rules) / ('substantive', []) for one sentence."""
    fired = all_matches(REDIRECT_RULES, sentence)
    if fired:
        return "redirect", fired
    words = sentence.split()
    if len(words) <= 2:
        return "courtesy", ["short"]
    polite = all_matches(COURTESY_RULES, sentence)
    if polite and len(words) <= _MAX_COURTESY_WORDS:
        return "courtesy", polite
    return "substantive", []


def classify_reply(text: str) -> tuple[str | None, str | None, float]:
    """(kind, rules, score) of one brand reply: kind is ASKS, ONLY or None.

    The score is the share of the reply's non-courtesy sentences that redirect (1.0: it only
    moves the customer; 0.0: it does not move them at all).
    """
    body = strip_signature(normalise(text))
    kinds = [classify_sentence(s) for s in sentences(body)]
    redirect_rules: list[str] = []
    for kind, fired in kinds:
        if kind == "redirect":
            redirect_rules.extend(r for r in fired if r not in redirect_rules)
    n_redirect = sum(1 for k, _ in kinds if k == "redirect")
    n_substantive = sum(1 for k, _ in kinds if k == "substantive")
    if not n_redirect:
        return None, None, 0.0
    score = n_redirect / (n_redirect + n_substantive)
    kind = ONLY if n_substantive == 0 else ASKS
    return kind, ";".join(redirect_rules), score


class DeflectionEnricher:
    """Runs on brand posts: the store's first responses are among them."""

    name = "deflection"
    version = VERSION
    target: Target = "org"
    columns = {"deflection": "string", "deflection_rule": "string"}

    def run(self, batch: pa.Table) -> Labels:
        """Label every reply of the batch (unique texts classified once)."""
        out = per_distinct(texts(batch), classify_reply)
        return Labels(
            label=[k or "none" for k, _, _ in out],
            score=[s for _, _, s in out],
            columns={
                "deflection": [k for k, _, _ in out],
                "deflection_rule": [r for _, r, _ in out],
            },
        )


@register("deflection")
def _factory() -> DeflectionEnricher:
    return DeflectionEnricher()
