"""Maturity tiers 0-4 (SPEC section 5) with the evidence of every rule that decided them.

Tiers are decision rules over a handful of per-org aggregates that the metrics layer has
already computed (the audit's responsiveness and presence); they are evaluated here in plain
Python, one org at a time, so that each rule can say what it saw, against which threshold,
with which 95% Wilson interval. Thresholds come from ``tiers.toml`` (shipped) or a user file.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

from socialaudit.errors import ConfigError
from socialaudit.results.jsonable import to_jsonable
from socialaudit.results.model import (
    HEADLINE_LISTENING,
    INSUFFICIENT_COVERAGE,
    THREADS_ONLY_WARNING,
    AuditResult,
    Coverage,
    Responsiveness,
    Thresholds,
    TierEvidence,
    TierResult,
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
_BACKLOGS = {"24h": "backlog_24h", "7d": "backlog_7d", "30d": "backlog_30d"}


def _num(data: dict[str, Any], section: str, key: str, where: str, default: float) -> float:
    table = data.get(section, {}) if section else data
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        name = f"{section}.{key}" if section else key
        raise ConfigError(f"{where}: {name} must be a non-negative number, not {value!r}.")
    return float(value)


def load_thresholds(path: str | os.PathLike[str] | None = None) -> Thresholds:
    """Read tier thresholds: the shipped file, overridden key by key by ``path`` if given."""
    shipped = resources.files("socialaudit.benchmark").joinpath("tiers.toml").read_text("utf-8")
    data = tomllib.loads(shipped)
    where = "built-in tiers.toml"
    if path is not None:
        p = Path(path)
        try:
            user = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"No tiers file at {p}. Check the --tiers path.") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{p} is not valid TOML ({exc}). Fix the line it names.") from None
        known = {k for k in data}
        unknown = set(user) - known
        if unknown:
            raise ConfigError(
                f"{p}: unknown key {sorted(unknown)[0]!r}. Known: {', '.join(sorted(known))}."
            )
        for key, value in user.items():
            if isinstance(value, dict):
                extra = set(value) - set(data[key])
                if extra:
                    raise ConfigError(
                        f"{p}: unknown key {key}.{sorted(extra)[0]}. "
                        f"Known: {', '.join(sorted(data[key]))}."
                    )
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        where = str(p)
    backlog = data["rudimentary"].get("backlog_older_than", "7d")
    if backlog not in _BACKLOGS:
        raise ConfigError(
            f"{where}: rudimentary.backlog_older_than must be one of {', '.join(_BACKLOGS)}."
        )
    d = Thresholds()
    return Thresholds(
        min_actionable_turns=int(_num(data, "", "min_actionable_turns", where, 50)),
        dormant_max_posts_per_week=_num(data, "dormant", "max_posts_per_week", where, 1.0),
        rudimentary_response_rate_below=_num(
            data, "rudimentary", "response_rate_below", where, d.rudimentary_response_rate_below
        ),
        rudimentary_frt_median_above_s=_num(
            data, "rudimentary", "frt_median_above_s", where, d.rudimentary_frt_median_above_s
        ),
        rudimentary_backlog_older_than=backlog,
        engaged_min_response_rate=_num(
            data, "engaged", "min_response_rate", where, d.engaged_min_response_rate
        ),
        engaged_max_frt_median_s=_num(
            data, "engaged", "max_frt_median_s", where, d.engaged_max_frt_median_s
        ),
        leader_min_response_rate=_num(
            data, "leader", "min_response_rate", where, d.leader_min_response_rate
        ),
        leader_max_frt_median_s=_num(
            data, "leader", "max_frt_median_s", where, d.leader_max_frt_median_s
        ),
        leader_max_deflection=_num(
            data, "leader", f"max_{HEADLINE_LISTENING}", where, d.leader_max_deflection
        ),
        leader_max_backlog=int(_num(data, "leader", "max_backlog", where, 0)),
        source=where,
    )


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


#: One rule's evidence (kept under its old name for callers that build evidence rows).
Rule = TierEvidence


def _rate_rule(name: str, k: int, n: int, threshold: float, holds: bool) -> TierEvidence:
    rate = None if n == 0 else k / n
    ci = wilson(k, n)
    note = ""
    if ci is not None and ci[0] < threshold < ci[1]:
        note = "borderline: the 95% interval contains the threshold"
    return TierEvidence(name, None if rate is None else round(rate, 4), threshold, holds, ci, note)


@dataclass(frozen=True)
class _Measured:
    """The figures one org's tier is decided on."""

    variant: str
    turns: int
    answered: int
    median: float | None
    backlog: int
    deflection: float | None


def _presence_gates(
    presence: Mapping[str, Any], th: Thresholds, ev: list[TierEvidence]
) -> int | None:
    """Tier 0 (no posts) or 1 (dormant), or None to go on; appends the evidence."""
    posts = int(presence.get("posts") or 0)
    replies = int(presence.get("replies") or 0)
    ppw = float(presence.get("posts_per_week") or 0.0)
    if posts == 0:
        ev.insert(
            0, TierEvidence("posts in window", 0, "> 0", False, note="no posts by its accounts")
        )
        return 0
    ev.append(TierEvidence("posts in window", posts, "> 0", True))
    dormant = ppw < th.dormant_max_posts_per_week and replies == 0
    ev.append(
        TierEvidence(
            "dormant: posts per week below and no replies",
            round(ppw, 3),
            f"< {th.dormant_max_posts_per_week:g} and replies = 0 (replies: {replies})",
            dormant,
        )
    )
    return 1 if dormant else None


def _rudimentary(m: _Measured, th: Thresholds, ev: list[TierEvidence]) -> bool:
    """Whether any rudimentary rule holds (SPEC: tier 2 when any does)."""
    low_rate = m.answered / m.turns < th.rudimentary_response_rate_below
    ev.append(
        _rate_rule(
            "rudimentary: response rate below",
            m.answered,
            m.turns,
            th.rudimentary_response_rate_below,
            low_rate,
        )
    )
    slow = m.median is None or m.median > th.rudimentary_frt_median_above_s
    ev.append(
        TierEvidence(
            "rudimentary: median FRT above (s)",
            m.median,
            th.rudimentary_frt_median_above_s,
            slow,
            note="no timed answer" if m.median is None else "",
        )
    )
    waiting = m.backlog > 0
    ev.append(
        TierEvidence(
            f"rudimentary: turns unanswered > {th.rudimentary_backlog_older_than}",
            m.backlog,
            "> 0",
            waiting,
        )
    )
    return low_rate or slow or waiting


def _engaged(m: _Measured, median: float, th: Thresholds, ev: list[TierEvidence]) -> bool:
    """Whether every engaged rule holds (restated against their own thresholds)."""
    rate = m.answered / m.turns
    fast = median <= th.engaged_max_frt_median_s
    engaged = rate >= th.engaged_min_response_rate and fast
    ev.append(
        _rate_rule(
            "engaged: response rate at least",
            m.answered,
            m.turns,
            th.engaged_min_response_rate,
            engaged,
        )
    )
    ev.append(TierEvidence("engaged: median FRT at most (s)", median, th.engaged_max_frt_median_s,
                           fast))  # fmt: skip
    return engaged


def _leader(m: _Measured, median: float, th: Thresholds, ev: list[TierEvidence]) -> bool:
    """Whether every leader rule holds; without a measured deflection rate it cannot."""
    lead_rate = m.answered / m.turns >= th.leader_min_response_rate
    ev.append(
        _rate_rule(
            "leader: response rate at least",
            m.answered,
            m.turns,
            th.leader_min_response_rate,
            lead_rate,
        )
    )
    lead_fast = median <= th.leader_max_frt_median_s
    ev.append(TierEvidence("leader: median FRT at most (s)", median, th.leader_max_frt_median_s,
                           lead_fast))  # fmt: skip
    lead_backlog = m.backlog <= th.leader_max_backlog
    ev.append(
        TierEvidence(
            f"leader: turns unanswered > {th.rudimentary_backlog_older_than} at most",
            m.backlog,
            th.leader_max_backlog,
            lead_backlog,
        )
    )
    if m.deflection is None:
        ev.append(
            TierEvidence(
                "leader: deflection rate at most",
                None,
                th.leader_max_deflection,
                None,
                note="deflection not measured (posts not enriched): tier 4 withheld",
            )
        )
        return False
    lead_deflect = m.deflection <= th.leader_max_deflection
    rule = _rate_rule(
        "leader: deflection rate at most",
        round(m.deflection * m.answered),
        m.answered,
        th.leader_max_deflection,
        lead_deflect,
    )
    ev.append(replace(rule, value=round(m.deflection, 4)))
    return lead_rate and lead_fast and lead_backlog and lead_deflect


def assign_tier(
    org: str,
    responsiveness: Mapping[str, Any] | Responsiveness,
    presence: Mapping[str, Any],
    /,
    *,
    thresholds: Thresholds,
    deflection_rate: float | None = None,
    coverage: Coverage | None = None,
) -> TierResult:
    """Decide one org's tier from its responsiveness and its presence row.

    ``responsiveness`` is the audit's (``all`` and ``actionable``, the latter None until
    enriched). The actionable variant decides when measured; otherwise ``all`` stands in,
    and the evidence says so. Without a measured deflection rate tier 4 is withheld. When
    the org's inbound ``coverage`` is ``threads_only`` on every platform its rates are
    overstated (unanswered mentions were never fetched): no tier above 1, "insufficient
    coverage" (SPEC section 5).
    """
    th = thresholds
    resp = to_jsonable(responsiveness)
    ev: list[TierEvidence] = []
    actionable = resp.get("actionable")
    if actionable is not None:
        figures, variant = actionable, "actionable"
    else:
        figures, variant = resp.get("all") or {}, "all"
        note = "actionable not measured (posts not enriched): all turns used"
        ev.append(TierEvidence("variant", "all", "actionable", None, note=note))
    gate = _presence_gates(presence, th, ev)
    if gate is not None:
        return TierResult(org, gate, TIER_LABELS[gate], variant, tuple(ev))
    if coverage is not None and coverage.insufficient:
        ev.append(
            TierEvidence(
                "inbound coverage",
                coverage.summary(),
                "complete, search or export on some platform",
                False,
                note=f"{THREADS_ONLY_WARNING}: tiers above 1 withheld",
            )
        )
        return TierResult(org, None, INSUFFICIENT_COVERAGE, variant, tuple(ev))
    n = int(figures.get("turns") or 0)
    enough = n >= th.min_actionable_turns
    ev.append(TierEvidence(f"{variant} turns", n, f">= {th.min_actionable_turns}", enough))
    if not enough:
        return TierResult(org, None, INSUFFICIENT, variant, tuple(ev))
    median = figures.get("frt_median_s")
    m = _Measured(
        variant=variant,
        turns=n,
        answered=int(figures.get("answered") or 0),
        median=None if median is None else float(median),
        backlog=int(figures.get(_BACKLOGS[th.rudimentary_backlog_older_than]) or 0),
        deflection=None if deflection_rate is None else float(deflection_rate),
    )
    if _rudimentary(m, th, ev) or m.median is None:
        return TierResult(org, 2, TIER_LABELS[2], variant, tuple(ev))
    if not _engaged(m, m.median, th, ev):
        return TierResult(org, 2, TIER_LABELS[2], variant, tuple(ev))
    tier = 4 if _leader(m, m.median, th, ev) else 3
    return TierResult(org, tier, TIER_LABELS[tier], variant, tuple(ev))


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
            entry.org,
            entry.responsiveness,
            by_org.get(entry.org, {}),
            thresholds=thresholds,
            deflection_rate=entry.listening_figures()[HEADLINE_LISTENING],
            coverage=entry.coverage,
        )
        for entry in audit_result.orgs
    ]


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds < 3 * 86_400 else f"{seconds / 86_400:g} d"


def explain(th: Thresholds) -> str:
    """The tier rules in words, written from the thresholds in use (the report and dashboard).

    A user's ``tiers.toml`` changes this text as it changes the tiers.
    """
    backlog = th.rudimentary_backlog_older_than
    return (
        f"0 absent (no posts in the window); 1 dormant (fewer than "
        f"{th.dormant_max_posts_per_week:g} posts per week and no replies); 2 rudimentary "
        f"(response rate < {th.rudimentary_response_rate_below:.0%}, or median FRT > "
        f"{_hours(th.rudimentary_frt_median_above_s)}, or any turn unanswered > {backlog}); "
        f"3 engaged (>= {th.engaged_min_response_rate:.0%} and median <= "
        f"{_hours(th.engaged_max_frt_median_s)}); 4 leader (>= {th.leader_min_response_rate:.0%}, "
        f"median <= {_hours(th.leader_max_frt_median_s)}, deflection <= "
        f"{th.leader_max_deflection:.0%}, at most {th.leader_max_backlog} turns unanswered > "
        f"{backlog}). No tier above 1 below {th.min_actionable_turns} actionable turns. "
        f"Thresholds: {th.source}."
    )
