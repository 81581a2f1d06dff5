"""The dashboard snapshot is kept per store generation (issue 18): restarts reuse it."""

from __future__ import annotations

import os

import pandas as pd
import pytest

import socialaudit
from socialaudit.results import to_jsonable
from socialaudit.serve import snapshot as sn

ROWS = [
    (1, "c1", True, 0, "@AcmeHelp my order is late", None),
    (2, "AcmeHelp", False, 30, "sorry, DM us", 1),
    (3, "c2", True, 40, "@AcmeHelp hello?", None),
]


def _no_build(*args: object, **kwargs: object) -> sn.Snapshot:
    raise AssertionError("the snapshot was rebuilt although nothing changed")


def test_restart_reuses_the_snapshot_and_a_write_invalidates_it(
    tmp_path, write_twcs, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "s.duckdb"
    with socialaudit.open(db) as store:
        socialaudit.import_file(write_twcs(ROWS), store=store)
    with socialaudit.open(db, read_only=True) as store:
        first = sn.SnapshotCache(store, window_days=30)
        built = first.current()
        assert first.builds == 1 and not built.reused
        inbox_built = store.execute(built.inbox)
        path = sn.snapshot_path(store)
        assert path is not None and path.is_file()
        assert path.stat().st_mode & 0o077 == 0
    # A restart: a new process would find the same generation and read the file back.
    with socialaudit.open(db, read_only=True) as store, monkeypatch.context() as m:
        m.setattr(sn, "build_snapshot", _no_build)
        again = sn.SnapshotCache(store, window_days=30)
        snap = again.current()
        assert snap.reused and again.builds == 0
        assert to_jsonable(snap.audit) == to_jsonable(built.audit)
        assert snap.bm is not None and built.bm is not None
        assert snap.bm.tier_of("AcmeHelp") == built.bm.tier_of("AcmeHelp")
        inbox = store.execute(snap.inbox)
        assert inbox["turn_id"].tolist() == ["3"]
        pd.testing.assert_frame_equal(inbox, inbox_built)
        # Another window is another key: not this file.
        with pytest.raises(AssertionError, match="rebuilt"):
            sn.SnapshotCache(store, window_days=7).current()
    # Any write moves the generation, even one that changes no count the fingerprint reads.
    with socialaudit.open(db) as store:
        before = sn.fingerprint(store)
        store.choose_enricher_model("sentiment", "default")
        assert sn.fingerprint(store) != before
    with socialaudit.open(db, read_only=True) as store:
        rebuilt = sn.SnapshotCache(store, window_days=30)
        assert not rebuilt.current().reused and rebuilt.builds == 1


def test_a_foreign_or_shared_file_is_not_read(tmp_path, write_twcs) -> None:
    db = tmp_path / "s.duckdb"
    with socialaudit.open(db) as store:
        socialaudit.import_file(write_twcs(ROWS), store=store)
        sn.SnapshotCache(store, window_days=30).current()
        path = sn.snapshot_path(store)
        assert path is not None
        os.chmod(path, 0o666)  # anyone could have written it: unpickling it would run their code
        gen = sn.fingerprint(store)
        assert sn.load_results(store, gen, window_days=30) is None
        os.chmod(path, 0o600)
        assert sn.load_results(store, gen, window_days=30) is not None
        path.write_bytes(b"not a pickle")
        assert sn.load_results(store, gen, window_days=30) is None
