"""Maturity tiers 0-4 (SPEC section 5, v2) from one declarative rule table.

The table (``tiers.toml``: shipped, or a user's file overriding it key by key) lists each
tier's rules as ``figure OP threshold``. They are evaluated here in plain Python over the
per-org aggregates the run has executed, one org at a time, so that every rule can say what
it saw, against which threshold, with which 95% Wilson interval; the same table writes the
explanation the report and the dashboard show (:func:`explain`).
"""

from __future__ import annotations

import math
import operator
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from socialaudit.errors import ConfigError
from socialaudit.results.model import (
    HEADLINE_LISTENING,
    INSUFFICIENT_COVERAGE,
    THREADS_ONLY_WARNING,
    AuditResult,
    OrgAudit,
    Thresholds,
    TierEvidence,
    TierResult,
    TierRule,
)

TIER_LABELS = {
    0: "absent",
    1: "dormant / exploring",
    2: "rudimentary",
    3: "engaged",
    4: "leader",
}
INSUFFICIENT = "insufficient data"
#: The labels of a withheld tier (``tier`` None): too few turns, or too thin a coverage.
WITHHELD_LABELS = (INSUFFICIENT, INSUFFICIENT_COVERAGE)
Z95 = 1.959963984540054
BORDERLINE = "borderline: the 95% interval contains the threshold"

#: The figures a rule may read, with how the explanation names them.
FIGURES: dict[str, str] = {
    "response_rate": "response rate",
    "frt_median_s": "median FRT",
    "unanswered_7d_share": "unanswered after 7 days",
    HEADLINE_LISTENING: "deflection rate",
}
#: Figures in seconds (the rest are shares, with intervals).
SECONDS = {"frt_median_s"}
OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
RULE_TIERS = ("rudimentary", "leader")
_RULE = re.compile(r"^\s*(<=|>=|<|>)\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*$")


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (None when n is 0).

    Unlike the normal approximation it stays inside [0, 1] and behaves at 0% and 100%,
    which is where small orgs live.
    """
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


# -- the table ------------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"No tiers file at {path}. Check the --tiers path.") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}). Fix the line it names.") from None


def _merge(data: dict[str, Any], user: dict[str, Any], where: str) -> None:
    """Override the shipped table key by key; a rule tier may add any known figure."""
    for key, value in user.items():
        if key not in data:
            known = ", ".join(sorted(data))
            raise ConfigError(f"{where}: unknown key {key!r}. Known: {known}.")
        if isinstance(value, dict):
            allowed = set(FIGURES) if key in RULE_TIERS else set(data[key])
            extra = set(value) - allowed
            if extra:
                raise ConfigError(
                    f"{where}: unknown key {key}.{sorted(extra)[0]}. "
                    f"Known: {', '.join(sorted(allowed))}."
                )
            data[key] = {**data[key], **value}
        else:
            data[key] = value


def _number(value: Any, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}: {name} must be a non-negative number, not {value!r}.")
    return float(value)


def _rules(data: dict[str, Any], where: str) -> tuple[TierRule, ...]:
    out = []
    for tier in RULE_TIERS:
        for figure, text in data.get(tier, {}).items():
            if text == "off":
                continue
            found = _RULE.match(text) if isinstance(text, str) else None
            if found is None:
                raise ConfigError(
                    f'{where}: {tier}.{figure} must read like "< 0.5" (OP THRESHOLD, OP one of '
                    f'<, <=, >, >=) or "off", not {text!r}.'
                )
            out.append(TierRule(tier, figure, found.group(1), float(found.group(2))))
    return tuple(out)


def load_thresholds(path: str | os.PathLike[str] | None = None) -> Thresholds:
    """Read the tier rule table: the shipped file, overridden key by key by ``path`` if given."""
    shipped = resources.files("socialaudit.benchmark").joinpath("tiers.toml").read_text("utf-8")
    data = tomllib.loads(shipped)
    where = "built-in tiers.toml"
    if path is not None:
        where = str(path)
        _merge(data, _read(Path(path)), where)
    dormant = data.get("dormant", {}).get("max_posts_per_week", 1.0)
    return Thresholds(
        min_actionable_turns=int(
            _number(data["min_actionable_turns"], "min_actionable_turns", where)
        ),
        dormant_max_posts_per_week=_number(dormant, "dormant.max_posts_per_week", where),
        rules=_rules(data, where),
        source=where,
    )


# -- evaluating it ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """One figure of one org as a rule reads it: the value, and k of n for a share."""

    value: float | None
    k: int | None = None
    n: int | None = None
    #: Why the value is missing (None: a missing value means "never", e.g. no timed answer).
    missing: str = ""


@dataclass(frozen=True)
class TierInputs:
    """What one org's tier is decided on: presence, coverage and its measured figures."""

    variant: str
    turns: int
    answered: int
    posts: int
    replies: int
    posts_per_week: float
    figures: Mapping[str, Measure]
    #: Main's per-org :class:`Coverage`: threads_only on every platform withholds tiers above 1.
    coverage_insufficient: bool = False
    #: How the inbound posts were fetched, per platform (``mastodon threads_only``).
    coverage_summary: str = ""

    @classmethod
    def of(cls, entry: OrgAudit, presence: Mapping[str, Any]) -> TierInputs:
        """From an org's audit (actionable when measured, else all turns) and presence row."""
        resp = entry.responsiveness
        figures = resp.actionable if resp.actionable is not None else resp.all
        variant = "actionable" if resp.actionable is not None else "all"
        late = None
        if entry.unanswered_after_7d is not None:
            late = entry.unanswered_after_7d.actionable or entry.unanswered_after_7d.all
        lis = entry.listening
        deflected = None if lis is None else lis.deflected
        return cls(
            variant=variant,
            turns=int(figures.turns or 0),
            answered=int(figures.answered or 0),
            posts=int(presence.get("posts") or 0),
            replies=int(presence.get("replies") or 0),
            posts_per_week=float(presence.get("posts_per_week") or 0.0),
            figures=measures(
                turns=int(figures.turns or 0),
                answered=int(figures.answered or 0),
                frt_median_s=figures.frt_median_s,
                late=None if late is None else (late.late, late.aged),
                deflected=None if deflected is None or lis is None else (deflected, lis.answered),
            ),
            coverage_insufficient=entry.coverage.insufficient,
            coverage_summary=entry.coverage.summary(),
        )


def measures(
    *,
    turns: int,
    answered: int,
    frt_median_s: float | None,
    late: tuple[int, int] | None,
    deflected: tuple[int, int] | None,
) -> dict[str, Measure]:
    """Every figure a rule may read, from counts (``late``, ``deflected``: k and n)."""

    def share(kn: tuple[int, int] | None, missing: str) -> Measure:
        if kn is None or kn[1] == 0:
            return Measure(None, None if kn is None else kn[0], None if kn is None else 0, missing)
        return Measure(kn[0] / kn[1], kn[0], kn[1])

    return {
        "response_rate": share((answered, turns), "no turns"),
        "frt_median_s": Measure(None if frt_median_s is None else float(frt_median_s)),
        "unanswered_7d_share": share(late, "no turn is 7 days old yet"),
        HEADLINE_LISTENING: share(deflected, "deflection not measured (posts not enriched)"),
    }


def _threshold_text(rule: TierRule) -> str:
    if rule.figure in SECONDS:
        return _duration(rule.threshold)
    return (
        f"{rule.threshold:.0%}"
        if rule.threshold * 100 == round(rule.threshold * 100)
        else (f"{rule.threshold:.1%}")
    )


def _check(rule: TierRule, m: Measure) -> tuple[TierEvidence, bool]:
    """One rule's evidence, and whether it holds conclusively (its whole interval past it)."""
    name = f"{rule.tier}: {FIGURES[rule.figure]} {rule.op} {_threshold_text(rule)}"
    test = OPS[rule.op]
    if m.value is None and m.missing:
        return TierEvidence(name, None, rule.threshold, None, note=m.missing), False
    if m.value is None:  # no timed answer: the median is "never"
        holds = test(math.inf, rule.threshold)
        return TierEvidence(name, None, rule.threshold, holds, note="no timed answer"), holds
    ci = None if m.k is None or m.n is None else wilson(m.k, m.n)
    note, conclusive = "", True
    if ci is not None:
        if ci[0] < rule.threshold < ci[1]:
            note = BORDERLINE
        conclusive = test(ci[0], rule.threshold) and test(ci[1], rule.threshold)
    value = m.value if rule.figure in SECONDS else round(m.value, 4)
    holds = test(m.value, rule.threshold)
    ci95 = None if ci is None else (round(ci[0], 4), round(ci[1], 4))
    return TierEvidence(name, value, rule.threshold, holds, ci95, note), holds and conclusive


def _borderline(e: TierEvidence) -> bool:
    return e.note == BORDERLINE


def assign_tier(org: str, inp: TierInputs, /, *, thresholds: Thresholds) -> TierResult:
    """Decide one org's tier from the rule table, with the evidence of every rule it read."""
    th = thresholds
    ev: list[TierEvidence] = []
    v = inp.variant

    def result(tier: int | None, label: str | None = None, borderline: bool = False) -> TierResult:
        name = label or TIER_LABELS[tier] if tier is not None else (label or INSUFFICIENT)
        return TierResult(org, tier, name, v, tuple(ev), borderline)

    if v == "all":
        note = "actionable not measured (posts not enriched): all turns used"
        ev.append(TierEvidence("variant", "all", "actionable", None, note=note))
    if inp.posts == 0:
        ev.insert(
            0, TierEvidence("posts in window", 0, "> 0", False, note="no posts by its accounts")
        )
        return result(0)
    ev.append(TierEvidence("posts in window", inp.posts, "> 0", True))
    dormant = inp.posts_per_week < th.dormant_max_posts_per_week and inp.replies == 0
    ev.append(
        TierEvidence(
            "dormant: posts per week below and no replies",
            round(inp.posts_per_week, 3),
            f"< {th.dormant_max_posts_per_week:g} and replies = 0 (replies: {inp.replies})",
            dormant,
        )
    )
    if dormant:
        return result(1)
    if inp.coverage_insufficient:
        ev.append(TierEvidence("inbound coverage", inp.coverage_summary or "threads_only",
                               "complete, search or export on some platform", False,
                               note=f"{THREADS_ONLY_WARNING}: tiers above 1 withheld"))  # fmt: skip
        return result(None, INSUFFICIENT_COVERAGE)
    enough = inp.turns >= th.min_actionable_turns
    counts = f"{inp.turns} {v} turns in the window, {inp.answered} answered"
    ev.append(TierEvidence(f"{v} turns", inp.turns, f">= {th.min_actionable_turns}", enough,
                           note="" if enough else counts))  # fmt: skip
    rud = [_check(r, inp.figures[r.figure]) for r in th.of("rudimentary")]
    if not enough:
        if any(conclusive for _, conclusive in rud):
            ev.extend(e for e, _ in rud)
            ev.append(TierEvidence("conclusive below the minimum", inp.turns,
                                   f"< {th.min_actionable_turns}", True,
                                   note="a rudimentary rate's whole 95% interval is past its "
                                   "threshold"))  # fmt: skip
            return result(2)
        return result(None, INSUFFICIENT)
    ev.extend(e for e, _ in rud)
    holding = [e for e, _ in rud if e.holds]
    if holding:
        return result(2, borderline=all(_borderline(e) for e in holding))
    lead = [_check(r, inp.figures[r.figure])[0] for r in th.of("leader")]
    ev.extend(lead)
    failing = [e for e in lead if e.holds is not True]
    if not failing:
        return result(4, borderline=any(_borderline(e) for e in lead))
    if any(e.holds is None for e in failing):
        note = "a leader figure is not measured: tier 4 withheld"
        ev.append(TierEvidence("leader", None, "every leader rule measured", None, note=note))
    could_lead = all(e.holds is False and _borderline(e) for e in failing)
    return result(3, borderline=could_lead or any(_borderline(e) for e, _ in rud))


def assign_tiers(
    audit_result: AuditResult,
    presence_rows: list[dict[str, Any]],
    /,
    *,
    thresholds: Thresholds,
) -> list[TierResult]:
    """Tier every org of an audit (orgs without posts included: they are tier 0)."""
    by_org = {row["org_id"]: row for row in presence_rows}
    return [
        assign_tier(
            entry.org, TierInputs.of(entry, by_org.get(entry.org, {})), thresholds=thresholds
        )
        for entry in audit_result.orgs
    ]


# -- explaining it ------------------------------------------------------------------------------


def _duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h" if seconds < 3 * 86_400 else f"{seconds / 86_400:g} d"


def _rule_text(rule: TierRule) -> str:
    return f"{FIGURES[rule.figure]} {rule.op} {_threshold_text(rule)}"


def explain(th: Thresholds) -> str:
    """The tier rules in words, written from the rule table in use (report and dashboard).

    A user's ``tiers.toml`` changes this text as it changes the tiers.
    """
    rud = ", ".join(_rule_text(r) for r in th.of("rudimentary")) or "no rule"
    ppw = th.dormant_max_posts_per_week
    posts = f"{ppw:g} post" + ("" if ppw == 1 else "s")
    lead = ", ".join(_rule_text(r) for r in th.of("leader")) or "no rule"
    return (
        f"0 absent (no posts in the window); 1 dormant (fewer than {posts} per week and no "
        f"replies); 2 rudimentary when "
        f"any holds: {rud}; 3 engaged when none does; 4 leader when all hold: {lead}. Every "
        "rule reads actionable turns (all turns until posts are enriched); a rate whose 95% "
        "Wilson interval contains its threshold is marked borderline. No tier above 1 from "
        f'fewer than {th.min_actionable_turns} actionable turns in the window ("insufficient '
        "data\"; tier 2 all the same when a rudimentary rate's whole interval is past its "
        "threshold) or from inbound coverage that is threads_only on every platform "
        f'("insufficient coverage"). Rule table: {th.source}.'
    )
