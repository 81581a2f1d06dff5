"""Which organizations a question is about: case-insensitive names, and the orgs a store lacks.

A store with posts but no organization audits to nothing; rather than print an empty table,
the commands stop and name the accounts the data is most obviously about (the ones most
mentioned and replied to), with the command that declares them.
"""

from __future__ import annotations

import ibis

from socialaudit.errors import MetricError
from socialaudit.metrics.base import Engine
from socialaudit.store.orgs import did_you_mean, match_org

#: How many candidate accounts the "no organizations" hint names.
SUGGESTED = 5


#: What an org's data lets the audit measure (``data_scope`` in the audit document).
DATA_SCOPE_NOTES = {
    "own posts only": "no customer posts in this data (coverage: own posts only)",
    "no posts": "no posts in this data (coverage: none)",
}


def data_scope(turns: int, own_posts: int) -> str:
    """``customer posts`` when anyone addressed the org, else what the data holds of it.

    An X archive holds only its owner's posts: its org has no turns, and a row of zeros
    would read as "never answers" rather than "nobody asked in this data".
    """
    if turns > 0:
        return "customer posts"
    return "own posts only" if own_posts > 0 else "no posts"


def own_post_counts(posts: ibis.Table, org_accounts: ibis.Table, /) -> ibis.Table:
    """``org_id, posts``: how many posts each org's accounts wrote."""
    oa = org_accounts
    j = posts.join(oa, [posts.platform == oa.platform, posts.author_id == oa.account_id])
    return j.group_by("org_id").agg(posts=j.count())


def resolve_org(engine: Engine, org: str | None, /) -> str | None:
    """The stored id of the org ``org`` names (any case); :class:`MetricError` if none does."""
    if org is None:
        return None
    orgs = engine.table("orgs")
    known = [str(o) for o in engine.execute(orgs.select("org_id"))["org_id"]]
    found = match_org(org, known)
    if found is not None:
        return found
    if not known:
        require_orgs(engine)
    raise MetricError(
        f"No organization {org!r} in the store{did_you_mean(org, known)}. "
        "Run `socialaudit orgs` to list them."
    )


def most_addressed(posts: ibis.Table, accounts: ibis.Table, /) -> ibis.Table:
    """``platform, handle, mentions, replies, addressed``: who the posts speak to, most first.

    ``mentions``: posts naming the handle; ``replies``: replies by someone else to the
    account's posts. Handles compare case-insensitively.
    """
    m = posts.select("platform", "author_id", mention=posts.mentions.unnest())
    mentions = m.group_by(["platform", m.mention.lower().name("key")]).agg(
        mentions=m.count(), shown=m.mention.arbitrary()
    )
    child = posts.select("platform", c_author=posts.author_id, parent_id=posts.parent_id)
    parent = posts.select("platform", parent_id=posts.post_id, p_author=posts.author_id)
    r = child.join(parent, ["platform", "parent_id"])
    r = r.filter(r.c_author != r.p_author)
    acc = accounts.select("platform", p_author=accounts.account_id, handle=accounts.handle)
    r = r.left_join(acc, ["platform", "p_author"])
    r = r.mutate(shown=ibis.coalesce(r.handle, r.p_author))
    replies = r.group_by(["platform", r.shown.lower().name("key")]).agg(
        replies=r.count(), r_shown=r.shown.arbitrary()
    )
    j = mentions.outer_join(replies, ["platform", "key"])
    j = j.select(
        platform=ibis.coalesce(j.platform, j.platform_right),
        handle=ibis.coalesce(j.r_shown, j.shown),
        mentions=j.mentions.fill_null(0),
        replies=j.replies.fill_null(0),
    )
    j = j.mutate(addressed=j.mentions + j.replies)
    return j.order_by([ibis.desc("addressed"), "handle", "platform"])


def require_orgs(engine: Engine, /) -> None:
    """Stop with a hint when the store has no organizations to report on.

    An empty store says to import; a store with posts names its most-addressed accounts and
    the exact command that declares them.
    """
    hint = missing_orgs_hint(engine)
    if hint is not None:
        raise MetricError(hint)


def missing_orgs_hint(engine: Engine, /) -> str | None:
    """What to do when the store has no organizations (None: it has some).

    ``orgs`` prints it under its empty list; the audits stop with it (:func:`require_orgs`).
    """
    orgs = engine.table("orgs")
    if int(engine.execute(orgs.count())) > 0:
        return None
    posts = engine.table("posts")
    if int(engine.execute(posts.count())) == 0:
        return "The store has no posts yet. Import an export first: socialaudit import FILE."
    top = engine.execute(most_addressed(posts, engine.table("accounts")).limit(SUGGESTED)).to_dict(
        "records"
    )
    if not top:
        return (
            "The store has posts but no organizations, and nobody is mentioned or replied to. "
            "Declare one: socialaudit orgs --add HANDLE (or --load orgs.toml)."
        )
    named = ", ".join(f"{r['handle']} ({int(r['addressed']):,})" for r in top)
    adds = " ".join(f"--add {_shell_word(str(r['handle']))}" for r in top[:3])
    return (
        "The store has posts but no organizations, so there is nothing to audit. "
        f"The most-addressed accounts (mentions and replies received) are: {named}. "
        f"Declare the ones you audit: socialaudit orgs {adds}"
    )


def _shell_word(text: str) -> str:
    """A handle as one shell word (quoted only when it needs to be)."""
    if text and all(c.isalnum() or c in "_.-@" for c in text):
        return text
    return "'" + text.replace("'", "'\\''") + "'"
