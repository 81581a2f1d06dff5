"""What a run computes, as frozen dataclasses, and the one conversion of them to JSON."""

from socialaudit.results.documents import benchmark_document
from socialaudit.results.jsonable import iso_utc, to_jsonable
from socialaudit.results.model import (
    AuditResult,
    BenchmarkResult,
    Coverage,
    EnricherRun,
    Figures,
    Listening,
    OrgAudit,
    OrgSummary,
    PlatformAudit,
    Responsiveness,
    TierEvidence,
    TierResult,
)

__all__ = [
    "AuditResult",
    "BenchmarkResult",
    "Coverage",
    "EnricherRun",
    "Figures",
    "Listening",
    "OrgAudit",
    "OrgSummary",
    "PlatformAudit",
    "Responsiveness",
    "TierEvidence",
    "TierResult",
    "benchmark_document",
    "iso_utc",
    "to_jsonable",
]
