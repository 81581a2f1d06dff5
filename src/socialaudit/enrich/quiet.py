"""Keep third-party chatter (tqdm bars, Hugging Face load reports) off the user's terminal.

Loading a model through transformers or model2vec draws a dozen progress bars and logs a
"LOAD REPORT" table of checkpoint keys; none of it means anything to someone auditing posts,
and it garbles our own progress line. Our own output says what is happening instead.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
from collections.abc import Iterator

#: Environment switches the libraries read when they are first imported.
QUIET_ENV = {
    "TQDM_DISABLE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
_LOGGERS = ("transformers", "sentence_transformers", "model2vec", "huggingface_hub", "torch")


@contextlib.contextmanager
def quiet_third_party() -> Iterator[io.StringIO]:
    """Silence the libraries for the block; yields what they wrote (for ``--debug`` callers).

    Sets the switches the libraries read, raises their loggers to ERROR, and catches what
    still goes to ``sys.stdout``/``sys.stderr`` (tqdm resolves its stream when a bar starts).
    """
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    levels = {name: logging.getLogger(name).level for name in _LOGGERS}
    for name in _LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    if "transformers" in sys.modules:
        with contextlib.suppress(Exception):
            sys.modules["transformers"].logging.set_verbosity_error()
            sys.modules["transformers"].logging.disable_progress_bar()
    caught = io.StringIO()
    try:
        with contextlib.redirect_stderr(caught), contextlib.redirect_stdout(caught):
            yield caught
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
