r"""Generate seeded, realistic TWCS-format CSV files for the import/audit benchmark.

The output has the header and the quirks of the real "Customer Support on Twitter" file
(twcs.csv, 2.8 M rows): ~108 brand accounts with screen-name handles (``inbound=False``),
numeric customer ids assigned in order of first appearance (starting at 115712, as in the
anonymized original), conversations of 2-8 tweets with customer self-threads, brand
follow-ups and the odd branch, rows of a conversation listed newest first, reply ids with a
``.0`` suffix on most rows (pandas wrote them as floats), comma-joined ``response_tweet_id``,
openers replying to tweets missing from the file, texts of realistic length with
@mentions, URLs, hashtags and emoji, some quoted texts with commas, quotes and newlines, and
about one record per 100k with a bare ``\r`` inside an unquoted text field.

Numbers are drawn with numpy in one vectorized pass; strings are built in batches of rows
from lookup tables, so 2.8 M rows take well under a minute.

Usage::

    python benchmarks/gen_twcs.py --rows 280000 --out benchmarks/out/twcs_280k.csv --seed 1

A file is reused when it exists and its ``.json`` sidecar records the same parameters and
generator version (pass ``--force`` to regenerate).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

#: Bump when the output for a given (rows, seed) changes, so cached files are regenerated.
GENERATOR_VERSION = 1
HEADER = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
OUT_DIR = Path(__file__).resolve().parent / "out"
FIRST_CUSTOMER_ID = 115712
N_BRANDS = 108
BATCH_ROWS = 200_000

# Conversation lengths 2..8 (mean ~3.9 tweets), so ~0.26 customers per row as in TWCS
# (~700k customers for 2.8 M tweets).
CONV_LENGTHS = np.arange(2, 9)
CONV_LENGTH_P = np.array([0.30, 0.22, 0.16, 0.12, 0.09, 0.06, 0.05])
CUSTOMERS_PER_ROW = 0.25
# Markov chain over who writes the next tweet of a conversation.
P_BRAND_AFTER_CUSTOMER = 0.82  # else the customer adds to their own thread
P_CUSTOMER_AFTER_BRAND = 0.85  # else the brand follows up on its own reply
P_BRANCH = 0.07  # a reply to the tweet before the previous one: two responses to one tweet
P_OPENER_MISSING_PARENT = 0.04  # the opener replies to a tweet that is not in the file
P_RESPONSE_MISSING = 0.01  # a response id pointing at a tweet not in the file
P_ID_GAP = 0.06  # tweet ids skip a few numbers (deleted tweets)
P_DOT_ZERO = 0.9  # in_response_to_tweet_id written as a float ("3.0")
P_SECOND_BRAND = 0.04  # the customer also tags another brand
P_LOWER_HANDLE = 0.15  # the customer types the brand handle in lower case
P_NEGATIVE_DELAY = 0.001  # clock skew: a reply stamped before the tweet it answers
CR_EVERY = 100_000  # one record with a bare \r per this many rows

START = datetime(2017, 10, 1, tzinfo=UTC)
SPAN_DAYS = 61
EARLY_TAIL = 0.01  # a few conversations from the two years before
EARLY_DAYS = 730

_STEMS = (
    "Acme Nimbus Vertex Orbit Zephyr Quanta Harbor Lumen Cobalt Summit Meridian Falcon "
    "Beacon Atlas Cascade Ember Granite Horizon Ionic Juniper Kestrel Lattice Mosaic Nova "
    "Onyx Pioneer Quartz Redwood Sierra Tandem Unity Velvet Willow Xenon Yonder Zenith"
).split()
_STYLES = ("{s}Help", "{l}_care", "Ask{s}", "{s}_Support", "{l}cares", "{s}Service")

_CUSTOMER_OPENERS = (
    "my order still hasn't arrived",
    "been on hold for 45 minutes and nobody answers",
    "the app keeps crashing every time I open it",
    "why was I charged twice this month",
    "no signal at all since this morning",
    "my flight got delayed again and no one at the gate knows anything",
    "is the service down? nothing loads",
    "I was promised a refund two weeks ago",
    "can't log in to my account, it says my password is wrong",
    "your website won't accept my card",
    "the driver cancelled on me three times tonight",
    "still waiting for the engineer who never showed up",
    "my package says delivered but it is not here",
    "the update broke my phone",
    "thanks for nothing",
    "love the new feature btw",
    "how do I cancel my subscription",
    "store was out of stock again",
    "I need help with my bill",
    "this is the worst customer service",
)
_CUSTOMER_MORE = (
    "this is ridiculous",
    "please fix it",
    "any update?",
    "sent you a DM",
    "I did, twice",
    "still nothing",
    "order number is in the DM",
    "it's been 3 days",
    "I've tried restarting, reinstalling, everything",
    "not happy",
    "really?",
    "ok thanks",
    "what am I supposed to do now",
    "you said the same thing yesterday",
    "it worked, thank you!",
    "help@support.example.com never replied either",
)
_BRAND_OPENERS = (
    "We're sorry to hear that.",
    "Hi there! We'd like to help.",
    "That's not the experience we want you to have.",
    "Thanks for reaching out.",
    "We understand your frustration.",
    "Apologies for the trouble.",
    "Glad to hear it's sorted!",
    "Thanks for letting us know.",
)
_BRAND_MORE = (
    "Please send us a DM with your order number so we can look into this",
    "Can you tell us which device and software version you're using?",
    "Please follow the link below to reset your password",
    "Our team is working on it, and we'll update you as soon as possible",
    "Could you confirm the email address on your account via DM?",
    "Please try restarting, then let us know if that helps",
    "We've passed this on to the team",
    "A refund has been issued and should show in 3-5 working days",
    "Check the status page for updates",
    "We'll follow up by DM",
)
_SIGNATURES = ("", "", "", " ^JK", " -AA", " -KC", " ^MM", " *TS")
_HASHTAGS = ("#fail", "#help", "#customerservice", "#thanks", "#delayed", "#frustrated")
_EMOJI = ("🙏", "😡", "💯", "😂", "🤥", "❤️", "…")
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_CR_BODIES = (
    "line one of my complaint\rline two after a bare carriage return",
    "still waiting\rno reply\rno refund",
    "see below\r order 12345 never arrived",
)

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ROW = "{},{},{},{},{}{}{},{},{}\n"


@dataclass(frozen=True)
class Params:
    """What determines a generated file; stored in its ``.json`` sidecar."""

    rows: int
    seed: int
    generator_version: int = GENERATOR_VERSION


def brand_handles() -> list[str]:
    """Return the 108 brand screen names (mixed case, underscores, lower-case ones)."""
    handles = []
    for i, stem in enumerate(_STEMS):
        for j in range(3):
            style = _STYLES[(i + j) % len(_STYLES)]
            handles.append(style.format(s=stem, l=stem.lower()))
    return handles[:N_BRANDS]


def _csv_field(text: str) -> tuple[str, str]:
    """Return (quote, escaped text): the quote wraps the field when it must be quoted."""
    if any(ch in text for ch in ',"\n\r'):
        return '"', text.replace('"', '""')
    return "", text


def _url(rng: np.random.Generator) -> str:
    return "https://t.co/" + "".join(rng.choice(list(_ALNUM), size=10))


def _body_pool(
    rng: np.random.Generator, openers: tuple[str, ...], more: tuple[str, ...], brand: bool, n: int
) -> list[str]:
    """Build ``n`` message bodies (without the leading mention) of realistic length."""
    pool = []
    for _ in range(n):
        parts = [str(rng.choice(openers))]
        for _ in range(int(rng.choice(4, p=(0.3, 0.3, 0.3, 0.1)))):
            parts.append(str(rng.choice(more)))
        r = rng.random()
        if r < 0.015:
            parts[0] = f'they said "{parts[0]}"'
        sep = "\n" if rng.random() < 0.04 else (", " if rng.random() < 0.3 else " ")
        body = sep.join(parts)
        if rng.random() < 0.15:
            body += " " + _url(rng)
        if not brand and rng.random() < 0.08:
            body += " " + str(rng.choice(_HASHTAGS))
        if not brand and rng.random() < 0.1:
            body += " " + str(rng.choice(_EMOJI))
        if brand:
            body += str(rng.choice(_SIGNATURES))
        pool.append(body)
    return pool


def _time_tables(first_day: datetime, n_days: int) -> tuple[list[str], list[str], list[str]]:
    """Per-day prefixes ("Tue Oct 31 ") and suffixes (" +0000 2017"), and "HH:MM:SS" texts."""
    prefix, suffix = [], []
    for d in range(n_days):
        day = first_day + timedelta(days=d)
        prefix.append(f"{_DAYS[day.weekday()]} {_MONTHS[day.month - 1]} {day.day:02d} ")
        suffix.append(f" +0000 {day.year}")
    clock = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]
    return prefix, suffix, clock


@dataclass
class _Columns:
    """Per-row numbers, in file order, from which the text of each row is built."""

    tweet_id: np.ndarray
    author: np.ndarray  # index into the author table (brands first, then customers)
    inbound: np.ndarray
    epoch_s: np.ndarray
    mention: np.ndarray  # index into the author table (with the lower-case forms after it)
    mention2: np.ndarray  # second brand tagged, or -1
    body: np.ndarray  # index into the body table
    resp1: np.ndarray  # response ids, -1 for none
    resp2: np.ndarray
    parent: np.ndarray  # in_response_to id, -1 for none
    dot_zero: np.ndarray
    n_conversations: int
    n_customers: int


def _simulate(rows: int, rng: np.random.Generator, n_bodies: tuple[int, int]) -> _Columns:
    """Draw conversations, authors, reply links, times and ids for ``rows`` tweets."""
    # Conversations: lengths until the rows are used up (the last one is cut to fit).
    n_draw = int(rows / float(CONV_LENGTHS @ CONV_LENGTH_P) * 1.1) + 16
    lengths = rng.choice(CONV_LENGTHS, size=n_draw, p=CONV_LENGTH_P)
    ends = np.cumsum(lengths)
    n_conv = int(np.searchsorted(ends, rows)) + 1
    lengths = lengths[:n_conv]
    lengths[-1] -= int(ends[n_conv - 1]) - rows
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    conv = np.repeat(np.arange(n_conv), lengths)
    pos = np.arange(rows) - starts[conv]

    # Who writes each tweet (logical = chronological order within a conversation).
    is_brand = np.zeros(rows, dtype=bool)
    for k in range(1, int(lengths.max())):
        at = np.flatnonzero(pos == k)
        prev = is_brand[at - 1]
        u = rng.random(at.size)
        is_brand[at] = np.where(prev, u >= P_CUSTOMER_AFTER_BRAND, u < P_BRAND_AFTER_CUSTOMER)

    # Brand per conversation (Zipf-like: a few big accounts and a long tail), customer per
    # conversation (ids in order of first appearance; later conversations reuse customers).
    weights = 1.0 / np.arange(1, N_BRANDS + 1) ** 0.9
    brand_of_conv = rng.permutation(N_BRANDS)[
        rng.choice(N_BRANDS, size=n_conv, p=weights / weights.sum())
    ]
    n_cust = min(n_conv, max(1, int(rows * CUSTOMERS_PER_ROW)))
    repeat_cust = rng.integers(0, n_cust, size=n_conv)
    cust_of_conv = np.where(np.arange(n_conv) < n_cust, np.arange(n_conv), repeat_cust)
    author = np.where(is_brand, brand_of_conv[conv], N_BRANDS + cust_of_conv[conv])

    # Mentions: customers tag the brand (sometimes in lower case, sometimes a second brand);
    # brands answer the customer's numeric id.
    n_authors = N_BRANDS + n_cust
    lower = rng.random(rows) < P_LOWER_HANDLE
    brand_mention = brand_of_conv[conv] + np.where(lower, n_authors, 0)
    mention = np.where(is_brand, N_BRANDS + cust_of_conv[conv], brand_mention)
    second = (~is_brand) & (pos == 0) & (rng.random(rows) < P_SECOND_BRAND)
    mention2 = np.where(second, (brand_of_conv[conv] + 1 + rng.integers(0, 7, rows)) % N_BRANDS, -1)
    n_cust_bodies, n_brand_bodies = n_bodies
    body = np.where(
        is_brand,
        n_cust_bodies + rng.integers(0, n_brand_bodies, rows),
        rng.integers(0, n_cust_bodies, rows),
    )
    n_cr = max(1, round(rows / CR_EVERY))
    cr_rows = rng.choice(np.flatnonzero(~is_brand), size=n_cr, replace=False)
    body[cr_rows] = n_cust_bodies + n_brand_bodies + rng.integers(0, len(_CR_BODIES), n_cr)

    # Times: a conversation starts somewhere in Oct-Nov 2017 (a few earlier); each tweet
    # follows the previous one after a delay that depends on who answers whom.
    span = SPAN_DAYS * 86_400
    t0 = rng.integers(0, span - 3 * 86_400, size=n_conv)
    early = rng.random(n_conv) < EARLY_TAIL
    t0[early] = -rng.integers(1, EARLY_DAYS * 86_400, size=int(early.sum()))
    prev_brand = np.concatenate(([False], is_brand[:-1]))
    median_s = np.select(
        [~prev_brand & is_brand, prev_brand & ~is_brand, prev_brand & is_brand],
        [1200.0, 600.0, 30.0],
        120.0,
    )
    delay = np.rint(median_s * rng.lognormal(0.0, 1.3, rows)).astype(np.int64)
    skew = rng.random(rows) < P_NEGATIVE_DELAY
    delay[skew] = -rng.integers(1, 120, size=int(skew.sum()))
    delay[pos == 0] = 0
    offset = np.cumsum(delay)
    offset -= offset[starts][conv]
    epoch = int(START.timestamp()) + t0[conv] + offset

    # Reply links (logical row indices): the previous tweet, sometimes the one before it.
    parent = np.where(pos > 0, np.arange(rows) - 1, -1)
    branch = (pos >= 2) & (rng.random(rows) < P_BRANCH)
    parent[branch] -= 1

    # File order: each conversation newest first; ids increase down the file with gaps.
    file_of = starts[conv] + (lengths[conv] - 1 - pos)  # an involution within each block
    gaps = np.where(rng.random(rows) < P_ID_GAP, rng.integers(1, 4, rows), 0)
    ids_file = np.cumsum(1 + gaps)
    missing_ids = (ids_file - 1)[gaps > 0]
    if missing_ids.size == 0:
        missing_ids = np.array([ids_file[-1] + 1])
    tweet_id = ids_file[file_of]  # logical row -> its id

    parent_id = np.where(parent >= 0, tweet_id[np.maximum(parent, 0)], -1)
    orphan = (pos == 0) & (rng.random(rows) < P_OPENER_MISSING_PARENT)
    parent_id[orphan] = rng.choice(missing_ids, size=int(orphan.sum()))
    resp1 = np.full(rows, -1, dtype=np.int64)
    resp2 = np.full(rows, -1, dtype=np.int64)
    linear = (parent >= 0) & ~branch
    resp1[parent[linear]] = tweet_id[linear]
    resp2[parent[branch]] = tweet_id[branch]
    dangling = (resp1 < 0) & (resp2 < 0) & (rng.random(rows) < P_RESPONSE_MISSING)
    resp1[dangling] = rng.choice(missing_ids, size=int(dangling.sum()))

    order = file_of.copy()  # file row -> logical row (the mapping is its own inverse)
    return _Columns(
        tweet_id=tweet_id[order],
        author=author[order],
        inbound=~is_brand[order],
        epoch_s=epoch[order],
        mention=mention[order],
        mention2=mention2[order],
        body=body[order],
        resp1=resp1[order],
        resp2=resp2[order],
        parent=parent_id[order],
        dot_zero=(rng.random(rows) < P_DOT_ZERO),
        n_conversations=n_conv,
        n_customers=n_cust,
    )


def _lines(cols: _Columns, rng: np.random.Generator) -> Iterator[str]:
    """Yield the CSV text of the rows in batches."""
    handles = brand_handles()
    authors = handles + [str(FIRST_CUSTOMER_ID + i) for i in range(cols.n_customers)]
    mentions = authors + [h.lower() for h in handles]
    cust = _body_pool(rng, _CUSTOMER_OPENERS, _CUSTOMER_MORE, False, 4096)
    brand = _body_pool(rng, _BRAND_OPENERS, _BRAND_MORE, True, 2048)
    fields = [_csv_field(b) for b in (*cust, *brand, *_CR_BODIES)]
    # A bare \r sits in an unquoted field in real TWCS copies: write those bodies as they are.
    fields[-len(_CR_BODIES) :] = [("", b) for b in _CR_BODIES]
    quotes = [q for q, _ in fields]
    bodies = [b for _, b in fields]
    first_day = datetime.fromtimestamp(int(cols.epoch_s.min()) // 86_400 * 86_400, UTC)
    day0 = int(first_day.timestamp()) // 86_400
    n_days = int(cols.epoch_s.max()) // 86_400 - day0 + 1
    day_prefix, day_suffix, clock = _time_tables(first_day, n_days)
    inbound_text = ("False", "True")

    for lo in range(0, cols.tweet_id.size, BATCH_ROWS):
        hi = min(lo + BATCH_ROWS, cols.tweet_id.size)
        days = (cols.epoch_s[lo:hi] // 86_400 - day0).tolist()
        secs = (cols.epoch_s[lo:hi] % 86_400).tolist()
        created = [
            day_prefix[d] + clock[s] + day_suffix[d] for d, s in zip(days, secs, strict=True)
        ]
        body_idx = cols.body[lo:hi].tolist()
        quote = [quotes[i] for i in body_idx]
        mention = ["@" + mentions[i] + " " for i in cols.mention[lo:hi].tolist()]
        for j in np.flatnonzero(cols.mention2[lo:hi] >= 0).tolist():
            mention[j] += "@" + handles[int(cols.mention2[lo + j])] + " "
        text = [mention[j] + bodies[i] for j, i in enumerate(body_idx)]
        r1 = cols.resp1[lo:hi].tolist()
        r2 = cols.resp2[lo:hi].tolist()
        responses = [
            (f'"{a},{b}"' if a >= 0 else str(b)) if b >= 0 else (str(a) if a >= 0 else "")
            for a, b in zip(r1, r2, strict=True)
        ]
        parent = [
            ("" if p < 0 else (f"{p}.0" if z else str(p)))
            for p, z in zip(cols.parent[lo:hi].tolist(), cols.dot_zero[lo:hi].tolist(), strict=True)
        ]
        yield "".join(
            map(
                _ROW.format,
                cols.tweet_id[lo:hi].tolist(),
                [authors[i] for i in cols.author[lo:hi].tolist()],
                [inbound_text[b] for b in cols.inbound[lo:hi].tolist()],
                created,
                quote,
                text,
                quote,
                responses,
                parent,
            )
        )


def generate(rows: int, out: Path, *, seed: int = 1) -> dict[str, int]:
    """Write a TWCS-format CSV of ``rows`` records to ``out``; return summary counts.

    The file is written under a temporary name and renamed, so a cached file is never a
    partial one.
    """
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    rng = np.random.default_rng(seed)
    cols = _simulate(rows, rng, (4096, 2048))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        for chunk in _lines(cols, rng):
            fh.write(chunk)
    os.replace(tmp, out)
    return {
        "rows": rows,
        "conversations": cols.n_conversations,
        "customers": cols.n_customers,
        "brands": N_BRANDS,
        "bare_cr_records": max(1, round(rows / CR_EVERY)),
        "bytes": out.stat().st_size,
    }


def _sidecar(out: Path) -> Path:
    return out.with_name(out.name + ".json")


def is_cached(out: Path, params: Params) -> bool:
    """Return True when ``out`` was generated with ``params`` and is complete."""
    meta = _sidecar(out)
    if not out.exists() or not meta.exists():
        return False
    try:
        saved = json.loads(meta.read_text())
    except (OSError, ValueError):
        return False
    return saved.get("params") == asdict(params) and saved.get("bytes") == out.stat().st_size


def ensure(rows: int, *, seed: int = 1, out: Path | None = None, force: bool = False) -> Path:
    """Return the path of a generated file, generating it only when no cached copy matches."""
    params = Params(rows=rows, seed=seed)
    path = out or OUT_DIR / f"twcs_{rows}_s{seed}.csv"
    if not force and is_cached(path, params):
        print(f"Reusing {path} ({rows:,} rows, seed {seed}).", file=sys.stderr)
        return path
    started = time.perf_counter()
    summary = generate(rows, path, seed=seed)
    _sidecar(path).write_text(json.dumps({"params": asdict(params), **summary}, indent=2))
    print(
        f"Wrote {rows:,} records ({summary['conversations']:,} conversations, "
        f"{summary['customers']:,} customers, {N_BRANDS} brands, "
        f"{summary['bare_cr_records']:,} with a bare \\r; {summary['bytes'] / 1e6:,.0f} MB) "
        f"to {path} in {time.perf_counter() - started:.1f} s.",
        file=sys.stderr,
    )
    return path


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--rows N --out PATH --seed S [--force]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, required=True, help="number of records")
    parser.add_argument(
        "--out", type=Path, default=None, help=f"output CSV [default: {OUT_DIR}/twcs_N_sS.csv]"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed [default: 1]")
    parser.add_argument("--force", action="store_true", help="regenerate even if cached")
    args = parser.parse_args(argv)
    ensure(args.rows, seed=args.seed, out=args.out, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
