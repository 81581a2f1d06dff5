"""`benchmark` and `report` end to end: tiers on the synthetic market, exports, escaping, and
the report opened in Debian's Chromium (through Playwright) with the network blocked."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest

import socialaudit
from socialaudit.synthetic import generate_market

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
XSS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="window.__pwned=1">',
    '"><svg onload="window.__pwned=2">',
]


@pytest.fixture(scope="module")
def market_db(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("market")
    generate_market(out, seed=7)
    db = out / "m.duckdb"
    with socialaudit.open(db) as store:
        socialaudit.import_file(out / "market.csv", store=store)
        socialaudit.load_orgs(out / "orgs.toml", store=store)
    return db


def test_benchmark_json_tiers_on_market(market_db, runner, app) -> None:
    res = runner.invoke(app, ["--db", str(market_db), "benchmark", "--no-enrich", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    tiers = {o["org"]: o["tier"] for o in doc["orgs"]}
    assert tiers == {
        "GhostMartCare": 0,
        "QuillBooks": 1,
        "BoltBankHelp": 2,
        "CrateShipHelp": 2,
        "SkylarkAir": 2,
        "NimbusAirCare": 2,
        "VireoSupport": 2,
        # A leader on every measured rule; deflection is not measured yet, so 4 is withheld.
        "AcmeHelp": 3,
    }
    acme = next(o for o in doc["orgs"] if o["org"] == "AcmeHelp")
    notes = " ".join(e["note"] for e in acme["evidence"])
    assert "tier 4 withheld" in notes and "all turns used" in notes
    rate = next(e for e in acme["evidence"] if e["rule"].startswith("leader: response rate"))
    assert rate["ci95"][0] < rate["value"] < rate["ci95"][1]
    assert doc["claimed_vs_measured"]["sentence"].startswith(
        "100% say they are active (8 of 8); 88% of those are at most rudimentary"
    )
    assert acme["figures"]["response_rate_pct"] == 100.0  # best of its telecom group
    # Enriched (the default), the actionable turns and the measured deflection decide.
    res = runner.invoke(app, ["--db", str(market_db), "benchmark", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    acme = next(o for o in doc["orgs"] if o["org"] == "AcmeHelp")
    assert acme["tier"] == 4
    notes = " ".join(e["note"] for e in acme["evidence"])
    assert "withheld" not in notes and "all turns used" not in notes


def test_benchmark_table_people_and_tiers_file(market_db, runner, app, tmp_path) -> None:
    res = runner.invoke(app, ["--db", str(market_db), "benchmark"])
    assert res.exit_code == 0 and "AcmeHelp" in res.output and "rudimentary" in res.output
    res = runner.invoke(app, ["--db", str(market_db), "benchmark", "--people", "--csv"])
    assert res.exit_code == 0
    assert res.output.splitlines()[0].startswith("org_id,platform,account_id,handle")
    res = runner.invoke(
        app, ["--db", str(market_db), "benchmark", "--account", "@quillbooks", "--json"]
    )
    (quill,) = json.loads(res.output)
    # Retail: Quill's posts per week and replies received sit in the middle (50), between
    # CrateShip and the silent GhostMart; its conversation share is the lowest (0).
    assert quill["presence_score"] == pytest.approx(100 / 3)
    assert quill["below_middle"] == "conversation_share"
    res = runner.invoke(app, ["--db", str(market_db), "benchmark", "--account", "nobody"])
    assert res.exit_code == 2 and "No organization account 'nobody'" in res.output
    strict = tmp_path / "tiers.toml"
    strict.write_text("min_actionable_turns = 1000\n")
    res = runner.invoke(
        app, ["--db", str(market_db), "benchmark", "--json", "--tiers", str(strict)]
    )
    tiers = {o["org"]: o["label"] for o in json.loads(res.output)["orgs"]}
    assert tiers["AcmeHelp"] == "insufficient data" and tiers["QuillBooks"] == "dormant / exploring"
    strict.write_text("[leader]\nfast = 1\n")
    res = runner.invoke(app, ["--db", str(market_db), "benchmark", "--tiers", str(strict)])
    assert res.exit_code == 2
    assert res.output.strip().count("\n") == 0 and "unknown key leader.fast" in res.output


def test_report_files_exports_and_anchors(market_db, runner, app, tmp_path) -> None:
    out = tmp_path / "r" / "market.html"
    res = runner.invoke(app, ["--db", str(market_db), "report", "--out", str(out)])
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert out.stat().st_size < 5_000_000
    assert "<script>alert(1)" not in html
    # Every in-page link lands on an element of the file.
    ids = set(re.findall(r'\sid="([^"]+)"', html))
    targets = set(re.findall(r'href="#([^"]+)"', html))
    assert targets and targets <= ids, sorted(targets - ids)[:5]
    data = out.parent / "market_data"
    for name in ("benchmark", "tiers", "presence", "accounts", "km_curves", "divide", "turns"):
        frames = [
            pd.read_csv(data / f"{name}.csv"),
            pd.read_parquet(data / f"{name}.parquet"),
            pd.read_json(data / f"{name}.json"),
        ]
        assert len({len(f) for f in frames}) == 1 and len(frames[0]) > 0
    turns = pd.read_csv(data / "turns.csv")
    assert len(turns) == sum(
        o["figures"]["turns"] for o in json.loads((data / "summary.json").read_text())["orgs"]
    )
    summary = json.loads((data / "summary.json").read_text())
    assert {o["org"] for o in summary["orgs"]} >= {"AcmeHelp", "GhostMartCare"}


@pytest.fixture
def xss_report(tmp_path, write_twcs, runner, app) -> Path:
    rows = [("1", "AcmeHelp", False, 0, "welcome", None)]
    for n, text in enumerate(XSS):
        rows.append((str(100 + n), f"cust{n}", True, 10 + n, f"@AcmeHelp {text}", None))
    rows.append(("200", "cust9", True, 20, "@AcmeHelp ok?", None))
    rows.append(("201", "AcmeHelp", False, 30, "@cust9 yes", "200"))
    rows.append(("300", "cust8", True, 60 * 24 * 9, "@AcmeHelp later", None))
    csv = write_twcs(rows)
    out = tmp_path / "xss.html"
    res = runner.invoke(
        app, ["--db", str(tmp_path / "x.duckdb"), "report", str(csv), "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html and "<img" not in html and "<svg" not in html
    return out


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing under CI: .ci/run installs Debian's chromium.")
    pytest.skip(f"Debian's Chromium is not installed ({CHROMIUM}); apt-get install chromium.")


def test_report_in_chromium_offline_and_inert(xss_report) -> None:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
            errors: list[str] = []
            outside: list[str] = []
            dialogs: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

            def block(route) -> None:
                if route.request.url.startswith("file://"):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", block)
            page.goto(xss_report.as_uri())
            page.wait_for_selector("body[data-charts-ready=yes]", timeout=60_000)
            assert outside == [], outside
            assert errors == [], errors
            assert dialogs == []
            assert page.evaluate("window.__pwned") is None
            assert page.locator("img").count() == 0 and page.locator("svg[onload]").count() == 0
            for text in XSS:
                assert page.get_by_text(text).count() >= 1, text
            assert page.locator(".js-plotly-plot").count() == 6
            # Tables scroll inside their own box: the page itself fits a phone's width.
            assert page.evaluate("document.documentElement.scrollWidth") <= 400
            page.click("#org-AcmeHelp summary")
            page.click("text=its unanswered turns")
            assert page.evaluate("location.hash") == "#unanswered-AcmeHelp"
        finally:
            browser.close()


def test_report_has_listening_and_campaign_sections(tmp_path, runner, app) -> None:
    generate_market(tmp_path, seed=7)
    db = str(tmp_path / "c.duckdb")
    with socialaudit.open(db) as store:
        socialaudit.import_file(tmp_path / "market.csv", store=store)
        socialaudit.load_orgs(tmp_path / "orgs.toml", store=store)
        socialaudit.load_campaigns(tmp_path / "campaigns.toml", store=store)
    out = tmp_path / "r.html"
    res = runner.invoke(app, ["--db", db, "report", "--out", str(out)])
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    campaigns = html[html.index('id="campaigns"') :]
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert "Acme Fiber launch" in campaigns and "+250%" in campaigns
    assert "cpm</b> = spend / impressions" in campaigns
    listening = html[html.index('id="listening"') : html.index('id="campaigns"')]
    assert "AcmeHelp" in listening and "deflected" in listening
    frame = pd.read_csv(tmp_path / "r_data" / "campaigns.csv")
    assert frame.loc[0, "mentions"] > 0 and frame.loc[0, "uplift_ratio"] == 2.5
    listened = pd.read_csv(tmp_path / "r_data" / "listening.csv").set_index("org_id")
    # Enriched before the report: the actionable variant and deflection are measured.
    assert listened.loc["AcmeHelp", "actionable_turns"] > 0
    assert 0 <= listened.loc["AcmeHelp", "deflection_rate"] <= 1
    assert truth["orgs"]["AcmeHelp"]["turns"] >= listened.loc["AcmeHelp", "actionable_turns"]
