"""`socialaudit serve` in Debian's Chromium (through Playwright), against a real Uvicorn server.

Every dashboard page of the synthetic market (enriched, with campaigns and fitted topics) and
of the TWCS sample loads without a console error and draws every chart; the inbox filters and
pager agree with ``GET /api/inbox``; hostile post text, handles and permalinks stay inert; a
token-protected instance works once ``?token=`` has set its cookie. One test also writes the
README's screenshot of an org page: ``$SOCIALAUDIT_SCREENSHOTS/org-page.png`` when set
(a folder, relative to the repository), e.g. ``SOCIALAUDIT_SCREENSHOTS=docs/img``.
"""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

import pytest

import socialaudit
from tests.conftest import TWCS_SAMPLE, twcs_csv
from tests.test_report import CHROMIUM, CHROMIUM_ARGS, _require_chromium

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS_ENV = "SOCIALAUDIT_SCREENSHOTS"
TOKEN = "x" * 24
SERVED_SCRIPTS = ["/static/plotly.min.js", "/static/dashboard.js"]
XSS = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=2">',
    '"><svg onload="window.__pwned=3">',
]
JS_LINK = "javascript:window.__pwned=4"
#: A brand whose handle (hence org id) is hostile: it shows on the overview and in the filters.
XSS_BRAND = 'Brand"><svg onload="window.__pwned=5">'
ALL_CHARTS_RENDERED = """() => [...document.querySelectorAll('div.chart')]
    .every(el => el.getAttribute('data-rendered') === '1')"""


# -- servers ---------------------------------------------------------------------------------
@contextmanager
def serve(db: Path, **options: Any) -> Iterator[str]:
    """Uvicorn serving ``create_app(db, **options)`` on a free loopback port, in a thread.

    Topics are not fitted on a visit unless asked (``fit_topics=True``): a fit takes the store
    for a while, and most of these tests read stores they share.
    """
    import uvicorn

    from socialaudit.serve import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # the port is ours from now on: no race with other tests
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(db, **{"fit_topics": False, **options}),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        log_config=None,  # leave the test run's logging alone
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError(f"Uvicorn did not start on port {port} for {db}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        assert not thread.is_alive(), "Uvicorn did not stop"


@pytest.fixture(scope="module")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def market_db(enriched_market) -> Path:
    """The synthetic market, enriched, with its campaigns and AcmeHelp's topics fitted."""
    return enriched_market["db"]


@pytest.fixture(scope="module")
def market(market_db) -> Iterator[str]:
    with serve(market_db) as url:
        yield url


@pytest.fixture(scope="module")
def twcs(tmp_path_factory) -> Iterator[str]:
    if not TWCS_SAMPLE.exists():
        pytest.skip(f"{TWCS_SAMPLE} is not present (shared data missing)")
    db = tmp_path_factory.mktemp("twcs") / "t.duckdb"
    with socialaudit.open(db) as store:
        socialaudit.import_file(TWCS_SAMPLE, store=store)  # not enriched: the other code path
    with serve(db) as url:
        yield url


@pytest.fixture(scope="module")
def xss(tmp_path_factory) -> Iterator[str]:
    """AcmeHelp's customers (and a helpful stranger) with hostile text, handles and links."""
    folder = tmp_path_factory.mktemp("xss")
    voice = f"voice{XSS[2]}"
    rows: list[tuple[object, ...]] = [
        ("1", "AcmeHelp", False, 0, "welcome", None),
        ("2", XSS_BRAND, False, 1, f"we are {XSS[0]}", None),
        ("3", "cust7", True, 2, f"@{XSS_BRAND} hello?", None),
    ]
    for n, text in enumerate(XSS):  # unanswered turns of AcmeHelp, hostile text and handles
        rows.append((str(100 + n), f"cust{n}{XSS[n]}", True, 10 + n, f"@AcmeHelp {text}", None))
    # Answered by a stranger first and then by AcmeHelp; another only by the stranger.
    rows.append(("200", "cust8", True, 20, f"@AcmeHelp is it down? {XSS[1]}", None))
    rows.append(("201", voice, True, 25, f"@cust8 try again {XSS[0]}", "200"))
    rows.append(("202", "AcmeHelp", False, 30, "@cust8 fixed now", "200"))
    rows.append(("203", "cust8", True, 35, "@AcmeHelp thanks", "202"))
    rows.append(("300", "cust9", True, 60, "@AcmeHelp app crashes", None))
    rows.append(("301", voice, True, 65, f"@cust9 reinstall it {XSS[2]}", "300"))
    rows.append(("302", "cust9", True, 70, "@voice thanks!", "301"))
    rows.append(("400", "cust6", True, 60 * 24 * 9, "@AcmeHelp later", None))
    csv = folder / "posts.csv"
    csv.write_text(twcs_csv(rows), encoding="utf-8")
    db = folder / "x.duckdb"
    with socialaudit.open(db) as store:
        socialaudit.import_file(csv, store=store)
        # No importer writes a javascript: permalink, but a hostile export could carry one.
        store.raw.execute(
            "UPDATE posts SET permalink = ? WHERE post_id IN ('100', '101', '102', '201')",
            [JS_LINK],
        )
        orgs = {o["org_id"] for o in socialaudit.list_orgs(store)}
    assert orgs == {"AcmeHelp", XSS_BRAND}, orgs
    with serve(db) as url:
        yield url


# -- pages -----------------------------------------------------------------------------------
class Watched:
    """A page whose console errors, uncaught exceptions, failed requests and dialogs are kept."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url} {r.failure}"))
        page.on(
            "response",
            lambda r: self.errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
        )
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def open(self, url: str, *, status: int = 200, charts: int | None = None):
        """Go to ``url``; check its status, that every chart rendered and nothing erred."""
        self.errors.clear()
        response = self.page.goto(url)
        assert response is not None and response.status == status, (url, response.status)
        self.wait_charts(url, charts)
        return response

    def wait_charts(self, url: str, charts: int | None = None) -> None:
        page = self.page
        page.wait_for_load_state("load")
        page.wait_for_function(ALL_CHARTS_RENDERED, timeout=30_000)
        n = page.locator("div.chart").count()
        if charts is not None:
            assert n == charts, (url, n)
        assert page.locator("div.chart .main-svg").count() >= n, url  # Plotly drew into each
        assert self.errors == [], (url, self.errors)
        assert self.dialogs == [], (url, self.dialogs)


@contextmanager
def watched(browser, **context: Any) -> Iterator[Watched]:
    ctx = browser.new_context(**context)
    try:
        yield Watched(ctx.new_page())
    finally:
        ctx.close()


def api(w: Watched, base: str, path: str, **params: Any) -> Any:
    """``GET base+path`` through the page's context (same cookies); the JSON body."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    r = w.page.request.get(f"{base}{path}" + (f"?{query}" if query else ""))
    assert r.status == 200, (path, params, r.status, r.text()[:300])
    return r.json()


def check_links(w: Watched, base: str, seen: set[str]) -> None:
    """Every link of the page into the dashboard answers 200 (each URL checked once)."""
    hrefs = w.page.eval_on_selector_all(
        "a[href^='/']", "els => els.map(e => e.getAttribute('href'))"
    )
    for href in hrefs:
        if href in seen:
            continue
        seen.add(href)
        r = w.page.request.get(base + href)
        assert r.status == 200, (w.page.url, href, r.status, r.text()[:300])


def test_every_page_of_the_market(browser, market) -> None:
    with watched(browser, viewport={"width": 1300, "height": 900}) as w:
        orgs = [o["org_id"] for o in api(w, market, "/api/orgs")]
        campaigns = [c["campaign"] for c in api(w, market, "/api/campaigns")["campaigns"]]
        assert "AcmeHelp" in orgs and len(orgs) == 8 and campaigns
        seen: set[str] = set()
        w.open(market + "/", charts=2)
        assert w.page.locator("table.rank tbody tr").count() == len(orgs)
        check_links(w, market, seen)
        for org in orgs:
            # Enriched: weekly, weekly FRT, FRT distribution and the sentiment split.
            w.open(f"{market}/orgs/{org}", charts=4)
            assert w.page.locator("#org-tier").inner_text().startswith("Tier")
            if org == "AcmeHelp":
                check_links(w, market, seen)
        w.open(f"{market}/orgs/AcmeHelp/topics", charts=1)
        assert w.page.locator("#topics tbody tr").count() >= 2
        w.open(f"{market}/orgs/QuillBooks/topics", charts=0)
        assert "socialaudit topics QuillBooks" in w.page.inner_text("main")
        w.open(f"{market}/orgs/AcmeHelp/network")
        assert w.page.locator("#voices tbody tr").count() >= 1
        check_links(w, market, seen)
        w.open(f"{market}/campaigns", charts=0)
        assert w.page.locator("#campaigns tbody tr").count() == len(campaigns)
        check_links(w, market, seen)
        for c in campaigns:
            w.open(f"{market}/campaigns/{c}", charts=1)
        w.open(f"{market}/quality", charts=0)
        assert w.page.locator("#imports tbody tr").count() == 1
        w.open(f"{market}/inbox", charts=0)
        assert w.page.locator("#inbox-table tr[data-turn]").count() == 50
        check_links(w, market, seen)
        # An unknown org is a 404 page (not a stack trace).
        w.page.goto(f"{market}/orgs/NoSuchOrg")
        assert "No organization 'NoSuchOrg'" in w.page.inner_text("#error-message")


def test_every_page_of_the_twcs_sample(browser, twcs) -> None:
    with watched(browser) as w:
        orgs = api(w, twcs, "/api/orgs")
        assert len(orgs) > 10 and "AmazonHelp" in {o["org_id"] for o in orgs}
        w.open(twcs + "/", charts=2)
        # AmazonHelp, the org with the largest backlog and the one with the fewest turns.
        by_backlog = sorted(orgs, key=lambda o: (-(o["backlog_7d"] or 0), o["org_id"]))
        by_turns = sorted(orgs, key=lambda o: (o["turns"] or 0, o["org_id"]))
        for org in dict.fromkeys(["AmazonHelp", by_backlog[0]["org_id"], by_turns[0]["org_id"]]):
            w.open(f"{twcs}/orgs/{org}", charts=3)  # not enriched: no sentiment chart
            assert "not measured" in w.page.inner_text("#headline")
        w.open(f"{twcs}/orgs/AmazonHelp/network")
        assert w.page.locator("#voices tbody tr").count() >= 1
        w.open(f"{twcs}/orgs/AmazonHelp/topics", charts=0)
        assert "socialaudit topics AmazonHelp" in w.page.inner_text("main")
        w.open(f"{twcs}/inbox", charts=0)
        assert w.page.locator("#inbox-table tr[data-turn]").count() == 50
        assert "need enriched posts" in w.page.inner_text("main")
        w.open(f"{twcs}/campaigns", charts=0)
        assert "No campaigns declared" in w.page.inner_text("main")
        w.open(f"{twcs}/quality", charts=0)


# -- the inbox -------------------------------------------------------------------------------
def _rows(w: Watched) -> list[dict[str, str]]:
    return w.page.eval_on_selector_all(
        "#inbox-table tr[data-turn]", "els => els.map(e => Object.assign({}, e.dataset))"
    )


def _total(w: Watched) -> int:
    text = w.page.inner_text("#inbox-total strong")
    return int("".join(ch for ch in text if ch.isdigit()))


def _filter(w: Watched, base: str, **values: str) -> tuple[list[dict[str, str]], int]:
    """Fill in the inbox form (every field not given cleared), submit it; the rows shown and
    the total, both checked against ``GET /api/inbox`` with the same filters."""
    if w.page.locator("#inbox-filters").count() == 0:
        w.open(f"{base}/inbox")
    form = w.page.locator("#inbox-filters")
    for name in ("org", "platform", "intent", "sentiment"):
        form.locator(f"select[name={name}]").select_option(values.get(name, ""))
    form.locator("input[name=older_than]").fill(values.get("older_than", ""))
    with w.page.expect_navigation():
        form.locator("button[type=submit]").click()
    w.wait_charts(w.page.url)
    query = dict(p.split("=", 1) for p in urlparse(w.page.url).query.split("&") if p)
    for name, value in values.items():
        assert query.get(name) == value, (w.page.url, name)
        field = form.locator(f"[name={name}]")
        assert field.input_value() == value, name  # the form shows the filter it applied
    rows, total = _rows(w), _total(w)
    expected = api(w, base, "/api/inbox", **values)
    assert total == expected["total"], (values, total, expected["total"])
    assert [r["turn"] for r in rows] == [i["turn_id"] for i in expected["items"]], values
    assert len(rows) == min(total, 50)
    waits = [int(r["waiting"]) for r in rows]
    assert waits == sorted(waits, reverse=True)  # oldest first
    return rows, total


def test_inbox_filters_and_pager(browser, market) -> None:
    with watched(browser, viewport={"width": 1300, "height": 900}) as w:
        everything, total_all = _filter(w, market)
        assert total_all > 100 and len(everything) == 50
        page = w.page
        platforms = page.eval_on_selector_all(
            "select[name=platform] option", "els => els.map(e => e.value).filter(Boolean)"
        )
        assert platforms

        def busiest(name: str, choices: list[str]) -> str:
            counts = {c: api(w, market, "/api/inbox", **{name: c})["total"] for c in choices}
            assert sum(counts.values()) > 0, (name, counts)
            return max(counts, key=counts.__getitem__)

        intents = page.eval_on_selector_all(
            "select[name=intent] option", "els => els.map(e => e.value).filter(Boolean)"
        )
        intent = busiest("intent", intents)
        sentiment = busiest("sentiment", ["negative", "neutral", "positive"])
        platform = busiest("platform", platforms)

        rows, total = _filter(w, market, org="AcmeHelp")
        assert 0 < total < total_all and all(r["org"] == "AcmeHelp" for r in rows)
        rows, total_p = _filter(w, market, org="AcmeHelp", platform=platform)
        assert 0 < total_p <= total
        assert all(r["org"] == "AcmeHelp" and r["platform"] == platform for r in rows)
        rows, total = _filter(w, market, intent=intent)
        assert 0 < total < total_all and all(intent in r["intents"].split() for r in rows)
        rows, total = _filter(w, market, sentiment=sentiment)
        assert 0 < total < total_all and all(r["sentiment"] == sentiment for r in rows)
        rows, total = _filter(w, market, older_than="7d")
        assert 0 < total < total_all and all(int(r["waiting"]) > 7 * 86_400 for r in rows)
        rows, total_c = _filter(
            w, market, org="AcmeHelp", intent=intent, sentiment=sentiment, older_than="1d"
        )
        assert total_c <= total_p
        for r in rows:
            assert r["org"] == "AcmeHelp" and intent in r["intents"].split()
            assert r["sentiment"] == sentiment and int(r["waiting"]) > 86_400
        # A bad duration is a 400 page that says why, not a stack trace.
        w.page.goto(f"{market}/inbox?older_than=soon")
        assert "older_than" in w.page.inner_text("#error-message")

        # "Clear" drops every filter.
        _filter(w, market, org="AcmeHelp")
        with page.expect_navigation():
            page.click("#inbox-filters a:text('Clear')")
        assert _total(w) == total_all

        # The pager: newer pages follow, keep the filters, and end on the last page.
        first = [r["turn"] for r in _filter(w, market, sentiment=sentiment)[0]]
        pages = api(w, market, "/api/inbox", sentiment=sentiment)["total"] // 50 + 1
        assert pages >= 2
        with page.expect_navigation():
            page.click("a[rel=next]")
        w.wait_charts(page.url)
        second = _rows(w)
        assert "page 2 of" in page.inner_text("#inbox-total")
        assert f"sentiment={sentiment}" in page.url
        want = api(w, market, "/api/inbox", sentiment=sentiment, page=2)["items"]
        assert [r["turn"] for r in second] == [i["turn_id"] for i in want]
        assert all(r["sentiment"] == sentiment for r in second)
        assert not set(first) & {r["turn"] for r in second}
        with page.expect_navigation():
            page.click("a[rel=prev]")
        assert [r["turn"] for r in _rows(w)] == first
        assert page.locator("a[rel=prev]").count() == 0
        last = api(w, market, "/api/inbox", sentiment=sentiment)["total"]
        last_page = (last + 49) // 50
        w.open(f"{market}/inbox?sentiment={sentiment}&page={last_page}")
        assert page.locator("a[rel=next]").count() == 0
        assert len(_rows(w)) == last - 50 * (last_page - 1)
        # The org page's backlog card opens the inbox filtered to that backlog.
        w.open(f"{market}/orgs/SkylarkAir")
        backlog = page.locator("#headline .card.warn a[href*='older_than=7d']")
        count = int(backlog.inner_text().replace(",", ""))
        with page.expect_navigation():
            backlog.click()
        w.wait_charts(page.url)
        assert _total(w) == count > 0
        rows = _rows(w)
        assert all(r["org"] == "SkylarkAir" and int(r["waiting"]) > 7 * 86_400 for r in rows)


# -- hostile data ----------------------------------------------------------------------------
def _assert_inert(w: Watched, url: str, response) -> None:
    page = w.page
    assert "script-src 'self'" in (response.headers.get("content-security-policy") or ""), url
    assert page.evaluate("typeof window.__pwned") == "undefined", url
    scripts = page.eval_on_selector_all(
        "script", "els => els.map(e => [e.getAttribute('src'), e.getAttribute('type')])"
    )
    served = [src for src, _ in scripts if src is not None]
    assert served == SERVED_SCRIPTS, (url, scripts)
    assert all(src is not None or kind == "application/json" for src, kind in scripts), url
    assert page.locator("a[href^='javascript:' i]").count() == 0, url
    assert page.locator("[onerror], [onload], img[src=x]").count() == 0, url
    for a in page.eval_on_selector_all("main a[href]", "els => els.map(e => e.href)"):
        assert urlparse(a).scheme in ("http", "https"), (url, a)


def test_hostile_posts_are_inert(browser, xss) -> None:
    from urllib.parse import quote

    with watched(browser) as w:
        visible: dict[str, list[str]] = {
            "/": [XSS_BRAND],
            "/orgs/AcmeHelp": [*XSS, *(f"cust{n}{x}" for n, x in enumerate(XSS))],
            "/inbox": [*XSS, XSS_BRAND, *(f"cust{n}{x}" for n, x in enumerate(XSS))],
            "/orgs/AcmeHelp/network": [f"voice{XSS[2]}"],
            f"/orgs/{quote(XSS_BRAND, safe='')}": [XSS_BRAND],
            "/orgs/AcmeHelp/topics": [],
            "/quality": [],
        }
        for path, texts in visible.items():
            response = w.open(xss + path)
            _assert_inert(w, path, response)
            text = w.page.inner_text("body")
            for t in texts:
                assert t in text, (path, t)
        # The javascript: permalinks are shown as plain text; the https ones are links out.
        w.open(f"{xss}/inbox?org=AcmeHelp")
        for turn in ("100", "101", "102"):
            row = w.page.locator(f"#inbox-table tr[data-turn='{turn}']")
            assert row.locator("td.text a").count() == 0, turn
            assert "@AcmeHelp" in row.locator("td.text").inner_text()
        links = w.page.locator("#inbox-table td.text a")
        assert links.count() == 3  # 203, 300 and 400
        for n in range(3):
            href = links.nth(n).get_attribute("href") or ""
            assert href.startswith("https://twitter.com/i/web/status/")
            assert {"noopener", "noreferrer"} <= set(
                (links.nth(n).get_attribute("rel") or "").split()
            )
        # The trusted voice's examples: the javascript: reply is text, the others links.
        w.open(f"{xss}/orgs/AcmeHelp/network")
        assert w.page.locator("#voices tbody tr").count() == 1
        assert w.page.locator("#voices a:text-is('question')").count() == 2
        assert w.page.locator("#voices a:text-is('reply')").count() == 1
        assert w.page.locator("#voices td").last.inner_text().count("reply") == 2


# -- the README screenshot ---------------------------------------------------------------------
def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


def test_org_page_screenshot(browser, market, tmp_path) -> None:
    folder = os.environ.get(SCREENSHOTS_ENV)
    out = (REPO / folder if not Path(folder).is_absolute() else Path(folder)) if folder else None
    target = (out or tmp_path) / "org-page.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    with watched(browser, viewport={"width": 1300, "height": 900}, device_scale_factor=1) as w:
        w.open(f"{market}/orgs/AcmeHelp", charts=4)
        w.page.wait_for_timeout(300)  # let Plotly's transitions settle before the picture
        w.page.screenshot(path=str(target), full_page=False)
    assert _png_size(target) == (1300, 900)
    assert 20_000 < target.stat().st_size < 400_000


# -- a token-protected server ------------------------------------------------------------------
def test_token_protected_dashboard(browser, tmp_path) -> None:
    rows = [
        ("1", "AcmeHelp", False, 0, "welcome", None),
        ("10", "cust1", True, 10, "@AcmeHelp is it down?", None),
        ("11", "AcmeHelp", False, 40, "@cust1 not any more", "10"),
        ("20", "cust2", True, 60 * 24 * 8, "@AcmeHelp hello?", None),
    ]
    csv = tmp_path / "posts.csv"
    csv.write_text(twcs_csv(rows), encoding="utf-8")
    db = tmp_path / "token.duckdb"
    with socialaudit.open(db) as store:
        socialaudit.import_file(csv, store=store)
    with serve(db, token=TOKEN) as base, watched(browser) as w:
        page = w.page
        for path in ("/", "/orgs/AcmeHelp", "/static/dashboard.js", "/static/plotly.min.js"):
            assert page.request.get(base + path).status == 401, path
        assert page.goto(base + "/").status == 401
        assert "token is required" in page.inner_text("body")
        assert page.goto(f"{base}/?token={'y' * 24}").status == 401
        w = Watched(page.context.new_page())  # the same cookies, none of the expected 401s
        page = w.page
        response = page.goto(f"{base}/?token={TOKEN}")
        assert response.status == 200 and page.url == base + "/"  # the token left the URL
        assert response.request.redirected_from is not None
        cookie = next(c for c in page.context.cookies() if c["name"] == "socialaudit_token")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        w.wait_charts(page.url, charts=2)
        w.open(f"{base}/orgs/AcmeHelp", charts=3)  # Plotly and dashboard.js came with the cookie
        w.open(f"{base}/inbox?org=AcmeHelp", charts=0)
        assert page.request.get(base + "/static/dashboard.js").status == 200
        page.context.clear_cookies()
        assert page.goto(f"{base}/orgs/AcmeHelp").status == 401


# -- the first visit to a fresh store (issue 17) ---------------------------------------------
@pytest.fixture(scope="module")
def fresh_market(tmp_path_factory) -> Iterator[str]:
    """The synthetic market as a new user has it: imported, orgs declared, nothing fitted."""
    from socialaudit.synthetic import generate_market

    out = tmp_path_factory.mktemp("fresh_market")
    generate_market(out, seed=7)
    db = out / "fresh.duckdb"
    with socialaudit.open(db) as store:
        socialaudit.import_file(out / "market.csv", store=store)
        socialaudit.load_orgs(out / "orgs.toml", store=store)
    with serve(db, fit_topics=True) as url:
        yield url


def test_topics_page_fits_the_topics_on_a_fresh_store(browser, fresh_market) -> None:
    with watched(browser, viewport={"width": 1300, "height": 900}) as w:
        page = w.page
        response = page.goto(f"{fresh_market}/orgs/acmehelp/topics")  # any case finds the org
        assert response is not None and response.status == 200
        # The first visit starts the fit and says so; the page reloads by itself until done.
        assert "Fitting the topics of AcmeHelp" in page.inner_text("#topics-fitting")
        page.wait_for_selector("#topics tbody tr", timeout=300_000)
        w.wait_charts(page.url, charts=1)
        assert page.locator("#topics tbody tr").count() >= 2
        jobs = api(w, fresh_market, "/api/jobs")
        assert [(j["kind"], j["params"], j["state"]) for j in jobs] == [
            ("topics", {"org": "AcmeHelp"}, "done")
        ]


def test_overview_badges_peer_groups_and_chart_titles(browser, fresh_market) -> None:
    with watched(browser, viewport={"width": 1300, "height": 900}) as w:
        w.open(fresh_market + "/", charts=2)
        badges = w.page.eval_on_selector_all(
            "table.rank .tier",
            """els => els.map(e => [e.className, e.innerText,
                                    getComputedStyle(e).backgroundColor])""",
        )
        assert len(badges) == 8
        for cls, text, colour in badges:
            tier = cls.split("tier-")[1]
            assert tier in {"0", "1", "2", "3", "4", "na"}, cls
            assert text.split()[0] == (tier if tier != "na" else "–"), text
            assert "." not in text.split()[0], text  # "2", never "2.0"
            assert colour not in ("rgba(0, 0, 0, 0)", "transparent"), (cls, colour)
        headings = w.page.locator("main h3").all_inner_texts()
        assert headings and all(h.endswith(("(declared)", "(sector list)", "(no peer group)"))
                                for h in headings)  # fmt: skip
        for org in ("", "/orgs/AcmeHelp"):
            if org:
                w.open(fresh_market + org)
            for chart in w.page.locator("div.chart").all():
                chart.hover()
                title = chart.locator(".gtitle").bounding_box()
                bar = chart.locator(".modebar").bounding_box()
                assert title is not None and bar is not None
                apart = (
                    title["x"] + title["width"] <= bar["x"]
                    or bar["x"] + bar["width"] <= title["x"]
                    or title["y"] + title["height"] <= bar["y"]
                    or bar["y"] + bar["height"] <= title["y"]
                )
                assert apart, (org, title, bar)
