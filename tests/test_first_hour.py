"""The walls a new user hit in the first hour (issue 17), each with the test that holds it down."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import socialaudit
from socialaudit.cli import hoist_global_options
from socialaudit.durations import parse_duration
from socialaudit.errors import ConfigError
from tests.test_cli import ROWS

SOURCES = Path(__file__).parent / "data" / "sources"


@pytest.fixture
def db(tmp_path: Path, write_twcs) -> Path:
    path = tmp_path / "first.duckdb"
    with socialaudit.open(path) as store:
        socialaudit.import_file(write_twcs(ROWS), store=store)
    return path


def _run(runner, app, *args: str):
    return runner.invoke(app, [str(a) for a in args])


# -- options anywhere ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["audit", "--no-enrich", "--json"],
        ["turns", "--json"],
        ["unanswered", "AcmeHelp", "--json"],
        ["quality", "--json"],
        ["orgs", "--json"],
        ["campaign", "list", "--json"],
    ],
)
def test_global_options_after_the_command(db, runner, app, command) -> None:
    before = _run(runner, app, "--db", db, "--sla-minutes", "5", *command)
    after = _run(runner, app, *command, "--db", db, "--sla-minutes", "5")
    equals = _run(runner, app, *command, f"--db={db}", "--sla-minutes=5")
    assert before.exit_code == after.exit_code == equals.exit_code == 0, after.output
    assert before.stdout == after.stdout == equals.stdout


def test_sla_minutes_after_audit_changes_the_figures(db, runner, app) -> None:
    # The README's own wording: `audit --sla-minutes 30`. FRT is 10 min: in a 5-min SLA it misses.
    tight = json.loads(_run(runner, app, "audit", "--no-enrich", "--json", "--sla-minutes", "5",
                            "--db", db).stdout)  # fmt: skip
    loose = json.loads(_run(runner, app, "audit", "--no-enrich", "--json", "--sla-minutes", "30",
                            "--db", db).stdout)  # fmt: skip
    assert tight["orgs"][0]["responsiveness"]["all"]["sla_attainment"] == 0.0
    assert loose["orgs"][0]["responsiveness"]["all"]["sla_attainment"] == 0.5


def test_hoisting_leaves_everything_else_in_place() -> None:
    args = ["report", "a.csv", "--db", "x.duckdb", "--out", "r.html", "--debug", "--", "--db"]
    assert hoist_global_options(args) == [
        "--db", "x.duckdb", "--debug", "report", "a.csv", "--out", "r.html", "--", "--db",
    ]  # fmt: skip


def test_version(runner, app) -> None:
    for args in (["--version"], ["audit", "--version"]):
        res = runner.invoke(app, args)
        assert res.exit_code == 0
        assert res.stdout.strip() == f"socialaudit {socialaudit.__version__}"


def test_bare_number_duration_names_the_units(db, runner, app) -> None:
    with pytest.raises(ConfigError, match="no unit.*s \\(seconds\\).*d \\(days\\)"):
        parse_duration("3")
    assert parse_duration("0") == 0 and parse_duration("3d") == 3 * 86_400
    res = _run(runner, app, "--db", db, "unanswered", "AcmeHelp", "--older-than", "3")
    assert res.exit_code == 2
    assert "has no unit" in res.stderr and "e.g. 3d" in res.stderr


# -- exit codes and nothing left behind ---------------------------------------------------------


def test_missing_store_exits_2_for_every_reader(tmp_path, runner, app) -> None:
    missing = tmp_path / "none.duckdb"
    for command in (["audit"], ["turns"], ["quality"], ["orgs"], ["benchmark"]):
        res = _run(runner, app, *command, "--db", missing)
        assert res.exit_code == 2, (command, res.output)
        assert "No store at" in res.stderr
    assert not missing.exists()


def test_failed_import_leaves_no_store(tmp_path, runner, app) -> None:
    db = tmp_path / "new.duckdb"
    res = _run(runner, app, "--db", db, "import", tmp_path / "missing.csv")
    assert res.exit_code == 2 and "does not exist" in res.stderr
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    res = _run(runner, app, "--db", db, "import", empty)
    assert res.exit_code == 2 and "is empty" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.csv"]
    # ... so the next reader says there is no store, instead of auditing an empty one.
    res = _run(runner, app, "--db", db, "audit")
    assert res.exit_code == 2 and "No store at" in res.stderr


def test_audit_of_an_empty_store_is_an_error(tmp_path, runner, app) -> None:
    db = tmp_path / "empty.duckdb"
    socialaudit.open(db).close()
    res = _run(runner, app, "--db", db, "audit")
    assert res.exit_code == 2, res.output
    assert "no posts yet" in res.stderr and "socialaudit import FILE" in res.stderr
    assert "None" not in res.output


# -- organizations ------------------------------------------------------------------------------


def test_org_names_ignore_case_and_near_misses_get_a_suggestion(db, runner, app) -> None:
    exact = _run(runner, app, "--db", db, "unanswered", "AcmeHelp", "--json")
    lower = _run(runner, app, "--db", db, "unanswered", "acmehelp", "--json")
    assert exact.exit_code == lower.exit_code == 0
    assert json.loads(lower.stdout) == json.loads(exact.stdout) != []
    res = _run(runner, app, "--db", db, "turns", "AcmeHlep")
    assert res.exit_code == 2
    assert "did you mean 'AcmeHelp'?" in res.stderr


def test_network_names_orgs_in_any_case_and_suggests_the_nearest(db, runner, app) -> None:
    exact = _run(runner, app, "--db", db, "network", "AcmeHelp", "--json")
    lower = _run(runner, app, "--db", db, "network", "acmehelp", "--json")
    assert exact.exit_code == lower.exit_code == 0, lower.output
    assert json.loads(lower.stdout) == json.loads(exact.stdout)
    res = _run(runner, app, "--db", db, "network", "AcmeHlep")
    assert res.exit_code == 2
    assert "did you mean 'AcmeHelp'?" in res.stderr and "include" not in res.stderr


def test_posts_without_orgs_name_the_most_addressed_accounts(tmp_path, runner, app) -> None:
    db = tmp_path / "x.duckdb"
    assert _run(runner, app, "--db", db, "import", SOURCES / "x_v2_twarc2.jsonl").exit_code == 0
    res = _run(runner, app, "--db", db, "audit", "--no-enrich")
    assert res.exit_code == 2, res.output
    # AcmeHelp: mentioned and replied to by customers; renee_k: answered by AcmeHelp.
    assert "most-addressed accounts (mentions and replies received) are: AcmeHelp (" in res.stderr
    assert res.stderr.index("AcmeHelp (") < res.stderr.index("renee_k (")
    command = res.stderr.split("Declare the ones you audit: socialaudit ")[1].split()
    assert command[:3] == ["orgs", "--add", "AcmeHelp"]
    # The command given works as printed, and the audit then has its org.
    assert _run(runner, app, "--db", db, *command[:3]).exit_code == 0
    res = _run(runner, app, "--db", db, "audit", "--no-enrich", "--json")
    assert [o["org"] for o in json.loads(res.stdout)["orgs"]] == ["AcmeHelp"]


def test_every_view_of_a_store_without_orgs_names_the_accounts_to_declare(
    tmp_path, runner, app
) -> None:
    db = tmp_path / "x.duckdb"
    assert _run(runner, app, "--db", db, "import", SOURCES / "x_v2_twarc2.jsonl").exit_code == 0
    hint = "most-addressed accounts (mentions and replies received) are: AcmeHelp ("
    res = _run(runner, app, "--db", db, "turns")  # was: an empty table and exit 0
    assert res.exit_code == 2 and hint in res.stderr, res.output
    listed = _run(runner, app, "--db", db, "orgs", "--json")  # listing none is no error...
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []
    assert hint in listed.stderr  # ... but it says what to do
    assert "socialaudit orgs --add AcmeHelp" in listed.stderr


def test_mastodon_export_owner_is_an_org(tmp_path, runner, app) -> None:
    db = tmp_path / "outbox.duckdb"
    res = _run(runner, app, "--db", db, "import", SOURCES / "mastodon_export" / "outbox.json")
    assert res.exit_code == 0 and "Found 1 new organizations" in res.stderr
    orgs = json.loads(_run(runner, app, "--db", db, "orgs", "--json").stdout)
    assert [(o["org_id"], o["posts"]) for o in orgs] == [("AcmeHelp", 3)]
    res = _run(runner, app, "--db", db, "audit", "--no-enrich")
    assert res.exit_code == 0
    assert "AcmeHelp: no customer posts in this data (coverage: own posts only)." in res.stdout


def test_import_org_names_one_and_a_wrong_handle_undoes_the_import(tmp_path, runner, app) -> None:
    db = tmp_path / "x.duckdb"
    feed = SOURCES / "x_v2_twarc2.jsonl"
    res = _run(runner, app, "--db", db, "import", feed, "--org", "acmehlp")
    assert res.exit_code == 2 and "did you mean 'AcmeHelp'?" in res.stderr
    assert not db.exists()
    res = _run(runner, app, "--db", db, "import", feed, "--org", "@acmehelp")
    assert res.exit_code == 0 and "Declared organizations: AcmeHelp." in res.stderr
    audit = json.loads(_run(runner, app, "--db", db, "audit", "--no-enrich", "--json").stdout)
    (acme,) = audit["orgs"]
    assert acme["org"] == "AcmeHelp" and acme["data_scope"] == "customer posts"
    assert acme["responsiveness"]["all"]["turns"] > 0


def test_x_archive_owner_is_an_org_with_its_coverage(tmp_path, runner, app) -> None:
    db = tmp_path / "archive.duckdb"
    res = _run(runner, app, "--db", db, "import", SOURCES / "x_archive" / "data" / "tweets.js")
    assert res.exit_code == 0 and "Found 1 new organizations" in res.stderr
    orgs = json.loads(_run(runner, app, "--db", db, "orgs", "--json").stdout)
    assert [(o["org_id"], o["posts"]) for o in orgs] == [("AcmeHelp", 2)]
    res = _run(runner, app, "--db", db, "audit", "--no-enrich")
    assert res.exit_code == 0
    assert "AcmeHelp: no customer posts in this data (coverage: own posts only)." in res.stdout
    assert "0.0%" not in res.stdout and "turns" not in res.stdout
    data = json.loads(_run(runner, app, "--db", db, "audit", "--no-enrich", "--json").stdout)
    assert data["orgs"][0]["data_scope"] == "own posts only"


# -- one peer group, visible --------------------------------------------------------------------

APPLE = [
    (201, "AppleSupport", False, 0, "Tips for your iPhone #ios", None),
    (202, "88", True, 5, "@AppleSupport my battery dies #ios", None),
    (203, "AppleSupport", False, 9, "@88 try this", 202),
    (204, "89", True, 60, "@AcmeHelp and @AppleSupport both down?", None),
]


def _groups(runner, app, db, *extra: str) -> dict[str, dict[str, object]]:
    """Peer group and source of every org as orgs, benchmark, campaign and the API show them."""
    from fastapi.testclient import TestClient

    from socialaudit.serve import create_app

    seen: dict[str, dict[str, object]] = {}
    orgs = json.loads(_run(runner, app, "--db", db, "orgs", "--json", *extra).stdout)
    seen["orgs"] = {o["org_id"]: (o["peer_group"], o["peer_group_source"]) for o in orgs}
    res = _run(runner, app, "--db", db, "benchmark", "--no-enrich", "--json", *extra)
    assert res.exit_code == 0, res.output
    seen["benchmark"] = {
        o["org"]: (o["peer_group"], o["peer_group_source"]) for o in json.loads(res.stdout)["orgs"]
    }
    res = _run(runner, app, "--db", db, "campaign", "show", "ios", "--json")
    camp = json.loads(res.stdout)
    seen["campaign"] = {camp["org"]: (camp["peer_group"], camp["peer_group_source"])}
    with TestClient(create_app(db, warm=False, fit_topics=False)) as client:
        api = client.get("/api/orgs").json()
        seen["api"] = {o["org_id"]: (o["peer_group"], o["peer_group_source"]) for o in api}
        page = client.get("/", headers={"accept": "text/html"}).text
        seen["page"] = {"AppleSupport": page}
    return seen


def test_one_peer_group_with_its_source_everywhere(
    tmp_path, write_twcs, runner, app, monkeypatch
) -> None:
    db = tmp_path / "peers.duckdb"
    assert _run(runner, app, "--db", db, "import", write_twcs([*ROWS, *APPLE])).exit_code == 0
    res = _run(runner, app, "--db", db, "campaign", "add", "ios", "--org", "AppleSupport",
               "--start", "2017-10-01", "--end", "2017-10-02", "--hashtag", "ios")  # fmt: skip
    assert res.exit_code == 0, res.output
    seen = _groups(runner, app, db)
    for view in ("orgs", "benchmark", "api"):
        assert seen[view]["AppleSupport"] == ("tech", "sector list"), view
        assert seen[view]["AcmeHelp"] == ("unassigned", "none"), view
    assert seen["campaign"]["AppleSupport"] == ("tech", "sector list")
    assert "tech (sector list)" in seen["page"]["AppleSupport"]
    camp = json.loads(_run(runner, app, "--db", db, "campaign", "show", "ios", "--json").stdout)
    assert camp["window"]["share_of_voice"]["peer_group"] == "tech"
    # The shipped sector list switched off: no view puts AppleSupport in "tech" any more.
    monkeypatch.setenv("SOCIALAUDIT_SECTORS", "none")
    off = _groups(runner, app, db)
    for view in ("orgs", "benchmark", "api", "campaign"):
        assert off[view]["AppleSupport"] == ("unassigned", "none"), view
    camp = json.loads(_run(runner, app, "--db", db, "campaign", "show", "ios", "--json").stdout)
    assert camp["window"]["share_of_voice"] is None
    assert any("has no peer group" in m for m in camp["missing"])
    monkeypatch.delenv("SOCIALAUDIT_SECTORS")
    flag = _run(runner, app, "--db", db, "orgs", "--json", "--sectors", "none")
    assert {o["org_id"]: o["peer_group_source"] for o in json.loads(flag.stdout)} == {
        "AcmeHelp": "none", "AppleSupport": "none",
    }  # fmt: skip


# -- the coverage note and topics, everywhere (issue 17, items 1 and 5) --------------------------


def test_an_org_nobody_addressed_gets_the_note_on_the_dashboard_and_in_the_report(
    tmp_path, runner, app
) -> None:
    from fastapi.testclient import TestClient

    from socialaudit.serve import create_app

    db = tmp_path / "archive.duckdb"
    res = _run(runner, app, "--db", db, "import", SOURCES / "x_archive" / "data" / "tweets.js")
    assert res.exit_code == 0, res.output
    note = "no customer posts in this data (coverage: own posts only)"
    html = {"accept": "text/html"}
    with TestClient(create_app(db, warm=False, fit_topics=False)) as client:
        (row,) = client.get("/api/orgs").json()
        assert row["data_scope"] == "own posts only"
        overview = client.get("/", headers=html).text
        assert note in overview and "0.0%" not in overview
        page = client.get("/orgs/AcmeHelp", headers=html).text
        assert f"AcmeHelp: {note}" in page and 'id="headline"' not in page
    out = tmp_path / "report.html"
    res = _run(runner, app, "--db", db, "report", "--no-enrich", "--out", out)
    assert res.exit_code == 0, res.output
    report = out.read_text(encoding="utf-8")
    assert "1 organizations have no customer posts in this data" in report
    tiers = report.split('id="tier-table"')[1].split("</table>")[0]
    responsiveness = report.split('id="resp-table"')[1].split("</table>")[0]
    for table in (tiers, responsiveness):
        assert note in table and "0.0%" not in table


def _requests(org: str, n: int, start: int) -> list[tuple[object, ...]]:
    """``n`` customer requests to ``org`` on two subjects, every other one answered."""
    subjects = [
        "my parcel delivery is late again, where is the courier with my order",
        "the battery of my phone drains fast after the update, charging is slow",
    ]
    rows: list[tuple[object, ...]] = []
    for i in range(n):
        post = start + 2 * i
        text = f"@{org} {subjects[i % 2]} (case {i})"
        rows.append((post, f"c{post}", True, 10 * i, text, None))
        if i % 2:
            answer = f"@c{post} sorry, we look into it"
            rows.append((post + 1, org, False, 10 * i + 5, answer, post))
    return rows


def test_the_report_fits_missing_topics_and_shows_them(tmp_path, write_twcs, runner, app) -> None:
    db = tmp_path / "topics.duckdb"
    rows = [*_requests("AcmeHelp", 30, 1000), *_requests("BetaCare", 3, 5000)]
    assert _run(runner, app, "--db", db, "import", write_twcs(rows)).exit_code == 0
    with socialaudit.open(db) as store:
        assert store.count("topics") == 0  # a fresh store: nobody ran `socialaudit topics`
    # --no-enrich fits nothing, and the report says how to get topics.
    out = tmp_path / "plain.html"
    assert _run(runner, app, "--db", db, "report", "--no-enrich", "--out", out).exit_code == 0
    assert 'id="topics-none"' in out.read_text(encoding="utf-8")
    out = tmp_path / "report.html"
    res = _run(runner, app, "--db", db, "report", "--out", out)
    assert res.exit_code == 0, res.output
    assert "Fitted the topics of 1 organizations" in res.stderr
    html = out.read_text(encoding="utf-8")
    section = html.split('<section id="topics">')[1].split("</section>")[0]
    assert 'id="topics-AcmeHelp"' in section and "topics-BetaCare" not in section
    assert "BetaCare (only 3 customer requests (topics need 20))" in section
    assert "delivery" in section and "battery" in section
    assert 'href="#topics"' in html
    exported = pd.read_csv(out.with_name("report_data") / "topics.csv")
    assert set(exported["org_id"]) == {"AcmeHelp"} and exported["turns"].sum() == 30
    with socialaudit.open(db) as store:
        fitted = store.count("topics")
    assert fitted >= 2
    # Stored topics are kept: the next report shows them without fitting again.
    res = _run(runner, app, "--db", db, "report", "--out", out)
    assert res.exit_code == 0 and "Fitted the topics" not in res.stderr
    with socialaudit.open(db) as store:
        assert store.count("topics") == fitted


def test_the_dashboard_of_a_store_without_orgs_names_the_accounts_to_declare(
    tmp_path, runner, app
) -> None:
    from fastapi.testclient import TestClient

    from socialaudit.serve import create_app

    db = tmp_path / "x.duckdb"
    assert _run(runner, app, "--db", db, "import", SOURCES / "x_v2_twarc2.jsonl").exit_code == 0
    with TestClient(create_app(db, warm=False, fit_topics=False)) as client:
        page = client.get("/", headers={"accept": "text/html"}).text
    assert "most-addressed accounts (mentions and replies received) are: AcmeHelp (" in page
    assert "socialaudit orgs --add AcmeHelp" in page
