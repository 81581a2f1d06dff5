"""Buzz and ROI (SPEC section 5): what a campaign made people say, and what it cost.

The expressions select a campaign's posts (hashtags, keywords, mentions of its accounts) in a
window and count them; :func:`campaign_report` runs them for the campaign window and the
same-length window just before it (the uplift baseline), and adds costs from
``campaign_costs``. :func:`campaign_section` is what the HTML report includes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import ibis
import pandas as pd

from socialaudit.metrics import responsiveness as rs
from socialaudit.metrics.base import Engine, MetricFamily, register
from socialaudit.metrics.peer_groups import NO_GROUP, NO_SOURCE, org_peer_groups
from socialaudit.store.campaigns import require_campaign

#: VADER's customary cut-offs for calling a compound score positive or negative.
POSITIVE, NEGATIVE = 0.05, -0.05

FORMULAS = {
    "cpm": "spend / impressions x 1,000 (over the cost rows that report impressions)",
    "cpc": "spend / clicks (over the cost rows that report clicks)",
    "cost_per_engagement": "spend / engagement (engagement in the campaign window)",
    "cost_per_conversion": "spend / conversions (over the cost rows that report conversions)",
    "uplift": "mentions in the campaign window / mentions in the same-length window before - 1",
    "share_of_voice": (
        "posts mentioning the org / posts mentioning any org of its peer group, in the window"
    ),
    "potential_reach": (
        "sum of the followers of the distinct authors: an upper bound, not people reached"
    ),
    "engagement": (
        "likes + reposts + replies + quotes the platform reports on the campaign's posts; "
        "where it reports none, the replies, quotes and reposts of them found in the data"
    ),
}


def _unnested_lower(posts: ibis.Table, column: str) -> ibis.Table:
    arr = posts.filter(posts[column].length() > 0)
    u = arr.select("platform", "post_id", value=arr[column].unnest())
    return u.select("platform", "post_id", value=u.value.lower())


def campaign_posts(
    posts: ibis.Table,
    org_accounts: ibis.Table,
    *,
    org_id: str,
    start: datetime,
    end: datetime,
    hashtags: list[str],
    keywords: list[str],
    accounts: list[str],
) -> ibis.Table:
    """Posts in [start, end) with a campaign hashtag, keyword or account mention.

    The org's own posts and the campaign accounts' posts are what the campaign says, not
    what it earned: they are left out.
    """
    w = posts.filter((posts.created_at >= start) & (posts.created_at < end))
    hits: list[ibis.Table] = []
    if hashtags:
        h = _unnested_lower(w, "hashtags")
        hits.append(
            h.filter(h.value.isin([x.lower() for x in hashtags])).select("platform", "post_id")
        )
    if accounts:
        m = _unnested_lower(w, "mentions")
        hits.append(
            m.filter(m.value.isin([x.lower() for x in accounts])).select("platform", "post_id")
        )
    if keywords:
        text = w.text.lower()
        cond = ibis.or_(*(text.contains(k.lower()) for k in keywords))
        hits.append(w.filter(cond).select("platform", "post_id"))
    if not hits:
        return w.filter(ibis.literal(False))
    ids = ibis.union(*hits, distinct=True)
    matched = w.semi_join(ids, ["platform", "post_id"])
    oa = org_accounts.filter(org_accounts.org_id == org_id)
    own = oa.select("platform", author_id=oa.account_id)
    matched = matched.anti_join(own, ["platform", "author_id"])
    if accounts:
        lowered = [a.lower() for a in accounts]
        matched = matched.filter(~matched.author_id.lower().isin(lowered))
    return matched


def observed_interactions(posts: ibis.Table, matched: ibis.Table) -> ibis.Table:
    """Posts in the data that reply to, quote or repost a matched post: (platform, target)."""
    ids = matched.select("platform", target=matched.post_id)
    parts = [
        posts.select("platform", "post_id", target=posts[col]).semi_join(
            ids, ["platform", "target"]
        )
        for col in ("parent_id", "quote_of", "repost_of")
    ]
    return ibis.union(*parts, distinct=True)


CAMPAIGNS = MetricFamily(
    name="campaigns",
    title="Campaigns",
    description=(
        "Mentions, unique authors, potential reach, engagement, sentiment mix, share of voice, "
        "a daily series and uplift against the window before, with cost per result."
    ),
    requires=("posts", "campaigns", "campaign_costs", "org_accounts", "accounts"),
)


@register(CAMPAIGNS)
def buzz(matched: ibis.Table, accounts: ibis.Table, /) -> ibis.Table:
    """One row: mentions, unique authors, reported engagement and potential reach."""
    counters = [matched[c] for c in ("like_count", "repost_count", "reply_count", "quote_count")]
    reported = ibis.coalesce(*counters).notnull()
    total = sum((c.fill_null(0) for c in counters), start=ibis.literal(0, type="int64"))
    authors = matched.select("platform", account_id=matched.author_id).distinct()
    followers = authors.left_join(accounts, ["platform", "account_id"]).select(
        f=accounts.followers_count
    )
    reach = followers.aggregate(
        potential_reach=followers.f.sum(), authors_with_followers=followers.f.count()
    )
    agg = matched.aggregate(
        mentions=matched.count(),
        unique_authors=matched.author_id.nunique(),
        engagement_reported=total.sum(),
        posts_with_counters=reported.cast("int64").sum(),
    )
    return agg.cross_join(reach)


def daily(matched: ibis.Table, /) -> ibis.Table:
    """Mentions and unique authors per UTC day."""
    d = matched.mutate(day=matched.created_at.date())
    return (
        d.group_by("day")
        .agg(mentions=d.count(), unique_authors=d.author_id.nunique())
        .order_by("day")
    )


def sentiment_mix(matched: ibis.Table, enrichments: ibis.Table, /) -> ibis.Table:
    """Enriched posts and how many read positive, neutral and negative."""
    e = enrichments.filter(enrichments.sentiment.notnull()).select(
        "platform", "post_id", "sentiment"
    )
    j = matched.select("platform", "post_id").join(e, ["platform", "post_id"])
    return j.aggregate(
        enriched=j.count(),
        positive=(j.sentiment >= POSITIVE).cast("int64").sum(),
        negative=(j.sentiment <= NEGATIVE).cast("int64").sum(),
    )


def org_mentions(
    posts: ibis.Table, org_accounts: ibis.Table, *, start: datetime, end: datetime
) -> ibis.Table:
    """Posts mentioning each org in [start, end), by anyone but the org: (org_id, mentions)."""
    w = posts.filter((posts.created_at >= start) & (posts.created_at < end))
    m = _unnested_lower(w, "mentions")
    oa = rs.org_accounts_lower(org_accounts)
    j = m.join(oa.select("org_id", "platform", value=oa.handle_l), ["platform", "value"])
    j = j.select("org_id", "platform", "post_id").distinct()
    authors = w.select("platform", "post_id", "author_id")
    own = org_accounts.select("org_id", "platform", author_id=org_accounts.account_id)
    j = j.join(authors, ["platform", "post_id"]).anti_join(own, ["org_id", "platform", "author_id"])
    return j.group_by("org_id").agg(mentions=j.count())


def _window(engine: Engine, c: dict[str, Any], start: datetime, end: datetime) -> dict[str, Any]:
    posts = engine.table("posts")
    oa = engine.table("org_accounts")
    matched = engine.cache(
        campaign_posts(
            posts,
            oa,
            org_id=c["org_id"],
            start=start,
            end=end,
            hashtags=c["hashtags"],
            keywords=c["keywords"],
            accounts=c["accounts"],
        )
    )
    b = engine.execute(buzz(matched, engine.table("accounts"))).iloc[0].to_dict()
    observed = int(engine.execute(observed_interactions(posts, matched).count()))
    mentions = int(b["mentions"])
    with_counters = int(b["posts_with_counters"] or 0)
    engagement = int(b["engagement_reported"]) if with_counters else observed
    reach_known = int(b["authors_with_followers"] or 0)
    out: dict[str, Any] = {
        "start": start,
        "end": end,
        "mentions": mentions,
        "unique_authors": int(b["unique_authors"]),
        "potential_reach": int(b["potential_reach"]) if reach_known else None,
        "authors_with_follower_counts": reach_known,
        "engagement": engagement,
        "engagement_basis": "reported" if with_counters else "observed",
        "observed_interactions": observed,
    }
    mix = engine.execute(sentiment_mix(matched, engine.table("enrichments"))).iloc[0]
    n = int(mix["enriched"])
    out["sentiment"] = (
        None
        if n == 0
        else {
            "enriched": n,
            "coverage": n / mentions if mentions else None,
            "positive": int(mix["positive"]) / n,
            "negative": int(mix["negative"]) / n,
            "neutral": (n - int(mix["positive"]) - int(mix["negative"])) / n,
        }
    )
    out["daily"] = engine.execute(daily(matched))
    out["share_of_voice"] = _share_of_voice(engine, c, start, end)
    return out


def _share_of_voice(engine: Engine, c: dict[str, Any], start: datetime, end: datetime) -> Any:
    """The org's mentions among its peer group's (the same group the benchmark uses)."""
    org_id, groups = c["org_id"], c["peer_groups"]
    group, source = groups.get(org_id, (NO_GROUP, NO_SOURCE))
    if source == NO_SOURCE:
        return None
    peers = sorted(o for o, (g, _) in groups.items() if g == group)
    oa = engine.table("org_accounts")
    counts = engine.execute(
        org_mentions(engine.table("posts"), oa.filter(oa.org_id.isin(peers)), start=start, end=end)
    )
    by = dict(zip(counts["org_id"], counts["mentions"], strict=True))
    total = sum(int(v) for v in by.values())
    return {
        "peer_group": group,
        "peer_group_source": source,
        "peers": peers,
        "org_mentions": int(by.get(org_id, 0)),
        "peer_mentions": total,
        "share": int(by.get(org_id, 0)) / total if total else None,
    }


def _cost_totals(frame: pd.DataFrame, engagement: int | None) -> dict[str, Any]:
    """Totals and cost per result; each ratio uses only the rows that report its denominator.

    A day whose clicks are unknown must not inflate CPC with its spend: unknown is not zero.
    """

    def total(col: str, rows: pd.DataFrame) -> Any:
        s = rows[col]
        if s.isna().all():
            return None
        return float(s.sum()) if col == "spend" else int(s.sum())

    def per(col: str, scale: float = 1.0) -> float | None:
        rows = frame[frame[col].notna()]
        den = total(col, rows) if len(rows) else None
        num = total("spend", rows) if len(rows) else None
        return None if num is None or not den else scale * num / den

    spend = total("spend", frame)
    return {
        "spend": spend,
        "impressions": total("impressions", frame),
        "clicks": total("clicks", frame),
        "conversions": total("conversions", frame),
        "cpm": per("impressions", 1000.0),
        "cpc": per("clicks"),
        "cost_per_engagement": None if spend is None or not engagement else spend / engagement,
        "cost_per_conversion": per("conversions"),
    }


def _costs(engine: Engine, campaign_id: str, engagement: int) -> dict[str, Any] | None:
    c = engine.table("campaign_costs")
    frame = engine.execute(c.filter(c.campaign_id == campaign_id).order_by(["day", "channel"]))
    if frame.empty:
        return None
    frame = _by_day(frame)
    out = _cost_totals(frame, engagement)
    out["by_channel"] = [
        {"channel": ch, **_cost_totals(rows, None)}
        for ch, rows in frame.groupby("channel", sort=True)
    ]
    out["by_day"] = [
        {"day": day, **{k: v for k, v in _cost_totals(rows, None).items() if k in _DAY_KEYS}}
        for day, rows in frame.groupby("day", sort=True)
    ]
    return out


_DAY_KEYS = ("spend", "impressions", "clicks", "conversions")


def _by_day(frame: pd.DataFrame) -> pd.DataFrame:
    """The same day type on both sides of a merge (engines return dates differently)."""
    return frame.assign(day=pd.to_datetime(frame["day"]).dt.date)


def campaign_report(
    engine: Engine, campaign: str, /, *, sectors: dict[str, str] | None = None
) -> dict[str, Any]:
    """Everything ``socialaudit campaign NAME`` shows, as plain data.

    Figures the data cannot support are ``None`` and explained in ``missing``, never 0.
    ``sectors``: the sector list for orgs without a declared peer group (default: as
    :func:`~socialaudit.metrics.peer_groups.load_sectors` finds it, like the benchmark).
    """
    c = require_campaign(engine, campaign)
    c = {**c, "peer_groups": org_peer_groups(engine, sectors=sectors)}
    group, source = c["peer_groups"].get(c["org_id"], (NO_GROUP, NO_SOURCE))
    start = pd.Timestamp(c["start"]).to_pydatetime()
    end = pd.Timestamp(c["end"]).to_pydatetime()
    span = end - start
    during = _window(engine, c, start, end)
    before = _window(engine, c, start - span, start)
    days = pd.DataFrame(
        {"day": pd.date_range(start.date(), (end - timedelta(microseconds=1)).date()).date}
    )
    series = days.merge(_by_day(during.pop("daily")), on="day", how="left")
    for col in ("mentions", "unique_authors"):
        series[col] = series[col].fillna(0).astype("int64")
    before.pop("daily")
    costs = _costs(engine, c["campaign_id"], during["engagement"])
    if costs is not None:
        series = series.merge(_by_day(pd.DataFrame(costs["by_day"])), on="day", how="left")
    n_b, n_d = before["mentions"], during["mentions"]
    missing: list[str] = []
    if during["potential_reach"] is None:
        missing.append("potential_reach: no follower counts for the authors (TWCS has none)")
    if during["sentiment"] is None:
        missing.append("sentiment: the campaign's posts are not enriched with sentiment")
    if during["share_of_voice"] is None:
        missing.append(
            f"share_of_voice: org {c['org_id']} has no peer group (declare peer_group in "
            "orgs.toml, or use a sectors file that names it)"
        )
    if costs is None:
        missing.append(
            "costs: none loaded (socialaudit campaign costs NAME costs.csv), so no CPM, CPC, "
            "cost per engagement or per conversion"
        )
    if during["engagement_basis"] == "observed":
        missing.append(
            "engagement: the source reports no like/repost/reply/quote counts; engagement is "
            "the replies, quotes and reposts found in the data"
        )
    return {
        "campaign": c["campaign_id"],
        "name": c["name"],
        "org": c["org_id"],
        "peer_group": group,
        "peer_group_source": source,
        "hashtags": c["hashtags"],
        "keywords": c["keywords"],
        "accounts": c["accounts"],
        "window": during,
        "before": before,
        "uplift": {
            "mentions": n_d - n_b,
            "ratio": None if n_b == 0 else n_d / n_b - 1,
            "unique_authors": during["unique_authors"] - before["unique_authors"],
        },
        "costs": costs,
        "daily": series.to_dict("records"),
        "formulas": FORMULAS,
        "missing": missing,
    }


def campaign_section(engine: Engine, /, *, sectors: dict[str, str] | None = None) -> dict[str, Any]:
    """The report's campaign section: every stored campaign's report, and the formulas."""
    c = engine.table("campaigns")
    ids = engine.execute(c.select("campaign_id").order_by("campaign_id"))["campaign_id"]
    return {
        "campaigns": [campaign_report(engine, cid, sectors=sectors) for cid in ids],
        "formulas": FORMULAS,
    }
