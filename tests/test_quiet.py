"""Third-party progress bars and load reports never reach the user's terminal."""

from __future__ import annotations

import logging

import pytest

from socialaudit.enrich import embeddings
from socialaudit.enrich.quiet import quiet_third_party


def test_tqdm_and_library_warnings_are_caught(capfd) -> None:
    tqdm = pytest.importorskip("tqdm")
    with quiet_third_party():
        for _ in tqdm.tqdm(range(3), desc="Loading weights"):
            pass
        logging.getLogger("transformers.modeling_utils").warning("BertModel LOAD REPORT")
    out, err = capfd.readouterr()
    assert "Loading weights" not in out + err and "LOAD REPORT" not in out + err


@pytest.mark.skipif(not embeddings.available("minilm"), reason="socialaudit[embeddings] missing")
def test_loading_the_shipped_model_prints_nothing(capfd) -> None:
    model = embeddings._minilm_model()
    assert model is not None
    out, err = capfd.readouterr()
    assert "LOAD REPORT" not in out + err
    assert "Loading weights" not in out + err and "it/s" not in out + err


def test_our_progress_bar_says_what_is_happening(monkeypatch) -> None:
    import io

    from rich.console import Console

    from socialaudit.cli import listen

    out = io.StringIO()
    monkeypatch.setattr(listen, "err_console", Console(file=out, force_terminal=True, width=120))
    with listen.progress_bar() as update:
        update("sentiment", 5, 10)
    assert "Labelling posts: sentiment" in out.getvalue()
