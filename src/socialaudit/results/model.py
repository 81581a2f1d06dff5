"""What one run computes, as frozen dataclasses: the only shape figures travel in.

The run path (:func:`socialaudit.run.run`) executes the metric expressions and fills these;
every presenter (the CLI's tables and JSON, the report, the API and the dashboard) formats
them and never re-derives or re-keys a figure. A new figure is one field here plus one
expression in ``metrics/``; its ``metadata`` (``label``, ``fmt``) is what tables show as its
column heading and how they format it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

import pandas as pd


def _col(label: str, fmt: str = "num") -> dict[str, Any]:
    """Field metadata: the column heading and format (``num``, ``count``, ``pct``, ``dur``)."""
    return {"label": label, "fmt": fmt}


def _float(value: Any) -> float | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    out = float(value)
    return None if math.isnan(out) else out


def _int(value: Any) -> int | None:
    number = _float(value)
    return None if number is None else int(number)


@dataclass(frozen=True)
class Figures:
    """Responsiveness of one org over a set of turns (SPEC section 5)."""

    turns: int | None = field(metadata=_col("turns", "count"))
    answered: int | None = field(metadata=_col("answered", "count"))
    response_rate: float | None = field(metadata=_col("rate", "pct"))
    frt_median_s: float | None = field(metadata=_col("FRT median", "dur"))
    frt_p90_s: float | None = field(metadata=_col("FRT p90", "dur"))
    sla_attainment: float | None = field(metadata=_col("in SLA", "pct"))
    negative_frt: int | None = field(metadata=_col("neg FRT", "count"))
    backlog_24h: int | None = field(metadata=_col("open >24h", "count"))
    backlog_7d: int | None = field(metadata=_col(">7d", "count"))
    backlog_30d: int | None = field(metadata=_col(">30d", "count"))

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Figures:
        """From one row of :func:`socialaudit.metrics.responsiveness.responsiveness`."""
        values: dict[str, Any] = {
            f.name: (_int if f.metadata["fmt"] == "count" else _float)(row[f.name])
            for f in fields(cls)
        }
        return cls(**values)


@dataclass(frozen=True)
class Responsiveness:
    """Both variants: ``all`` (no exclusions) and ``actionable`` (None until enriched)."""

    all: Figures
    actionable: Figures | None = None


@dataclass(frozen=True)
class PlatformResponsiveness:
    """One platform's figures (all turns only)."""

    all: Figures


@dataclass(frozen=True)
class PlatformAudit:
    """An org's figures on one platform it has accounts on."""

    platform: str
    responsiveness: PlatformResponsiveness


@dataclass(frozen=True)
class SentimentSide:
    """Mean opener sentiment (-1..1) and the share of negative openers."""

    mean: float | None
    negative_share: float | None


@dataclass(frozen=True)
class Sentiment:
    """Opener sentiment of answered vs unanswered turns."""

    answered: SentimentSide
    unanswered: SentimentSide


@dataclass(frozen=True)
class Listening:
    """Deflection, resolution and sentiment; a figure whose enricher has not run is None."""

    basis: str
    answered: int
    deflected: int | None
    deflection_rate: float | None = field(
        metadata={**_col("deflected", "pct"), "card": "Deflection",
                  "note": "first responses that only move channel"}
    )  # fmt: skip
    asks_move_channel: int | None
    asks_move_channel_rate: float | None = field(metadata=_col("asks to move", "pct"))
    resolved: int | None
    resolution_rate: float | None = field(
        metadata={**_col("resolved", "pct"), "card": "Resolution",
                  "note": "answered turns the customer closed"}
    )  # fmt: skip
    sentiment: Sentiment | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any], status: Mapping[str, bool], basis: str) -> Listening:
        """From one row of :func:`socialaudit.metrics.listening.listening`.

        A figure is kept only when its enricher has results (``status``): else it is None.
        """
        measured = {
            "deflected": "deflection",
            "deflection_rate": "deflection",
            "asks_move_channel": "deflection",
            "asks_move_channel_rate": "deflection",
            "resolved": "resolution",
            "resolution_rate": "resolution",
        }
        values: dict[str, Any] = {
            name: ((_float if name.endswith("_rate") else _int)(row[name]) if status[by] else None)
            for name, by in measured.items()
        }
        sentiment = None
        if status["sentiment"]:
            sentiment = Sentiment(
                answered=SentimentSide(
                    _float(row["sentiment_answered"]), _float(row["negative_share_answered"])
                ),
                unanswered=SentimentSide(
                    _float(row["sentiment_unanswered"]), _float(row["negative_share_unanswered"])
                ),
            )
        return cls(basis=basis, answered=int(row["answered"]), sentiment=sentiment, **values)


#: The listening rates every per-org listening table shows, in order (report, exports).
LISTENING_COLUMNS: tuple[str, ...] = tuple(
    f.name for f in fields(Listening) if "label" in f.metadata
)
#: The rates ``audit --json`` repeats beside each org's responsiveness (and the CLI shows).
AUDIT_LISTENING: tuple[str, ...] = tuple(f.name for f in fields(Listening) if "card" in f.metadata)
#: The rate the benchmark's headline row carries (and tier 4 reads).
HEADLINE_LISTENING: str = AUDIT_LISTENING[0]


def label(cls: type, name: str) -> str:
    """A field's column heading (its name when it has none)."""
    found = {f.name: f.metadata.get("label", f.name) for f in fields(cls)}
    return str(found[name])


def listening_cards() -> list[tuple[str, str, str]]:
    """(field, card title, note) of the listening figures the org page shows as cards."""
    return [(f.name, f.metadata["card"], f.metadata["note"]) for f in fields(Listening)
            if "card" in f.metadata]  # fmt: skip


#: What a rate computed on ``threads_only`` data always carries (SPEC section 5).
THREADS_ONLY_WARNING = "overstated: unanswered mentions not collected"
#: The tier label of an org whose inbound is ``threads_only`` on every platform.
INSUFFICIENT_COVERAGE = "insufficient coverage"


@dataclass(frozen=True)
class PlatformCoverage:
    """How completely one platform's inbound posts were fetched, over which window."""

    inbound: str
    covered_from: datetime | None = None
    covered_to: datetime | None = None

    def __json__(self) -> dict[str, Any]:
        """``{"inbound": ..., "from": ISO, "to": ISO}`` (``from`` is a Python keyword)."""
        from socialaudit.results.jsonable import to_jsonable

        return {
            "inbound": self.inbound,
            "from": to_jsonable(self.covered_from),
            "to": to_jsonable(self.covered_to),
        }


@dataclass(frozen=True)
class Coverage:
    """An org's inbound coverage per platform (SPEC section 5, ``metrics/coverage.py``).

    Each platform's method is ``complete``, ``search``, ``export`` or ``threads_only``.
    Empty when nothing recorded how the org's posts were fetched (a store older than
    coverage, or posts written without an import).
    """

    platforms: Mapping[str, PlatformCoverage] = field(default_factory=dict)

    def __json__(self) -> dict[str, Any]:
        """Per platform, as ``audit --json`` shows it."""
        return {p: c.__json__() for p, c in sorted(self.platforms.items())}

    def method(self, platform: str) -> str | None:
        """The inbound method of one platform (None: not recorded)."""
        found = self.platforms.get(platform)
        return None if found is None else found.inbound

    @property
    def thin(self) -> tuple[str, ...]:
        """Platforms whose inbound is ``threads_only``: their rates are overstated."""
        return tuple(sorted(p for p, c in self.platforms.items() if c.inbound == "threads_only"))

    @property
    def warning(self) -> str | None:
        """The warning every rate of the org carries while some platform is threads_only."""
        if not self.thin:
            return None
        return f"{THREADS_ONLY_WARNING} ({', '.join(self.thin)})"

    @property
    def insufficient(self) -> bool:
        """Inbound is ``threads_only`` on every platform: no tier above 1 (SPEC section 5)."""
        return bool(self.platforms) and len(self.thin) == len(self.platforms)

    def summary(self) -> str:
        """One short line: ``bluesky complete, mastodon threads_only`` (``–`` when unknown)."""
        return ", ".join(f"{p} {c.inbound}" for p, c in sorted(self.platforms.items())) or "–"


@dataclass(frozen=True)
class LateShare:
    """The unanswered-after-7-days share with its own denominator (SPEC section 5).

    ``aged``: turns opened at least 7 days before the reference time; ``late``: those with no
    response within 7 days; ``share`` = late / aged (None when no turn is that old).
    """

    aged: int
    late: int
    share: float | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> LateShare:
        """From one row of :func:`socialaudit.metrics.responsiveness.unanswered_after`."""
        return cls(int(row["aged"]), int(row["late"]), _float(row["share"]))


@dataclass(frozen=True)
class UnansweredAfter7d:
    """The late share over all turns and over actionable turns (None until enriched)."""

    all: LateShare
    actionable: LateShare | None = None


@dataclass(frozen=True)
class Window:
    """The turns a result covers: opened from ``start`` up to ``end`` (the reference time).

    ``days`` is the window asked for (None: all the data); ``start`` is the later of the
    reference time minus ``days`` and the earliest post.
    """

    start: datetime | None
    end: datetime | None
    days: int | None

    def describe(self) -> str:
        """The window in words, for the heading next to its figures."""
        from socialaudit.results.jsonable import iso_utc

        if self.end is None:
            return "no data"
        start = "–" if self.start is None else iso_utc(self.start)[:10]
        span = "all the data" if self.days is None else f"the last {self.days} days"
        return f"{span}: turns opened {start} to {iso_utc(self.end)[:16]} UTC"


@dataclass(frozen=True)
class OrgAudit:
    """One org's audit: responsiveness, listening, and (when asked) per platform."""

    org: str
    responsiveness: Responsiveness
    listening: Listening | None = None
    platforms: tuple[PlatformAudit, ...] | None = field(default=None, metadata={"omit_none": True})
    unanswered_after_7d: UnansweredAfter7d | None = None
    coverage: Coverage = field(default_factory=Coverage)
    #: ``customer posts``, or what the data holds of an org nobody addressed (``own posts
    #: only``, ``no posts``): the CLI then prints a sentence instead of a row of zeros.
    data_scope: str | None = None

    def listening_figures(self) -> dict[str, float | None]:
        """The headline listening rates (None when not measured), keyed by field name."""
        return {
            name: None if self.listening is None else getattr(self.listening, name)
            for name in LISTENING_COLUMNS
        }

    def __json__(self) -> dict[str, Any]:
        """``audit --json`` also lists deflection and resolution beside the responsiveness."""
        from socialaudit.results.jsonable import fields_of

        out = fields_of(self)
        lis = self.listening_figures()
        out.update({name: lis[name] for name in AUDIT_LISTENING})
        out["coverage_warning"] = self.coverage.warning
        return out


@dataclass(frozen=True)
class EnricherRun:
    """The model an enricher runs with in the store and how many posts each version labelled.

    Two audits read the same labels exactly when these agree (issue 16: one set of labels per
    store, whatever is installed).
    """

    model: str
    versions: Mapping[str, int]


@dataclass(frozen=True)
class AuditResult:
    """The responsiveness and listening audit of every org (or one) over a set of turns."""

    reference_time: datetime | None
    metrics_version: str
    enriched: Mapping[str, bool]
    orgs: tuple[OrgAudit, ...]
    #: The turns the figures cover (None: the store has no posts yet).
    window: Window | None = field(default=None, metadata={"omit_none": True})
    #: Per enricher: its model in this store and the versions whose labels the audit read.
    enrichers: Mapping[str, EnricherRun] = field(default_factory=dict)

    def window_text(self) -> str:
        """The window in words (for headings next to the figures)."""
        return "no data" if self.window is None else self.window.describe()

    def org(self, org_id: str) -> OrgAudit:
        """One org's entry."""
        return next(o for o in self.orgs if o.org == org_id)

    def only(self, org_id: str) -> AuditResult:
        """The same result restricted to one org."""
        kept = tuple(o for o in self.orgs if o.org == org_id)
        return replace(self, orgs=kept)

    def listening_rows(self) -> pd.DataFrame:
        """Per org: actionable turns and the listening rates (None: not measured)."""
        rows = []
        for o in self.orgs:
            act = o.responsiveness.actionable
            sent = o.listening.sentiment if o.listening is not None else None
            rows.append(
                {
                    "org_id": o.org,
                    "actionable_turns": None if act is None else act.turns,
                    "actionable_answered": None if act is None else act.answered,
                    "actionable_response_rate": None if act is None else act.response_rate,
                    "actionable_frt_median_s": None if act is None else act.frt_median_s,
                    **o.listening_figures(),
                    "negative_share_answered": None
                    if sent is None
                    else sent.answered.negative_share,
                    "negative_share_unanswered": None
                    if sent is None
                    else sent.unanswered.negative_share,
                }
            )
        return pd.DataFrame(rows)


@dataclass(frozen=True)
class TierEvidence:
    """One tier rule's evidence: what was measured, against what, and whether it held."""

    rule: str
    value: Any
    threshold: Any
    holds: bool | None
    ci95: tuple[float, float] | None = None
    note: str = ""

    def __json__(self) -> dict[str, Any]:
        """The interval rounded to 4 places, as a list."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["ci95"] = None if self.ci95 is None else [round(x, 4) for x in self.ci95]
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON shape of the evidence."""
        return self.__json__()


@dataclass(frozen=True)
class TierResult:
    """An org's tier (None when the data are insufficient) and the rules behind it."""

    org: str
    tier: int | None
    label: str
    variant: str
    evidence: tuple[TierEvidence, ...] = ()
    #: Some rate's 95% interval contains its threshold: the tier could go either way.
    borderline: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON shape of the result."""
        from socialaudit.results.jsonable import to_jsonable

        out: dict[str, Any] = to_jsonable(self)
        return out


@dataclass(frozen=True)
class TierRule:
    """One row of the tier rule table: ``figure op threshold`` for a tier (SPEC section 5)."""

    tier: str
    figure: str
    op: str
    threshold: float


@dataclass(frozen=True)
class Thresholds:
    """The tier rule table (``benchmark/tiers.toml``): every number the tiers compare against.

    ``rules`` are the rudimentary rules (tier 2 when any holds; tier 3 when none does) and the
    leader rules (tier 4 when all hold), in table order.
    """

    min_actionable_turns: int = 50
    dormant_max_posts_per_week: float = 1.0
    rules: tuple[TierRule, ...] = ()
    source: str = "built-in tiers.toml"

    def of(self, tier: str) -> tuple[TierRule, ...]:
        """The rules of one tier (``rudimentary`` or ``leader``)."""
        return tuple(r for r in self.rules if r.tier == tier)


@dataclass(frozen=True)
class ClaimedVsMeasured:
    """Orgs that say they are active, and how many of those the tiers find rudimentary."""

    declared: int
    claiming: int
    measured: int
    rudimentary: int
    insufficient: int
    orgs: tuple[str, ...]

    @property
    def sentence(self) -> str:
        """The finding, phrased as the classic study phrases it."""
        if self.declared == 0:
            return "No organization declares what it claims (claimed_activity in orgs.toml)."
        share = 100 * self.claiming / self.declared
        text = f"{share:.0f}% say they are active ({self.claiming:,} of {self.declared:,})"
        if self.measured == 0:
            return text + "; none of those has enough data for a tier."
        rud = 100 * self.rudimentary / self.measured
        text += (
            f"; {rud:.0f}% of those are at most rudimentary (tier 2 or below: "
            f"{self.rudimentary:,} of {self.measured:,} with a tier)"
        )
        if self.insufficient:
            text += f"; {self.insufficient:,} more have insufficient data"
        return text + "."


@dataclass(frozen=True)
class OrgSummary:
    """One org in the overview: tier and headline figures over the benchmark window."""

    org_id: str
    name: str | None
    peer_group: str | None
    #: Where the peer group comes from: ``declared``, ``sector list`` or ``none``.
    peer_group_source: str | None
    tier: int | None
    tier_label: str | None
    tier_borderline: bool | None
    turns: int | None
    answered: int | None
    response_rate: float | None
    response_rate_ci_low: float | None
    response_rate_ci_high: float | None
    frt_median_s: float | None
    backlog_7d: int | None
    deflection_rate: float | None
    response_rate_pct: float | None
    claimed_activity: str | None
    #: How the inbound posts behind the rates were fetched (``mastodon threads_only``) and the
    #: warning the rates carry when some platform is threads_only.
    coverage: str | None = None
    coverage_warning: str | None = None
    #: ``customer posts``, ``own posts only`` or ``no posts`` (as in the audit document): an
    #: org nobody addressed in this data gets a sentence on the overview, not a row of zeros.
    data_scope: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> OrgSummary:
        """From a row of the benchmark's headline table."""
        from socialaudit.results.jsonable import to_jsonable

        values = {f.name: to_jsonable(row.get(f.name)) for f in fields(cls)}
        # A tier column with a missing value is float in pandas: 2.0 is tier 2.
        values["tier"] = None if values["tier"] is None else int(values["tier"])
        return cls(**values)


@dataclass(frozen=True)
class BenchmarkResult:
    """Everything one run measured over its window: the audit, tiers, presence, peers.

    ``tables`` are the report's exports (one frame per table, the headline ``benchmark``
    first); the other frames are what the report's sections and charts read.
    """

    reference_time: datetime | None
    window_start: datetime | None
    window_days: int | None
    thresholds: Thresholds
    audit: AuditResult
    orgs: pd.DataFrame
    tiers: tuple[TierResult, ...]
    presence: pd.DataFrame
    accounts: pd.DataFrame
    business_hours: pd.DataFrame
    km_curves: pd.DataFrame
    percentiles: pd.DataFrame
    divide: pd.DataFrame
    claimed: ClaimedVsMeasured
    unanswered: pd.DataFrame
    evidence_posts: pd.DataFrame
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)

    def tier_of(self, org_id: str) -> TierResult:
        """One org's tier."""
        return next(t for t in self.tiers if t.org == org_id)

    def org_rows(self) -> list[dict[str, Any]]:
        """One row per org: tier, the headline figures and their percentiles in the group."""
        rows: list[dict[str, Any]] = self.tables["benchmark"].to_dict("records")
        return rows

    def summaries(self) -> list[OrgSummary]:
        """Every org's overview row, by peer group then org."""
        head = self.tables["benchmark"].sort_values(["peer_group", "org_id"])
        audits = {o.org: o for o in self.audit.orgs}
        out = []
        for r in head.to_dict("records"):
            audit = audits.get(r["org_id"])
            cov = Coverage() if audit is None else audit.coverage
            extra = {
                "coverage": cov.summary(),
                "coverage_warning": cov.warning,
                "data_scope": None if audit is None else audit.data_scope,
            }
            out.append(OrgSummary.from_row({**r, **extra}))
        return out
