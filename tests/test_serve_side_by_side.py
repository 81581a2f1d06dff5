"""``serve`` and the CLI on one store at the same time, as real processes.

The server holds the store read-only, so reading commands run beside it; a writing command
asks it for the store through the server file, and the server shows the new data after.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import socialaudit
from socialaudit.serve.handoff import read_server_file, server_file
from tests.test_cli import ROWS

SRC = Path(__file__).resolve().parents[1] / "src"
BETA = [
    (101, "BetaCare", False, 0, "Hello from Beta", None),
    (102, "77", True, 5, "@BetaCare my order?", None),
    (103, "BetaCare", False, 9, "@77 on its way", 102),
]


def cli(db: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "socialaudit", *args, "--db", str(db)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.loads(response.read())


@pytest.fixture
def served(tmp_path: Path, write_twcs) -> Iterator[tuple[Path, str, subprocess.Popen[bytes]]]:
    db = tmp_path / "side.duckdb"
    with socialaudit.open(db) as store:
        socialaudit.import_file(write_twcs(ROWS), store=store)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "socialaudit", "--db", str(db), "serve", "--port", "0"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while (info := read_server_file(db)) is None or not _healthy(info.url):
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield db, info.url, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()


def _healthy(url: str) -> bool:
    try:
        return get(url + "api/health")["status"] == "ok"  # type: ignore[index]
    except OSError:
        return False


def test_cli_reads_and_writes_beside_a_running_server(served, write_twcs) -> None:
    db, url, proc = served
    info = read_server_file(db)
    assert info is not None and info.pid == proc.pid
    assert server_file(db).stat().st_mode & 0o077 == 0  # it holds the token: owner only
    # Reading commands run while the server holds the store.
    res = cli(db, "audit", "--no-enrich", "--json")
    assert res.returncode == 0, res.stderr
    assert [o["org"] for o in json.loads(res.stdout)["orgs"]] == ["AcmeHelp"]
    assert cli(db, "quality", "--json").returncode == 0
    # A writing command gets the store from the server, which then serves the new data.
    res = cli(db, "import", str(write_twcs(BETA, name="beta.csv")))
    assert res.returncode == 0, res.stderr
    assert f"served by socialaudit serve (PID {proc.pid}, {url})" in res.stderr
    deadline = time.monotonic() + 120
    while True:
        try:
            orgs = [o["org_id"] for o in get(url + "api/orgs")]  # type: ignore[union-attr]
        except OSError:
            orgs = []  # 503 while the store changes hands
        if orgs == ["AcmeHelp", "BetaCare"]:
            break
        assert time.monotonic() < deadline, orgs
        time.sleep(0.5)
    # ... and reading commands still work once it holds the store again.
    res = cli(db, "orgs", "--json")
    assert res.returncode == 0 and len(json.loads(res.stdout)) == 2


def test_an_audit_with_nothing_to_label_does_not_take_the_store(served) -> None:
    db, url, proc = served
    res = cli(db, "enrich")  # labels go through the server once ...
    assert res.returncode == 0 and "served by socialaudit serve" in res.stderr, res.stderr
    for command in (["audit", "--json"], ["benchmark", "--json"]):
        res = cli(db, *command)  # ... after which reading commands only read
        assert res.returncode == 0, res.stderr
        assert "served by socialaudit serve" not in res.stderr, res.stderr
    assert json.loads(cli(db, "audit", "--json").stdout)["orgs"][0]["org"] == "AcmeHelp"


def test_a_server_that_will_not_let_go_is_named_in_one_line(served, write_twcs) -> None:
    db, url, proc = served
    path = server_file(db)
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "control": "wrong"}))
    res = cli(db, "import", str(write_twcs(BETA, name="beta.csv")))
    assert res.returncode == 1
    (line,) = res.stderr.strip().splitlines()[-1:]
    assert f"served by socialaudit serve (PID {proc.pid}, {url})" in line
    assert f"kill {proc.pid}" in line and "/api/imports" in line
    path.write_text(json.dumps(data))


def test_the_server_file_goes_with_the_server(served) -> None:
    db, _url, proc = served
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)
    assert not server_file(db).exists()
    socialaudit.open(db).close()  # nobody holds the store any more


def test_the_store_reopens_once_every_holder_is_done(tmp_path: Path, write_twcs) -> None:
    from socialaudit.serve.service import Service, StoreUnavailable

    db = tmp_path / "held.duckdb"
    with socialaudit.open(db) as store:
        socialaudit.import_file(write_twcs(ROWS), store=store)
    svc = Service(db, warm=False)
    before = svc.snapshot()
    inbox, imports = svc.inbox(), svc.imports()
    assert inbox["total"] > 0
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    svc.pause(pid=os.getpid(), command="a job")
    svc.pause(pid=gone.pid, command="a CLI command that died")  # never resumes
    assert svc.paused_by is not None and "a job" in svc.paused_by
    assert svc.snapshot() is before  # built pages keep answering from memory
    assert svc.inbox() == inbox  # ... and so does the inbox, from the snapshot's copy
    assert svc.imports() == imports
    with pytest.raises(StoreUnavailable, match="being written by a job"):
        svc.network("AcmeHelp")  # never computed: it needs the store
    with socialaudit.open(db) as store:  # the writer has the store
        socialaudit.import_file(write_twcs(BETA, name="beta.csv"), store=store)
    assert not svc.wait_reopened(0.5)  # this process still holds it
    svc.resume(os.getpid())
    assert svc.wait_reopened(60)  # the dead holder does not keep it closed
    assert svc.paused_by is None
    assert [o["org_id"] for o in svc.orgs()] == ["AcmeHelp", "BetaCare"]
    assert len(svc.imports()) == 2
    svc.close()


PAGES = (
    *("/", "/orgs/AcmeHelp", "/org?id=AcmeHelp", "/inbox", "/inbox?org=acmehelp", "/quality"),
    *("/campaigns", "/api/inbox", "/api/imports", "/api/orgs/AcmeHelp", "/api/health"),
)


def test_the_dashboard_serves_the_last_snapshot_while_a_writer_holds_the_store(
    tmp_path: Path, write_twcs
) -> None:
    from fastapi.testclient import TestClient

    from socialaudit.serve import create_app

    db = tmp_path / "paused.duckdb"
    with socialaudit.open(db) as store:
        socialaudit.import_file(write_twcs(ROWS), store=store)
    html = {"accept": "text/html"}
    with TestClient(create_app(db, warm=False, fit_topics=False)) as client:
        svc = client.app.state.service  # type: ignore[attr-defined]
        before = {p: client.get(p, headers=html) for p in PAGES}
        assert all(r.status_code == 200 for r in before.values())
        svc.pause(pid=os.getpid(), command="socialaudit import")
        during = {p: client.get(p, headers=html) for p in PAGES}
        for path, response in during.items():
            assert response.status_code == 200, (path, response.text[:300])
        for path in ("/api/inbox", "/api/imports", "/api/orgs/AcmeHelp"):
            assert during[path].json() == before[path].json(), path
        assert "opener" in during["/inbox"].text or "@AcmeHelp" in during["/inbox"].text
        banner = "The store is being written by socialaudit import (PID"
        assert banner in during["/orgs/AcmeHelp"].text and banner not in before["/"].text
        # A view never built needs the store: the page says so and reloads by itself.
        network = client.get("/orgs/AcmeHelp/network", headers=html)
        assert network.status_code == 503 and 'data-reload="3"' in network.text
        svc.resume(os.getpid())
        assert svc.wait_reopened(60)
        assert client.get("/orgs/AcmeHelp/network", headers=html).status_code == 200
        assert banner not in client.get("/", headers=html).text
