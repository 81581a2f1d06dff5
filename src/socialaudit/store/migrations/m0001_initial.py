"""The SPEC section 4 tables as first shipped. Append-only: later changes get a new migration."""

from __future__ import annotations

import duckdb

NAME = "initial"

DDL = """
CREATE TABLE posts (
    platform VARCHAR NOT NULL, post_id VARCHAR NOT NULL, author_id VARCHAR,
    created_at TIMESTAMP, text VARCHAR, parent_id VARCHAR, root_id VARCHAR,
    repost_of VARCHAR, quote_of VARCHAR, permalink VARCHAR,
    like_count BIGINT, repost_count BIGINT, reply_count BIGINT, quote_count BIGINT,
    view_count BIGINT, hashtags VARCHAR[], mentions VARCHAR[], links VARCHAR[], lang VARCHAR,
    inbound BOOLEAN, import_id BIGINT, record_no BIGINT
);
CREATE TABLE accounts (
    platform VARCHAR NOT NULL, account_id VARCHAR NOT NULL, handle VARCHAR,
    display_name VARCHAR, followers_count BIGINT, following_count BIGINT,
    created_at TIMESTAMP, verified BOOLEAN, observed_at TIMESTAMP,
    PRIMARY KEY (platform, account_id)
);
CREATE TABLE orgs (
    org_id VARCHAR PRIMARY KEY, name VARCHAR, peer_group VARCHAR, sla_minutes BIGINT,
    timezone VARCHAR, claimed_activity VARCHAR, origin VARCHAR
);
CREATE TABLE org_accounts (
    org_id VARCHAR NOT NULL, platform VARCHAR NOT NULL, account_id VARCHAR NOT NULL,
    handle VARCHAR, PRIMARY KEY (org_id, platform, account_id)
);
CREATE TABLE follows (
    platform VARCHAR NOT NULL, follower_id VARCHAR NOT NULL, followee_id VARCHAR NOT NULL,
    observed_at TIMESTAMP, PRIMARY KEY (platform, follower_id, followee_id)
);
CREATE TABLE enrichments (
    platform VARCHAR NOT NULL, post_id VARCHAR NOT NULL, lang VARCHAR, sentiment DOUBLE,
    intent VARCHAR, is_spam BOOLEAN, spam_score DOUBLE, topic_id BIGINT, model_version VARCHAR,
    PRIMARY KEY (platform, post_id)
);
CREATE TABLE topics (
    topic_id BIGINT PRIMARY KEY, label VARCHAR, top_terms VARCHAR[], size BIGINT
);
CREATE TABLE campaigns (
    campaign_id VARCHAR PRIMARY KEY, org_id VARCHAR, name VARCHAR, start TIMESTAMP,
    "end" TIMESTAMP, hashtags VARCHAR[], keywords VARCHAR[], accounts VARCHAR[]
);
CREATE TABLE campaign_costs (
    campaign_id VARCHAR NOT NULL, day DATE NOT NULL, channel VARCHAR NOT NULL, spend DOUBLE,
    impressions BIGINT, clicks BIGINT, conversions BIGINT,
    PRIMARY KEY (campaign_id, day, channel)
);
CREATE TABLE imports (
    import_id BIGINT PRIMARY KEY, format VARCHAR, platform VARCHAR, source_path VARCHAR,
    sha256 VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, read BIGINT, inserted BIGINT,
    duplicates BIGINT, quarantined BIGINT
);
CREATE TABLE quarantine (
    import_id BIGINT NOT NULL, record_no BIGINT NOT NULL, line_no BIGINT, raw VARCHAR,
    reason VARCHAR, PRIMARY KEY (import_id, record_no)
);
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table; posts has no primary-key index (see Store.import_file for why)."""
    for statement in DDL.split(";"):
        if statement.strip():
            con.execute(statement)
