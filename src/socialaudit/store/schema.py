"""The canonical data model (SPEC section 4): one Ibis schema per table.

These schemas are the contract the migrations must produce; a test checks that a freshly
migrated store matches them column for column. IDs are text, timestamps are UTC stored as
naive ``TIMESTAMP`` (so DuckDB and Spark read the same wall-clock values).
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt

from socialaudit.errors import TableNotFound

POSTS = "posts"
ACCOUNTS = "accounts"
ORGS = "orgs"
ORG_ACCOUNTS = "org_accounts"
ORG_HOLIDAYS = "org_holidays"
FOLLOWS = "follows"
ENRICHMENTS = "enrichments"
TOPICS = "topics"
CAMPAIGNS = "campaigns"
CAMPAIGN_COSTS = "campaign_costs"
IMPORTS = "imports"
QUARANTINE = "quarantine"
RAW_RECORDS = "raw_records"
COLLECTOR_CURSORS = "collector_cursors"
ENRICHER_MODELS = "enricher_models"
COVERAGE = "coverage"
TURN_LINKS = "turn_links"
ORG_TURNS = "org_turns"
ORG_TURNS_ACCOUNTS = "org_turns_accounts"
TURNS_STATE = "turns_state"
STORE_WRITES = "store_writes"
MIGRATIONS = "_socialaudit_migrations"

_str_list = dt.Array(dt.string)

SCHEMAS: dict[str, ibis.Schema] = {
    POSTS: ibis.schema(
        {
            "platform": "string",
            "post_id": "string",
            "author_id": "string",
            "created_at": "timestamp(6)",
            "text": "string",
            "parent_id": "string",
            "root_id": "string",
            "repost_of": "string",
            "quote_of": "string",
            "permalink": "string",
            "like_count": "int64",
            "repost_count": "int64",
            "reply_count": "int64",
            "quote_count": "int64",
            "view_count": "int64",
            "hashtags": _str_list,
            "mentions": _str_list,
            "links": _str_list,
            "lang": "string",
            # Direction as the source marks it (TWCS `inbound`); null where the source is silent.
            "inbound": "boolean",
            "import_id": "int64",
            "record_no": "int64",
        }
    ),
    ACCOUNTS: ibis.schema(
        {
            "platform": "string",
            "account_id": "string",
            "handle": "string",
            "display_name": "string",
            "followers_count": "int64",
            "following_count": "int64",
            "created_at": "timestamp(6)",
            "verified": "boolean",
            "observed_at": "timestamp(6)",
        }
    ),
    ORGS: ibis.schema(
        {
            "org_id": "string",
            "name": "string",
            "peer_group": "string",
            "sla_minutes": "int64",
            "timezone": "string",
            "claimed_activity": "string",
            # 'derived' (from a source's direction flag) or 'declared' (orgs.toml).
            "origin": "string",
            # Business hours (migration 3): JSON weekday -> ["HH:MM-HH:MM", ...] in `timezone`.
            "hours": "string",
            # Public holidays of a country (ISO code, optionally "US-CA"), via `holidays`.
            "holidays": "string",
        }
    ),
    ORG_ACCOUNTS: ibis.schema(
        {"org_id": "string", "platform": "string", "account_id": "string", "handle": "string"}
    ),
    ORG_HOLIDAYS: ibis.schema({"org_id": "string", "day": "date", "name": "string"}),
    FOLLOWS: ibis.schema(
        {
            "platform": "string",
            "follower_id": "string",
            "followee_id": "string",
            "observed_at": "timestamp(6)",
        }
    ),
    ENRICHMENTS: ibis.schema(
        {
            "platform": "string",
            "post_id": "string",
            "lang": "string",
            "sentiment": "float64",
            "intent": "string",
            "is_spam": "boolean",
            "spam_score": "float64",
            "topic_id": "int64",
            "model_version": "string",
            "lang_score": "float64",
            "sentiment_label": "string",
            "intents": _str_list,
            "intent_score": "float64",
            "spam_reason": "string",
            # 'asks_move_channel' / 'only_moves_channel' (brand replies), null otherwise.
            "deflection": "string",
            "deflection_rule": "string",
            # The customer's post reads as thanks / solved.
            "resolved": "boolean",
            "resolution_rule": "string",
            # The version of each enricher that wrote its columns (null: not run yet).
            "language_version": "string",
            "sentiment_version": "string",
            "intent_version": "string",
            "spam_version": "string",
            "deflection_version": "string",
            "resolution_version": "string",
            "topic_version": "string",
        }
    ),
    TOPICS: ibis.schema(
        {
            "topic_id": "int64",
            "label": "string",
            "top_terms": _str_list,
            "size": "int64",
            "org_id": "string",
            "is_question": "boolean",
            "examples": _str_list,
        }
    ),
    CAMPAIGNS: ibis.schema(
        {
            "campaign_id": "string",
            "org_id": "string",
            "name": "string",
            "start": "timestamp(6)",
            "end": "timestamp(6)",
            "hashtags": _str_list,
            "keywords": _str_list,
            "accounts": _str_list,
        }
    ),
    CAMPAIGN_COSTS: ibis.schema(
        {
            "campaign_id": "string",
            "day": "date",
            "channel": "string",
            "spend": "float64",
            "impressions": "int64",
            "clicks": "int64",
            "conversions": "int64",
        }
    ),
    IMPORTS: ibis.schema(
        {
            "import_id": "int64",
            "format": "string",
            "platform": "string",
            "source_path": "string",
            "sha256": "string",
            "started_at": "timestamp(6)",
            "finished_at": "timestamp(6)",
            "read": "int64",
            "inserted": "int64",
            "duplicates": "int64",
            "quarantined": "int64",
            "importer_version": "string",
        }
    ),
    QUARANTINE: ibis.schema(
        {
            "import_id": "int64",
            "record_no": "int64",
            "line_no": "int64",
            "raw": "string",
            "reason": "string",
            # The record of a post stored after a repair (issue 14): not counted as quarantined.
            "kept": "boolean",
        }
    ),
    # Raw items of formats that keep them (4CAT/Zeeschuimer), so a mapping can be re-run.
    RAW_RECORDS: ibis.schema(
        {
            "platform": "string",
            "post_id": "string",
            "import_id": "int64",
            "format": "string",
            "raw": "string",
        }
    ),
    # Where each live collector stopped (JSON state), so an interrupted run resumes.
    COLLECTOR_CURSORS: ibis.schema(
        {"platform": "string", "target": "string", "state": "string", "updated_at": "timestamp(6)"}
    ),
    # Inbound coverage per account and run (SPEC section 5): complete, search, threads_only or
    # export, with the window it covers; account "*" is a file import (whatever it holds).
    COVERAGE: ibis.schema(
        {
            "platform": "string",
            "account_id": "string",
            "run_id": "string",
            "inbound": "string",
            "org_id": "string",
            "target": "string",
            "source": "string",
            "import_id": "int64",
            "covered_from": "timestamp(6)",
            "covered_to": "timestamp(6)",
            "inbound_seen": "int64",
            "recorded_at": "timestamp(6)",
        }
    ),
    # The model each enricher runs with in this store (`enrich --model`); no row: the default.
    ENRICHER_MODELS: ibis.schema(
        {"enricher": "string", "model": "string", "chosen_at": "timestamp(6)"}
    ),
    # Persisted turns (migration 9, socialaudit.store.turns): self-reply -> turn opener.
    TURN_LINKS: ibis.schema({"platform": "string", "post_id": "string", "turn_id": "string"}),
    # One row per (org, turn) without what the reference time decides (age); answered is
    # first_response_at being set.
    ORG_TURNS: ibis.schema(
        {
            "org_id": "string",
            "platform": "string",
            "turn_id": "string",
            "opener_author": "string",
            "opener_created_at": "timestamp(6)",
            "followups": "int64",
            "first_response_id": "string",
            "first_response_at": "timestamp(6)",
            "frt_s": "int64",
        }
    ),
    # The org_accounts that org_turns was built with: an org whose accounts differ is stale.
    ORG_TURNS_ACCOUNTS: ibis.schema(
        {"org_id": "string", "platform": "string", "account_id": "string", "handle": "string"}
    ),
    # Built through this import, with this many posts (no row: never built).
    TURNS_STATE: ibis.schema({"import_id": "int64", "posts": "int64"}),
    # One row per write transaction: the store generation the dashboard snapshot is keyed by.
    STORE_WRITES: ibis.schema({"written_at": "timestamp(6)"}),
}


def require_table(name: str) -> str:
    """Return ``name`` if it is a store table; otherwise raise TableNotFound listing them."""
    if name not in SCHEMAS:
        raise TableNotFound(
            f"No table {name!r} in the store. Known tables: {', '.join(sorted(SCHEMAS))}."
        )
    return name
