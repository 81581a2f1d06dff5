"""The REST API through FastAPI's TestClient: every endpoint, its errors, tokens and jobs.

Figures are checked against the library functions the CLI uses (the API computes nothing of
its own), on the synthetic market enriched, with campaigns and fitted topics.
"""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

import socialaudit
from socialaudit.metrics.inbox import INTENTS, SENTIMENTS, filter_inbox, inbox_page
from socialaudit.serve import create_app
from socialaudit.serve.security import COOKIE, resolve_token
from tests import replay as rp
from tests.conftest import twcs_csv
from tests.replay import Replay

TOKEN = "t0ken-" + "x" * 20


def same(got: object, want: object) -> bool:
    """Equal documents, floats to 1e-9 relative: DuckDB's parallel sums may differ in the
    last bit between two runs of the same query."""
    if isinstance(got, dict) and isinstance(want, dict):
        return got.keys() == want.keys() and all(same(got[k], want[k]) for k in got)
    if isinstance(got, list) and isinstance(want, list):
        return len(got) == len(want) and all(same(a, b) for a, b in zip(got, want, strict=True))
    if isinstance(got, float) and isinstance(want, float):
        return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)
    return got == want


@pytest.fixture(scope="module")
def market(enriched_market) -> dict:
    """The enriched synthetic market, and what the library says about it (the oracle)."""
    with socialaudit.open(enriched_market["db"]) as store:
        expected = {
            "audit": socialaudit.audit(store),
            "quality": socialaudit.quality(store),
            "unanswered": socialaudit.turns(store, unanswered_older_than_s=0),
            "campaigns": socialaudit.campaign_section(store),
            "topics": enriched_market["topics"],
        }
    return {"db": enriched_market["db"], **expected}


@pytest.fixture(scope="module")
def client(market) -> TestClient:
    with TestClient(create_app(market["db"], fit_topics=False)) as c:
        yield c


def test_health_orgs_and_org_detail(client, market) -> None:
    health = client.get("/api/health").json()
    assert health["status"] == "ok" and health["orgs"] == 8
    orgs = client.get("/api/orgs").json()
    tiers = {o["org_id"]: o["tier"] for o in orgs}
    assert tiers["GhostMartCare"] == 0 and tiers["QuillBooks"] == 1
    assert {o["org_id"] for o in orgs} == {o["org"] for o in market["audit"]["orgs"]}
    acme = client.get("/api/orgs/AcmeHelp").json()
    assert acme["tier"]["org"] == "AcmeHelp" and acme["tier"]["evidence"]
    want = next(o for o in market["audit"]["orgs"] if o["org"] == "AcmeHelp")
    assert same(acme["audit"], want)
    figures = want["responsiveness"]["all"]
    # The weekly series and the FRT distribution partition the same turns as the audit.
    assert sum(w["turns"] for w in acme["weekly"]) == figures["turns"]
    assert sum(w["answered"] for w in acme["weekly"]) == figures["answered"]
    assert (
        sum(b["answered_turns"] for b in acme["frt_distribution"])
        == figures["answered"] - figures["negative_frt"]
    )
    assert [b["bucket"] for b in acme["frt_distribution"]][-1] == "> 7 d"
    # Presence: the score and what bounds the longest silence, here and on the page.
    (pres,) = client.get("/api/orgs/GhostMartCare").json()["presence"]
    assert pres["posts"] == 0 and pres["presence_score"] == 0.0
    assert (pres["silence_from"], pres["silence_to"]) == ("window_start", "reference_time")
    page = client.get("/orgs/GhostMartCare", headers={"accept": "text/html"}).text
    assert "(from the window start to the reference time)" in page


def test_audit_equals_the_library(client, market) -> None:
    assert same(client.get("/api/audit").json(), market["audit"])
    one = client.get("/api/audit", params={"org": "BoltBankHelp"}).json()
    assert [o["org"] for o in one["orgs"]] == ["BoltBankHelp"]


def test_inbox_pages_and_filters(client, market) -> None:
    expected = market["unanswered"]
    page = client.get("/api/inbox", params={"per_page": 500}).json()
    assert page["total"] == len(expected)
    assert [i["turn_id"] for i in page["items"]][:20] == expected["opener_id"].tolist()[:20]
    # Pages never overlap and together hold every turn.
    seen: list[tuple[str, str]] = []
    n = 1
    while True:
        p = client.get("/api/inbox", params={"per_page": 37, "page": n}).json()
        seen += [(i["org_id"], i["turn_id"]) for i in p["items"]]
        if n >= p["pages"]:
            break
        n += 1
    assert len(seen) == len(set(seen)) == page["total"]
    acme = client.get("/api/inbox", params={"org": "AcmeHelp", "per_page": 500}).json()
    assert acme["total"] == int((expected["org_id"] == "AcmeHelp").sum())
    assert all(i["org_id"] == "AcmeHelp" for i in acme["items"])
    old = client.get("/api/inbox", params={"older_than": "7d", "per_page": 500}).json()
    assert old["total"] == int((expected["age_s"] > 7 * 86_400).sum())
    assert all(i["waiting_s"] > 7 * 86_400 for i in old["items"])
    young = client.get("/api/inbox", params={"newer_than": "1d", "per_page": 500}).json()
    assert all(i["waiting_s"] <= 86_400 for i in young["items"])
    asks = client.get("/api/inbox", params={"intent": "question", "per_page": 500}).json()
    assert 0 < asks["total"] < page["total"]
    assert all("question" in i["intents"] for i in asks["items"])
    neg = client.get("/api/inbox", params={"sentiment": "negative", "per_page": 500}).json()
    assert neg["total"] > 0
    assert all(i["sentiment_label"] == "negative" for i in neg["items"])
    both = client.get(
        "/api/inbox", params={"sentiment": "negative", "intent": "question", "per_page": 500}
    ).json()
    assert both["total"] <= min(asks["total"], neg["total"])
    ham = client.get("/api/inbox", params={"spam": "false", "per_page": 500}).json()
    assert all(not i["spam"] for i in ham["items"])
    none = client.get("/api/inbox", params={"platform": "mastodon"}).json()
    assert none["total"] == 0 and none["items"] == []
    beyond = client.get("/api/inbox", params={"page": 1000}).json()
    assert beyond["items"] == [] and beyond["total"] == page["total"]


@settings(max_examples=60, deadline=None)
@given(
    org=st.sampled_from([None, "AcmeHelp", "SkylarkAir", "GhostMartCare"]),
    platform=st.sampled_from([None, "twitter", "bluesky"]),
    intent=st.sampled_from([None, *INTENTS]),
    sentiment=st.sampled_from([None, *SENTIMENTS]),
    min_age=st.sampled_from([None, 0, 3600, 86_400, 7 * 86_400]),
    max_age=st.sampled_from([None, 86_400, 30 * 86_400]),
    spam=st.booleans(),
    page=st.integers(1, 4),
    per_page=st.sampled_from([1, 7, 50]),
)
def test_inbox_hot_path_equals_the_ibis_definition(
    client, org, platform, intent, sentiment, min_age, max_age, spam, page, per_page
) -> None:
    """The server's parameterised SQL returns what ``metrics.inbox.filter_inbox`` defines."""
    svc = client.app.state.service
    snap = svc.snapshot()
    got = svc.inbox(
        org=org, platform=platform, intent=intent, sentiment=sentiment, min_age_s=min_age,
        max_age_s=max_age, include_spam=spam, page=page, per_page=per_page, snap=snap,
    )  # fmt: skip
    rows = filter_inbox(
        snap.inbox, org=org, platform=platform, intent=intent, sentiment=sentiment,
        min_age_s=min_age, max_age_s=max_age, include_spam=spam,
    )  # fmt: skip
    with svc.lock:
        total = int(svc.store.execute(rows.count()))
        want = svc.store.execute(inbox_page(rows, offset=(page - 1) * per_page, limit=per_page))
    assert got["total"] == total
    assert [(i["org_id"], i["turn_id"]) for i in got["items"]] == list(
        zip(want["org_id"], want["turn_id"], strict=True)
    )
    for item, stamp in zip(got["items"], want["opener_created_at"], strict=True):
        assert item["opened_at"] == stamp.tz_localize("UTC").isoformat()


def test_filter_values_stay_values(client) -> None:
    """Filters reach the query as quoted literals: SQL in a parameter matches nothing."""
    for value in ("x' OR '1'='1", "twitter'; DROP TABLE posts; --", "%", "*"):
        res = client.get("/api/inbox", params={"platform": value})
        assert res.status_code == 200 and res.json()["total"] == 0
    res = client.get("/api/orgs/AcmeHelp' OR '1'='1")
    assert res.status_code == 404
    assert client.get("/api/health").json()["orgs"] == 8


def test_benchmark_quality_imports(client, market) -> None:
    bm = client.get("/api/benchmark").json()
    assert {o["org"] for o in bm["orgs"]} == {o["org"] for o in market["audit"]["orgs"]}
    assert bm["claimed_vs_measured"]["declared"] == 8
    assert client.get("/api/quality").json() == market["quality"]
    imports = client.get("/api/imports").json()
    assert len(imports) == 1
    row = imports[0]
    assert row["read"] == row["inserted"] + row["duplicates"] + row["quarantined"]


def test_campaigns_topics_network(client, market) -> None:
    doc = client.get("/api/campaigns").json()
    ids = [c["campaign"] for c in market["campaigns"]["campaigns"]]
    assert ids and [c["campaign"] for c in doc["campaigns"]] == ids
    one = client.get(f"/api/campaigns/{ids[0]}").json()
    assert one["window"]["mentions"] == market["campaigns"]["campaigns"][0]["window"]["mentions"]
    assert len(one["daily"]) > 0
    topics = client.get("/api/orgs/AcmeHelp/topics").json()
    assert topics["fitted"] and topics["hint"] is None
    want = {t["topic_id"]: t["turns"] for t in market["topics"]["topics"]}
    assert {t["topic_id"]: t["turns"] for t in topics["topics"]} == want
    unfitted = client.get("/api/orgs/BoltBankHelp/topics").json()
    assert not unfitted["fitted"] and "socialaudit topics BoltBankHelp" in unfitted["hint"]
    net = client.get("/api/orgs/AcmeHelp/network", params={"limit": 3}).json()
    assert net["target"] == "AcmeHelp" and net["graph"]["nodes"] > 0
    assert len(net["trusted_voices"]) <= 3


@pytest.mark.parametrize(
    ("url", "params", "status", "words"),
    [
        ("/api/orgs/NoSuchOrg", {}, 404, "NoSuchOrg"),
        ("/api/orgs/NoSuchOrg/topics", {}, 404, "NoSuchOrg"),
        ("/api/orgs/NoSuchOrg/network", {}, 404, "NoSuchOrg"),
        ("/api/audit", {"org": "NoSuchOrg"}, 404, "NoSuchOrg"),
        ("/api/inbox", {"org": "NoSuchOrg"}, 404, "NoSuchOrg"),
        ("/api/campaigns/nope", {}, 404, "nope"),
        ("/api/jobs/nope", {}, 404, "nope"),
        ("/api/nothing-here", {}, 404, "/api/nothing-here"),
        ("/api/inbox", {"intent": "bogus"}, 422, "intent"),
        ("/api/inbox", {"sentiment": "angry"}, 422, "sentiment"),
        ("/api/inbox", {"per_page": 0}, 422, "per_page"),
        ("/api/inbox", {"per_page": 501}, 422, "per_page"),
        ("/api/inbox", {"page": "two"}, 422, "page"),
        ("/api/inbox", {"older_than": "soon"}, 400, "older_than"),
        ("/api/orgs/AcmeHelp/network", {"limit": 0}, 422, "limit"),
    ],
)
def test_errors_are_json_with_a_hint(client, url, params, status, words) -> None:
    res = client.get(url, params=params)
    assert res.status_code == status, res.text
    body = res.json()
    assert set(body) == {"message", "hint"}
    assert words in body["message"] and body["hint"]


def test_bad_bodies_and_methods(client) -> None:
    res = client.post("/api/imports", json={"paht": "x.csv"})
    assert res.status_code == 422 and "path" in res.json()["message"]
    res = client.post("/api/collections", json={"platform": "myspace", "target": "x"})
    assert res.status_code == 422 and "platform" in res.json()["message"]
    res = client.post("/api/collections", json={"platform": "bluesky", "target": "a",
                                                "api_url": "file:///etc/passwd"})  # fmt: skip
    assert res.status_code == 422
    assert client.delete("/api/orgs").status_code == 405


def test_unexpected_errors_are_json_too(market, monkeypatch) -> None:
    app = create_app(market["db"], warm=False)

    def broken(**_: object) -> None:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(app.state.service, "orgs", broken)
    with TestClient(app, raise_server_exceptions=False) as c:
        res = c.get("/api/orgs")
        assert res.status_code == 500
        assert res.json() == {
            "message": "Unexpected error: RuntimeError: boom",
            "hint": "This is a bug in socialaudit: the server log has the traceback; please "
            "report it.",
        }
        assert "script-src 'self'" in res.headers["content-security-policy"]
        page = c.get("/", headers={"accept": "text/html"})
        assert page.status_code == 500 and "RuntimeError" in page.text


def test_security_headers_everywhere(client) -> None:
    for url in ("/api/health", "/", "/orgs/AcmeHelp", "/inbox", "/api/orgs/Nope"):
        res = client.get(url)
        csp = res.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-eval" not in csp
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert res.headers["x-content-type-options"] == "nosniff"
        assert res.headers["referrer-policy"] == "no-referrer"


def test_openapi_documents_every_endpoint(client) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/api/health", "/api/orgs", "/api/orgs/{org_id}", "/api/audit", "/api/inbox",
        "/api/orgs/{org_id}/topics", "/api/orgs/{org_id}/network", "/api/campaigns",
        "/api/campaigns/{campaign_id}", "/api/benchmark", "/api/quality", "/api/imports",
        "/api/collections", "/api/jobs", "/api/jobs/{job_id}",
    ):  # fmt: skip
        assert path in paths, path
        for method, op in paths[path].items():
            ok = op["responses"].get("200") or op["responses"].get("202")
            assert ok and ok["content"]["application/json"]["schema"], (path, method)
            assert "404" in op["responses"] and "422" in op["responses"]
    assert "ErrorBody" in schema["components"]["schemas"]
    assert "InboxItem" in schema["components"]["schemas"]
    # Dashboard pages are not part of the API.
    assert "/" not in paths and "/inbox" not in paths


def test_pages_answer_and_escape(client, market) -> None:
    for url in (
        "/", "/orgs/AcmeHelp", "/inbox", "/inbox?org=AcmeHelp&intent=question&older_than=1d",
        "/orgs/AcmeHelp/topics", "/orgs/AcmeHelp/network", "/campaigns", "/quality",
        f"/campaigns/{market['campaigns']['campaigns'][0]['campaign']}",
    ):  # fmt: skip
        res = client.get(url, headers={"accept": "text/html"})
        assert res.status_code == 200, (url, res.text[:500])
        assert res.headers["content-type"].startswith("text/html")
    res = client.get("/orgs/Nope", headers={"accept": "text/html"})
    assert res.status_code == 404 and "Nope" in res.text and "<html" in res.text
    res = client.get("/inbox?older_than=soon", headers={"accept": "text/html"})
    assert res.status_code == 400 and "older_than" in res.text
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000
    assert client.get("/static/dashboard.js").status_code == 200


# -- escaping, tokens, hosts --------------------------------------------------------------------
XSS_TEXT = '<script>alert(1)</script> @AcmeHelp <img src=x onerror="alert(2)">'


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hostile")
    rows = [
        ("1", "c<b>1", True, 0, XSS_TEXT, None),
        ("2", "AcmeHelp", False, 15, "@cust2 hello", "3"),
        ("3", "cust2", True, 10, '"><svg onload=alert(3)> @AcmeHelp', None),
        ("4", "cust3", True, 20, '"><svg onload=alert(4)> @AcmeHelp', None),
    ]
    path = out / "x.csv"
    path.write_text(twcs_csv(rows), encoding="utf-8")
    db = out / "x.duckdb"
    with socialaudit.open(db) as store:
        socialaudit.import_file(path, store=store)
    return db


def test_untrusted_text_is_escaped_in_pages(hostile_db) -> None:
    with TestClient(create_app(hostile_db)) as c:
        for url in ("/inbox", "/orgs/AcmeHelp"):
            html = c.get(url).text
            assert "<script>alert" not in html and "<svg onload" not in html
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
            assert 'onerror="alert' not in html
        # JSON stays JSON: the API returns the text as it was written.
        items = c.get("/api/inbox").json()["items"]
        assert XSS_TEXT in [i["text"] for i in items]


def test_token_protected_instance(market) -> None:
    with TestClient(create_app(market["db"], token=TOKEN)) as c:
        for url in ("/api/health", "/api/orgs", "/openapi.json"):
            res = c.get(url)
            assert res.status_code == 401 and res.json()["hint"]
            assert res.headers["www-authenticate"] == "Bearer"
        assert c.get("/").status_code == 401
        assert c.get("/static/dashboard.js").status_code == 401
        wrong = c.get("/api/health", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        good = c.get("/api/health", headers={"Authorization": f"Bearer {TOKEN}"})
        assert good.status_code == 200
        # ?token= once sets an HttpOnly cookie and redirects to the same page without it.
        res = c.get("/orgs/AcmeHelp?token=" + TOKEN + "&x=1", follow_redirects=False)
        assert res.status_code == 303 and res.headers["location"] == "/orgs/AcmeHelp?x=1"
        cookie = res.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert c.get("/orgs/AcmeHelp").status_code == 200
        assert c.cookies.get(COOKIE) == TOKEN
        c.cookies.clear()
        assert c.get("/?token=wrong", follow_redirects=False).status_code == 401


def test_host_header_is_checked_when_asked(market) -> None:
    app = create_app(market["db"], allowed_hosts=frozenset({"127.0.0.1", "localhost"}))
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        assert c.get("/api/health").status_code == 200
        assert c.get("/api/health", headers={"host": "localhost:8000"}).status_code == 200
        evil = c.get("/api/health", headers={"host": "attacker.example"})
        assert evil.status_code == 400


def test_resolve_token() -> None:
    from socialaudit.errors import ConfigError

    assert resolve_token("127.0.0.1", None) == (None, False)
    assert resolve_token("localhost", "") == (None, False)
    assert resolve_token("::1", None) == (None, False)
    token, generated = resolve_token("0.0.0.0", None)
    assert generated and token and len(token) >= 24
    assert resolve_token("0.0.0.0", "y" * 20) == ("y" * 20, False)
    assert resolve_token("127.0.0.1", "y" * 20) == ("y" * 20, False)
    with pytest.raises(ConfigError, match="at least"):
        resolve_token("0.0.0.0", "short")


# -- jobs ---------------------------------------------------------------------------------------
def wait(c: TestClient, job_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = c.get(f"/api/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still running")


@pytest.fixture
def small_db(tmp_path) -> Path:
    rows = [
        ("1", "cust1", True, 0, "@AcmeHelp my order?", None),
        ("2", "AcmeHelp", False, 30, "@cust1 on its way", "1"),
        ("3", "cust2", True, 40, "@AcmeHelp hello?", None),
    ]
    (tmp_path / "first.csv").write_text(twcs_csv(rows), encoding="utf-8")
    db = tmp_path / "s.duckdb"
    with socialaudit.open(db) as store:
        socialaudit.import_file(tmp_path / "first.csv", store=store)
    return db


def test_import_job_lands_and_invalidates_the_cache(tmp_path, small_db) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    more = [
        ("10", "cust3", True, 50, "@AcmeHelp still waiting", None),
        ("11", "cust4", True, 60, "@AcmeHelp anyone?", None),
    ]
    (inbox / "more.csv").write_text(twcs_csv(more), encoding="utf-8")
    app = create_app(small_db, import_dir=inbox)
    with TestClient(app) as c:
        before = c.get("/api/inbox").json()["total"]
        c.get("/api/orgs/AcmeHelp")
        svc = app.state.service
        assert svc.builds == 1  # warm: the second request did not rebuild
        # A reader still holding the old snapshot must not make the rebuild reuse its tables.
        held = svc.snapshot()
        res = c.post("/api/imports", json={"path": "more.csv"})
        assert res.status_code == 202
        job = wait(c, res.json()["id"])
        assert job["state"] == "done", job
        assert job["result"]["inserted"] == 2 and job["kind"] == "import"
        assert c.get("/api/inbox").json()["total"] == before + 2
        assert held.generation != svc.snapshot().generation
        assert svc.builds == 2
        assert len(c.get("/api/imports").json()) == 2
        assert [j["id"] for j in c.get("/api/jobs").json()] == [job["id"]]
        # A bad file fails the job with the importer's message, and nothing is written.
        (inbox / "bad.csv").write_bytes(b"\x00\x01\x02binary")
        job = wait(c, c.post("/api/imports", json={"path": "bad.csv"}).json()["id"])
        assert job["state"] == "failed" and job["error"]
        assert len(c.get("/api/imports").json()) == 2


def test_import_paths_are_confined(tmp_path, small_db) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    outside = tmp_path / "secret.csv"
    outside.write_text("x", encoding="utf-8")
    (inbox / "link.csv").symlink_to(outside)
    with TestClient(create_app(small_db, import_dir=inbox)) as c:
        for path in ("../secret.csv", str(outside), "link.csv", "missing.csv", "/etc/passwd"):
            res = c.post("/api/imports", json={"path": path})
            assert res.status_code == 403, (path, res.text)
            assert res.json()["hint"] or "import folder" in res.json()["message"]
    with TestClient(create_app(small_db)) as c:
        res = c.post("/api/imports", json={"path": "x.csv"})
        assert res.status_code == 403 and "--import-dir" in res.json()["hint"]


def test_collection_job_against_a_replayed_api(small_db) -> None:
    replay = Replay()
    rp.bluesky(replay)
    url = replay.start()
    try:
        with TestClient(create_app(small_db)) as c:
            res = c.post(
                "/api/collections",
                json={"platform": "bluesky", "target": "acmehelp.bsky.social", "api_url": url},
            )
            assert res.status_code == 202
            job = wait(c, res.json()["id"])
            assert job["state"] == "done", job
            assert job["result"]["inserted"] == len(rp.B_POSTS)
            assert "pages" in job["progress"] or job["progress"].startswith("done")
            platforms = {i["platform"] for i in c.get("/api/imports").json()}
            assert "bluesky" in platforms
    finally:
        replay.stop()


def test_empty_store_serves_empty_pages(tmp_path) -> None:
    db = tmp_path / "empty.duckdb"
    socialaudit.open(db).close()
    with TestClient(create_app(db)) as c:
        assert c.get("/api/orgs").json() == []
        assert c.get("/api/inbox").json()["total"] == 0
        assert c.get("/api/benchmark").status_code == 404
        assert c.get("/").status_code == 200 and "No organizations" in c.get("/").text


def test_cli_serve_refuses_a_public_address_with_a_weak_token(
    runner, app, small_db, monkeypatch
) -> None:
    import uvicorn

    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda application, **kw: calls.append(kw))
    monkeypatch.setenv("SOCIALAUDIT_TOKEN", "short")
    res = runner.invoke(app, ["--db", str(small_db), "serve", "--host", "0.0.0.0"])
    assert res.exit_code == 2 and "at least 16" in res.output and not calls
    monkeypatch.delenv("SOCIALAUDIT_TOKEN")
    res = runner.invoke(app, ["--db", str(small_db), "serve", "--host", "0.0.0.0", "--port", "9"])
    assert res.exit_code == 0, res.output
    assert calls == [{"host": "0.0.0.0", "port": 9, "log_level": "warning", "access_log": False}]
    assert "Token (shown once" in res.output
    res = runner.invoke(app, ["--db", str(small_db), "serve"])
    assert res.exit_code == 0 and "Token" not in res.output and calls[-1]["host"] == "127.0.0.1"
    res = runner.invoke(app, ["--db", str(small_db.with_name("none.duckdb")), "serve"])
    assert res.exit_code == 2 and "No store" in res.output
    res = runner.invoke(app, ["--db", str(small_db), "serve", "--import-dir", "/no/such"])
    assert res.exit_code == 2 and "not a folder" in res.output
    shutil.rmtree(small_db.parent / "nothing", ignore_errors=True)


def test_close_does_not_wait_for_a_long_build(small_db) -> None:
    import threading

    from socialaudit.serve.service import Service

    svc = Service(small_db)
    held, release = threading.Event(), threading.Event()

    def build() -> None:  # stands in for a cold snapshot build holding the store
        with svc.lock:
            held.set()
            release.wait(5)

    worker = threading.Thread(target=build)
    worker.start()
    held.wait(5)
    started = time.monotonic()
    assert svc.close(timeout=0.2) is False
    assert time.monotonic() - started < 2
    release.set()
    worker.join()
    assert svc.close() is True
