"""socialaudit: measure how organizations really engage on social media.

The public Python API; everything the CLI and the API server call is exported here.

>>> import socialaudit
>>> store = socialaudit.open(":memory:")
>>> store.count("posts")
0
"""

from socialaudit.errors import (
    ConfigError,
    MetricError,
    SocialAuditError,
    SourceError,
    StoreError,
)
from socialaudit.ingest import ImportResult, import_file
from socialaudit.metrics import campaign_report, campaign_section, quality
from socialaudit.metrics.network_audit import network, trusted_voices
from socialaudit.report import build_report
from socialaudit.results import AuditResult, BenchmarkResult, to_jsonable
from socialaudit.run import audit, run, run_audit, topics, turns
from socialaudit.store import Store, open
from socialaudit.store.campaigns import load_campaigns
from socialaudit.store.orgs import list_orgs, load_orgs

#: Earlier names of :func:`run` and its result, kept for existing callers.
Benchmark = BenchmarkResult
run_benchmark = run

__version__ = "0.1.0"

__all__ = [
    "AuditResult",
    "Benchmark",
    "BenchmarkResult",
    "ConfigError",
    "ImportResult",
    "MetricError",
    "SocialAuditError",
    "SourceError",
    "Store",
    "StoreError",
    "audit",
    "build_report",
    "campaign_report",
    "campaign_section",
    "import_file",
    "list_orgs",
    "load_campaigns",
    "load_orgs",
    "network",
    "open",
    "quality",
    "run",
    "run_audit",
    "run_benchmark",
    "to_jsonable",
    "topics",
    "trusted_voices",
    "turns",
]
