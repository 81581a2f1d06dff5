"""Response and request models of the REST API: what ``/openapi.json`` documents.

Figures the data cannot support are ``null``, never 0 (a response rate over no turns, a
listening rate before its enricher has run). The figures are the run's own dataclasses
(:mod:`socialaudit.results`), not copies; documents that only the API has are declared here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from socialaudit.results import model as r


class _Open(BaseModel):
    """A document whose further keys the metrics layer owns (new figures appear there)."""

    model_config = ConfigDict(extra="allow")


class ErrorBody(BaseModel):
    """Every error: what went wrong and how to fix it."""

    message: str
    hint: str | None = None


class Health(BaseModel):
    """The server and the store it reads."""

    status: Literal["ok"]
    store: str
    generation: str
    snapshot_built_s: float | None = Field(None, description="How long the cached audit took.")
    snapshot_reused: bool = Field(
        False, description="The cached audit was read back from the store's snapshot file."
    )
    orgs: int
    version: str


# The figures themselves are the run's dataclasses (pydantic validates and documents them);
# only the documents that wrap them are declared here.
Figures = r.Figures
Responsiveness = r.Responsiveness
Listening = r.Listening
OrgSummary = r.OrgSummary
Evidence = r.TierEvidence
Tier = r.TierResult

#: One org's audit: its fields, plus the listening rates ``audit --json`` repeats beside them.
AuditOrg = create_model(
    "AuditOrg",
    __base__=_Open,
    __doc__="One org's audit.",
    org=(str, ...),
    responsiveness=(r.Responsiveness, ...),
    listening=(r.Listening | None, None),
    unanswered_after_7d=(r.UnansweredAfter7d | None, None),
    coverage=(dict[str, Any] | None, None),
    **{name: (float | None, None) for name in r.AUDIT_LISTENING},  # type: ignore[call-overload]
)


class AuditDoc(BaseModel):
    """The audit of every turn in the store (the same document as ``audit --json``)."""

    reference_time: str | None
    metrics_version: str | None
    enriched: dict[str, bool]
    window: dict[str, Any] | None = Field(
        None, description="The turns the figures cover: start, end (UTC) and days (null: all)."
    )
    enrichers: dict[str, r.EnricherRun] = Field(
        default_factory=dict, description="Which model and versions labelled the posts read."
    )
    orgs: list[AuditOrg]  # type: ignore[valid-type]


class WeeklyPoint(BaseModel):
    """The turns opened in one week (weeks start on Monday, UTC)."""

    week: str
    turns: int
    answered: int
    response_rate: float | None
    frt_median_s: float | None


class FrtBucket(BaseModel):
    """Answered turns whose first response came within a time band."""

    bucket: str
    answered_turns: int


class OrgDetail(BaseModel):
    """Everything the org page shows."""

    org_id: str
    name: str | None
    peer_group: str | None
    peer_group_source: Literal["declared", "sector list", "none"] | None = None
    reference_time: str | None
    window_start: str | None
    window_days: int
    tier: Tier
    figures: dict[str, Any] = Field(
        description="Benchmark row over the window: figures, Wilson intervals, percentiles."
    )
    audit: AuditOrg = Field(  # type: ignore[valid-type]
        description="The audit of every turn (not only the window)."
    )
    presence: list[dict[str, Any]]
    weekly: list[WeeklyPoint]
    frt_distribution: list[FrtBucket]


class InboxItem(BaseModel):
    """One unanswered turn: the post a care team should answer, with where to find it."""

    org_id: str
    platform: str
    turn_id: str
    opener_author: str | None
    opened_at: str | None
    waiting_s: int
    followups: int
    permalink: str | None
    text: str | None
    intents: list[str] | None = Field(None, description="Null: the opener is not enriched.")
    sentiment: float | None
    sentiment_label: str | None
    spam: bool | None


class InboxPage(BaseModel):
    """One page of the unanswered inbox, oldest first."""

    reference_time: str | None
    total: int
    page: int
    per_page: int
    pages: int
    items: list[InboxItem]


class TopicExample(BaseModel):
    """A post of the topic."""

    post_id: str
    text: str | None
    permalink: str | None


class Topic(BaseModel):
    """One stored topic of an org and its figures."""

    topic_id: int
    label: str | None
    top_terms: list[str]
    turns: int
    question_share: float | None
    answered_share: float | None
    frt_median_s: float | None
    faq_candidate: bool
    coherence_npmi: float | None = Field(None, description="Set only right after fitting.")
    examples: list[TopicExample]


class TopicsDoc(BaseModel):
    """An org's topics and FAQ candidates, as last fitted by ``socialaudit topics``."""

    org: str
    fitted: bool
    fitting: bool = Field(False, description="A background job is fitting them now.")
    hint: str | None
    topics: list[Topic]


class GraphFigures(BaseModel):
    """Size of an org's conversation graph."""

    conversations: int
    nodes: int
    edges: int
    interactions: int


class NetworkDoc(_Open):
    """An org's network: graph size, relevant network and trusted voices."""

    target: str
    kind: str
    accounts: list[str]
    graph: GraphFigures
    relevant_network: dict[str, Any]
    trusted_voices: list[dict[str, Any]] | None
    missing: list[str] | None = None


class CampaignDoc(_Open):
    """One campaign: window figures, the window before, uplift, costs, daily series."""

    campaign: str
    name: str | None
    org: str
    hashtags: list[str] | None
    keywords: list[str] | None
    window: dict[str, Any]
    before: dict[str, Any]
    uplift: dict[str, Any]
    costs: dict[str, Any] | None
    daily: list[dict[str, Any]]
    missing: list[str]


class CampaignsDoc(BaseModel):
    """Every stored campaign, and the formulas behind the cost figures."""

    campaigns: list[CampaignDoc]
    formulas: dict[str, str] = {}


class BenchmarkOrg(_Open):
    """An org's tier with evidence, peer group and every benchmark figure."""

    org: str
    tier: int | None
    label: str
    peer_group: str | None
    figures: dict[str, Any]


class BenchmarkDoc(_Open):
    """Tiers, figures, peer percentiles and what organizations claim vs what they do."""

    reference_time: str | None
    window_start: str | None
    window_days: int
    metrics_version: str | None
    claimed_vs_measured: dict[str, Any]
    orgs: list[BenchmarkOrg]


class QualityDoc(_Open):
    """What the audit had to work around, counted."""

    posts: int | None = None
    replies: int | None = None
    skew: int | None = None
    orphans: int | None = None
    negative_frt_turns: int
    imports: int
    read: int
    inserted: int
    duplicates: int
    quarantined: int
    quarantine_by_reason: dict[str, int]


class ImportRow(_Open):
    """One import: what was read and where it went (read = inserted + duplicates + quarantined)."""

    import_id: int
    format: str | None
    platform: str | None
    source_path: str | None
    sha256: str | None
    started_at: str | None
    finished_at: str | None
    read: int | None
    inserted: int | None
    duplicates: int | None
    quarantined: int | None


class ImportRequest(BaseModel):
    """Import a file from the server's import folder."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="A file in the import folder (relative to it).")
    format: str | None = Field(None, description="Detected when omitted (twcs, csv, x_v2, ...).")
    map: dict[str, str] | None = Field(None, description="field -> column for csv/jsonl.")
    platform: str | None = None
    time_format: str | None = None


class CollectRequest(BaseModel):
    """Collect from a platform's public API into the store (resumes where the last run left)."""

    model_config = ConfigDict(extra="forbid")

    platform: Literal["mastodon", "bluesky", "reddit", "x"]
    target: str = Field(min_length=1, max_length=300)
    max_pages: int | None = Field(None, ge=1, le=10_000)
    api_url: str | None = Field(None, pattern=r"^https?://")


class JobDoc(BaseModel):
    """A background import or collection and its progress."""

    id: str
    kind: Literal["import", "collect", "topics"]
    params: dict[str, Any]
    state: Literal["queued", "running", "done", "failed"]
    progress: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    result: dict[str, Any] | None
    error: str | None


class PauseRequest(BaseModel):
    """A local CLI command asking for the store to write it."""

    model_config = ConfigDict(extra="forbid")

    pid: int = Field(ge=1, description="The writing process: the store reopens if it ends.")
    command: str = Field("a socialaudit command", max_length=200)


class ResumeRequest(BaseModel):
    """A local CLI command giving the store back."""

    model_config = ConfigDict(extra="forbid")

    pid: int = Field(ge=1, description="The process that asked for the store.")


class StoreState(BaseModel):
    """Who holds the store read-write while the server has let go of it (null: the server)."""

    paused_by: str | None
