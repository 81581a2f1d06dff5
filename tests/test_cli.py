from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import TWCS_SAMPLE

ROWS = [
    (1, "AcmeHelp", False, 0, "Welcome", None),
    (
        2,
        "55",
        True,
        10,
        "@AcmeHelp [bold red]pwned[/] \x1b[31mred\x1b[0m <script>alert(1)</script>",
        1,
    ),
    (3, "AcmeHelp", False, 20, "@55 hi", 2),
    (4, "56", True, 30, "@AcmeHelp anyone?", None),
    (5, "AcmeHelp", False, 30 * 1440, "later", None),
]


@pytest.fixture
def db(tmp_path: Path, write_twcs, runner, app) -> Path:
    path = tmp_path / "cli.duckdb"
    res = runner.invoke(app, ["--db", str(path), "import", str(write_twcs(ROWS))])
    assert res.exit_code == 0, res.output
    assert "Imported 5 of 5 records" in res.output
    return path


def test_audit_json_shape(db, runner, app) -> None:
    res = runner.invoke(app, ["--db", str(db), "audit", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["reference_time"] == "2017-10-31T12:00:00+00:00"
    (acme,) = data["orgs"]
    assert acme["org"] == "AcmeHelp"
    # Audit enriches first; with intent and spam known, actionable turns are measured: only
    # "anyone?" asks something (the markup post neither asks nor complains), and it waits.
    actionable = acme["responsiveness"]["actionable"]
    assert (actionable["turns"], actionable["answered"]) == (1, 0)
    assert acme["responsiveness"]["all"] == {
        "turns": 2,
        "answered": 1,
        "response_rate": 0.5,
        "frt_median_s": 600.0,
        "frt_p90_s": 600.0,
        "sla_attainment": 0.5,
        "negative_frt": 0,
        "backlog_24h": 1,
        "backlog_7d": 1,
        "backlog_30d": 0,
    }


def test_audit_table_and_csv(db, runner, app) -> None:
    res = runner.invoke(app, ["--db", str(db), "--sla-minutes", "5", "audit"])
    assert res.exit_code == 0 and "AcmeHelp" in res.stdout and "50.0%" in res.stdout
    res = runner.invoke(app, ["--db", str(db), "audit", "--csv"])
    assert res.stdout.splitlines()[0].startswith("org,turns,answered,response_rate")


def test_untrusted_text_is_inert(db, runner, app) -> None:
    res = runner.invoke(app, ["--db", str(db), "turns", "AcmeHelp", "--json"])
    assert "<script>" in res.stdout  # JSON carries the text as data
    res = runner.invoke(app, ["--db", str(db), "unanswered", "AcmeHelp", "--older-than", "0s"])
    assert res.exit_code == 0
    res = runner.invoke(app, ["--db", str(db), "turns", "AcmeHelp"])
    assert "\x1b" not in res.stdout


def test_unanswered_lists_permalinks(db, runner, app) -> None:
    res = runner.invoke(
        app, ["--db", str(db), "unanswered", "AcmeHelp", "--older-than", "7d", "--json"]
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [r["opener_id"] for r in rows] == ["4"]
    assert rows[0]["opener_permalink"] == "https://twitter.com/i/web/status/4"


def test_unanswered_text_escaped_in_table(tmp_path, write_twcs, runner, app) -> None:
    path = tmp_path / "x.duckdb"
    rows = [
        (1, "AcmeHelp", False, 0, "x", None),
        (2, "9", True, 1, "@AcmeHelp [bold]hi[/bold] \x1b]0;evil\x07", None),
        (3, "AcmeHelp", False, 100, "later", None),
    ]
    runner.invoke(app, ["--db", str(path), "import", str(write_twcs(rows))])
    res = runner.invoke(app, ["--db", str(path), "unanswered", "AcmeHelp"])
    assert "[bold]hi[/bold]" in res.stdout
    assert "\x1b" not in res.stdout and "\x07" not in res.stdout
    assert "\\x1b" in res.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["unanswered", "Nope"], "No organization 'Nope'"),
        (["unanswered", "AcmeHelp", "--older-than", "soon"], "Cannot read duration"),
        (["audit", "--json", "--csv"], "Choose one of"),
        (["audit", "--engine", "oracle"], "Unknown engine"),
    ],
)
def test_errors_are_one_line_exit_2(db, runner, app, args, message) -> None:
    res = runner.invoke(app, ["--db", str(db), *args])
    assert res.exit_code == 2, res.output
    assert message in res.stderr
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr


def test_bad_import_exit_2_and_store_untouched(db, tmp_path, runner, app) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    res = runner.invoke(app, ["--db", str(db), "import", str(empty)])
    assert res.exit_code == 2 and "is empty" in res.stderr
    res = runner.invoke(app, ["--db", str(db), "import", str(tmp_path / "missing.csv")])
    assert res.exit_code == 2 and "does not exist" in res.stderr
    res = runner.invoke(app, ["--db", str(db), "quality", "--json"])
    assert json.loads(res.stdout)["inserted"] == 5


def test_quality_and_orgs(db, tmp_path, runner, app) -> None:
    res = runner.invoke(app, ["--db", str(db), "quality"])
    assert res.exit_code == 0 and "orphans" in res.stdout and "Nothing is quarantined" in res.stdout
    bad = tmp_path / "orgs.toml"
    bad.write_text("[[org]]\nname = 'no id'\n")
    res = runner.invoke(app, ["--db", str(db), "orgs", "--load", str(bad)])
    assert res.exit_code == 2 and "needs an id" in res.stderr
    good = tmp_path / "good.toml"
    good.write_text(
        '[[org]]\nid = "acme"\npeer_group = "telecom"\n[org.accounts]\ntwitter = ["@acmehelp"]\n'
    )
    res = runner.invoke(app, ["--db", str(db), "orgs", "--load", str(good), "--json"])
    assert res.exit_code == 0, res.output
    (org,) = json.loads(res.stdout)
    assert (org["org_id"], org["accounts"], org["posts"]) == ("acme", "twitter:AcmeHelp", 3)


def test_generic_import_via_cli(tmp_path, runner, app) -> None:
    src = tmp_path / "c.csv"
    src.write_text("ID,WHO,WHEN,WHAT\n1,ann,2020-01-01 00:00:00,hello\n")
    res = runner.invoke(
        app,
        [
            "--db",
            str(tmp_path / "g.duckdb"),
            "import",
            str(src),
            "--map",
            "id=ID",
            "--map",
            "author=WHO",
            "--map",
            "created_at=WHEN",
            "--map",
            "text=WHAT",
            "--platform",
            "forum",
        ],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app, ["--db", str(tmp_path / "g.duckdb"), "import", str(src), "--map", "nonsense"]
    )
    assert res.exit_code == 2 and "field=COLUMN" in res.stderr


def test_missing_store_for_reading(tmp_path, runner, app) -> None:
    res = runner.invoke(app, ["--db", str(tmp_path / "none.duckdb"), "audit"])
    assert res.exit_code == 2 and "No store" in res.stderr


def test_every_command_has_help_with_example(runner, app) -> None:
    names = [c.name or c.callback.__name__ for c in app.registered_commands]
    assert {"import", "orgs", "audit", "unanswered", "turns", "quality", "demo"} <= set(names)
    for name in names:
        res = runner.invoke(app, [name, "--help"])
        assert res.exit_code == 0
        assert "Example: socialaudit" in res.stdout, name


def test_demo(tmp_path, runner, app) -> None:
    out = tmp_path / "demo"
    res = runner.invoke(app, ["demo", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "The audit equals the planted truth for 8 of 8 organizations" in res.stdout
    assert (out / "demo.duckdb").exists() and (out / "truth.json").exists()
    # `make demo` ends with the report of the synthetic market and prints its path.
    assert "Wrote the report of the synthetic market:" in res.stdout
    assert str((out / "report.html").resolve()) in res.stdout.replace("\n", "")
    assert (out / "report.html").stat().st_size > 0


@pytest.mark.skipif(not TWCS_SAMPLE.exists(), reason="shared TWCS sample not present")
def test_twcs_sample_end_to_end(tmp_path, runner, app) -> None:
    db = str(tmp_path / "t.duckdb")
    assert runner.invoke(app, ["--db", db, "import", str(TWCS_SAMPLE)]).exit_code == 0
    res = runner.invoke(app, ["--db", db, "import", str(TWCS_SAMPLE)])
    assert "Imported 0 of 5,000 records" in res.stderr and "5,000 duplicates" in res.stderr
    data = json.loads(runner.invoke(app, ["--db", db, "audit", "--json"]).stdout)
    assert len(data["orgs"]) > 50


def test_import_from_stdin(tmp_path, runner, app) -> None:
    from tests.conftest import twcs_csv

    db = str(tmp_path / "s.duckdb")
    res = runner.invoke(app, ["--db", db, "import", "-"], input=twcs_csv(ROWS))
    assert res.exit_code == 0, res.output
    assert "Imported 5 of 5 records from stdin" in res.stderr
