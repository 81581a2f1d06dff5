"""Collectors against a local server replaying recorded responses, failure modes included."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

import socialaudit
from socialaudit.collect import RetryPolicy, collect
from socialaudit.collect.http import reset_wait
from socialaudit.errors import CollectError, ConfigError
from tests import replay as rp
from tests.replay import NOW, Replay


@dataclass
class Case:
    platform: str
    target: str
    store_platform: str
    build: Callable[..., None]
    posts: set[str]
    page2_path: str
    page2_query: dict[str, str]
    reset_header: dict[str, str]


RESET_IN = 30.0
CASES = {
    "mastodon": Case(
        "mastodon",
        "AcmeHelp@mastodon.social",
        "mastodon",
        rp.mastodon,
        rp.M_POSTS,
        rp.M_STATUSES,
        {"max_id": "104"},
        {
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": datetime.fromtimestamp(NOW + RESET_IN, UTC).isoformat(),
        },
    ),
    "bluesky": Case(
        "bluesky",
        "acmehelp.bsky.social",
        "bluesky",
        rp.bluesky,
        rp.B_POSTS,
        rp.B_FEED,
        {"cursor": "c2"},
        {"RateLimit-Remaining": "0", "RateLimit-Reset": str(int(NOW + RESET_IN))},
    ),
    "reddit": Case(
        "reddit",
        "r/AcmeSupport",
        "reddit",
        rp.reddit,
        rp.R_POSTS,
        rp.R_NEW,
        {"after": "t3_a2"},
        {"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": str(int(RESET_IN))},
    ),
    "x": Case(
        "x",
        "AcmeHelp",
        "twitter",
        rp.x,
        rp.X_POSTS,
        rp.X_TL,
        {"pagination_token": "tok2"},
        {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(NOW + RESET_IN))},
    ),
}


@pytest.fixture
def replay() -> Iterator[Replay]:
    r = Replay()
    yield r
    r.stop()


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("SOCIALAUDIT_REDDIT_CLIENT_ID", "app-id")
    monkeypatch.setenv("SOCIALAUDIT_REDDIT_CLIENT_SECRET", "app-secret-xyz")
    monkeypatch.setenv("SOCIALAUDIT_X_BEARER_TOKEN", "bearer-secret-abc")
    monkeypatch.setenv("SOCIALAUDIT_CONFIG", str(tmp_path / "none.toml"))


class Clock:
    """Injected sleep and clock: sleeping advances time, nothing really waits."""

    def __init__(self) -> None:
        self.now = NOW
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def time(self) -> float:
        return self.now


def run(
    case: Case, store: socialaudit.Store, url: str, clock: Clock, retries: int = 3, **kw: Any
) -> socialaudit.collect.CollectResult:
    return collect(
        case.platform,
        case.target,
        store=store,
        base_url=url,
        client_options={
            "sleep": clock.sleep,
            "clock": clock.time,
            "jitter": lambda: 0.5,
            "policy": RetryPolicy(max_retries=retries, base_delay=1.0),
        },
        **kw,
    )


def stored(store: socialaudit.Store, platform: str) -> list[str]:
    frame = store.frame("SELECT post_id FROM posts WHERE platform = ?", [platform])
    return sorted(frame.post_id)


def page2_requests(replay: Replay, case: Case) -> list[dict[str, str]]:
    return [
        q
        for q in replay.requests_to(case.page2_path)
        if all(q.get(k) == v for k, v in case.page2_query.items())
    ]


PLATFORMS = list(CASES)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_collects_everything_once_and_then_incrementally(
    platform: str, replay: Replay, store: socialaudit.Store
) -> None:
    case = CASES[platform]
    case.build(replay)
    url = replay.start()
    clock = Clock()
    r = run(case, store, url, clock)
    assert set(stored(store, case.store_platform)) == case.posts
    assert r.pages == 2 and r.inserted == len(case.posts) and not r.resumed
    assert clock.sleeps == []
    again = run(case, store, url, clock)
    assert again.inserted == 0
    assert len(stored(store, case.store_platform)) == len(case.posts)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_429_waits_for_the_announced_reset(
    platform: str, replay: Replay, store: socialaudit.Store
) -> None:
    case = CASES[platform]
    limited = {"status": 429, "body": {"error": "rate limited"}, "headers": case.reset_header}
    case.build(replay)
    replay.routes.clear()
    case.build(replay, page2=[limited, *_page2_ok(case)])
    url = replay.start()
    clock = Clock()
    run(case, store, url, clock)
    assert set(stored(store, case.store_platform)) == case.posts
    assert clock.sleeps and clock.sleeps[0] == pytest.approx(RESET_IN + 0.5, abs=1.0)
    assert len(page2_requests(replay, case)) == 2


@pytest.mark.parametrize("platform", PLATFORMS)
def test_500_backs_off_with_jitter_then_succeeds(
    platform: str, replay: Replay, store: socialaudit.Store
) -> None:
    case = CASES[platform]
    case.build(
        replay,
        page2=[{"status": 500, "body": "oops"}, {"status": 503, "body": ""}, *_page2_ok(case)],
    )
    url = replay.start()
    clock = Clock()
    run(case, store, url, clock)
    assert set(stored(store, case.store_platform)) == case.posts
    # equal jitter at 0.5: base 1 s then 2 s -> 0.75 s and 1.5 s
    assert clock.sleeps == [0.75, 1.5]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_truncated_json_body_is_retried(
    platform: str, replay: Replay, store: socialaudit.Store
) -> None:
    case = CASES[platform]
    case.build(replay, page2=[{"status": 200, "body": '{"data": [{"id": "1'}, *_page2_ok(case)])
    url = replay.start()
    clock = Clock()
    run(case, store, url, clock)
    assert set(stored(store, case.store_platform)) == case.posts
    assert len(page2_requests(replay, case)) == 2


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_looping_cursor_stops_the_run(
    platform: str, replay: Replay, store: socialaudit.Store
) -> None:
    case = CASES[platform]
    case.build(replay, loop=True)
    url = replay.start()
    with pytest.raises(CollectError, match="twice"):
        run(case, store, url, Clock())
    # The first page is stored; the loop was noticed before fetching the same page forever.
    assert len(page2_requests(replay, case)) == 1
    assert stored(store, case.store_platform)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_interrupted_run_resumes_without_duplicates_or_gaps(
    platform: str, replay: Replay, store: socialaudit.Store, tmp_path
) -> None:
    case = CASES[platform]
    case.build(replay, page2=[{"status": 502, "body": "bad gateway"}])
    url = replay.start()
    with pytest.raises(CollectError, match="Gave up"):
        run(case, store, url, Clock(), retries=1)
    after_first = stored(store, case.store_platform)
    assert after_first and set(after_first) < case.posts
    state = store.frame("SELECT state FROM collector_cursors").state[0]
    assert "resume" in state
    # The server recovers; the next run starts at page 2, not from the top.
    replay.routes.clear()
    case.build(replay)
    replay.log.clear()
    r = run(case, store, url, Clock())
    assert r.resumed
    first_listing = [q for m, p, q, _ in replay.log if p == case.page2_path]
    assert all(first_listing[0].get(k) == v for k, v in case.page2_query.items())
    ids = stored(store, case.store_platform)
    assert len(ids) == len(set(ids))  # no duplicate
    assert set(ids) == case.posts  # no gap: the same as one uninterrupted run


@pytest.mark.parametrize("platform", PLATFORMS)
def test_interrupt_from_the_keyboard_mid_run(
    platform: str, replay: Replay, store: socialaudit.Store
) -> None:
    case = CASES[platform]
    case.build(replay, page2=[{"status": 500, "body": ""}, *_page2_ok(case)])
    url = replay.start()
    clock = Clock()

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    clock.sleep = interrupted  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        run(case, store, url, clock)
    partial = stored(store, case.store_platform)
    run(case, store, url, Clock())
    ids = stored(store, case.store_platform)
    assert set(partial) < set(ids) == case.posts and len(ids) == len(set(ids))


def test_remaining_zero_paces_the_next_request(replay: Replay, store: socialaudit.Store) -> None:
    case = CASES["mastodon"]
    case.build(replay)
    page1 = replay.routes[-2]  # the unfiltered statuses route was added second
    assert page1.path == rp.M_STATUSES and not page1.query
    page1.responses[0]["headers"].update(case.reset_header)
    url = replay.start()
    clock = Clock()
    run(case, store, url, clock)
    assert clock.sleeps and clock.sleeps[0] == pytest.approx(RESET_IN, abs=0.01)


def test_mastodon_incremental_run_asks_only_for_newer(
    replay: Replay, store: socialaudit.Store
) -> None:
    case = CASES["mastodon"]
    case.build(replay)
    url = replay.start()
    run(case, store, url, Clock())
    rp.mastodon_later(replay)
    replay.log.clear()
    r = run(case, store, url, Clock())
    assert r.inserted == 1
    assert replay.requests_to(rp.M_STATUSES)[0].get("since_id") == "106"
    assert "109" in stored(store, "mastodon")


def test_reset_header_shapes() -> None:
    assert reset_wait({"x-ratelimit-reset": "2023-11-14T22:13:50Z"}, NOW) == 30
    assert reset_wait({"ratelimit-reset": str(int(NOW) + 30)}, NOW) == 30
    assert reset_wait({"x-ratelimit-reset": "30"}, NOW) == 30
    assert reset_wait({"retry-after": "7"}, NOW) == 7
    assert reset_wait({"retry-after": "Tue, 14 Nov 2023 22:13:50 GMT"}, NOW) == 30
    assert reset_wait({}, NOW) is None


def test_credentials_come_from_env_or_config_never_logged(
    replay: Replay, store: socialaudit.Store, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    case = CASES["x"]
    case.build(replay)
    url = replay.start()
    monkeypatch.delenv("SOCIALAUDIT_X_BEARER_TOKEN")
    with pytest.raises(ConfigError, match="SOCIALAUDIT_X_BEARER_TOKEN"):
        run(case, store, url, Clock())
    config = tmp_path / "creds.toml"
    config.write_text('[x]\nbearer_token = "from-config-file"\n', encoding="utf-8")
    monkeypatch.setenv("SOCIALAUDIT_CONFIG", str(config))
    logged: list[str] = []
    collect(
        "x",
        "AcmeHelp",
        store=store,
        base_url=url,
        client_options={"log": logged.append, "sleep": lambda s: None},
    )
    assert all(h.get("Authorization") == "Bearer from-config-file" for *_, h in replay.log)
    assert not any("from-config-file" in line for line in logged)
    stored_text = store.frame("SELECT * FROM collector_cursors").to_string()
    assert "from-config-file" not in stored_text


def test_reddit_token_is_fetched_with_basic_auth(replay: Replay, store) -> None:
    case = CASES["reddit"]
    case.build(replay)
    url = replay.start()
    run(case, store, url, Clock())
    method, path, form, headers = replay.log[0]
    assert (method, path, form["grant_type"]) == (
        "POST",
        "/api/v1/access_token",
        "client_credentials",
    )
    assert headers["Authorization"].startswith("Basic ")
    assert all(h["Authorization"] == "Bearer tok-secret-123" for *_, h in replay.log[1:])


def test_cli_collect(runner, app, replay: Replay, tmp_path) -> None:
    CASES["mastodon"].build(replay)
    url = replay.start()
    db = str(tmp_path / "cli.duckdb")
    result = runner.invoke(
        app, ["--db", db, "collect", "mastodon", "AcmeHelp@mastodon.social", "--api-url", url]
    )
    assert result.exit_code == 0, result.output
    assert "Collected 9 new posts" in result.output
    bad = runner.invoke(app, ["--db", db, "collect", "myspace", "x"])
    assert bad.exit_code == 2 and "Unknown platform" in bad.output
    no_token = runner.invoke(app, ["--db", db, "collect", "x", "AcmeHelp", "--token", "abc"])
    assert no_token.exit_code == 2  # there is no way to pass a secret on the command line


def _page2_ok(case: Case) -> list[dict[str, Any]]:
    """The recording's good page-2 response (built on a scratch replay)."""
    scratch = Replay()
    case.build(scratch)
    for route in scratch.routes:
        if route.path == case.page2_path and route.query == case.page2_query:
            return route.responses
    raise AssertionError("no page 2 in the recording")


def test_max_pages_stops_and_the_next_run_goes_on(replay: Replay, store) -> None:
    case = CASES["bluesky"]
    case.build(replay)
    url = replay.start()
    first = run(case, store, url, Clock(), max_pages=1)
    assert first.pages == 1 and set(stored(store, "bluesky")) < case.posts
    second = run(case, store, url, Clock())
    assert second.resumed and set(stored(store, "bluesky")) == case.posts


def test_refused_credentials_are_one_clear_error(replay: Replay, runner, app, tmp_path) -> None:
    replay.add("/2/users/by/username/AcmeHelp", {"status": 401, "body": {"title": "Unauthorized"}})
    url = replay.start()
    res = runner.invoke(
        app, ["--db", str(tmp_path / "c.duckdb"), "collect", "x", "AcmeHelp", "--api-url", url]
    )
    # Bad credentials: one line naming the variable to fix, exit 2 (bad input).
    assert res.exit_code == 2
    assert "HTTP 401" in res.output and "credentials" in res.output.lower()
    assert "SOCIALAUDIT_X_BEARER_TOKEN" in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert "bearer-secret-abc" not in res.output
