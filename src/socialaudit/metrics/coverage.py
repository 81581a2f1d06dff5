"""Inbound coverage per organization and platform (SPEC section 5).

A rate is only as true as its denominator: turns nobody answered are in the store only if
what customers addressed to the org was fetched. Each collection run and file import
records how (``coverage`` table); this reads it per org:

- an account's method is the most complete any run gave it (``complete``, then ``export``,
  ``search``, ``threads_only``), over the window of the runs that gave that method;
- a platform's method is the least complete of the org's accounts there: one account
  known only through its threads makes the platform's rate overstated.

File imports cover whichever accounts they hold (``account_id = '*'``): they count for an
org's account when the import stored posts by that account.
"""

from __future__ import annotations

import ibis

from socialaudit.metrics.base import MetricFamily, register

#: From most to least complete; the order decides which method an account or platform gets.
METHOD_ORDER = ("complete", "export", "search", "threads_only")

COVERAGE = MetricFamily(
    name="coverage",
    title="Inbound coverage",
    description=(
        "How completely the store holds what customers addressed to each organization, per "
        "platform: complete, search, export or threads_only, with the window covered."
    ),
    requires=("coverage", "org_accounts", "posts"),
    params={},
)


def _rank(method: ibis.Value) -> ibis.Value:
    cases = ibis.cases(
        *((method == m, i) for i, m in enumerate(METHOD_ORDER)), else_=len(METHOD_ORDER)
    )
    return cases.cast("int64")


@register(COVERAGE)
def org_coverage(
    coverage: ibis.Table, org_accounts: ibis.Table, posts: ibis.Table, /
) -> ibis.Table:
    """One row per (org, platform): ``inbound`` method, ``covered_from``/``covered_to``, seen.

    Examples
    --------
    >>> import ibis, datetime as d
    >>> t = d.datetime(2024, 1, 1)
    >>> cov = ibis.memtable({"platform": ["bluesky"], "account_id": ["did:a"],
    ...     "run_id": ["r"], "inbound": ["search"], "org_id": [None], "target": ["a"],
    ...     "source": ["collect"], "import_id": [None], "covered_from": [t],
    ...     "covered_to": [t], "inbound_seen": [3], "recorded_at": [t]},
    ...     schema={"platform": "string", "account_id": "string", "run_id": "string",
    ...     "inbound": "string", "org_id": "string", "target": "string", "source": "string",
    ...     "import_id": "int64", "covered_from": "timestamp", "covered_to": "timestamp",
    ...     "inbound_seen": "int64", "recorded_at": "timestamp"})
    >>> oa = ibis.memtable({"org_id": ["acme"], "platform": ["bluesky"],
    ...     "account_id": ["did:a"], "handle": ["a"]})
    >>> posts = ibis.memtable({"platform": ["bluesky"], "author_id": ["did:a"],
    ...     "import_id": [1]})
    >>> out = org_coverage(cov, oa, posts).execute()
    >>> out[["org_id", "inbound", "inbound_seen"]].values.tolist()
    [['acme', 'search', 3]]
    """
    c = coverage.mutate(rank=_rank(coverage.inbound))
    cols = [
        "org_id",
        "platform",
        "account_id",
        "rank",
        "covered_from",
        "covered_to",
        "inbound_seen",
    ]
    # Keys are NOT NULL in one table and nullable in another: one schema for the union.
    same = ibis.schema(
        {
            "org_id": "string",
            "platform": "string",
            "account_id": "string",
            "rank": "int64",
            "covered_from": "timestamp",
            "covered_to": "timestamp",
            "inbound_seen": "int64",
        }
    )

    def norm(t: ibis.Table) -> ibis.Table:
        return t.select(*cols).cast(same)

    direct = norm(c.filter(c.org_id.notnull()))
    oa = org_accounts.select("org_id", "platform", "account_id")
    accounts = c.filter(c.account_id != "*").drop("org_id").join(oa, ["platform", "account_id"])
    by_account = norm(accounts)
    held = (
        posts.select("platform", "import_id", account_id=posts.author_id)
        .join(oa, ["platform", "account_id"])
        .select("org_id", "platform", "account_id", "import_id")
        .distinct()
    )
    exports = c.filter(c.account_id == "*").drop("org_id", "account_id")
    by_import = norm(exports.join(held, ["platform", "import_id"]))
    rows = ibis.union(direct, by_account, by_import, distinct=True)
    best = rows.group_by(["org_id", "platform", "account_id"]).agg(best=rows["rank"].min())
    kept = rows.join(best, ["org_id", "platform", "account_id"])
    kept = kept.filter(kept["rank"] == kept.best)
    per_account = kept.group_by(["org_id", "platform", "account_id"]).agg(
        rank=kept["rank"].min(),
        covered_from=kept.covered_from.min(),
        covered_to=kept.covered_to.max(),
        inbound_seen=kept.inbound_seen.sum(),
    )
    per_platform = per_account.group_by(["org_id", "platform"]).agg(
        rank=per_account["rank"].max(),
        covered_from=per_account.covered_from.min(),
        covered_to=per_account.covered_to.max(),
        inbound_seen=per_account.inbound_seen.sum(),
    )
    method = ibis.cases(
        *((per_platform["rank"] == i, m) for i, m in enumerate(METHOD_ORDER)), else_="unknown"
    )
    return per_platform.select(
        "org_id",
        "platform",
        inbound=method,
        covered_from=per_platform.covered_from,
        covered_to=per_platform.covered_to,
        inbound_seen=per_platform.inbound_seen.cast("int64"),
    ).order_by(["org_id", "platform"])
