"""Network and campaign plantings for the synthetic market, with their ground truth.

Added after the market is built, with their own random generator, and shaped so that no
planted responsiveness figure moves: community members answer customers without mentioning
the org (so their replies open no turn in any inbox), and campaign posts carry a hashtag,
keyword or campaign-account mention but never an org's handle.

The truth is read off the planted posts by following the definitions in the README
("Network and campaigns"), not by calling the metric code.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - typing only; market imports this module
    from socialaudit.synthetic.market import _Market, _Post, _Turn

MINUTE, HOUR, DAY = 60, 3600, 86400
_MENTION = re.compile(r"(?<![A-Za-z0-9_@])@([A-Za-z0-9_]+)")


@dataclass(frozen=True)
class Voice:
    """A community member and what they do in one org's conversations."""

    org: str
    before: int = 0  # turns answered before the org's first response
    instead: int = 0  # turns the org never answers
    after: int = 0  # turns answered after the org
    thanks: int = 0  # of those turns, how many customers reply with thanks
    replies_back: int = 0  # of those turns, how many customers reply without thanks


VOICES: tuple[Voice, ...] = (
    Voice("SkylarkAir", instead=6, thanks=4),
    Voice("SkylarkAir", before=3, replies_back=1),
    Voice("SkylarkAir", instead=2),
    Voice("NimbusAirCare", before=4, thanks=2),
    Voice("AcmeHelp", after=3, replies_back=1),
)
_TIPS = (
    "same happened to me, rebooking in the app worked",
    "try the web form instead, they reply there",
    "you can ask at the desk for a voucher",
    "clear the app cache, that sorted it for me",
)
_THANKS = ("thanks, that worked!", "thank you, sorted now")
_BACK = ("no luck, still stuck", "tried it, same problem")

# The campaign: fixed dates inside the market's window (the reference time is 2017-12-01).
CAMPAIGN: dict[str, Any] = {
    "id": "acme-fiber",
    "name": "Acme Fiber launch",
    "org": "AcmeHelp",
    "start": "2017-11-15",
    "end": "2017-11-24",
    "hashtags": ["AcmeFiber"],
    "keywords": ["fiber deal"],
    "accounts": ["AcmeFiberNews"],
}
_C_START = datetime(2017, 11, 15, tzinfo=UTC)
_C_END = datetime(2017, 11, 25, tzinfo=UTC)  # the end date is included: next midnight
#: Posts planted before and during the campaign: the uplift the metric must recover.
CAMPAIGN_POSTS_BEFORE, CAMPAIGN_POSTS_DURING = 12, 42
_BUZZ = (
    "just switched to #AcmeFiber and it is fast",
    "is #acmefiber available in my street?",
    "the fiber deal from Acme looks good",
    "anyone tried @AcmeFiberNews yet?",
)


def plant_community(m: _Market, seed: int, ref: int) -> set[str]:
    """Community members answer customers' turns; return the ids of the thanks replies."""
    rng = random.Random(f"community-{seed}")
    thanks_ids: set[str] = set()
    used: set[str] = set()
    for spec in VOICES:
        voice = m.customer(fresh=True)
        m.block()
        turns = [t for t in m.turns[spec.org] if t.opener.parent is None]
        plan = [("before", spec.before), ("instead", spec.instead), ("after", spec.after)]
        chosen: list[tuple[str, _Turn, int]] = []
        for timing, k in plan:
            fits = [
                (t, when)
                for t in turns
                if t.opener.tweet_id not in used
                and (when := _reply_time(rng, t, timing, ref)) is not None
            ]
            for t, when in rng.sample(fits, min(k, len(fits))):
                used.add(t.opener.tweet_id)
                chosen.append((timing, t, when))
        reactions = ["thanks"] * spec.thanks + ["back"] * spec.replies_back
        for n, (_, t, when) in enumerate(chosen):
            reply = m.post(
                voice, when, f"@{t.opener.author} {rng.choice(_TIPS)}", t.opener.tweet_id
            )
            if n < len(reactions):
                later = when + rng.randint(MINUTE, 2 * HOUR)
                if later <= ref:
                    text = rng.choice(_THANKS if reactions[n] == "thanks" else _BACK)
                    back = m.post(t.opener.author, later, f"@{voice} {text}", reply.tweet_id)
                    if reactions[n] == "thanks":
                        thanks_ids.add(back.tweet_id)
    return thanks_ids


def _reply_time(rng: random.Random, t: _Turn, timing: str, ref: int) -> int | None:
    opened = t.opener.created
    if timing == "instead":
        if t.frt is not None or ref - opened < 2 * HOUR:
            return None
        return opened + rng.randint(10 * MINUTE, HOUR)
    if t.frt is None or t.frt < 0:
        return None
    if timing == "before":
        return opened + rng.randint(1, t.frt - 1) if t.frt > 2 * MINUTE else None
    when = opened + t.frt + rng.randint(MINUTE, HOUR)
    return when if when <= ref else None


def plant_campaign(m: _Market, seed: int) -> None:
    """Buzz before and during the campaign, replies to some of it, and traps that do not count."""
    rng = random.Random(f"campaign-{seed}")
    start, end = int(_C_START.timestamp()), int(_C_END.timestamp())
    span = end - start
    pool = [m.customer(fresh=True) for _ in range(30)]
    m.block()
    for n, lo, hi in (
        (CAMPAIGN_POSTS_BEFORE, start - span, start),
        (CAMPAIGN_POSTS_DURING, start, end),
    ):
        for _ in range(n):
            post = m.post(rng.choice(pool), rng.randrange(lo, hi), rng.choice(_BUZZ))
            if rng.random() < 0.3:
                fan = m.customer(fresh=True)
                m.post(
                    fan,
                    post.created + rng.randint(MINUTE, HOUR),
                    f"@{post.author} nice!",
                    post.tweet_id,
                )
    # Not campaign buzz: the org's own post, a look-alike hashtag, and posts after the end.
    m.post("AcmeHelp", start + DAY, "Introducing #AcmeFiber: gigabit for everyone", inbound=False)
    m.post(rng.choice(pool), start + 2 * DAY, "#AcmeFiberX is not a thing")
    m.post(rng.choice(pool), end + HOUR, "late to the #AcmeFiber party")


def campaign_costs_csv(seed: int) -> str:
    """Daily spend for the campaign window on two channels (one day's clicks unknown)."""
    rng = random.Random(f"campaign-costs-{seed}")
    lines = ["day,channel,spend,impressions,clicks,conversions"]
    day = _C_START
    while day < _C_END:
        for channel in ("search", "social"):
            spend = rng.randint(50, 400)
            imps = spend * rng.randint(80, 120)
            clicks = (
                ""
                if (day == _C_START and channel == "social")
                else str(imps // rng.randint(40, 90))
            )
            lines.append(f"{day:%Y-%m-%d},{channel},{spend},{imps},{clicks},{rng.randint(0, 6)}")
        day += timedelta(days=1)
    return "\n".join(lines) + "\n"


def campaigns_toml() -> str:
    """The planted campaign as a campaigns.toml (costs next to it)."""
    c = CAMPAIGN

    def arr(key: str) -> str:
        return "[" + ", ".join(f'"{v}"' for v in c[key]) + "]"

    return (
        f'[[campaign]]\nid = "{c["id"]}"\nname = "{c["name"]}"\norg = "{c["org"]}"\n'
        f"start = {c['start']}\nend = {c['end']}\nhashtags = {arr('hashtags')}\n"
        f"keywords = {arr('keywords')}\naccounts = {arr('accounts')}\n"
        'costs = "campaign_costs.csv"\n'
    )


# --- truth ------------------------------------------------------------------------------


def _children(m: _Market) -> dict[str, list[_Post]]:
    kids: dict[str, list[_Post]] = {}
    for p in m.by_id.values():
        if p.parent is not None and p.parent in m.by_id:
            kids.setdefault(p.parent, []).append(p)
    return kids


def _root(m: _Market, p: _Post) -> str:
    while p.parent is not None and p.parent in m.by_id:
        p = m.by_id[p.parent]
    return p.tweet_id


def voices_truth(
    m: _Market, thanks_ids: set[str], orgs: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Per org, every account other than the customer and the orgs replying into its turns.

    Ordered by answers first (before + instead), then customer reactions, then id.
    """
    kids = _children(m)
    out: dict[str, list[dict[str, Any]]] = {}
    for org in orgs:
        per: dict[str, dict[str, Any]] = {}
        for t in m.turns[org]:
            cust = t.opener.author
            replies = [
                q
                for p in t.posts
                for q in kids.get(p.tweet_id, [])
                if q.author != cust and q.author not in orgs and q.inbound
            ]
            by_voice: dict[str, list[_Post]] = {}
            for q in replies:
                by_voice.setdefault(q.author, []).append(q)
            for voice, qs in by_voice.items():
                first = min(q.created for q in qs)
                if t.frt is None:
                    timing = "instead_of_org"
                elif first < t.opener.created + t.frt:
                    timing = "before_org"
                else:
                    timing = "after_org"
                backs = [c for q in qs for c in kids.get(q.tweet_id, []) if c.author == cust]
                v = per.setdefault(
                    voice,
                    {"voice": voice, "turns": 0, "before_org": 0, "instead_of_org": 0,
                     "after_org": 0, "reactions": 0, "thanked": 0},
                )  # fmt: skip
                v["turns"] += 1
                v[timing] += 1
                v["reactions"] += bool(backs)
                v["thanked"] += any(c.tweet_id in thanks_ids for c in backs)
        ranked = sorted(
            per.values(),
            key=lambda v: (-(v["before_org"] + v["instead_of_org"]), -v["reactions"], v["voice"]),
        )
        out[org] = ranked
    return out


def relevant_truth(m: _Market, orgs: list[str]) -> dict[str, dict[str, int]]:
    """Per org: interactors and how many engaged in two or more conversations."""
    lower = {o.lower(): o for o in orgs}
    convs: dict[str, dict[str, set[str]]] = {o: {} for o in orgs}
    for p in m.by_id.values():
        parent = m.by_id.get(p.parent or "")
        touched: set[str] = {
            lower[h.lower()] for h in _MENTION.findall(p.text) if h.lower() in lower
        }
        if parent is not None and parent.author in convs:
            touched.add(parent.author)
        for org in touched - {p.author}:
            convs[org].setdefault(p.author, set()).add(_root(m, p))
        if p.author in convs and parent is not None and parent.author != p.author:
            convs[p.author].setdefault(parent.author, set()).add(_root(m, p))
    return {
        o: {
            "interactors": len(people),
            "repeat": sum(1 for roots in people.values() if len(roots) >= 2),
        }
        for o, people in convs.items()
    }


def campaign_truth(m: _Market, costs_csv: str, peers: list[str]) -> dict[str, Any]:
    """Mentions, authors, observed engagement, share of voice and costs, per window."""
    start, end = int(_C_START.timestamp()), int(_C_END.timestamp())
    tags = re.compile(r"(?<![\w&#])#acmefiber(?![\w])", re.IGNORECASE)

    def matches(p: _Post) -> bool:
        text = p.text.lower()
        return (
            bool(tags.search(p.text))
            or "fiber deal" in text
            or any(h.lower() == "acmefibernews" for h in _MENTION.findall(p.text))
        )

    kids = _children(m)
    lower = {o.lower(): o for o in peers}

    def window(lo: int, hi: int) -> dict[str, Any]:
        hits = [
            p for p in m.by_id.values()
            if lo <= p.created < hi and p.author != CAMPAIGN["org"] and matches(p)
        ]  # fmt: skip
        voice: dict[str, int] = dict.fromkeys(peers, 0)
        for p in m.by_id.values():
            if lo <= p.created < hi:
                named = {lower[h.lower()] for h in _MENTION.findall(p.text) if h.lower() in lower}
                for org in named - {p.author}:
                    voice[org] += 1
        total = sum(voice.values())
        return {
            "mentions": len(hits),
            "unique_authors": len({p.author for p in hits}),
            "observed_interactions": sum(len(kids.get(p.tweet_id, [])) for p in hits),
            "share_of_voice": voice[CAMPAIGN["org"]] / total if total else None,
        }

    during, before = window(start, end), window(2 * start - end, start)
    rows = [line.split(",") for line in costs_csv.strip().splitlines()[1:]]
    spend = sum(float(r[2]) for r in rows)
    with_clicks = [r for r in rows if r[4]]
    return {
        **CAMPAIGN,
        "window": during,
        "before": before,
        "uplift_ratio": during["mentions"] / before["mentions"] - 1,
        "spend": spend,
        "cpm": 1000 * spend / sum(int(r[3]) for r in rows),
        "cpc": sum(float(r[2]) for r in with_clicks) / sum(int(r[4]) for r in with_clicks),
        "cost_per_engagement": spend / during["observed_interactions"],
        "cost_per_conversion": spend / sum(int(r[5]) for r in rows),
    }
