"""Intent of customers' posts: question, complaint, praise or other (multi-label).

Named rules give cues, so every label says what produced it: a *question* asks the brand for
an answer or an action (a question mark, an interrogative opening, a request for help); a
*complaint* reports a failure or dissatisfaction; *praise* thanks or compliments. A post can be
both a question and a complaint ("my order is late again, where is it?"). ``other`` is given
only when nothing else applies. Thanks that merely precede a request ("thanks in advance")
are not praise.

The default model lets two small logistic regressions ("heads") decide question and complaint
from the post's static MiniLM embedding (shipped, numpy + tokenizers) plus the rule cues:
complaints often name no failure word ("the package says delivered but it is not here") and
rhetorical questions end in "?". Praise stays with the rules. The ``rules`` variant is the
rules alone. Both are deterministic and give the same labels on every install; what was
fitted on what is in benchmarks/gold/LABELLING.md (sections 5 and 6).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from socialaudit.enrich import static_model
from socialaudit.enrich.base import Labels, Target, register, texts
from socialaudit.enrich.textrules import all_matches, normalise, rules, without_handles
from socialaudit.errors import ConfigError

# The default (rules + complaint head on the shipped static embeddings) and the rules alone.
VERSION = "intent-5+" + static_model.VERSION
RULES_VERSION = "intent-rules-5"
LABELS = ("question", "complaint", "praise", "other")

_WH = r"(?:how|what|why|when|where|who|which|whats|what's|hows|how's|wheres|where's|whens|whys)"
_AUX = (
    r"(?:can|could|would|will|is|are|do|does|did|should|shall|may|have|has|am|was|were|"
    r"isn't|aren't|don't|doesn't|didn't|won't|can't|cant|wont|dont|any|anyone|anybody)"
)
QUESTION_RULES = rules(
    [
        ("question_mark", r"\?"),
        # "when I am told..." opens a statement: a wh-word counts with a verb that asks.
        (
            "wh_opening",
            (
                rf"(?:^|[.!]\s+){_WH}\s+(?:is|are|was|were|do|does|did|can|could|will|would|"
                r"should|has|have|happened|kind|time|day|date)\b"
            ),
        ),
        (
            "aux_opening",
            rf"(?:^|[.!]\s+){_AUX}\s+(?:i|you|we|u|it|they|my|this|there|someone|anyone|y'?all)\b",
        ),
        (
            "help_request",
            (
                (
                    r"\b(?:please|pls|plz|kindly)\b[^.!]{0,60}\b(?:help|fix|sort|check|look|advise|"
                    r"assist|respond|reply|refund|call|contact|explain|confirm|tell|let me know|"
                    r"get back|send|update|resolve)"
                ),
                # "help!" asks; "thanks for your help" does not.
                r"(?<!for )(?<!your )(?<!the )\bhelp(?: me| us)?\s*(?:!|$|please|pls|plz|asap)",
                r"\bhelp (?:me|us)\b",
                # Imperatives addressed to the brand: "sort it out", "fix my connection".
                (
                    r"(?:^|[.!?,;:]\s*|\b(?:please|pls|plz|just|now|you|either|then|so)\s+)"
                    r"(?:sort|fix|check|refund|cancel|unlock|reset|replace|escalate) "
                    r"(?:it|this|that|my|me|with|your|the)\b"
                ),
                (
                    r"\b(?:who|what|where|how) (?:do|should|can|would) (?:i|we) "
                    r"(?:contact|call|do|go|get|speak)\b"
                ),
                r"\b(?:do|should) i (?:need|have) to\b",
                r"\b(?:i|we) need (?:this|it|that) (?:fixed|sorted|resolved|looked at)\b",
                r"\bplease(?: do| help)?\s*[!.]*\s*(?:$|:\)|\U0001f64f)",
                r"\b(?:can|could|would|will) (?:you|u|y'?all|someone|anyone)\b",
                r"\bneeds? (?:some |your )?(?:help|assistance|support|answers?)\b",
                (
                    r"\b(?:i|we) (?:need|want|would like) to (?:know|speak|talk|cancel|return|"
                    r"change|get|find)\b"
                ),
                r"\blet (?:me|us) know\b",
                (
                    r"\b(?:please|pls|plz|kindly)\b[^.!?]{0,40}\b(?:stop|make|pm|dm|message|drop|"
                    r"investigate|share|escalate|do something|provide)\b"
                ),
                r"\bdo share\b|\bneeds? to be (?:investigated|fixed|sorted|looked into)\b",
                r"\b(?:i|we) want (?:my|our) (?:money|refund)\b",
                (
                    r"\b(?:want|need|would like|wish) to (?:speak|talk) to\b|"
                    r"\bneed (?:further |more |some |urgent )?(?:assistance|help)\b"
                ),
                r"\b(?:really )?needs? to (?:fix|sort|change|add|bring)\b|\ba fix would be\b",
                r"\b(?:might|would) be a good idea\b|\bhow about (?:you|getting|a|an|some)\b",
                r"\b(?:provide|give|send) me (?:with )?(?:a|an|the|my)\b",
                r"\bwhen will (?:i|we|my|our|it|this|you)\b|\bmy question (?:to you )?is\b",
                r"\bhelp (?:a \w+|me|us) out\b",
                (
                    r"\bwhat do you mean\b|^how to\b|\bwhat \w+ should (?:i|we)\b|"
                    r"\b(?:would|it'?d|that'?d) be (?:nice|great|good|helpful) if\b|"
                    r"\bthat'?d be (?:great|nice|helpful)\b|\bif you could\b"
                ),
                (
                    r"\b(?:i|we) want (?:compensation|a refund|my money|an? answer)\b|"
                    r"\bsomeone (?:dm|call|contact|help|email) (?:me|us)\b|\bplease get\b|"
                    r"\b(?:i|we) need (?:my|our|the) \w+ to\b"
                ),
                r"\bany (?:update|news|idea|help|info|word|eta)\b",
                r"\b(?:wondering|want(?:ed)? to know) (?:if|whether|why|how|what|when)\b",
                r"\b(?:how (?:do|can|come)|is there (?:a|any) way)\b",
            ),
        ),
    ]
)
_BROKEN_VERBS = (
    r"(?:work|working|load|loading|arrive|arrived|received|deliver|delivered|open|connect|"
    r"respond|responded|answer|answered|fixed|refund|refunded|show|showing|play|playing|sync|"
    r"charge|charging|update|updating|sign|log|help|helped|get through|turn on|crash|crashing|"
    r"freez|download|install|save|saved|tune|recogni[sz]e|correspond|ship|shipped|restore|"
    r"access|reach|find|change|book|order|go through)"
)
COMPLAINT_RULES = rules(
    [
        (
            "failure",
            r"\b(?:not|isn't|isnt|aren't|wasn't|won't|wont|doesn't|doesnt|didn't|didnt|can't|cant|"
            r"cannot|couldn't|unable to|never|still not|stopped|keeps?|keep on)\b[^.!?]{0,30}\b"
            + _BROKEN_VERBS,
        ),
        (
            "problem_word",
            (
                (
                    r"\b(?:broken|broke|crash(?:es|ed|ing)?|freez(?:es|ing)|froze|errors?|glitch(?:es|ing)?|"
                    r"bug(?:gy|s)?|outage|down again|faulty|defective|stuck|stranded|slow|"
                    r"lag(?:gy|ging)?|disconnect(?:ed|ing|s)?)\b"
                ),
                (
                    r"\b(?:delay(?:ed|s)?|late|cancel+ed|lost|missing|damaged|wrong|overcharged|"
                    r"double charged|charged twice|scam|fraud|unauthori[sz]ed|hack(?:ed)?|"
                    r"spam(?:ming)?)\b"
                ),
                (
                    r"\b(?:waiting|waited|hold for|on hold|no service|no signal|no internet|"
                    r"no wifi|refused|denied|rude|ignored|ignoring|no response|no reply|no one|"
                    r"nobody|lied|lying|deduct(?:ed|ing)|not (?:delivered|received|arrived))\b"
                ),
                (
                    r"\b(?:having|have|had|got|facing|experiencing) (?:a |an |some |the same )?"
                    r"(?:trouble|problems?|issues?)\b"
                ),
                r"\b(?:messed|screwed|f\w*ed) (?:up|me over)\b|\bripped off\b",
                r"\bcharged (?:for|me|us|twice|again)\b",
                r"\bdid(?:n'?t| not) (?:sign up|order|receive)\b",
                r"\b(?:same|this) (?:problem|issue|error|bug)\b",
            ),
        ),
        (
            "negative_judgement",
            (
                (
                    r"\b(?:worst|terrible|horrible|awful|useless|pathetic|ridiculous|unacceptable|"
                    r"disgusting|disgrace(?:ful)?|shocking|appalling|joke|incompetent|garbage|trash|"
                    r"rubbish|nightmare|poor|bad|worse)\b"
                ),
                (
                    r"\b(?:sucks?|suck(?:ed|ing)|hate|fed up|sick of|tired of|annoy(?:ed|ing)|"
                    r"frustrat(?:ed|ing)|disappoint(?:ed|ing|ment)|angry|furious|upset|"
                    r"fail(?:ed|s|ing|ure)?|wtf|smh|ffs|seriously|come on|not happy|unhappy|"
                    r"not impressed|shame on)\b"
                ),
                r"\bagain[?!]",
                (
                    r"\bstill (?:not|no|waiting|broken|have(?:n't| not)|has(?:n't| not)|"
                    r"do(?:n't| not)|does(?:n't| not)|can'?t|cannot|nothing)\b"
                ),
                r"\b(?:zero|no) (?:info|information|help|update|response|answer|word|way)\b",
                (
                    "[\U0001f620\U0001f621\U0001f624\U0001f92c\U0001f644\U0001f612\U0001f629"
                    "\U0001f62b\U0001f62d\U0001f611]"
                ),
            ),
        ),
    ]
)
PRAISE_RULES = rules(
    [
        (
            "thanks",
            (
                r"\b(?:thanks|thank you|thank u|thx|ty|tysm|cheers|much appreciated|"
                r"appreciate (?:it|you|the|your|that|all))\b"
            ),
        ),
        (
            "compliment",
            (
                (
                    r"\b(?:love|loving|loved|great|awesome|amazing|excellent|fantastic|brilliant|"
                    r"wonderful|perfect|best|kudos|shout ?out|props|well done|good job|great job|"
                    r"nice one|impressed|helpful|outstanding|superb|stellar|lifesaver|legend|"
                    r"rock(?:s|ed)?)\b"
                ),
                (
                    "[\u2764\U0001f60d\U0001f44d\U0001f44f\U0001f60a\U0001f970\U0001f496"
                    "\U0001f499\U0001f49c]"
                ),
            ),
        ),
    ]
)
# Cues that turn a polite word into something else: "thanks in advance", "thanks for nothing",
# "great, another delay", "not great".
_PRAISE_CANCEL = rules(
    [
        (
            "cancel",
            (
                r"\b(?:thanks|thank you|thx)\s+(?:in advance|for nothing|a lot for nothing)\b",
                r"\bnot (?:so |very |that )?(?:great|good|helpful|impressed|perfect|the best)\b",
                r"\b(?:great|awesome|perfect|love)\b,? (?:another|now|just|so)\b",
                r"\b(?:best|great) (?:part|thing) is\b",
                r"\byeah right\b",
            ),
        )
    ]
)


# Questions that expect no answer from the brand (LABELLING.md rules 2 and 3): rhetorical
# openers, and questions put to other users ("is it down for anyone else?").
_NOT_A_QUESTION = rules(
    [
        (
            "rhetorical",
            (
                r"\bwhat'?s the point\b",
                r"\bwhy (?:should|would) (?:i|we|anyone)\b",
                r"\bsince when\b",
                r"\bfor anyone else\b|\banyone else (?:having|getting|seeing)\b",
                r"\bor nah\b",
                r"\bwh\w* (?:tf|the (?:hell|fuck))\b|\bwho doesn'?t\b|\bwhat'?s with\b",
                r"\bi hope this (?:isn'?t|is not)\b|#bs\b|\bwtf\b",
                (
                    r"\bhow (?:terrible|awful|bad|hard|stupid|ridiculous|annoying|sad|dumb) "
                    r"(?:is|was|are)\b|\bhow the \w+ (?:does|do|is|are|did|can)\b"
                ),
                r"\bwth\b|\bwhat in the (?:world|hell)\b|\bnow you'?re\b|\bpeeps\b",
                r"^when (?:your|you|u)\b",
            ),
        )
    ]
)


# Hints the question head weighs but the rules alone do not act on (too broad on their own):
# the shapes of the questions the rules missed on sets A-D (LABELLING.md section 5, step 6).
_IMPERATIVE = (
    r"(?:get|make|give|stop|change|look|hurry|tell|send|answer|fix|add|bring|put|refund|remove|"
    r"delete|call|email|dm|pm|reply|respond|contact|explain|update|show|sort|check|cancel|reset|"
    r"replace|escalate|restore|reinstate|allow|release|return|activate|credit|waive|remember|"
    r"consider|broadcast|hire|train|keep|do|let|find|investigate|reconsider|bring back)"
)
_START = r"(?:^|[.!?;:]\s+|\n)(?:(?:hey|hi|hello|so|and|but|ok|okay|now|just|yo|y'?all|guys),?\s+)*"
QUESTION_HINTS = rules(
    [
        (
            "wh_start",
            (
                rf"{_START}{_WH}\b",
                r"\b(?:tell me|any reason|wondering|curious) (?:why|how|what|when|if)\b",
            ),
        ),
        ("imperative_start", rf"{_START}(?:please |pls |plz |kindly )?{_IMPERATIVE}\b(?! you\b)"),
        (
            "wants_action",
            (
                r"\b(?:would|'d) (?:like|love) (?:to know|an? answer|someone|you to)\b",
                r"\b(?:wanna|want to|need to) (?:know|check|see|find out|understand)\b",
                (
                    r"\b(?:i|we) (?:just )?need (?:you|someone|\S+) to "
                    r"(?:do|fix|sort|look|help|send|get)\b"
                ),
                r"\b(?:you|y'?all|u) (?:all |guys |people )?(?:need|should|have|got) to\b",
                r"\byou (?:all |guys )?should\b",
                r"\bwhat if you\b|\b(?:can|could) (?:amazon|they|someone|somebody) \w+",
                # "...asap!" asks; "sorted now!" does not.
                r"\bwould help\b|\b(?:urgently|asap|immediately)\b.{0,3}$|\brefund!",
                r"\bwhere (?:are|is) (?:my|the|our)\b|\bwhere can (?:i|we)\b|\bwhat time\b",
            ),
        ),
        (
            "non_english_question",
            (
                r"[¿？]",
                (
                    r"\b(?:c[oó]mo|qu[eé]|cu[aá]ndo|d[oó]nde|por qu[eé]|pueden|puedo|podr[ií]a|"
                    r"ayuda|ayudan|por favor|comment|pourquoi|svp|s'il vous|kann ich|"
                    r"k[öo]nnen sie|wie|bitte|warum|como posso|poderia|ajuda)\b"
                ),
                r"(?:ですか|ますか|でしょうか|ませんか|ください|下さい|どうしたら|どこに|なぜ|कैसे|क्या)",
            ),
        ),
    ]
)
NOT_QUESTION_HINTS = rules(
    [
        # Brand replies that the source marks as customer posts: agent sign-offs, brand voice.
        (
            "brand_voice",
            (
                r"(?:\s[\^*][A-Z][A-Za-z]{0,15}|\s-[A-Z][a-z]{1,15})\s*$",
                r"\b(?:dm|message|follow) us\b",
                r"\bwe(?:'re| are) (?:always |happy |here )?(?:here )?to help\b",
                r"\bwe(?:'d| would| will| 'll)? (?:love|be happy|be glad) to\b",
                r"\bjust let us know\b",
            ),
        ),
        (
            "exclaimed_question",
            (
                r"\?\s*!|!\s*\?",
                (
                    r"\b(?:are you (?:telling|kidding|serious)|do you (?:guys )?(?:even )?care|"
                    r"you gonna|is this a joke|right\?|really\?|seriously\?)"
                ),
            ),
        ),
        (
            "thanks_for_help",
            (
                r"\b(?:thanks|thank you|thx) (?:so much |a lot )?for (?:your |the |all )?"
                r"(?:help|assistance|support)\b"
            ),
        ),
    ]
)


@dataclass(frozen=True)
class Cues:
    """Which rules fired on one post, before labels are decided (the model's rule features)."""

    question: tuple[str, ...] = ()
    complaint: tuple[str, ...] = ()
    praise: tuple[str, ...] = ()
    rhetorical: bool = False
    praise_cancel: bool = False
    empty: bool = True
    hints: tuple[str, ...] = ()

    def flags(self) -> list[float]:
        """One 0/1 per name in :data:`CUE_NAMES`."""
        fired = {*self.question, *self.complaint, *self.praise, *self.hints}
        if self.rhetorical:
            fired.add("rhetorical")
        if self.praise_cancel:
            fired.add("praise_cancel")
        return [1.0 if name in fired else 0.0 for name in CUE_NAMES]


_LEADING_HANDLES = re.compile(r"(?:\s*\.?@\w{1,30})*")
CUE_NAMES: tuple[str, ...] = (
    *(
        r.name
        for r in QUESTION_RULES
        + COMPLAINT_RULES
        + PRAISE_RULES
        + QUESTION_HINTS
        + NOT_QUESTION_HINTS
    ),
    "rhetorical",
    "praise_cancel",
)


_CROWD = 4  # leading @handles: a post to this many accounts addresses a crowd, not a brand


def cues(text: str) -> Cues:
    """Run every rule once on the normalised post."""
    t = normalise(text)
    if not t.strip():
        return Cues()
    handles = _LEADING_HANDLES.match(text or "")
    crowd = handles is not None and len(handles.group(0).split()) >= _CROWD
    return Cues(
        question=tuple(all_matches(QUESTION_RULES, t)),
        complaint=tuple(all_matches(COMPLAINT_RULES, t)),
        praise=tuple(all_matches(PRAISE_RULES, t)),
        rhetorical=crowd or bool(all_matches(_NOT_A_QUESTION, t)),
        praise_cancel=bool(all_matches(_PRAISE_CANCEL, t)),
        empty=False,
        hints=tuple(all_matches(QUESTION_HINTS + NOT_QUESTION_HINTS, t)),
    )


def decide(c: Cues, heads: dict[str, bool] | None = None) -> tuple[list[str], list[str]]:
    """(labels, cues behind them) for one post.

    ``heads`` (the fitted heads' verdicts) replace the rules' question and complaint decisions
    when given.
    """
    if c.empty:
        return ["other"], []
    fired_q = list(c.question)
    if fired_q and "help_request" not in fired_q and c.rhetorical:
        fired_q = []
    fired_c = list(c.complaint)
    if heads is not None:
        fired_q = ["question_model", *fired_q] if heads["question"] else []
        fired_c = ["complaint_model", *fired_c] if heads["complaint"] else []
    fired_p = list(c.praise)
    # Praise inside a complaint is politeness or sarcasm ("amazing burrito... plastic in it").
    if fired_p and (c.praise_cancel or fired_c):
        fired_p = []
    labels = [
        name
        for name, fired in (("question", fired_q), ("complaint", fired_c), ("praise", fired_p))
        if fired
    ]
    return (labels or ["other"]), fired_q + fired_c + fired_p


def classify(text: str) -> tuple[list[str], list[str]]:
    """(labels, rules that fired) for one post, by the rules alone (the ``rules`` variant)."""
    return decide(cues(text))


def score(labels: list[str], fired: list[str]) -> float:
    """Confidence from how many independent cues agree (0.5 one cue ... 0.95 four or more)."""
    if labels == ["other"]:
        return 0.5
    return min(0.95, 0.35 + 0.15 * len(fired))


def model_text(text: str) -> str:
    """What the embedding reads: normalised, without any @handle."""
    return without_handles(normalise(text))


def features(texts: Sequence[str], found: Sequence[Cues] | None = None) -> np.ndarray:
    """The heads' inputs: static embedding of each post, then its rule cues and hints."""
    found = [cues(t) for t in texts] if found is None else found
    vectors = static_model.shipped().encode([model_text(t) for t in texts])
    flags = np.array([c.flags() for c in found], dtype=np.float32).reshape(len(texts), -1)
    return np.hstack([vectors, flags])


HEAD_FILE = Path(__file__).resolve().parent / "models" / "intent_heads.json"
HEADS = ("question", "complaint")


@cache
def head(label: str) -> dict[str, Any]:
    """The fitted head for ``label`` (benchmarks/fit_intent.py wrote it; see LABELLING.md)."""
    fitted: dict[str, Any] = json.loads(HEAD_FILE.read_text("utf-8"))[label]
    expected = [f"emb{i}" for i in range(static_model.shipped().dim)] + list(CUE_NAMES)
    if fitted["features"] != expected:
        raise static_model.StaticModelMissing(
            f"{HEAD_FILE.name} was fitted on other features; refit it "
            "(python benchmarks/fit_intent.py)."
        )
    fitted["coef_array"] = np.asarray(fitted["coef"], dtype=np.float64)
    return fitted


def probability(label: str, x: np.ndarray) -> np.ndarray:
    """The head's probability that each row of :func:`features` has ``label``."""
    fitted = head(label)
    z = x.astype(np.float64) @ fitted["coef_array"] + float(fitted["intercept"])
    # Rounded so that the last bit of a BLAS sum never flips a label between machines.
    return np.round(1.0 / (1.0 + np.exp(-z)), 6)


VARIANTS = ("default", "rules")


class IntentEnricher:
    """Runs on customers' posts (brand replies have no customer intent).

    ``default``: the rules decide praise; question and complaint come from the two heads over
    the shipped static embeddings, the rule cues and the question hints. ``rules``: the rules alone
    (no embeddings, faster, weaker on complaints). Both run on the core install and give the
    same labels on every install; the version names the variant that labelled a post.
    """

    name = "intent"
    target: Target = "customer"
    columns = {"intent": "string", "intents": "array<string>", "intent_score": "float64"}

    def __init__(self, variant: str = "default") -> None:
        if variant not in VARIANTS:
            raise ConfigError(
                f"Unknown intent model {variant!r}. Choose from: {', '.join(VARIANTS)}."
            )
        self.variant = variant
        self.version = VERSION if variant == "default" else f"{RULES_VERSION}"

    def classify_many(self, posts: Sequence[str]) -> list[tuple[list[str], list[str]]]:
        """(labels, cues) per post."""
        found = [cues(t) for t in posts]
        if self.variant == "rules" or not posts:
            return [decide(c) for c in found]
        x = features(posts, found)
        verdicts = {
            label: probability(label, x) >= float(head(label)["threshold"]) for label in HEADS
        }
        return [
            decide(c, {label: bool(verdicts[label][i]) for label in HEADS})
            for i, c in enumerate(found)
        ]

    def run(self, batch: pa.Table) -> Labels:
        """Label each post; the primary ``intent`` is the first of question/complaint/praise."""
        all_texts = list(texts(batch))
        unique = list(dict.fromkeys(all_texts))
        labelled = {
            text: (labels, score(labels, fired))
            for text, (labels, fired) in zip(unique, self.classify_many(unique), strict=True)
        }
        out = [labelled[text] for text in all_texts]
        return Labels(
            label=[";".join(labels) for labels, _ in out],
            score=[s for _, s in out],
            columns={
                "intent": [labels[0] for labels, _ in out],
                "intents": [labels for labels, _ in out],
                "intent_score": [s for _, s in out],
            },
        )


@register("intent")
def _factory() -> IntentEnricher:
    return IntentEnricher()
