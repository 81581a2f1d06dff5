"""The per-conversation rows behind every rate: turns with both ends' permalinks.

An expression only; :mod:`socialaudit.run` executes it (the ``turns`` export, the report).
"""

from __future__ import annotations

import ibis


def turn_rows(t: ibis.Table, posts: ibis.Table, /) -> ibis.Table:
    """Turns with their opener's and first response's permalinks and the opener's text."""
    opener = posts.select(
        "platform", turn_id=posts.post_id, opener_permalink=posts.permalink, opener_text=posts.text
    )
    reply = posts.select(
        "platform", first_response_id=posts.post_id, first_response_permalink=posts.permalink
    )
    j = t.left_join(opener, ["platform", "turn_id"]).left_join(
        reply, ["platform", "first_response_id"]
    )
    j = j.select(
        "org_id",
        "platform",
        opener_id=j.turn_id,
        opener_author=j.opener_author,
        opener_created_at=j.opener_created_at,
        opener_permalink=j.opener_permalink,
        followups=j.followups,
        answered=j.answered,
        first_response_id=j.first_response_id,
        first_response_at=j.first_response_at,
        first_response_permalink=j.first_response_permalink,
        frt_s=j.frt_s,
        age_s=j.age_s,
        opener_text=j.opener_text,
    )
    return j
