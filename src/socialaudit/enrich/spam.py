"""Spam and noise: transparent rules, each named in ``spam_reason`` (issue 4, item 6).

Every rule is a compiled pattern or a batch-level check with a fixed, hand-set weight (nothing is
fitted); a post's ``spam_score`` is the noisy-or of the weights of the rules that fired, and it is
spam at 0.5 or more. Strong cues (self-promotion, giveaways, money schemes, promotional hosts)
decide alone; weak ones ("my channel", "subscribe", "check this out") need a second cue, because
customer care is full of them: customers have TV channels and subscriptions, paste order pages,
and Twitter wraps every link and picture in ``t.co``. A link alone never decides in a reply.
Posts by brand accounts (``is_org``) are never spam: a brand's own contest, offer or help link
is its conversation. In video comment sections (``platform`` in ``COMMENT_PLATFORMS``) the weak
cues decide alone, as they do there.

Near-duplicates are the one batch-dependent rule: nearly the same text (at least eight words)
posted by different authors within the batch passed to ``run``; a cue that tips weak ones over,
and decisive alone only when five or more authors paste the same text with a link. Without
author ids (``classify`` input) the rule cannot tell a campaign from one author repeating
themself, so it does not fire.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import pyarrow as pa

from socialaudit.enrich.base import Labels, Target, register, texts
from socialaudit.enrich.textmodel import LinearTextModel

THRESHOLD = 0.5

_URL = re.compile(
    r"https?://\S+|\bwww\.\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|ly|tv|me|co|ru)\b\S*"
    r"|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,6}/\S+|\b\w+\s{0,2}\.\s{1,2}com\b|\b\w+\s{1,2}\.\s{0,2}com\b"
    r"|\bwatch\?v=\S+",
    re.IGNORECASE,
)
# Links that say nothing about promotion: Twitter wraps every link and attached picture in t.co;
# YouTube time-stamp anchors (``&t=2m19s``) point into the video being discussed.
_NEUTRAL_URL = re.compile(r"^https?://t\.co/|[?&;]t=\d+m?\d*s?\b", re.IGNORECASE)
# In customer care, customers paste order, tracking and account pages, and brands link help and
# support pages (not in comment sections, where nobody has an order to show).
_CARE_URL = re.compile(
    r"^(?:https?://)?(?:help|support|status|care|customer\w*|faq|service)\."
    r"|/(?:help|support|faq|faqs|contact|contact-us|customer-?service|orders?|order-details|"
    r"account|your-account|my-account|track|tracking|returns?|status|community)(?:[/?#.]|$)",
    re.IGNORECASE,
)
_VIDEO_URL = re.compile(r"youtube\.com|youtu\.be|^watch\?v=", re.IGNORECASE)
# Hosts that exist to promote: social profiles, stores, crowdfunding, link shorteners, referrals.
_PROMO_HOST = re.compile(
    r"facebook\.com|fb\.com|twitter\.com|instagram\.com|twitch\.tv|soundcloud\.com|"
    r"plus\.google\.com|play\.google\.com/store|gofundme\.com|kickstarter\.com|indiegogo\.com|"
    r"teespring\.com|change\.org|paypal\.me|bit\.ly|goo\.gl|adf\.ly|linkbucks\.com|"
    r"tinyurl\.com|hyperurl\.co|ow\.ly|linktr\.ee|[?&](?:ref|referral|aff|affiliate|invite)=",
    re.IGNORECASE,
)
_HANDLE = re.compile(r"@\w+")
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)

# name -> (weight, pattern). Patterns are case-insensitive and compiled once, at import.
_SUB = r"(?:subscribe|suscribe|subcribe|sucscribe|subscibe|subscrib|subs?)"
_CONTENT = (
    r"(?:channel|chanel|channels|chhanel|video|videos|vid|vids|vidios|clip|clips|music|songs?|"
    r"remix|remixes|beats?|mixtape|cover|covers|album|stream|blog|website|art|book|rap|raps|"
    r"track|tracks|podcast|vlog|vlogs)"
)
# name -> (weight, pattern). Patterns are case-insensitive and compiled once, at import. Each
# targets the creator's or seller's own call to action ("my channel", "subscribe to me"), never
# the second person a support agent uses ("please follow us and DM", "check our website").
_PATTERNS: dict[str, tuple[float, str]] = {
    # "check out my channel", "subscribe to me", "sub 4 sub", "check me out"
    "self_promotion": (
        0.9,
        r"\b(?:check|checking|chack|chek|look|go|come|visit|watch|see|view|listen|support|"
        r"promote|hear)\b[\w\s',!.]{0,30}?\bmy\s+(?:\w+\s+){0,3}?" + _CONTENT + r"\b"
        r"|\b(?:check|checkout|listen\s+to|watch)\s+(?:out\s+)?(?:my|our)\s+(?:new\s+|newest\s+|"
        r"latest\s+)?(?:song|single|mixtape|album|music\s+video|ep|track|sound)\b"
        r"|\bcheck\s+(?:me|us)\s+out\b|\bcheck\s+out\s+(?:me|us)\b"
        # A group or label: "check out our channel", "subscribe to our channel", "our new video"
        r"|\b(?:check|checkout|visit|watch|see|listen\s+to)\s+(?:out\s+)?our\s+(?:new\s+|latest\s+)?"
        r"(?:channel|chanel|vids?|videos?|songs?|music|parody|covers?|remix|beats?|mixtape|album)\b"
        r"|\bon\s+our\s+(?:youtube\s+)?(?:channel|chanel)\b"
        r"|\b" + _SUB + r"\s+(?:to\s+|2\s+)?(?:me|my|us|our)\b"
        r"|\b(?:please|pls|plz|plzz|plse|pleas|plizz)\s+(?:\w+\s+){0,2}?" + _SUB + r"\b"
        r"|\b" + _SUB + r"\s*(?:please|pls|plz)\b"
        r"|\b" + _SUB + r"\s+(?:and|&|n)\s+(?:like|comment|share)\b"
        r"|\blike\s+(?:and|&|n)\s+" + _SUB + r"\b"
        r"|\b(?:sub|subscribe|follow|like)\s*(?:4|for)\s*(?:sub|subscribe|follow|like)\b"
        r"|\b(?:sub4sub|f4f|l4l|s4s)\b|\b(?:i|ill|i'll|will)\s+(?:sub|subscribe|follow)\s+back\b"
        r"|\b(?:please|pls|plz)\s+follow\s+me\b|\bfollow\s+me\s+(?:on|at|@|\+)\s*(?!twitter\b)\w"
        r"|\bfollow\s+me\s+on\s+\w+\s*(?:@|&|and\b|:)"
        r"|\bfollow\s+my\s+(?:\w+\s+)?(?:channel|page|instagram|twitch|account|blog)\b"
        r"|\badd\s+me\s+(?:on|at|here)\b|\bjoin\s+me\s+on\b"
        r"|\bmy\s+(?:new\s+|first\s+|own\s+)?(?:youtube|yt|gaming|music)\s+" + _CONTENT + r"\b"
        r"|\b(?:new|started)\s+(?:\w+\s+){0,2}?(?:youtube|yt)\s+(?:channel|chanel|chhanel)\b"
        r"|\b(?:appreciate|grateful)\s+if\s+(?:\w+\s+){0,5}?(?:check|sub|subscribe|watch|like)"
        r"|\b(?:i|we)\s+(?:make|made|upload|post|do|did)\s+(?!not\b)(?:\w+\s+){0,4}?"
        + _CONTENT
        + r"\b"
        r"|\bi'?m\s+(?:getting|becoming)\s+(?:\w+\s+)?(?:popular|known|famous)\b"
        r"|\bnew\s+youtuber\b|\bwould\s+mean\s+(?:\w+\s+){0,3}?to\s+me\s+if\b",
    ),
    # Weaker on their own, decisive together: "check this out", "my channel", "subscribe",
    # "my videos" (customers have TV channels, subscriptions and music on their phones too).
    "look_here": (
        0.45,
        r"\bcheck\s+(?:this|it|them|em)\s+out\b|\bcheck\s+out\s+(?:this|the)\s+(?:link|site)\b",
    ),
    "my_channel": (0.45, r"\bmy\s+(?:channel|chanel|chhanel)\b"),
    "subscribe_word": (0.45, r"\b(?:subscribe|suscribe|subcribe)\b(?!d)"),
    "own_content": (
        0.45,
        r"\bmy\s+(?:new\s+|newest\s+|latest\s+)?(?:videos|vids|vidios|songs|music)\b",
    ),
    # YouTube's share-button text ("Check out this video on YouTube:"), pasted as a comment.
    "share_template": (0.6, r"\bcheck\s+out\s+this\s+(?:video|playlist|channel)\b"),
    # "like this comment so everyone sees it", "share this video", "help me reach 1000 subs"
    "engagement_bait": (
        0.8,
        (
            r"\b(?:please|pls|plz)\s+(?:\w+\s+){0,2}?(?:like|vote\s+for)\b(?!\s+(?:to|this\s+one))"
            r"|\blike\s+this\s+comment\b|\bshare\s+this\s+(?:video|comment|post)\b"
            r"|\bspread\s+the\s+word\b|\bhelp\s+me\s+(?:get|reach|to\s+get|hit)\b"
            r"|\b(?:get|reach|hit|to|have|got)\s+\d[\d,.]*\s*k?\s+(?:subs|subscribers)\b"
            r"|\b(?:please|pls|plz)\s+vote\b|\bvote\s+daily\b"
        ),
    ),
    # "win a free iPhone", "claim your prize", "you won"
    "giveaway": (
        0.9,
        (
            r"\bchance\s+to\s+win\s+(?:a|an|free|\$)|\bwin\s+(?:a\s+)?free\b|\bclaim\s+your\b"
            r"|\bfree\s+(?:iphone|ipad|gift\s*cards?|robux|v-?bucks|followers|subscribers|"
            r"views|likes|money|cash|coins|gems)\b|\byou(?:'ve|\s+have)?\s+won\b(?!['’])"
        ),
    ),
    # "make money from home", "earn $500 a day", "passive income"
    "money": (
        0.9,
        (
            r"\b(?:make|earn|making|earning)\s+(?:money|cash|\$)\s*(?:\d|online|from|at\s+home|fast|"
            r"easy|easily|with|by|while)|\bearn\s+(?:extra\s+)?(?:money|cash|income)\b"
            r"|\bwork(?:ing)?\s+(?:from|at)\s+home\b|\bpassive\s+income\b|\bget\s+rich\b"
            r"|\bonline\s+(?:job|income|business)\b|\bauto\s*pilot\b|\bfree\s+leads\b"
            r"|\b(?:bitcoin|crypto|forex)\s+(?:profit|signals|investment|trading)\b"
            r"|\bdonate\s+(?:\w+\s+)?(?:bitcoins?|btc|money)\b|\b[13][a-km-zA-HJ-NP-Z1-9]{25,34}\b"
        ),
    ),
    # A reply that sells: "use my code", "link in bio", "DM me for prices", "buy cheap"
    "injected_promotion": (
        0.7,
        (
            r"\buse\s+my\s+(?:promo\s+|referral\s+|discount\s+)?code\b|\blink\s+in\s+(?:my\s+)?bio\b"
            r"|\b(?:dm|message|text|whatsapp|inbox)\s+me\s+(?:for|to)\s+(?:buy|order|prices?|deals|"
            r"business|orders)\b|\bbuy\s+(?:now|cheap)\b|\bcheap\s+(?:\w+\s+)?(?:followers|likes)\b"
        ),
    ),
    # Contest talk: a customer asking about a brand's giveaway is not spam on its own.
    "giveaway_word": (0.45, r"\bgive\s?away\b|\bsweepstakes?\b"),
}
_RULES: tuple[tuple[str, float, re.Pattern[str]], ...] = tuple(
    (name, weight, re.compile(pattern, re.IGNORECASE))
    for name, (weight, pattern) in _PATTERNS.items()
)

# Link weights: a link to a promotional host decides alone; an unexplained external link
# decides alone in a top-level comment, not in a reply (customers link things to brands); a link
# to another video needs one more cue.
_PROMO_LINK_WEIGHT = 0.7
_LINK_WEIGHT = 0.5
_REPLY_LINK_WEIGHT = 0.4
_VIDEO_LINK_WEIGHT = 0.3
# Near-duplicates are a cue, not a verdict: customers send the same complaint in the same words
# (during an outage, dozens of them). The same link pasted by many authors is a campaign.
_NEAR_DUPLICATE_WEIGHT = 0.45
_CAMPAIGN_AUTHORS = 5
_CAMPAIGN_WEIGHT = 0.6
_ANY_URL = re.compile(r"https?://|\bwww\.", re.IGNORECASE)

# Video platforms' comment sections, where the audience of someone else's video is the prize:
# there the weak cues above (channel, subscribe, check out, my music) decide alone.
COMMENT_PLATFORMS = frozenset({"youtube", "tiktok", "twitch"})
_COMMENT_PROMO_WEIGHT = 0.6
_COMMENT_PROMO = re.compile(
    r"\b(?:channel|chanel|chhanel|subscribe\w*|suscribe|subcribe|subs?|check\s*out|checkout|"
    r"chacking\s+out|check\s+\w+\s+out|my\s+(?:music|videos?|vids|rap|songs?|beats|covers?))\b",
    re.IGNORECASE,
)
# Near-duplicate detection: MinHash over character 5-gram shingles with LSH banding (20 bands of
# 5 rows: a pair at 0.7 Jaccard becomes a candidate with p = 0.97, at 0.3 with p = 0.05),
# each candidate then checked exactly.
_SHINGLE = 5
_BANDS, _ROWS = 20, 5
_MIN_DUP_WORDS = 8  # short phrases ("thank you so much") repeat by chance, not by campaign
_DUP_JACCARD = 0.7
_RNG = np.random.default_rng(20170101)
_A = _RNG.integers(0, 2**64 - 1, size=_BANDS * _ROWS, dtype=np.uint64, endpoint=True) | np.uint64(1)
_B = _RNG.integers(0, 2**64 - 1, size=_BANDS * _ROWS, dtype=np.uint64, endpoint=True)
_POLY = np.uint64(1_000_003)
_MIX = _RNG.integers(0, 2**64 - 1, size=_ROWS, dtype=np.uint64, endpoint=True) | np.uint64(1)


@dataclass(frozen=True)
class Verdict:
    """The spam decision for one text: score, and the rules that fired, in rule order."""

    score: float
    reasons: tuple[str, ...]

    @property
    def is_spam(self) -> bool:
        """Spam when the combined evidence reaches the threshold."""
        return self.score >= THRESHOLD


def _combine(weights: Sequence[float]) -> float:
    """Noisy-or: independent cues each leave the post less likely to be honest."""
    honest = 1.0
    for w in weights:
        honest *= 1.0 - w
    return round(1.0 - honest, 6)


def text_rules(
    text: str, *, org: bool = False, comment_section: bool = False
) -> list[tuple[str, float]]:
    """The per-text rules that fire on ``text``, with their weights.

    ``org`` (a post by an audited brand account) fires nothing: a brand announcing its own
    contest, channel, offer or help page is its conversation, not noise injected into it.
    ``comment_section`` (a video platform's comments, see ``COMMENT_PLATFORMS``) adds
    ``comment_promo``: there, any talk of channels, subscribing or checking something out, and
    any external link, is a creator advertising under someone else's video.
    """
    if org:
        return []
    plain = rule_text(text)
    fired = [(name, weight) for name, weight, pattern in _RULES if pattern.search(plain)]
    if comment_section and _COMMENT_PROMO.search(plain):
        fired.append(("comment_promo", _COMMENT_PROMO_WEIGHT))
    urls = [
        u
        for u in _URL.findall(text)
        if not _NEUTRAL_URL.search(u) and (comment_section or not _CARE_URL.search(u))
    ]
    if any(_PROMO_HOST.search(u) for u in urls):
        fired.append(("promo_link", _PROMO_LINK_WEIGHT))
    elif any(not _VIDEO_URL.search(u) for u in urls):
        reply = text.lstrip().startswith("@") and not comment_section
        fired.append(("link", _REPLY_LINK_WEIGHT if reply else _LINK_WEIGHT))
    elif urls:
        fired.append(("video_link", _VIDEO_LINK_WEIGHT))
    return fired


# Letters repeated three or more times ("PLEASSSSE SUBSCRIBEEEE MY CHANNNNNEL") and runs of
# dots or dashes used as spaces ("....subscribe......to my.....channel") hide words from the
# patterns; the patterns read the text with both undone (links are read from the raw text).
_ELONGATED = re.compile(r"([^\W\d_])\1{2,}")
_FILLER = re.compile(r"(?:[.\-_~*=+]{2,}|\s)+")


def rule_text(text: str) -> str:
    """The text the patterns read: elongations cut to one letter, filler runs to one space."""
    return _FILLER.sub(" ", _ELONGATED.sub(r"\1", text))


def _normalise(text: str) -> str:
    """Lowercase words only: handles and punctuation differ between copies of one message."""
    return " ".join(_WORD.findall(_HANDLE.sub(" ", text).lower()))


def _shingles(norm: str) -> set[str]:
    return {norm[i : i + _SHINGLE] for i in range(max(1, len(norm) - _SHINGLE + 1))}


def _signatures(norms: Sequence[str]) -> np.ndarray:
    """MinHash signatures of the texts' character shingles, one row per text, all at once.

    Each shingle (``_SHINGLE`` code points) hashes as a polynomial over its code points, computed
    for every window of the joined texts in one vectorised pass (stable across processes, unlike
    Python's salted ``hash``). A shingle repeated within a text does not change a minimum, so no
    set is built. Texts must be at least ``_SHINGLE`` characters long.
    """
    lengths = np.fromiter((len(n) for n in norms), dtype=np.int64, count=len(norms))
    codes = np.frombuffer("".join(norms).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    windows = len(codes) - _SHINGLE + 1
    rolled = np.zeros(windows, dtype=np.uint64)
    for k in range(_SHINGLE):
        rolled = rolled * _POLY + codes[k : k + windows]
    # Keep the windows that lie inside one text: text i owns offsets[i] .. + lengths[i] - K.
    counts = lengths - _SHINGLE + 1
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    hashes = rolled[np.repeat(offsets - starts, counts) + np.arange(counts.sum())]
    sigs = np.empty((len(norms), _BANDS * _ROWS), dtype=np.uint64)
    shift = np.uint64(32)
    # Multiply-shift hashing: (a * h + b) mod 2**64 (uint64 wraps), high 32 bits; a is odd.
    # One permutation at a time keeps the temporaries small enough to stay in cache.
    for j in range(_BANDS * _ROWS):
        sigs[:, j] = np.minimum.reduceat((_A[j] * hashes + _B[j]) >> shift, starts)
    return sigs


def _band_keys(sigs: np.ndarray) -> np.ndarray:
    """One row of ``_BANDS`` keys a text: each band of ``_ROWS`` signature values folded.

    A stray key collision only adds a candidate, which the exact check then rejects.
    """
    return np.stack(
        [(sigs[:, b * _ROWS : (b + 1) * _ROWS] * _MIX).sum(axis=1) for b in range(_BANDS)], axis=1
    )


def _buckets(keys: np.ndarray) -> list[list[int]]:
    """LSH: the groups of rows whose band keys agree on a whole band.

    Sorting finds the runs of equal keys without a Python loop over every row.
    """
    out: list[list[int]] = []
    for band in range(keys.shape[1]):
        col = keys[:, band]
        order = np.argsort(col, kind="stable")
        same = col[order][1:] == col[order][:-1]
        if not same.any():
            continue
        edges = np.flatnonzero(np.diff(np.concatenate(([0], same.astype(np.int8), [0]))))
        for start, end in zip(edges[::2], edges[1::2], strict=True):
            out.append(order[start : end + 1].tolist())
    return out


class DuplicateIndex:
    """Near-duplicate clusters over every post added to it, in as many batches as needed.

    Why an index: a campaign pasted over a few hours spans several of ``enrich``'s batches, and
    a per-batch check misses it. ``add`` takes posts batch by batch (keeping only each distinct
    normalised text, its authors and its LSH band keys: 160 bytes a text); the clusters are
    resolved once, on the first ``count``. Posts with no author, or under ``_MIN_DUP_WORDS``
    words, count as 1. Near-duplicates join transitively (A ~ B ~ C is one cluster).
    """

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._norms: list[str] = []
        self._authors: list[str | set[str]] = []  # one author as a str until a second appears
        self._keys: list[np.ndarray] = []
        self._cluster_authors: list[int] | None = None

    def add(self, posts: Sequence[str], authors: Sequence[str | None]) -> None:
        """Take a batch of posts (``None`` authors are skipped)."""
        fresh: list[str] = []
        for text, author in zip(posts, authors, strict=True):
            if author is None:
                continue
            norm = _normalise(text)
            if norm.count(" ") + 1 < _MIN_DUP_WORDS:
                continue
            gid = self._ids.get(norm)
            if gid is None:
                self._ids[norm] = len(self._norms)
                self._norms.append(norm)
                self._authors.append(author)
                fresh.append(norm)
                continue
            have = self._authors[gid]
            if isinstance(have, set):
                if author not in have:
                    have.add(author)
                    self._cluster_authors = None
            elif have != author:
                self._authors[gid] = {have, author}
                self._cluster_authors = None
        if fresh:
            self._keys.append(_band_keys(_signatures(fresh)))
            self._cluster_authors = None

    def _resolve(self) -> list[int]:
        """Distinct authors of each text's cluster, by text id."""
        n = len(self._norms)
        parent = list(range(n))

        def root(g: int) -> int:
            while parent[g] != g:
                parent[g] = parent[parent[g]]
                g = parent[g]
            return g

        shingles: dict[int, set[str]] = {}
        checked: set[tuple[int, int]] = set()
        keys = np.concatenate(self._keys) if self._keys else np.zeros((0, _BANDS), np.uint64)
        for members in _buckets(keys):
            for x in range(len(members)):
                for y in range(x + 1, len(members)):
                    g, h = members[x], members[y]
                    if (g, h) in checked or root(g) == root(h):
                        continue
                    checked.add((g, h))
                    for k in (g, h):
                        if k not in shingles:
                            shingles[k] = _shingles(self._norms[k])
                    a, b = shingles[g], shingles[h]
                    if len(a & b) >= _DUP_JACCARD * len(a | b):
                        parent[root(g)] = root(h)
        members_of: dict[int, set[str]] = defaultdict(set)
        for g, have in enumerate(self._authors):
            members_of[root(g)] |= have if isinstance(have, set) else {have}
        return [len(members_of[root(g)]) for g in range(n)]

    def counts(self, posts: Sequence[str], authors: Sequence[str | None]) -> list[int]:
        """Per post, how many distinct authors posted it or nearly the same text (1 = alone).

        Posts not added yet are added first, so the count never misses the batch itself.
        """
        self.add(posts, authors)
        if self._cluster_authors is None:
            self._cluster_authors = self._resolve()
        out = []
        for text, author in zip(posts, authors, strict=True):
            gid = None if author is None else self._ids.get(_normalise(text))
            out.append(1 if gid is None else self._cluster_authors[gid])
        return out


def near_duplicates(posts: Sequence[str], authors: Sequence[str | None]) -> list[int]:
    """Per post, how many distinct (known) authors posted it or nearly the same text in the list.

    1 means no near-duplicate by anyone else (see ``DuplicateIndex``, which this fills once).
    """
    return DuplicateIndex().counts(posts, authors)


# The fitted cue, in comment sections only: a linear model over words and character n-grams
# (``textmodel``), fitted on labelled YouTube comments as spam and ham and customer-care tweets
# as ham (how, and on what: ``benchmarks/fit_classifiers.py``). At ``_MODEL_MIN`` or more its
# probability is its weight, so alone it decides, and the rules still name what else fired. In
# customer care it stays silent: there it mostly echoes the keyword cues ("how do I subscribe
# to the premium plan?") that the rules already weigh as weak, and a false flag hides a
# customer. The bar was set on leave-one-file-out runs (benchmarks/eval_spam_language.py).
MODEL_FILE = "spam_linear.npz"
_MODEL_MIN = 0.6


@cache
def model() -> LinearTextModel | None:
    """The shipped spam model, or ``None`` when this install has none (then rules only)."""
    ref = resources.files("socialaudit.enrich").joinpath("models", MODEL_FILE)
    if not ref.is_file():
        return None
    with ref.open("rb") as fh:
        return LinearTextModel.load(fh)


def model_scores(posts: Sequence[str]) -> list[float]:
    """P(spam) of each text under the shipped model (0.0 for every text without one)."""
    m = model()
    if m is None or not posts:
        return [0.0] * len(posts)
    distinct = list(dict.fromkeys(posts))
    p = m.proba(distinct)[:, m.classes.index("spam")]
    by_text = dict(zip(distinct, (round(float(x), 4) for x in p), strict=True))
    return [by_text[t] for t in posts]


def judge(
    posts: Sequence[str],
    authors: Sequence[str | None] | None = None,
    is_org: Sequence[bool | None] | None = None,
    platforms: Sequence[str | None] | None = None,
    *,
    index: DuplicateIndex | None = None,
) -> list[Verdict]:
    """Spam verdicts for a batch: rules, model (each distinct text once), near-duplicates.

    ``platforms`` (the posts' platform names) switches on the comment-section rule for
    ``COMMENT_PLATFORMS``; without it every post is judged as customer care. ``index`` holds
    near-duplicates over more than this batch (it must already contain these posts); without
    it they are looked for within the batch.
    """
    n = len(posts)
    authors = authors if authors is not None else [None] * n
    orgs = [bool(o) for o in is_org] if is_org is not None else [False] * n
    comments = [(p or "").lower() in COMMENT_PLATFORMS for p in platforms or [None] * n]
    cache: dict[tuple[str, bool, bool], list[tuple[str, float]]] = {}
    # Brand replies are templated by design: repeating them is not a campaign.
    people = [None if o else a for a, o in zip(authors, orgs, strict=True)]
    dup = index.counts(posts, people) if index is not None else near_duplicates(posts, people)
    scored = zip(posts, orgs, comments, strict=True)
    to_score = list(dict.fromkeys(t for t, o, c in scored if c and not o))
    learned = dict(zip(to_score, model_scores(to_score), strict=True))
    verdicts = []
    for text, org, comment, n_authors in zip(posts, orgs, comments, dup, strict=True):
        key = (text, org, comment)
        if key not in cache:
            cache[key] = text_rules(text, org=org, comment_section=comment)
            p = learned.get(text, 0.0) if comment and not org else 0.0
            if p >= _MODEL_MIN:
                cache[key] = [*cache[key], ("model", p)]
        fired = cache[key]
        if n_authors >= _CAMPAIGN_AUTHORS and _ANY_URL.search(text):
            fired = [*fired, ("near_duplicate", _CAMPAIGN_WEIGHT)]
        elif n_authors > 1:
            fired = [*fired, ("near_duplicate", _NEAR_DUPLICATE_WEIGHT)]
        verdicts.append(Verdict(_combine([w for _, w in fired]), tuple(name for name, _ in fired)))
    return verdicts


def _column(batch: pa.Table, name: str) -> list | None:
    return batch.column(name).to_pylist() if name in batch.column_names else None


class SpamEnricher:
    """Flags promotion, giveaways, money schemes and cross-author copy-paste as spam."""

    name = "spam"
    title = "Spam and noise"
    description = "Rules plus a small linear model; spam_reason names what fired."
    version = "rules-2-linear-1"
    target: Target = "all"
    columns: dict[str, str] = {
        "is_spam": "boolean",
        "spam_score": "float64",
        "spam_reason": "string",
    }

    def __init__(self) -> None:
        self._index: DuplicateIndex | None = None

    def prepare(self, batches: Iterable[pa.Table]) -> None:
        """See every pending post before labelling any, so near-duplicates span batches.

        The runner streams the whole pending set through here first (text, author_id, is_org);
        ``run`` then counts each post's near-duplicates over all of it.
        """
        index = DuplicateIndex()
        for batch in batches:
            orgs = _column(batch, "is_org") or [False] * batch.num_rows
            authors = _column(batch, "author_id") or [None] * batch.num_rows
            index.add(texts(batch), [None if o else a for a, o in zip(authors, orgs, strict=True)])
        self._index = index

    def run(self, batch: pa.Table) -> Labels:
        """Judge a batch; near-duplicates over the prepared set, else within this batch."""
        verdicts = judge(
            texts(batch),
            _column(batch, "author_id"),
            _column(batch, "is_org"),
            _column(batch, "platform"),
            index=self._index,
        )
        reasons: list[object] = [";".join(v.reasons) if v.is_spam else None for v in verdicts]
        return Labels(
            label=["spam" if v.is_spam else "not_spam" for v in verdicts],
            score=[v.score for v in verdicts],
            columns={
                "is_spam": [v.is_spam for v in verdicts],
                "spam_score": [v.score for v in verdicts],
                "spam_reason": reasons,
            },
        )


@register("spam")
def spam() -> SpamEnricher:
    """Factory for the registry."""
    return SpamEnricher()
