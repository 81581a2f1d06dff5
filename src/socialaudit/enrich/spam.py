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
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from socialaudit.enrich.base import Labels, Target, register, texts

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
    fired = [(name, weight) for name, weight, pattern in _RULES if pattern.search(text)]
    if comment_section and _COMMENT_PROMO.search(text):
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


def _buckets(sigs: np.ndarray) -> list[list[int]]:
    """LSH: the groups of rows whose signatures agree on a whole band, bands of ``_ROWS``.

    Each band's rows fold into one key (a stray key collision only adds a candidate, which the
    exact check then rejects), and sorting finds the runs of equal keys without a Python loop
    over every row.
    """
    out: list[list[int]] = []
    for band in range(_BANDS):
        keys = (sigs[:, band * _ROWS : (band + 1) * _ROWS] * _MIX).sum(axis=1)
        order = np.argsort(keys, kind="stable")
        same = keys[order][1:] == keys[order][:-1]
        if not same.any():
            continue
        edges = np.flatnonzero(np.diff(np.concatenate(([0], same.astype(np.int8), [0]))))
        for start, end in zip(edges[::2], edges[1::2], strict=True):
            out.append(order[start : end + 1].tolist())
    return out


def near_duplicates(posts: Sequence[str], authors: Sequence[str | None]) -> list[int]:
    """Per post, how many distinct (known) authors posted it or nearly the same text in the list.

    1 means no near-duplicate by anyone else. Posts with no author, or under ``_MIN_DUP_WORDS``
    words, count as 1. Near-duplicates join transitively (A ~ B ~ C is one cluster).
    """
    counts = [1] * len(posts)
    # Group identical normalised texts first: most duplicates are exact copies.
    groups: dict[str, list[int]] = defaultdict(list)
    for i, (text, author) in enumerate(zip(posts, authors, strict=True)):
        if author is None:
            continue
        norm = _normalise(text)
        if norm.count(" ") + 1 >= _MIN_DUP_WORDS:
            groups[norm].append(i)
    if not groups:
        return counts
    norms = list(groups)
    group_authors = [{authors[i] for i in groups[n]} for n in norms]
    parent = list(range(len(norms)))

    def root(g: int) -> int:
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    sigs = _signatures(norms)
    shingles: dict[int, set[str]] = {}
    checked: set[tuple[int, int]] = set()
    for members in _buckets(sigs):
        for x in range(len(members)):
            for y in range(x + 1, len(members)):
                g, h = members[x], members[y]
                if (g, h) in checked or root(g) == root(h):
                    continue
                checked.add((g, h))
                for k in (g, h):
                    if k not in shingles:
                        shingles[k] = _shingles(norms[k])
                a, b = shingles[g], shingles[h]
                if len(a & b) >= _DUP_JACCARD * len(a | b):
                    parent[root(g)] = root(h)
    cluster_authors: dict[int, set[str | None]] = defaultdict(set)
    for g in range(len(norms)):
        cluster_authors[root(g)] |= group_authors[g]
    for g, norm in enumerate(norms):
        n_authors = len(cluster_authors[root(g)])
        for i in groups[norm]:
            counts[i] = n_authors
    return counts


def judge(
    posts: Sequence[str],
    authors: Sequence[str | None] | None = None,
    is_org: Sequence[bool | None] | None = None,
    platforms: Sequence[str | None] | None = None,
) -> list[Verdict]:
    """Spam verdicts for a batch: per-text rules (each distinct text once) plus near-duplicates.

    ``platforms`` (the posts' platform names) switches on the comment-section rule for
    ``COMMENT_PLATFORMS``; without it every post is judged as customer care.
    """
    n = len(posts)
    authors = authors if authors is not None else [None] * n
    orgs = [bool(o) for o in is_org] if is_org is not None else [False] * n
    comments = [(p or "").lower() in COMMENT_PLATFORMS for p in platforms or [None] * n]
    cache: dict[tuple[str, bool, bool], list[tuple[str, float]]] = {}
    # Brand replies are templated by design: repeating them is not a campaign.
    dup = near_duplicates(posts, [None if o else a for a, o in zip(authors, orgs, strict=True)])
    verdicts = []
    for text, org, comment, n_authors in zip(posts, orgs, comments, dup, strict=True):
        key = (text, org, comment)
        if key not in cache:
            cache[key] = text_rules(text, org=org, comment_section=comment)
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
    description = "Rule-based spam flag; spam_reason names the rules that fired."
    version = "rules-1"
    target: Target = "all"
    columns: dict[str, str] = {
        "is_spam": "boolean",
        "spam_score": "float64",
        "spam_reason": "string",
    }

    def run(self, batch: pa.Table) -> Labels:
        """Judge a batch; near-duplicates are looked for within this batch only."""
        verdicts = judge(
            texts(batch),
            _column(batch, "author_id"),
            _column(batch, "is_org"),
            _column(batch, "platform"),
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
