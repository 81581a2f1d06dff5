"""Inbound collection and coverage: simulated worlds where the org answered only some mentions.

With credentials, the audit after collecting equals the world's truth exactly; without, the
org's own threads show only the answered turns, so the rate is overstated: the audit says
``threads_only``, carries the warning, and (issue 15) the tier is withheld.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import socialaudit as sa
from socialaudit.collect import RetryPolicy, collect
from socialaudit.errors import CredentialError
from tests import worlds
from tests.replay import NOW, Replay

OPTS: dict[str, Any] = {
    "sleep": lambda s: None,
    "clock": lambda: NOW,
    "jitter": lambda: 0.5,
    "policy": RetryPolicy(max_retries=1, base_delay=0.01),
}


@pytest.fixture
def replay() -> Iterator[Replay]:
    r = Replay()
    yield r
    r.stop()


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in (
        "SOCIALAUDIT_BLUESKY_HANDLE",
        "SOCIALAUDIT_BLUESKY_APP_PASSWORD",
        "SOCIALAUDIT_MASTODON_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOCIALAUDIT_REDDIT_CLIENT_ID", "app-id")
    monkeypatch.setenv("SOCIALAUDIT_REDDIT_CLIENT_SECRET", "app-secret")
    monkeypatch.setenv("SOCIALAUDIT_X_BEARER_TOKEN", "bearer")
    monkeypatch.setenv("SOCIALAUDIT_CONFIG", str(tmp_path / "none.toml"))


def bluesky_login(monkeypatch: pytest.MonkeyPatch, handle: str) -> None:
    monkeypatch.setenv("SOCIALAUDIT_BLUESKY_HANDLE", handle)
    monkeypatch.setenv("SOCIALAUDIT_BLUESKY_APP_PASSWORD", "app-pass-1234")


def org_audit(store: sa.Store, org: str) -> dict[str, Any]:
    doc = sa.audit(store)
    return next(o for o in doc["orgs"] if o["org"] == org)


def run(world: worlds.World, store: sa.Store, url: str, **kw: Any) -> Any:
    return collect(
        world.platform, world.target, store=store, base_url=url, client_options=OPTS, **kw
    )


def tier(store: sa.Store, org: str) -> Any:
    """The org's tier, with the turn minimum lowered to the worlds' size (12 turns)."""
    from dataclasses import replace

    from socialaudit.benchmark.tiers import load_thresholds
    from socialaudit.run import run as run_benchmark

    # The shipped rule table (v2), only its turn minimum lowered.
    th = replace(load_thresholds(), min_actionable_turns=5)
    bm = run_benchmark(store, thresholds=th, with_turns=False)
    return bm.tier_of(org)


def check_truth(store: sa.Store, world: worlds.World, method: str) -> None:
    entry = org_audit(store, world.org_id)
    figures = entry["responsiveness"]["all"]
    assert (figures["turns"], figures["answered"]) == (world.turns, world.answered)
    cov = entry["coverage"][world.store_platform]
    assert cov["inbound"] == method
    assert cov["from"] and cov["to"]
    assert entry["coverage_warning"] is None
    t = tier(store, world.org_id)
    assert (t.tier, t.label) == (3, "engaged")  # 8 of 12 answered: a tier, not withheld


def check_overstated(store: sa.Store, world: worlds.World) -> None:
    entry = org_audit(store, world.org_id)
    figures = entry["responsiveness"]["all"]
    # Only the answered mentions are in the org's threads: every turn seen was answered.
    assert (figures["turns"], figures["answered"]) == (world.answered, world.answered)
    assert figures["response_rate"] == 1.0 > world.answered / world.turns
    assert entry["coverage"][world.store_platform]["inbound"] == "threads_only"
    assert "overstated: unanswered mentions not collected" in entry["coverage_warning"]
    # 100% answered would look like a leader; threads_only everywhere withholds any tier > 1.
    t = tier(store, world.org_id)
    assert (t.tier, t.label) == (None, "insufficient coverage")
    assert t.evidence[-1].rule == "inbound coverage" and "threads_only" in t.evidence[-1].value


# -- Bluesky ------------------------------------------------------------------------------------


def test_bluesky_logged_in_as_the_org_is_complete(replay, store, monkeypatch) -> None:
    world = worlds.bluesky_world(replay, login_as=worlds.BSKY_ORG)
    url = replay.start()
    bluesky_login(monkeypatch, "acmehelp.bsky.social")
    r = run(world, store, url)
    assert r.inbound == "complete" and r.inbound_seen == worlds.N_MENTIONS
    check_truth(store, world, "complete")
    login = replay.log[0]
    assert login[1] == "/xrpc/com.atproto.server.createSession"  # --api-url gets the login too
    assert all(h.get("Authorization") == "Bearer access-1" for *_, h in replay.log[1:])
    assert not replay.requests_to("/xrpc/app.bsky.feed.searchPosts")


def test_bluesky_logged_in_as_another_account_searches(replay, store, monkeypatch) -> None:
    world = worlds.bluesky_world(replay, login_as=worlds.BSKY_OTHER)
    url = replay.start()
    bluesky_login(monkeypatch, "auditor.bsky.social")
    r = run(world, store, url)
    assert r.inbound == "search"
    check_truth(store, world, "search")
    (query,) = replay.requests_to("/xrpc/app.bsky.feed.searchPosts")
    assert query["q"] == "*" and query["mentions"] == "acmehelp.bsky.social"
    assert query["sort"] == "latest" and query["until"] == "2023-11-14T22:13:20Z"
    assert "since" not in query  # a first run has no lower bound
    # A second run searches only after the first one's window.
    run(world, store, url)
    later = replay.requests_to("/xrpc/app.bsky.feed.searchPosts")[-1]
    assert later["since"] == "2023-11-14T22:13:20Z"
    assert org_audit(store, world.org_id)["responsiveness"]["all"]["turns"] == world.turns


def test_bluesky_without_credentials_is_threads_only(replay, store) -> None:
    world = worlds.bluesky_world(replay, login_as=None)
    url = replay.start()
    r = run(world, store, url)
    assert r.inbound == "threads_only"
    check_overstated(store, world)
    assert not replay.requests_to("/xrpc/com.atproto.server.createSession")


def test_bluesky_expired_session_is_renewed(replay, store, monkeypatch) -> None:
    world = worlds.bluesky_world(replay, login_as=worlds.BSKY_ORG, expire_once=True)
    url = replay.start()
    bluesky_login(monkeypatch, "acmehelp.bsky.social")
    run(world, store, url)
    check_truth(store, world, "complete")
    (renew,) = [(q, h) for _, p, q, h in replay.log if p.endswith("refreshSession")]
    assert renew[1]["Authorization"] == "Bearer refresh-1"
    after = [h for _, p, _, h in replay.log if p.endswith("listNotifications")][-1]
    assert after["Authorization"] == "Bearer access-2"


def test_bluesky_wrong_app_password_names_the_variable(
    replay, runner, app, tmp_path, monkeypatch
) -> None:
    replay.add(
        "/xrpc/com.atproto.server.createSession",
        {
            "status": 401,
            "body": {
                "error": "AuthenticationRequired",
                "message": "Invalid identifier or password",
            },
        },
        method="POST",
    )
    url = replay.start()
    bluesky_login(monkeypatch, "acmehelp.bsky.social")
    res = runner.invoke(
        app,
        [
            "--db",
            str(tmp_path / "b.duckdb"),
            "collect",
            "bluesky",
            "acmehelp.bsky.social",
            "--api-url",
            url,
        ],
    )
    assert res.exit_code == 2
    assert "SOCIALAUDIT_BLUESKY_APP_PASSWORD" in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert "app-pass-1234" not in res.output


def test_bluesky_revoked_mid_run_keeps_the_cursor(replay, store, monkeypatch) -> None:
    world = worlds.bluesky_world(replay, login_as=worlds.BSKY_ORG)
    revoked = {"status": 401, "body": {"error": "AuthenticationRequired"}}
    replay.add("/xrpc/app.bsky.notification.listNotifications", revoked, query={"cursor": "n2"})
    replay.add("/xrpc/com.atproto.server.refreshSession", revoked, method="POST")
    replay.add(
        "/xrpc/com.atproto.server.createSession",
        worlds.ok(
            {
                "did": "did:plc:acme",
                "handle": "acmehelp.bsky.social",
                "accessJwt": "access-1",
                "refreshJwt": "refresh-1",
            }
        ),
        revoked,
        method="POST",
    )
    url = replay.start()
    bluesky_login(monkeypatch, "acmehelp.bsky.social")
    before = store.count("posts")
    with pytest.raises(CredentialError, match="SOCIALAUDIT_BLUESKY_APP_PASSWORD"):
        run(world, store, url)
    # The first notifications page is stored with its cursor; the refused one wrote nothing
    # and no coverage row claims the run.
    state = store.frame("SELECT state FROM collector_cursors").state[0]
    assert '"cursor": "n2"' in state and '"phase": "inbound"' in state
    assert store.count("posts") > before
    assert store.count("coverage") == 0
    # Access restored: the run resumes at page 2 and ends with the truth.
    replay.routes.clear()
    replay.log.clear()
    worlds.bluesky_world(replay, login_as=worlds.BSKY_ORG)
    r = run(world, store, url)
    assert r.resumed
    firsts = replay.requests_to("/xrpc/app.bsky.notification.listNotifications")
    assert firsts[0].get("cursor") == "n2"
    assert not replay.requests_to("/xrpc/app.bsky.feed.getAuthorFeed")
    check_truth(store, world, "complete")


# -- Mastodon -----------------------------------------------------------------------------------


def test_mastodon_own_token_reads_mention_notifications(replay, store, monkeypatch) -> None:
    world = worlds.mastodon_world(replay, token_owner="AcmeHelp")
    url = replay.start()
    monkeypatch.setenv("SOCIALAUDIT_MASTODON_TOKEN", "tok-own")
    r = run(world, store, url)
    assert r.inbound == "complete"
    check_truth(store, world, "complete")
    (q,) = replay.requests_to("/api/v1/notifications")
    assert q["types[]"] == "mention"
    # The direct message in the notifications is never stored.
    assert store.frame("SELECT count(*) AS n FROM posts WHERE post_id = '299'").n[0] == 0


def test_mastodon_other_token_searches(replay, store, monkeypatch) -> None:
    world = worlds.mastodon_world(replay, token_owner="someone")
    url = replay.start()
    monkeypatch.setenv("SOCIALAUDIT_MASTODON_TOKEN", "tok-other")
    run(world, store, url)
    check_truth(store, world, "search")
    (q,) = replay.requests_to("/api/v2/search")
    assert q["q"] == "@AcmeHelp@mastodon.social" and q["type"] == "statuses"
    assert store.frame("SELECT count(*) AS n FROM posts WHERE post_id = '299'").n[0] == 0


def test_mastodon_without_token_is_threads_only(replay, store) -> None:
    world = worlds.mastodon_world(replay, token_owner=None)
    url = replay.start()
    run(world, store, url)
    check_overstated(store, world)


def test_mastodon_refused_token_names_the_variable(
    replay, runner, app, tmp_path, monkeypatch
) -> None:
    replay.add(
        "/api/v1/accounts/verify_credentials",
        {"status": 401, "body": {"error": "The access token is invalid"}},
    )
    url = replay.start()
    monkeypatch.setenv("SOCIALAUDIT_MASTODON_TOKEN", "tok-bad")
    res = runner.invoke(
        app,
        [
            "--db",
            str(tmp_path / "m.duckdb"),
            "collect",
            "mastodon",
            "AcmeHelp@mastodon.social",
            "--api-url",
            url,
        ],
    )
    assert res.exit_code == 2 and "SOCIALAUDIT_MASTODON_TOKEN" in res.output
    assert "tok-bad" not in res.output


# -- X and Reddit -------------------------------------------------------------------------------


def test_x_mentions_timeline_and_recent_search(replay, store) -> None:
    world = worlds.x_world(replay)
    url = replay.start()
    r = run(world, store, url)
    assert r.inbound == "complete"
    check_truth(store, world, "complete")
    (search,) = [
        q for q in replay.requests_to("/2/tweets/search/recent") if q["query"].startswith("@")
    ]
    assert search["query"] == "@AcmeHelp -from:AcmeHelp"
    methods = store.frame("SELECT inbound FROM coverage ORDER BY inbound").inbound.tolist()
    assert methods == ["complete", "search"]


def test_x_next_run_asks_only_for_mentions_newer_than_this_one(replay, store) -> None:
    # The search step after the mentions timeline kept the run's state without the newest
    # mention seen, so every later run fetched the whole mentions timeline again.
    world = worlds.x_world(replay)
    url = replay.start()
    run(world, store, url)
    before = len(replay.requests_to("/2/users/100/mentions"))
    run(world, store, url)
    again = replay.requests_to("/2/users/100/mentions")[before]
    newest = f"5{worlds.N_MENTIONS - 1:03d}"
    assert again.get("since_id") == newest
    (search,) = [
        q for q in replay.requests_to("/2/tweets/search/recent")[1:] if q["query"].startswith("@")
    ][1:]
    assert search.get("since_id") == newest


def test_x_without_inbound_is_threads_only(replay, store) -> None:
    world = worlds.x_world(replay)
    url = replay.start()
    run(world, store, url, inbound=False)
    check_overstated(store, world)
    assert not replay.requests_to("/2/users/100/mentions")


def test_reddit_user_search(replay, store) -> None:
    world = worlds.reddit_world(replay)
    url = replay.start()
    r = run(world, store, url)
    assert r.inbound == "search"
    check_truth(store, world, "search")
    assert [q["q"] for q in replay.requests_to("/search")] == ['"u/AcmeHelp"', "AcmeHelp"]


def test_reddit_without_inbound_is_threads_only(replay, store) -> None:
    world = worlds.reddit_world(replay)
    url = replay.start()
    run(world, store, url, inbound=False)
    check_overstated(store, world)


# -- Imports and orgs ---------------------------------------------------------------------------


def test_file_import_records_export_coverage(store, tmp_path) -> None:
    csv = tmp_path / "twcs.csv"
    csv.write_text(
        "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
        "1,cust1,True,Tue Oct 31 22:10:47 +0000 2017,@AcmeHelp hi,2,\n"
        "2,AcmeHelp,False,Tue Oct 31 22:20:47 +0000 2017,@cust1 hello,,1\n"
        "3,cust2,True,Tue Oct 31 23:10:47 +0000 2017,@AcmeHelp anyone?,,\n",
        encoding="utf-8",
    )
    sa.import_file(csv, store=store)
    entry = org_audit(store, "AcmeHelp")
    assert entry["coverage"] == {
        "twitter": {
            "inbound": "export",
            "from": "2017-10-31T22:10:47+00:00",
            "to": "2017-10-31T23:10:47+00:00",
        }
    }
    assert entry["coverage_warning"] is None
    seen = store.frame("SELECT inbound_seen FROM coverage").inbound_seen.tolist()
    assert seen == [2]


def test_collecting_an_undeclared_target_makes_an_org_unless_told_not_to(replay, store) -> None:
    world = worlds.mastodon_world(replay, token_owner=None)
    url = replay.start()
    r = run(world, store, url, make_org=False)
    assert r.org_id is None and store.count("orgs") == 0
    r = run(world, store, url)
    assert r.org_id == "AcmeHelp"
    assert store.frame("SELECT * FROM org_accounts").to_dict("records") == [
        {"org_id": "AcmeHelp", "platform": "mastodon", "account_id": "9001", "handle": "AcmeHelp"}
    ]


def test_collect_orgs_every_account_one_line_each_failures_reported(
    replay, runner, app, tmp_path, monkeypatch
) -> None:
    bsky = worlds.bluesky_world(replay, login_as=worlds.BSKY_ORG)
    masto = worlds.mastodon_world(replay, token_owner="AcmeHelp")
    url = replay.start()  # one server answers both platforms' paths; X is not recorded
    bluesky_login(monkeypatch, "acmehelp.bsky.social")
    monkeypatch.setenv("SOCIALAUDIT_MASTODON_TOKEN", "tok-own")
    orgs = tmp_path / "orgs.toml"
    orgs.write_text(
        '[[org]]\nid = "acme"\n[org.accounts]\nbluesky = ["acmehelp.bsky.social"]\n'
        'mastodon = ["AcmeHelp@mastodon.social"]\ntwitter = ["AcmeHelp"]\n',
        encoding="utf-8",
    )
    db = str(tmp_path / "orgs.duckdb")
    res = runner.invoke(app, ["--db", db, "collect", "--orgs", str(orgs), "--api-url", url])
    assert res.exit_code == 1, res.output
    lines = res.output.strip().splitlines()
    assert lines[0] == f"Declared 1 organizations from {orgs}."
    assert lines[1].startswith("acme: bluesky:acmehelp.bsky.social: Collected")
    assert lines[2].startswith("acme: mastodon:AcmeHelp@mastodon.social: Collected")
    assert lines[3].startswith("acme: x:AcmeHelp: failed: HTTP 404")
    assert lines[-1].startswith("Collected 2 of 3 accounts") and "x:AcmeHelp" in lines[-1]
    with sa.open(db) as store:
        entry = org_audit(store, "acme")
        figures = entry["responsiveness"]["all"]
        assert figures["turns"] == bsky.turns + masto.turns
        assert figures["answered"] == bsky.answered + masto.answered
        assert {p: c["inbound"] for p, c in entry["coverage"].items()} == {
            "bluesky": "complete",
            "mastodon": "complete",
        }
    # Without --orgs, the store's declared accounts are collected again (incrementally).
    again = runner.invoke(app, ["--db", db, "collect", "--api-url", url])
    assert again.exit_code == 1
    assert "acme: mastodon:AcmeHelp@mastodon.social: Collected 0 new posts" in again.output


def test_dashboard_and_report_show_coverage_next_to_the_rates(replay, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from socialaudit.report import build_report
    from socialaudit.serve import create_app

    world = worlds.mastodon_world(replay, token_owner=None)
    url = replay.start()
    db = tmp_path / "thin.duckdb"
    with sa.open(db) as store:
        run(world, store, url)
        files = build_report(store, tmp_path / "report")
    html = files.html.read_text(encoding="utf-8")
    assert "mastodon threads_only" in html
    assert "overstated: unanswered mentions not collected (mastodon)" in html
    assert "insufficient coverage" in html
    with TestClient(create_app(db, warm=False)) as client:
        overview = client.get("/").text
        assert "mastodon threads_only" in overview and "overstated" in overview
        page = client.get(f"/orgs/{world.org_id}").text
        assert "threads_only" in page
        assert "overstated: unanswered mentions not collected (mastodon)" in page
        orgs = client.get("/api/orgs").json()
        assert orgs[0]["coverage"] == "mastodon threads_only"


def test_reddit_subreddit_listing_is_complete(replay, store) -> None:
    from tests import replay as rp

    rp.reddit(replay)
    url = replay.start()
    r = collect("reddit", "r/AcmeSupport", store=store, base_url=url, client_options=OPTS)
    assert r.inbound == "complete" and r.inbound_seen == 2  # the two submissions
    rows = store.frame("SELECT account_id, inbound, target FROM coverage").to_dict("records")
    assert rows == [
        {"account_id": "r/AcmeSupport", "inbound": "complete", "target": "r/AcmeSupport"}
    ]
