"""The README cannot drift: every console block that shows output is what its commands print.

``benchmarks/readme_blocks.py`` runs each marked block's commands in a scratch folder (the
demo store, the TWCS sample, a Mastodon API replay, a running server) and compares; this test
runs it and fails with the diff and the command that rewrites the README.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _blocks():
    spec = importlib.util.spec_from_file_location(
        "readme_blocks", ROOT / "benchmarks" / "readme_blocks.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["readme_blocks"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


rb = _blocks()


def test_parser_reads_steps_wildcards_and_marks() -> None:
    lines = [
        "<!-- readme-check: demo wrap -->",
        "",
        "    $ echo a \\",
        "          b",
        "    a b",
        "    $ true",
        "",
        "text",
        "",
        "    $ echo unmarked",
        "    unmarked",
    ]
    marked, unmarked = rb.parse(lines)
    assert (marked.context, marked.options) == ("demo", {"wrap": "1"})
    assert [s.command for s in marked.steps] == ["echo a  b", "true"]
    assert marked.steps[0].shown == ["a b"] and marked.steps[1].shown == []
    assert unmarked.context is None and unmarked.shows_output
    # Normalised: durations, sizes, ports, job ids; "..." is any text, "(... )" any lines.
    assert rb.agrees(["Imported 3 in 0.2 s (1.5 MB) on 127.0.0.1:8000"],
                     ["Imported 3 in 12 s (0.9 MB) on 127.0.0.1:41234"], wrap=False)  # fmt: skip
    assert not rb.agrees(["Imported 3 posts"], ["Imported 4 posts"], wrap=False)
    assert rb.agrees(["a ... c", "(... more)", "end"], ["a b c", "x", "y", "end"], wrap=False)
    assert rb.agrees(['{"a":1,', ' "b":...}'], ['{"a":1,"b":[2,3]}'], wrap=True)
    assert not rb.agrees(['{"a":1,', ' "b":2}'], ['{"a":1,"b":3}'], wrap=True)


def test_export_carries_to_later_commands_and_contexts_add_options(tmp_path: Path) -> None:
    """``$ export`` lasts for the context; a context can add options the README leaves out."""
    ctx = rb.Context("files", tmp_path, sys.executable, {})
    try:
        ctx.appends.append((re.compile(r"^echo "), " --api-url http://127.0.0.1:1"))
        assert ctx.run(rb.Step("export GREETING=hello   # a comment", 0, 1), {}) == []
        assert ctx.run(rb.Step('echo "$GREETING"', 0, 1), {}) == [
            "hello --api-url http://127.0.0.1:1"
        ]
        assert ctx.run(rb.Step('printf "%s" "$GREETING"', 0, 1), {}) == ["hello"]
    finally:
        ctx.close()


@pytest.mark.slow
def test_readme_console_blocks_are_what_the_commands_print() -> None:
    result = rb.check()
    assert not result.unmarked, f"unmarked blocks with output at README lines {result.unmarked}"
    assert not result.differing, "\n\n".join(result.differing) + "\n" + rb.HINT
    assert result.checked >= 10
