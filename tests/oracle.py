"""An independent, deliberately naive reading of SPEC section 5 over a TWCS CSV.

Plain loops over the file's records, no DuckDB, no Ibis: the metric code is checked against
this on the synthetic market and on the real TWCS sample.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

MENTION = re.compile(r"(?<![A-Za-z0-9_@])@([A-Za-z0-9_]+)")
TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"


def read_records(path: Path) -> list[list[str]]:
    """Records as the 7 TWCS fields, in order (a leading pandas index column is dropped).

    Splits records at LF only: bare CRs are text (Python's csv would end a record there).
    """
    text = path.read_bytes().decode("utf-8").replace("\r", "\x1e")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, rows = rows[0], rows[1:]
    skip = 1 if header and header[0] == "" else 0
    return [[f.replace("\x1e", "\r") for f in row[skip:]] for row in rows]


def brute_force_audit(csv_path: Path, orgs: dict[str, int]) -> dict[str, Any]:
    """SPEC section 5 read literally, with plain loops over a TWCS CSV.

    ``orgs`` maps each org's (single) handle to its SLA in seconds. This shares no code with
    the package: it is the independent implementation the Ibis metrics are checked against.
    """
    posts: dict[str, dict[str, Any]] = {}
    reasons: dict[str, int] = {}
    duplicates = 0
    for rec in read_records(csv_path):
        reason = None
        if len(rec) != 7:
            reason = "wrong number of fields"
        elif not rec[0]:
            reason = "missing post id"
        elif rec[2] not in ("True", "False"):
            reason = "bad inbound flag"
        else:
            try:
                created = datetime.strptime(rec[3], TWITTER_TIME)
            except ValueError:
                reason = "bad timestamp"
        if reason:
            reasons[reason] = reasons.get(reason, 0) + 1
            continue
        if rec[0] in posts:
            duplicates += 1
            continue
        parent = rec[6][:-2] if rec[6].endswith(".0") else rec[6]
        posts[rec[0]] = {
            "author": rec[1],
            "inbound": rec[2] == "True",
            "t": int(created.timestamp()),
            "text": rec[4],
            "parent": parent or None,
            "mentions": {m.lower() for m in MENTION.findall(rec[4])},
        }
    ref = max(p["t"] for p in posts.values())

    def opener(pid: str) -> str:
        while True:
            parent = posts[pid]["parent"]
            if parent in posts and posts[parent]["author"] == posts[pid]["author"]:
                pid = parent
            else:
                return pid

    turns: dict[str, list[str]] = {}
    for pid, p in posts.items():
        if p["inbound"]:
            turns.setdefault(opener(pid), []).append(pid)
    out: dict[str, Any] = {}
    for handle, sla in orgs.items():
        replies = [p for p in posts.values() if p["author"] == handle]
        rows = []
        for op, members in turns.items():
            if posts[op]["author"] == handle:
                continue
            parent = posts[op]["parent"]
            first = min((r["t"] for r in replies if r["parent"] in members), default=None)
            mine = (
                (parent in posts and posts[parent]["author"] == handle)
                or any(handle.lower() in posts[m]["mentions"] for m in members)
                or first is not None
            )
            if mine:
                rows.append((op, posts[op]["t"], first))
        answered = [r for r in rows if r[2] is not None]
        frts = [r[2] - r[1] for r in answered]
        timed = [f for f in frts if f >= 0]
        negative = len(frts) - len(timed)
        unanswered = [r for r in rows if r[2] is None]
        out[handle] = {
            "turns": len(rows),
            "answered": len(answered),
            "response_rate": len(answered) / len(rows) if rows else None,
            "frt_median_s": float(np.quantile(timed, 0.5)) if timed else None,
            "frt_p90_s": float(np.quantile(timed, 0.9)) if timed else None,
            "sla_attainment": (
                sum(f <= sla for f in timed) / (len(rows) - negative)
                if len(rows) - negative
                else None
            ),
            "negative_frt": negative,
            "backlog_24h": sum(ref - r[1] > 86400 for r in unanswered),
            "backlog_7d": sum(ref - r[1] > 7 * 86400 for r in unanswered),
            "backlog_30d": sum(ref - r[1] > 30 * 86400 for r in unanswered),
            "turn_opener_ids": sorted((r[0] for r in rows), key=int),
            "unanswered_opener_ids": sorted((r[0] for r in unanswered), key=int),
        }
    return {
        "reference_time": datetime.fromtimestamp(ref, UTC).isoformat(),
        "inserted": len(posts),
        "duplicates": duplicates,
        "quarantine_by_reason": reasons,
        "skew": sum(
            1 for p in posts.values() if p["parent"] in posts and p["t"] < posts[p["parent"]]["t"]
        ),
        "orphans": sum(1 for p in posts.values() if p["parent"] and p["parent"] not in posts),
        "orgs": out,
        "turn_owners": {op: [h for h in out if op in out[h]["turn_opener_ids"]] for op in turns},
    }
