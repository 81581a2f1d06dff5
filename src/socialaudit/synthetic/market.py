"""A seeded synthetic customer-care market in the TWCS CSV format, with its ground truth.

Real exports cannot tell us whether an audit is right: nobody knows their true response rate.
This generator builds a market whose every turn is planted on purpose (opener, follow-ups,
first org reply), so the truth is known by construction rather than recomputed from the CSV.
It also plants the quirks real TWCS copies carry (unsorted rows, ``.0`` reply ids, bare
carriage returns, duplicates, broken records, clock skew, orphans, mention look-alikes), so
the demo and the tests exercise the same importer and metric paths as real data.

The same ``seed`` and ``scale`` always give byte-identical files: only ``random.Random(seed)``
draws numbers, and nothing iterates over a set or a hash-ordered structure.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from socialaudit.synthetic import community

HEADER = (
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
)
#: The audit's default reference time is the latest post: the generator plants one exactly here.
REFERENCE_TIME = datetime(2017, 12, 1, 10, 0, 0, tzinfo=UTC)
SPAN_DAYS = 60
MINUTE, HOUR, DAY = 60, 3600, 86400
_REF = int(REFERENCE_TIME.timestamp())
_START = _REF - SPAN_DAYS * DAY
#: Every quarantine reason the generator plants, in the importer's exact wording.
QUARANTINE_REASONS = (
    "wrong number of fields",
    "missing post id",
    "bad timestamp",
    "bad inbound flag",
)
TIERS = ("leader", "engaged", "rudimentary", "dormant", "absent")

# Twitter writes English day and month names whatever the locale; strftime would not.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# A bare CR must reach the file unquoted, as in real TWCS; this stand-in survives csv quoting.
_CR_STANDIN = "\x1e"


@dataclass(frozen=True)
class OrgProfile:
    """How one synthetic organization behaves: the knobs behind its intended maturity tier."""

    handle: str
    name: str
    peer_group: str
    tier: str
    timezone: str
    email: str
    sla_minutes: int = 60
    conversations: int = 0
    answer_rate: float = 0.0
    frt_median_s: float = 0.0
    frt_sigma: float = 0.0
    deflect_rate: float = 0.0
    continue_rate: float = 0.0
    # A leader leaves nothing old unanswered: every turn older than this gets a reply.
    answer_all_older_than_s: int | None = None
    broadcasts: int = 0


PROFILES: tuple[OrgProfile, ...] = (
    OrgProfile(
        "AcmeHelp", "Acme", "telecom", "leader", "America/New_York", "care@acme.example",
        conversations=320, answer_rate=0.6, frt_median_s=14 * MINUTE, frt_sigma=0.6,
        deflect_rate=0.08, continue_rate=0.3, answer_all_older_than_s=6 * DAY, broadcasts=3,
    ),
    OrgProfile(
        "VireoSupport", "Vireo Mobile", "telecom", "engaged", "Europe/London",
        "help@vireo.example", conversations=200, answer_rate=0.68, frt_median_s=3 * HOUR,
        frt_sigma=0.8, deflect_rate=0.2, continue_rate=0.25, broadcasts=2,
    ),
    OrgProfile(
        "NimbusAirCare", "Nimbus Air", "airline", "engaged", "America/Chicago",
        "care@nimbusair.example", sla_minutes=30, conversations=180, answer_rate=0.68,
        frt_median_s=2 * HOUR, frt_sigma=0.9, deflect_rate=0.25, continue_rate=0.25,
        broadcasts=2,
    ),
    OrgProfile(
        "SkylarkAir", "Skylark Airways", "airline", "rudimentary", "Europe/Paris",
        "service@skylark.example", conversations=130, answer_rate=0.3,
        frt_median_s=40 * HOUR, frt_sigma=0.7, deflect_rate=0.5, continue_rate=0.2,
        broadcasts=2,
    ),
    OrgProfile(
        "BoltBankHelp", "Bolt Bank", "banking", "rudimentary", "America/New_York",
        "support@boltbank.example", conversations=110, answer_rate=0.3,
        frt_median_s=48 * HOUR, frt_sigma=0.6, deflect_rate=0.6, continue_rate=0.15,
        broadcasts=1,
    ),
    OrgProfile(
        "CrateShipHelp", "CrateShip", "retail", "rudimentary", "America/Los_Angeles",
        "orders@crateship.example", conversations=90, answer_rate=0.33,
        frt_median_s=36 * HOUR, frt_sigma=0.5, deflect_rate=0.4, continue_rate=0.2,
        broadcasts=1,
    ),
    OrgProfile(
        "QuillBooks", "Quill Books", "retail", "dormant", "Europe/Berlin",
        "hello@quill.example", broadcasts=6,
    ),
    OrgProfile("GhostMartCare", "GhostMart", "retail", "absent", "Asia/Tokyo", "x@ghost.example"),
)  # fmt: skip

_QUESTIONS = {
    "telecom": (
        "my internet has been down since this morning",
        "why was I charged twice this month?",
        "no signal at home again, what is going on",
        "can you help me move my number to a new phone?",
        "my data plan ran out way too fast",
        "the router keeps rebooting every hour",
    ),
    "airline": (
        "my flight was cancelled and nobody at the gate can help",
        "my bag did not arrive in Denver",
        "can I still change my seat for tomorrow?",
        "the app will not let me check in",
        "I was charged for a bag I never checked",
    ),
    "banking": (
        "my card was declined abroad",
        "the app logs me out every time I open it",
        "when will my transfer show up?",
        "there is a payment on my statement I do not recognise",
    ),
    "retail": (
        "my order has not arrived yet",
        "I got the wrong size, how do I swap it?",
        "where is my refund? it has been two weeks",
        'the parcel says "delivered" but it is not here',
    ),
}
_PRAISE = ("love the new update, thanks team", "great service today", "thanks for the quick fix")
_NUDGES = ("hello?", "still waiting...", "any update on this?", "anyone there?", "??")
_AGAIN = ("that did not work", "still the same problem", "tried that, no luck", "now what?")
_THANKS = ("thanks, all good now", "that fixed it, thanks!", "cheers")
_EMOJI = (" 😡", " 🙏", " 😤", " 💯", " 🤥", " 😁")
# Replies that help: none of them names a private channel, so none reads as a deflection.
_HELP = (
    "Sorry about that! We have reset it on our side, it should work within the hour.",
    "Thanks for flagging this. A fix is rolling out now and should reach you today.",
    "We have refunded the duplicate charge, it shows in 3-5 days.",
    "Good news: that is sorted now. Anything else we can do?",
    "Apologies for the trouble. We have escalated this and it is being fixed.",
)
_DEFLECT = (
    "Please send us a DM with your account details so we can look into this.",
    "Please email us at {email} and we will take a look.",
    "Could you send us a private message with more details?",
)


@dataclass
class _Post:
    tweet_id: str
    author: str
    inbound: bool
    created: int
    text: str
    parent: str | None = None


@dataclass
class _Turn:
    """A planted turn: what the audit must find for its org."""

    org: str
    opener: _Post
    posts: list[_Post]
    replies: list[tuple[int, bool]] = field(default_factory=list)  # (created, is_deflection)

    @property
    def frt(self) -> int | None:
        """Seconds from the opener to the earliest org reply (negative under clock skew)."""
        return min(self.replies)[0] - self.opener.created if self.replies else None

    @property
    def deflected(self) -> bool:
        return bool(self.replies) and min(self.replies)[1]


class _Market:
    """The market under construction: posts grouped in conversation blocks, plus planted turns.

    A block is what stays roughly together in the shuffled CSV, like a TWCS conversation.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.blocks: list[list[_Post]] = [[]]
        self.by_id: dict[str, _Post] = {}
        self.turns: dict[str, list[_Turn]] = {p.handle: [] for p in PROFILES}
        self.customers: list[str] = []
        self.broken: list[tuple[str, list[str]]] = []
        self.skew = 0
        self.orphans = 0
        self.planted: dict[str, int] = dict.fromkeys(
            (
                "customer_to_customer_mentioning_org",
                "customer_to_customer_silent",
                "mention_traps_not_counted",
                "case_variant_mentions",
                "bare_cr_texts",
                "multiline_texts",
                "markup_texts",
            ),
            0,
        )
        self._next_id = 1

    def new_id(self) -> str:
        """Allocate a tweet id; one never given to a post makes its replies orphans."""
        self._next_id += 1
        return str(self._next_id - 1)

    def customer(self, *, fresh: bool = False) -> str:
        if self.customers and not fresh and self.rng.random() < 0.25:
            return self.rng.choice(self.customers)
        self.customers.append(str(115712 + len(self.customers)))
        return self.customers[-1]

    def block(self) -> None:
        self.blocks.append([])

    def post(
        self,
        author: str,
        created: int,
        text: str,
        parent: str | None = None,
        *,
        inbound: bool = True,
    ) -> _Post:
        if not _START - DAY <= created <= _REF:
            raise AssertionError(f"planted post outside the market's window: {created}")
        post = _Post(self.new_id(), author, inbound, created, text, parent)
        # Parents are always planted before their replies, so these are the final verdicts.
        if parent is not None:
            if parent not in self.by_id:
                self.orphans += 1
            elif created < self.by_id[parent].created:
                self.skew += 1
        self.by_id[post.tweet_id] = post
        self.blocks[-1].append(post)
        return post

    def turn(
        self,
        prof: OrgProfile,
        opened: int,
        text: str,
        frt: int | None = None,
        *,
        parent: str | None = None,
        author: str | None = None,
    ) -> _Turn:
        """Open a turn in ``prof``'s inbox; with ``frt``, the org answers the opener after it."""
        opener = self.post(author or self.customer(fresh=True), opened, text, parent)
        turn = _Turn(prof.handle, opener, [opener])
        self.turns[prof.handle].append(turn)
        if frt is not None:
            self.org_reply(prof, turn, opened + frt, to=opener)
        return turn

    def follow_up(self, turn: _Turn, created: int, text: str, to: _Post | None = None) -> _Post:
        """Add a post by the turn's author replying to their own post (default: the latest)."""
        post = self.post(turn.opener.author, created, text, (to or turn.posts[-1]).tweet_id)
        turn.posts.append(post)
        return post

    def org_reply(
        self,
        prof: OrgProfile,
        turn: _Turn,
        created: int,
        *,
        to: _Post | None = None,
        deflect: bool = False,
        text: str | None = None,
    ) -> _Post:
        target = to or self.rng.choice(turn.posts)
        if text is None:
            text = self.rng.choice(_DEFLECT if deflect else _HELP).format(email=prof.email)
        turn.replies.append((created, deflect))
        return self.post(
            prof.handle, created, f"@{target.author} {text}", target.tweet_id, inbound=False
        )

    def mention(self, handle: str) -> str:
        """Most customers type the handle as shown; a few type it in lower case."""
        if self.rng.random() < 0.04:
            self.planted["case_variant_mentions"] += 1
            return "@" + handle.lower()
        return "@" + handle

    def question(self, prof: OrgProfile) -> str:
        text = self.rng.choice(_QUESTIONS[prof.peer_group])
        return text + (self.rng.choice(_EMOJI) if self.rng.random() < 0.15 else "")

    def reply_time(self, prof: OrgProfile, opened: int) -> int | None:
        """When the org first answers a turn opened at ``opened``; None if it never does."""
        forced = prof.answer_all_older_than_s is not None and (
            _REF - opened > prof.answer_all_older_than_s
        )
        if not forced and self.rng.random() >= prof.answer_rate:
            return None
        frt = max(1, round(prof.frt_median_s * math.exp(prof.frt_sigma * self.rng.gauss(0, 1))))
        # A reply that would come after the reference time has not happened yet.
        return opened + frt if opened + frt < _REF else None


def _ago(days: float = 0, hours: float = 0, seconds: int = 0) -> int:
    return _REF - round(days * DAY + hours * HOUR) - seconds


def _conversation(m: _Market, prof: OrgProfile, opened: int) -> None:
    """One customer's exchange with an org: up to four turns, each answered or not."""
    rng = m.rng
    m.block()
    cust = m.customer()
    parent: str | None = None
    for round_no in range(4):
        t_reply = m.reply_time(prof, opened)
        if round_no > 0:  # replying to the brand's answer
            body = rng.choice(_THANKS if t_reply is None else _AGAIN)
        elif t_reply is None and _REF - opened > 7 * DAY and prof.tier == "engaged":
            body = rng.choice(_PRAISE)  # an engaged org leaves praise unanswered, not questions
        else:
            body = m.question(prof)
        text = f"{m.mention(prof.handle)} {body}"
        turn = m.turn(prof, opened, text, parent=parent, author=cust)
        limit = t_reply if t_reply is not None else min(_REF, opened + 2 * DAY)
        if rng.random() < 0.1 and limit - opened > 10:
            for t in sorted(rng.sample(range(opened + 1, limit), rng.randint(1, 3))):
                m.follow_up(turn, t, f"@{prof.handle} {rng.choice(_NUDGES)}")
        if t_reply is None:
            break
        reply = m.org_reply(prof, turn, t_reply, deflect=rng.random() < prof.deflect_rate)
        t_more = t_reply + rng.randint(MINUTE, 6 * HOUR)
        if rng.random() < 0.06 and t_more < _REF:
            m.follow_up(turn, t_more, f"@{prof.handle} also, {m.question(prof)}")
        opened = t_reply + rng.randint(2 * MINUTE, 12 * HOUR)
        if rng.random() >= prof.continue_rate or opened >= _REF:
            break
        parent = reply.tweet_id


def _broadcasts(m: _Market, prof: OrgProfile) -> list[_Post]:
    m.block()
    times = sorted(m.rng.sample(range(_START, _ago(days=1)), prof.broadcasts))
    text = f"{prof.name} news: our new plans are live 🎉"
    return [m.post(prof.handle, t, text, inbound=False) for t in times]


def _plant_acme(m: _Market, acme: OrgProfile) -> None:
    """The leader's traps: exact SLA edges, tree-shaped turns, mention look-alikes, skew."""
    m.block()
    h = "@AcmeHelp"
    m.turn(acme, _ago(20), f"{h} my sim card stopped working", 0)  # FRT 0: answered, not skew
    m.turn(acme, _ago(15), f"{h} my bill is wrong", 3600)  # exactly the SLA: a hit
    m.turn(acme, _ago(12), f"{h} my bill is wrong again", 3601)  # one second over: a miss
    m.turn(acme, _ago(33), f"{h} the outage map is blank", -95)  # clock skew: negative FRT
    m.turn(acme, _ago(1), f"{h} a day old, no reply")  # exactly 24 h: not in the 24 h backlog
    m.turn(acme, _ago(14), f"{h} re your tweet: still broken", 30 * MINUTE, parent=m.new_id())
    m.turn(acme, _ago(8), f"{h} <script>alert(1)</script> shows on my router page", 20 * MINUTE)
    m.turn(acme, _ago(2), "@acmehelp my data plan vanished overnight")
    m.planted["markup_texts"] += 1
    m.planted["case_variant_mentions"] += 1
    # Self-threads before the answer: the reply may go to any of them, FRT counts from the opener.
    t = m.turn(acme, _ago(30), f"{h} no service in my area")
    m.follow_up(t, t.opener.created + 5 * MINUTE, f"{h} hello?")
    last = m.follow_up(t, t.opener.created + 12 * MINUTE, f"{h} it is getting urgent")
    m.org_reply(acme, t, t.opener.created + 40 * MINUTE, to=last)
    t = m.turn(acme, _ago(9), f"{h} cannot make calls")
    for k in range(3):
        m.follow_up(t, t.opener.created + (k + 1) * 7 * MINUTE, f"{h} {_NUDGES[k]}")
    m.org_reply(acme, t, t.opener.created + 50 * MINUTE, to=t.opener)
    # A follow-up after the answer, branching from the opener: turns are trees, not chains.
    t = m.turn(acme, _ago(25), f"{h} voicemail is broken", 20 * MINUTE)
    late = m.follow_up(t, t.opener.created + 2 * HOUR, "also my texts arrive late", to=t.opener)
    m.org_reply(acme, t, t.opener.created + 3 * HOUR, to=late)
    # The customer answers the brand without mentioning it: in the inbox via the parent.
    t = m.turn(acme, _ago(18), f"{h} roaming is not working")
    r = m.org_reply(acme, t, t.opener.created + 10 * MINUTE, to=t.opener)
    text, cust = "thanks, that fixed it", t.opener.author
    t2 = m.turn(acme, r.created + HOUR, text, parent=r.tweet_id, author=cust)
    m.org_reply(acme, t2, t2.opener.created + 5 * MINUTE, to=t2.opener, text="Glad to help!")
    # Mentioned only in a follow-up, with a possessive: still a whole-handle mention.
    t = m.turn(acme, _ago(3), "my phone line is dead again 😤")
    m.follow_up(t, t.opener.created + 10 * MINUTE, "is @AcmeHelp's network down?")
    # No mention at all, but the org answered: the reply puts it in the inbox.
    m.turn(acme, _ago(40), "worst coverage ever, third outage this week", 25 * MINUTE)
    # Customer B replies to customer A: a new turn, the org's only if it mentions the org.
    a = m.turn(acme, _ago(22), f"{h} outage in Springfield again?", 15 * MINUTE).opener
    text = f"@{a.author} {h} same here, no signal since noon"
    m.turn(acme, a.created + 30 * MINUTE, text, 15 * MINUTE, parent=a.tweet_id)
    m.post(m.customer(fresh=True), a.created + 35 * MINUTE, f"@{a.author} same here", a.tweet_id)
    m.planted["customer_to_customer_mentioning_org"] += 1
    m.planted["customer_to_customer_silent"] += 1
    # A longer handle and an e-mail address are not mentions of AcmeHelp.
    text = "@AcmeHelpDesk is this the real support? write to bob@acmehelp.example"
    m.post(m.customer(fresh=True), _ago(10), text)
    m.planted["mention_traps_not_counted"] += 1
    # The org replies to a tweet missing from the data set: an orphan, but no turn.
    m.post(acme.handle, _ago(5), "@115000 Thanks for the kind words!", m.new_id(), inbound=False)
    # A customer replies to a broadcast: the parent is the org's, so the turn is its.
    news = _broadcasts(m, acme)[0]
    text = f"{h} will this affect my area?"
    m.turn(acme, news.created + 2 * HOUR, text, 15 * MINUTE, parent=news.tweet_id)


def _plant_others(m: _Market, by_handle: Mapping[str, OrgProfile]) -> None:
    """Traps for the engaged, rudimentary and dormant orgs."""
    m.block()
    vireo, nimbus = by_handle["VireoSupport"], by_handle["NimbusAirCare"]
    sky, bolt = by_handle["SkylarkAir"], by_handle["BoltBankHelp"]
    crate, quill = by_handle["CrateShipHelp"], by_handle["QuillBooks"]
    v, n, c = "@VireoSupport", "@NimbusAirCare", "@CrateShipHelp"

    m.turn(vireo, _ago(28), f"{v} is roaming included?", -300)
    m.turn(vireo, _ago(7), f"{v} my number port is stuck")  # exactly 7 d: not in the 7 d backlog
    t = m.turn(vireo, _ago(6), f"{v} following up on your old tweet", parent=m.new_id())
    m.follow_up(t, t.opener.created + HOUR, f"{v} hello??")
    m.follow_up(t, t.opener.created + 2 * HOUR, f"{v} anyone?")
    m.turn(vireo, _ago(16), f"{v} hi,\nmy bill shows two charges\nplease check", 2 * HOUR)
    m.turn(vireo, _ago(4), "@VIREOSUPPORT why is roaming so expensive", 3 * HOUR)
    m.planted["multiline_texts"] += 1
    m.planted["case_variant_mentions"] += 1
    t = m.turn(vireo, _ago(20), f"{v} my voicemail is full of spam calls")
    m.follow_up(t, t.opener.created + 30 * MINUTE, f"{v} ??")
    m.follow_up(t, t.opener.created + 90 * MINUTE, f"{v} really need help")
    m.org_reply(vireo, t, t.opener.created + 5 * HOUR)

    m.turn(nimbus, _ago(11), f"{n} my seat was given away", 1800)  # exactly a 30-min SLA: a hit
    m.turn(nimbus, _ago(13), f"{n} my meal was missing", 1801)  # one second over: a miss
    m.turn(nimbus, _ago(19), f"{n} gate changed without notice", -60)
    m.turn(nimbus, _ago(5), f"{n} flight NB12 delayed\n\nagain 😡")
    a = m.turn(nimbus, _ago(21), f"{n} lost my bag on NB7", 4 * HOUR).opener
    text = f"@{a.author} @nimbusaircare me too, two bags gone"
    m.turn(nimbus, a.created + HOUR, text, parent=a.tweet_id)
    m.planted["multiline_texts"] += 1
    m.planted["customer_to_customer_mentioning_org"] += 1
    m.planted["case_variant_mentions"] += 1

    m.turn(sky, _ago(17), "@SkylarkAir \r\rmy bag is lost 😁 https://t.co/8u1Pf5rJoN")
    m.turn(sky, _ago(26), "@SkylarkAir refund for SK301?", -40)
    m.turn(sky, _ago(7, seconds=1), "@SkylarkAir still no refund")  # one second past 7 days
    m.planted["bare_cr_texts"] += 1

    # A quarantined record breaks a chain: the reply to it becomes an orphan opener.
    cust, lost = m.customer(fresh=True), m.new_id()
    when, text = "Tue Oct 32 22:10:47 +0000 2017", "@BoltBankHelp my card is blocked"
    m.broken.append(("bad timestamp", [lost, cust, "True", when, text, "", ""]))
    m.turn(bolt, _ago(9), "@BoltBankHelp hello?? anyone?", parent=lost, author=cust)
    t = m.turn(bolt, _ago(27), "@BoltBankHelp fees doubled overnight")
    m.follow_up(t, t.opener.created - 2 * MINUTE, "@BoltBankHelp see above")  # skewed clock
    m.turn(bolt, _ago(30), "@BoltBankHelp app crashed mid-transfer")  # exactly 30 d: not in 30 d
    m.turn(bolt, _ago(1, seconds=1), "@BoltBankHelp card stuck in the ATM")  # 1 s past 24 h
    m.turn(bolt, _ago(31), "@BoltBankHelp overdraft fee by mistake", 3600)
    t = m.turn(bolt, _ago(45), "@BoltBankHelp cannot log in")
    for k in range(3):
        m.follow_up(t, t.opener.created + (k + 1) * HOUR, f"@BoltBankHelp {_NUDGES[k]}")

    t = m.turn(crate, _ago(23), f"{c} where is order 5512")
    m.follow_up(t, t.opener.created + HOUR, "still nothing\ranyone home?")
    m.planted["bare_cr_texts"] += 1
    text = f'{c} the tracking page shows x" onerror="alert(1) instead'
    m.turn(crate, _ago(7, hours=3), text, 40 * HOUR)
    m.planted["markup_texts"] += 1
    m.turn(crate, _ago(29), f"{c} re your tweet: still no parcel", 30 * HOUR, parent=m.new_id())
    m.turn(crate, _ago(34), "my parcel went to the wrong town again", 26 * HOUR)
    t = m.turn(crate, _ago(38), f"{c} damaged box, broken vase")
    for k in range(3):
        m.follow_up(t, t.opener.created + (k + 1) * 5 * HOUR, f"{c} {_NUDGES[k]}")
    m.org_reply(crate, t, t.opener.created + 48 * HOUR)

    # The dormant org broadcasts and never replies, even to replies to its own broadcasts.
    news = _broadcasts(m, quill)
    for post in (news[1], news[4]):
        text = "@QuillBooks do you ship abroad?"
        m.turn(quill, post.created + 3 * HOUR, text, parent=post.tweet_id)
    m.turn(quill, _ago(44), "@QuillBooks is the shop open on Sunday?")


def _build(rng: random.Random, scale: float) -> _Market:
    m = _Market(rng)
    by_handle = {p.handle: p for p in PROFILES}
    _plant_acme(m, by_handle["AcmeHelp"])
    _plant_others(m, by_handle)
    for prof in PROFILES:
        if prof.tier in ("engaged", "rudimentary"):
            _broadcasts(m, prof)
    for prof in PROFILES:
        for _ in range(round(prof.conversations * scale)):
            _conversation(m, prof, rng.randint(_START, _REF - HOUR))
    # The reference time: the latest stored post, planted exactly.
    m.block()
    m.post("AcmeHelp", _REF, "Planned maintenance tonight from 1am to 3am ET.", inbound=False)
    return m


def _twitter_time(ts: int) -> str:
    d = datetime.fromtimestamp(ts, UTC)
    return f"{_DAYS[d.weekday()]} {_MONTHS[d.month - 1]} {d:%d %H:%M:%S} +0000 {d.year}"


def _csv_line(fields: list[str]) -> str:
    """One CSV record, QUOTE_MINIMAL, leaving bare CRs unquoted as real TWCS copies do."""
    if any("\r" in f and any(c in f for c in ',"\n') for f in fields):
        raise ValueError("a text with a bare CR must not also need quoting")
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\n").writerow(
        [f.replace("\r", _CR_STANDIN) for f in fields]
    )
    return buf.getvalue().replace(_CR_STANDIN, "\r")


def _records(m: _Market, scale: float) -> tuple[list[str], int]:
    """Serialize posts as shuffled CSV records, then add duplicates and broken records."""
    rng = m.rng
    children: dict[str, list[str]] = {}
    for block in m.blocks:
        for post in block:
            if post.parent is not None:
                children.setdefault(post.parent, []).append(post.tweet_id)

    def line(p: _Post) -> str:
        kids = list(children.get(p.tweet_id, []))
        rng.shuffle(kids)
        parent = "" if p.parent is None else p.parent + (".0" if rng.random() < 0.5 else "")
        inbound = "True" if p.inbound else "False"
        return _csv_line(
            [
                p.tweet_id,
                p.author,
                inbound,
                _twitter_time(p.created),
                p.text,
                ",".join(kids),
                parent,
            ]
        )

    # Real TWCS keeps conversations roughly together but in no particular order inside them.
    order = list(range(len(m.blocks)))
    rng.shuffle(order)
    lines: list[str] = []
    for i in order:
        block = list(m.blocks[i])
        if rng.random() < 0.5:
            block.reverse()
        elif rng.random() < 0.5:
            rng.shuffle(block)
        lines.extend(line(p) for p in block)
    n_valid = len(lines)
    dup_candidates = [i for i, text in enumerate(lines) if "\r" not in text]
    for i in sorted(rng.sample(dup_candidates, max(3, round(12 * scale))), reverse=True):
        lines.insert(rng.randint(i + 1, len(lines)), lines[i])
    cust = m.customer(fresh=True)
    when = _twitter_time(_ago(3))
    m.broken += [
        ("wrong number of fields", [m.new_id(), cust, "True", when]),
        ("missing post id", ["", cust, "True", when, "@CrateShipHelp hello", "", ""]),
        ("bad timestamp", [m.new_id(), cust, "True", "yesterday", "@SkylarkAir hi", "", ""]),
        ("bad inbound flag", [m.new_id(), cust, "maybe", when, "@VireoSupport hi", "", ""]),
    ]
    for _, fields in m.broken:
        lines.insert(rng.randint(0, len(lines)), _csv_line(fields))
    return lines, n_valid


def _quantile(values: list[int], q: float) -> float:
    """numpy.quantile's default (linear interpolation between closest ranks)."""
    xs = sorted(values)
    h = (len(xs) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def _org_truth(prof: OrgProfile, turns: list[_Turn]) -> dict[str, Any]:
    """The metrics of SPEC section 5, read off the planted turns."""
    n = len(turns)
    frts = [t.frt for t in turns if t.frt is not None]
    timed = [f for f in frts if f >= 0]
    negative = len(frts) - len(timed)
    sla_base = n - negative
    unanswered = [t for t in turns if t.frt is None]

    def backlog(seconds: int) -> int:
        return sum(1 for t in unanswered if _REF - t.opener.created > seconds)

    def ids(ts: list[_Turn]) -> list[str]:
        return sorted((t.opener.tweet_id for t in ts), key=int)

    return {
        "tier_intent": prof.tier,
        "turns": n,
        "answered": len(frts),
        "response_rate": len(frts) / n if n else None,
        "frt_median_s": _quantile(timed, 0.5) if timed else None,
        "frt_p90_s": _quantile(timed, 0.9) if timed else None,
        "sla_attainment": (
            sum(1 for f in timed if f <= prof.sla_minutes * MINUTE) / sla_base if sla_base else None
        ),
        "negative_frt": negative,
        "backlog_24h": backlog(DAY),
        "backlog_7d": backlog(7 * DAY),
        "backlog_30d": backlog(30 * DAY),
        "deflections": sum(1 for t in turns if t.deflected),
        "followups": sum(len(t.posts) - 1 for t in turns),
        "unanswered_opener_ids": ids(unanswered),
        "turn_opener_ids": ids(turns),
    }


def _planted(m: _Market) -> dict[str, int]:
    """Counts of the planted structures, for readers of truth.json and for coverage tests."""
    turns = [t for handle in m.turns for t in m.turns[handle]]
    before = after = 0
    for t in turns:
        if t.frt is not None:
            first = t.opener.created + t.frt
            before += any(p.created < first for p in t.posts[1:])
            after += any(p.created > first for p in t.posts[1:])
    parents = [m.by_id.get(t.opener.parent or "") for t in turns if t.opener.parent]
    return {
        **m.planted,
        "turns": len(turns),
        "followups": sum(len(t.posts) - 1 for t in turns),
        "self_thread_before_answer": before,
        "self_thread_after_answer": after,
        "self_thread_unanswered": sum(1 for t in turns if t.frt is None and len(t.posts) > 1),
        "replies_to_org_posts": sum(1 for p in parents if p is not None and not p.inbound),
        "orphan_openers": sum(1 for p in parents if p is None),
        "negative_frt": sum(1 for t in turns if t.frt is not None and t.frt < 0),
        "deflections": sum(1 for t in turns if t.deflected),
    }


#: Business hours of some orgs, so the demo shows business-hours FRT next to the 24/7 one:
#: a split shift with US public holidays, and a plain weekday shift with UK ones.
_CALENDARS = {
    "AcmeHelp": (
        'holidays = "US"\n[org.hours]\n'
        + "".join(
            f'{d} = ["08:00-12:00", "13:00-20:00"]\n' for d in ("mon", "tue", "wed", "thu", "fri")
        )
        + 'sat = ["10:00-16:00"]\n'
    ),
    "VireoSupport": (
        'holidays = "GB"\n[org.hours]\n'
        + "".join(f'{d} = ["09:00-17:30"]\n' for d in ("mon", "tue", "wed", "thu", "fri"))
    ),
}


def _orgs_toml() -> str:
    parts = []
    for p in PROFILES:
        parts.append(
            f'[[org]]\nid = "{p.handle}"\nname = "{p.name}"\npeer_group = "{p.peer_group}"\n'
            f'sla_minutes = {p.sla_minutes}\nclaimed_activity = "very active"\n'
            f'timezone = "{p.timezone}"\n{_CALENDARS.get(p.handle, "")}'
            f'[org.accounts]\ntwitter = ["{p.handle}"]\n'
        )
    return "\n".join(parts)


@dataclass(frozen=True)
class MarketTruth:
    """Where a generated market lives and what an exact audit of it must report.

    ``truth`` is the parsed ``truth.json`` (read-only at the top level): per-org metrics under
    ``truth["orgs"][handle]``, import counts, quarantine reasons and data-quality flags.
    """

    out_dir: Path
    csv_path: Path
    truth_path: Path
    orgs_path: Path
    truth: Mapping[str, Any] = field(compare=False, repr=False)

    @property
    def seed(self) -> int:
        """The seed the market was generated from."""
        return int(self.truth["seed"])

    @property
    def reference_time(self) -> datetime:
        """The latest post's time: the audit's default reference for backlog ages."""
        return datetime.fromisoformat(self.truth["reference_time"])

    @property
    def orgs(self) -> Mapping[str, Mapping[str, Any]]:
        """Per-org truth keyed by org id (the brand handle)."""
        return self.truth["orgs"]

    @classmethod
    def load(cls, out_dir: Path, /) -> MarketTruth:
        """Read a market written earlier by :func:`generate_market`."""
        out_dir = Path(out_dir)
        truth = json.loads((out_dir / "truth.json").read_text(encoding="utf-8"))
        return cls(
            out_dir,
            out_dir / "market.csv",
            out_dir / "truth.json",
            out_dir / "orgs.toml",
            MappingProxyType(truth),
        )


def _network_truth(m: _Market, thanks_ids: set[str], seed: int) -> dict[str, Any]:
    """Truth of the community and campaign plantings (see :mod:`.community`)."""
    handles = [p.handle for p in PROFILES]
    org = next(p for p in PROFILES if p.handle == community.CAMPAIGN["org"])
    peers = [p.handle for p in PROFILES if p.peer_group == org.peer_group]
    return {
        "network": {
            "trusted_voices": community.voices_truth(m, thanks_ids, handles),
            "relevant": community.relevant_truth(m, handles),
        },
        "campaign": community.campaign_truth(m, community.campaign_costs_csv(seed), peers),
    }


def _write_campaign(out_dir: Path, seed: int) -> None:
    (out_dir / "campaigns.toml").write_text(community.campaigns_toml(), encoding="utf-8")
    (out_dir / "campaign_costs.csv").write_text(
        community.campaign_costs_csv(seed), encoding="utf-8", newline=""
    )


def generate_market(out_dir: Path, /, *, seed: int = 7, scale: float = 1.0) -> MarketTruth:
    """Write a synthetic TWCS market with planted ground truth into ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder to write ``market.csv``, ``truth.json`` and ``orgs.toml`` into (created if
        missing; existing files of those names are replaced).
    seed
        Seed of the only random generator used: the same seed and scale give identical bytes.
    scale
        Multiplies the number of ordinary customer conversations (about 2,500 CSV records at
        1.0). Planted traps, broken records and the eight orgs are there at every scale.

    Returns
    -------
    MarketTruth
        The paths written and the parsed truth. ``rows_written`` counts physical lines after
        the header, which exceeds ``records`` by the newlines quoted inside texts.

    Raises
    ------
    ValueError
        If ``scale`` is not positive.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     truth = generate_market(Path(d), seed=1, scale=0.1)
    ...     truth.orgs["GhostMartCare"]["turns"]
    0
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}. Try --scale 1.0.")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    m = _build(random.Random(seed), scale)
    thanks_ids = community.plant_community(m, seed, _REF)
    community.plant_campaign(m, seed)
    lines, n_valid = _records(m, scale)
    body = "".join(lines)
    csv_text = ",".join(HEADER) + "\n" + body
    by_reason = {r: sum(1 for reason, _ in m.broken if reason == r) for r in QUARANTINE_REASONS}
    quarantined = len(m.broken)
    truth = {
        "seed": seed,
        "scale": scale,
        "reference_time": REFERENCE_TIME.isoformat(),
        "rows_written": body.count("\n"),
        "records": len(lines),
        "inserted": n_valid,
        "duplicates": len(lines) - n_valid - quarantined,
        "quarantined": quarantined,
        "quarantine_by_reason": by_reason,
        "quality": {"skew": m.skew, "orphans": m.orphans},
        "planted": _planted(m),
        "orgs": {p.handle: _org_truth(p, m.turns[p.handle]) for p in PROFILES},
        **_network_truth(m, thanks_ids, seed),
    }
    paths = (out_dir / "market.csv", out_dir / "truth.json", out_dir / "orgs.toml")
    paths[0].write_text(csv_text, encoding="utf-8", newline="")
    paths[1].write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8", newline="")
    paths[2].write_text(_orgs_toml(), encoding="utf-8", newline="")
    _write_campaign(out_dir, seed)
    return MarketTruth(out_dir, *paths, MappingProxyType(truth))
