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
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from socialaudit.errors import ConfigError

TIER_LABELS = {
    0: "absent",
    1: "dormant / exploring",
    2: "rudimentary",
    3: "engaged",
    4: "leader",
}
INSUFFICIENT = "insufficient data"
Z95 = 1.959963984540054
_BACKLOGS = {"24h": "backlog_24h", "7d": "backlog_7d", "30d": "backlog_30d"}


@dataclass(frozen=True)
class Thresholds:
    """Every number the tier rules compare against."""

    min_actionable_turns: int = 50
    dormant_max_posts_per_week: float = 1.0
    rudimentary_response_rate_below: float = 0.5
    rudimentary_frt_median_above_s: float = 86_400
    rudimentary_backlog_older_than: str = "7d"
    engaged_min_response_rate: float = 0.5
    engaged_max_frt_median_s: float = 86_400
    leader_min_response_rate: float = 0.8
    leader_max_frt_median_s: float = 3_600
    leader_max_deflection_rate: float = 0.25
    leader_max_backlog: int = 0
    source: str = "built-in tiers.toml"


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
        leader_max_deflection_rate=_num(
            data, "leader", "max_deflection_rate", where, d.leader_max_deflection_rate
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


@dataclass
class Rule:
    """One rule's evidence: what was measured, against what, and whether it held."""

    rule: str
    value: Any
    threshold: Any
    holds: bool | None
    ci95: tuple[float, float] | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON shape of the evidence."""
        return {
            "rule": self.rule,
            "value": self.value,
            "threshold": self.threshold,
            "holds": self.holds,
            "ci95": None if self.ci95 is None else [round(x, 4) for x in self.ci95],
            "note": self.note,
        }


@dataclass
class TierResult:
    """An org's tier (None when the data are insufficient) and the rules behind it."""

    org: str
    tier: int | None
    label: str
    variant: str
    evidence: list[Rule] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON shape of the result."""
        return {
            "org": self.org,
            "tier": self.tier,
            "label": self.label,
            "variant": self.variant,
            "evidence": [r.as_dict() for r in self.evidence],
        }


def _rate_rule(name: str, k: int, n: int, threshold: float, holds: bool) -> Rule:
    rate = None if n == 0 else k / n
    ci = wilson(k, n)
    note = ""
    if ci is not None and ci[0] < threshold < ci[1]:
        note = "borderline: the 95% interval contains the threshold"
    return Rule(name, None if rate is None else round(rate, 4), threshold, holds, ci, note)


def assign_tier(
    org: str,
    responsiveness: dict[str, Any],
    presence: dict[str, Any],
    /,
    *,
    thresholds: Thresholds,
    deflection_rate: float | None = None,
) -> TierResult:
    """Decide one org's tier from its audit entry's responsiveness and its presence row.

    ``responsiveness`` is the audit's ``{"all": {...}, "actionable": {...} | None}``. The
    actionable variant decides when measured; otherwise ``all`` stands in, and the evidence
    says so. Without a measured deflection rate tier 4 cannot be confirmed and is withheld.
    """
    th = thresholds
    ev: list[Rule] = []
    posts = int(presence.get("posts") or 0)
    replies = int(presence.get("replies") or 0)
    ppw = float(presence.get("posts_per_week") or 0.0)
    actionable = responsiveness.get("actionable")
    if actionable is not None:
        figures, variant = actionable, "actionable"
    else:
        figures, variant = responsiveness.get("all") or {}, "all"
        ev.append(
            Rule(
                "variant",
                "all",
                "actionable",
                None,
                note="actionable not measured (posts not enriched): all turns used",
            )
        )
    if posts == 0:
        ev.insert(0, Rule("posts in window", 0, "> 0", False, note="no posts by its accounts"))
        return TierResult(org, 0, TIER_LABELS[0], variant, ev)
    ev.append(Rule("posts in window", posts, "> 0", True))
    dormant = ppw < th.dormant_max_posts_per_week and replies == 0
    ev.append(
        Rule(
            "dormant: posts per week below and no replies",
            round(ppw, 3),
            f"< {th.dormant_max_posts_per_week:g} and replies = 0 (replies: {replies})",
            dormant,
        )
    )
    if dormant:
        return TierResult(org, 1, TIER_LABELS[1], variant, ev)

    n = int(figures.get("turns") or 0)
    answered = int(figures.get("answered") or 0)
    enough = n >= th.min_actionable_turns
    ev.append(Rule(f"{variant} turns", n, f">= {th.min_actionable_turns}", enough))
    if not enough:
        return TierResult(org, None, INSUFFICIENT, variant, ev)

    rate = answered / n
    median = figures.get("frt_median_s")
    backlog_key = _BACKLOGS[th.rudimentary_backlog_older_than]
    backlog = int(figures.get(backlog_key) or 0)

    low_rate = rate < th.rudimentary_response_rate_below
    ev.append(
        _rate_rule(
            "rudimentary: response rate below",
            answered,
            n,
            th.rudimentary_response_rate_below,
            low_rate,
        )
    )
    slow = median is None or float(median) > th.rudimentary_frt_median_above_s
    ev.append(
        Rule(
            "rudimentary: median FRT above (s)",
            median,
            th.rudimentary_frt_median_above_s,
            slow,
            note="no timed answer" if median is None else "",
        )
    )
    waiting = backlog > 0
    ev.append(
        Rule(
            f"rudimentary: turns unanswered > {th.rudimentary_backlog_older_than}",
            backlog,
            "> 0",
            waiting,
        )
    )
    if low_rate or slow or waiting:
        return TierResult(org, 2, TIER_LABELS[2], variant, ev)

    # Not rudimentary: rate >= its bar and median within it; the engaged rules restate that
    # against their own (configurable) thresholds.
    engaged = rate >= th.engaged_min_response_rate and float(median) <= th.engaged_max_frt_median_s
    ev.append(
        _rate_rule(
            "engaged: response rate at least", answered, n, th.engaged_min_response_rate, engaged
        )
    )
    ev.append(
        Rule(
            "engaged: median FRT at most (s)",
            median,
            th.engaged_max_frt_median_s,
            float(median) <= th.engaged_max_frt_median_s,
        )
    )
    if not engaged:
        return TierResult(org, 2, TIER_LABELS[2], variant, ev)

    lead_rate = rate >= th.leader_min_response_rate
    ev.append(
        _rate_rule(
            "leader: response rate at least", answered, n, th.leader_min_response_rate, lead_rate
        )
    )
    lead_fast = float(median) <= th.leader_max_frt_median_s
    ev.append(Rule("leader: median FRT at most (s)", median, th.leader_max_frt_median_s, lead_fast))
    lead_backlog = backlog <= th.leader_max_backlog
    ev.append(
        Rule(
            f"leader: turns unanswered > {th.rudimentary_backlog_older_than} at most",
            backlog,
            th.leader_max_backlog,
            lead_backlog,
        )
    )
    if deflection_rate is None:
        ev.append(
            Rule(
                "leader: deflection rate at most",
                None,
                th.leader_max_deflection_rate,
                None,
                note="deflection not measured (posts not enriched): tier 4 withheld",
            )
        )
        return TierResult(org, 3, TIER_LABELS[3], variant, ev)
    answered_timed = answered
    deflect_k = round(float(deflection_rate) * answered_timed)
    lead_deflect = float(deflection_rate) <= th.leader_max_deflection_rate
    rule = _rate_rule(
        "leader: deflection rate at most",
        deflect_k,
        answered_timed,
        th.leader_max_deflection_rate,
        lead_deflect,
    )
    rule.value = round(float(deflection_rate), 4)
    ev.append(rule)
    if lead_rate and lead_fast and lead_backlog and lead_deflect:
        return TierResult(org, 4, TIER_LABELS[4], variant, ev)
    return TierResult(org, 3, TIER_LABELS[3], variant, ev)


def deflection_of(entry: dict[str, Any]) -> float | None:
    """An audit entry's deflection rate, wherever the listening stage puts it (or None).

    Looked up beside ``responsiveness`` first, then inside it (and inside its actionable
    variant); a ``{"rate": ...}`` object is read through its rate.
    """
    resp = entry.get("responsiveness") or {}
    for where in (entry, resp, resp.get("actionable") or {}):
        value = where.get("deflection_rate")
        if isinstance(value, dict):
            value = value.get("rate")
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


def assign_tiers(
    audit_result: dict[str, Any],
    presence_rows: list[dict[str, Any]],
    /,
    *,
    thresholds: Thresholds,
) -> list[TierResult]:
    """Tier every org of an audit (orgs without posts included: they are tier 0)."""
    by_org = {row["org_id"]: row for row in presence_rows}
    out = []
    for entry in audit_result["orgs"]:
        org = entry["org"]
        out.append(
            assign_tier(
                org,
                entry["responsiveness"],
                by_org.get(org, {}),
                thresholds=thresholds,
                deflection_rate=deflection_of(entry),
            )
        )
    return out
