"""Check, or rewrite, every console block of README.md that shows what a command prints.

The README cannot drift: each block that shows output is preceded by a comment naming the
context its commands run in, e.g. ``<!-- readme-check: demo -->``. This script runs the
block's commands there, one after the other, in a shell whose ``socialaudit`` is this
checkout's, and compares what they print (stdout and stderr, as a terminal shows them) with
the lines the README shows under each command.

Contexts (each a scratch folder, shared by its blocks in README order):

* ``demo``: nothing prepared; the block runs ``socialaudit demo`` itself, and later blocks
  read ``demo-output/demo.duckdb``.
* ``files``: ``tests/fixtures/`` of this checkout, and the files the README shows with ``cat``.
* ``twcs``: ``twcs_head5k.csv`` linked from ``../shared/data/twcs/`` (or
  ``$SOCIALAUDIT_SHARED_DATA/twcs/``); skipped, and said so, when that file is absent.
* ``mastodon``: a replay of the Mastodon API (``python -m tests.replay mastodon``); the
  README's ``--api-url`` is pointed at it.
* ``mastodon-world``: the simulated Mastodon world of ``tests/worlds.py`` (``python -m
  tests.worlds mastodon``: 12 mentions, 8 answered, an access token owned by the org). The
  README leaves ``--api-url`` out of these commands (a user collects the real server), so
  ``--api-url`` pointing at the world is added to each ``collect mastodon`` command here.
* ``serve``: the demo store of the ``demo`` context; ``socialaudit ... serve`` starts in the
  background on a free port with ``--import-dir`` the scratch folder's ``imports/`` (holding
  the TWCS sample when present), and ``curl`` talks to it.

``$ export NAME=VALUE`` sets NAME for the later commands of its context (each command runs
in its own shell).

A ```` ```json ```` block marked ``json="COMMAND"`` is a part of that command's JSON output:
every key and value shown must be in it (floats to the decimals shown).

What is normalised, and only that: durations printed as ``in 1.2 s``, file sizes, TCP ports,
16-hex job ids, the scratch folder's path. A shown line containing ``...`` matches any text
there; a shown line ``(... anything)`` in parentheses matches any number of lines. Options
after the context: ``wrap`` compares with line breaks and indentation ignored (JSON a README
wraps by hand); ``files=a,b`` copies ``benchmarks/readme_files/a`` etc. into the folder
first. ``$ cat FILE`` writes FILE with the lines shown under it before running, so a file
the README shows is the file the next commands read.

Usage::

    python benchmarks/readme_blocks.py            # check; exit 1 and a diff when one differs
    python benchmarks/readme_blocks.py --update   # rewrite the shown output from the runs
    python benchmarks/readme_blocks.py --only demo,mastodon
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FILES = ROOT / "benchmarks" / "readme_files"
HINT = "Run `python benchmarks/readme_blocks.py --update` and review the README diff."
MARK = re.compile(r'^<!-- readme-check: (\w[\w-]*)((?: [\w-]+(?:=(?:"[^"]*"|[\w,.-]+))?)*) -->\s*$')
#: What the README shows for the scratch folder: where a user ran `make demo`.
SHOWN_CWD = "/home/you/socialaudit"
STEP_TIMEOUT_S = 900


@dataclass
class Step:
    """One ``$ command`` of a block and the lines the README shows under it."""

    command: str
    first: int  # README line index of the command's first line
    shown_from: int  # README line index of the first shown output line
    shown: list[str] = field(default_factory=list)


@dataclass
class Block:
    """A console block: where it is, how it is written, its context and its steps."""

    context: str | None
    options: dict[str, str]
    start: int
    end: int  # exclusive
    indent: str
    steps: list[Step]

    @property
    def shows_output(self) -> bool:
        """Whether some command of the block has output under it."""
        return any(s.shown for s in self.steps)


def parse(lines: list[str]) -> list[Block]:
    """Every console block of the README (indented ``$`` blocks and ```` ```console ````)."""
    blocks: list[Block] = []
    mark: tuple[str, dict[str, str]] | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = MARK.match(line)
        if m:
            opts = dict(
                (o.split("=", 1) if "=" in o else (o, "1")) for o in shlex.split(m.group(2))
            )
            mark = (m.group(1), opts)
            i += 1
            continue
        if line.strip() == "```json" and mark and "json" in mark[1]:
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            step = Step(command=mark[1]["json"], first=i, shown_from=i + 1, shown=lines[i + 1 : j])
            blocks.append(Block(mark[0], mark[1], i + 1, j, "", [step]))
            mark, i = None, j + 1
            continue
        if line.strip() == "```console":
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            blocks.append(_block(lines, i + 1, j, "", mark))
            mark, i = None, j + 1
            continue
        if line.startswith("    $ ") and (i == 0 or not lines[i - 1].strip()):
            j = i
            while j < len(lines):
                if lines[j].startswith("    "):
                    j += 1
                    continue
                if not lines[j].strip():
                    k = j
                    while k < len(lines) and not lines[k].strip():
                        k += 1
                    if k < len(lines) and lines[k].startswith("    "):
                        j = k
                        continue
                break
            blocks.append(_block(lines, i, j, "    ", mark))
            mark, i = None, j
            continue
        if line.strip():
            mark = None  # a comment applies to the block right after it, past blank lines
        i += 1
    return blocks


def _block(
    lines: list[str], start: int, end: int, indent: str, mark: tuple[str, dict[str, str]] | None
) -> Block:
    steps: list[Step] = []
    i = start
    while i < end:
        text = lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i].strip()
        if text.startswith("$ "):
            first, command = i, text[2:]
            while command.rstrip().endswith("\\") and i + 1 < end:
                i += 1
                command = command.rstrip()[:-1] + " " + lines[i].strip()
            steps.append(Step(command=command, first=first, shown_from=i + 1))
        elif steps and (text.strip() or steps[-1].shown):
            steps[-1].shown.append(text.rstrip())
        i += 1
    for s in steps:  # blank lines between steps belong to no output
        while s.shown and not s.shown[-1].strip():
            s.shown.pop()
    context, options = mark if mark else (None, {})
    return Block(context, options, start, end, indent, steps)


# -- normalising and comparing ------------------------------------------------------------------

_NORMALISE = [
    (re.compile(r"\bin \d+(?:\.\d+)? s\b"), "in <T> s"),
    (re.compile(r"\b\d+(?:\.\d+)? (?:[kKMG]B|bytes)\b"), "<SIZE>"),
    (re.compile(r"\b(127\.0\.0\.1|localhost):\d+"), r"\1:<PORT>"),
    (re.compile(r"\b[0-9a-f]{16}\b"), "<ID>"),
]


def normalise(text: str) -> str:
    """Replace what legitimately differs between runs: durations, sizes, ports, job ids."""
    for pattern, repl in _NORMALISE:
        text = pattern.sub(repl, text)
    return text.rstrip()


def _pattern(shown: list[str], wrap: bool) -> re.Pattern[str]:
    """The shown lines as a regex: ``...`` is any text, ``(... )`` lines any lines."""
    parts: list[str] = []
    for line in shown:
        n = normalise(line)
        if wrap:
            n = n.strip()
        if n.startswith("(") and n.endswith(")") and "..." in n and not wrap:
            parts.append(r"(?:[^\n]*\n)*?")
            continue
        chunk = ".*?".join(re.escape(p) for p in n.split("..."))
        parts.append(chunk if wrap else chunk + r"\n")
    return re.compile("".join(parts), re.S if wrap else 0)


def agrees(shown: list[str], actual: list[str], *, wrap: bool) -> bool:
    """Whether the actual output is what the README shows, up to the normalisations."""
    if wrap:
        text = "".join(normalise(a).strip() for a in actual)
    else:
        text = "".join(normalise(a) + "\n" for a in actual)
    return _pattern(shown, wrap).fullmatch(text) is not None


def _decimals(x: float) -> int:
    text = repr(x)
    return len(text.split(".", 1)[1]) if "." in text and "e" not in text else 12


def json_agrees(shown: object, actual: object) -> bool:
    """Whether every key and value the README shows is in the actual JSON document.

    Dicts may have more keys, lists more items (the shown ones in order), and a float shown
    with d decimals matches the actual one rounded to d decimals.
    """
    if isinstance(shown, dict):
        return isinstance(actual, dict) and all(
            k in actual and json_agrees(v, actual[k]) for k, v in shown.items()
        )
    if isinstance(shown, list):
        if not isinstance(actual, list):
            return False
        it = iter(actual)
        return all(any(json_agrees(s, a) for a in it) for s in shown)
    if (
        isinstance(shown, float)
        and isinstance(actual, int | float)
        and not isinstance(actual, bool)
    ):
        return abs(shown - actual) <= 0.5 * 10 ** -_decimals(shown) + 1e-12
    return shown == actual


def json_refreshed(shown: object, actual: object) -> object:
    """The shown JSON with the actual values: same keys, items and decimals."""
    if isinstance(shown, dict) and isinstance(actual, dict):
        return {k: json_refreshed(v, actual.get(k)) for k, v in shown.items() if k in actual}
    if isinstance(shown, list) and isinstance(actual, list):
        keyed = [a for a in actual if isinstance(a, dict)]
        out = []
        for i, s in enumerate(shown):
            match = next(
                (a for a in keyed if isinstance(s, dict) and s.get("org") == a.get("org")),
                actual[i] if i < len(actual) else None,
            )
            out.append(json_refreshed(s, match))
        return out
    if isinstance(shown, float) and isinstance(actual, float):
        return round(actual, _decimals(shown))
    return actual


def wrapped(actual: list[str], width: int = 96) -> list[str]:
    """One long line (compact JSON) as README lines breaking after commas."""
    out: list[str] = []
    for line in actual:
        pieces = re.split(r"(?<=,)", line)
        cur = ""
        for p in pieces:
            if cur and len(cur) + len(p) > width:
                out.append(cur)
                cur = " " + p
            else:
                cur += p
        out.append(cur)
    return out


# -- contexts -----------------------------------------------------------------------------------


def shared_data() -> Path:
    """Where the shared public data sets are: ``$SOCIALAUDIT_SHARED_DATA`` or ../shared/data."""
    env = os.environ.get("SOCIALAUDIT_SHARED_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Context:
    """A scratch folder and environment the blocks of one context run in, in README order."""

    def __init__(self, name: str, base: Path, python: str, shared: dict[str, Context]) -> None:
        self.name = name
        self.cwd = base / name
        self.cwd.mkdir(parents=True, exist_ok=True)
        self.shared = shared
        self.procs: list[subprocess.Popen[str]] = []
        self.subs: dict[str, str] = {}  # README text -> what to run instead
        self.appends: list[tuple[re.Pattern[str], str]] = []  # commands that get more options
        shim = base / "bin"
        shim.mkdir(exist_ok=True)
        (shim / "socialaudit").write_text(
            f'#!/bin/sh\nexec "{python}" -m socialaudit "$@"\n', encoding="utf-8"
        )
        (shim / "socialaudit").chmod(0o755)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SOCIALAUDIT_")},
            "PATH": f"{shim}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
            "NO_COLOR": "1",
            "COLUMNS": "200",  # what stdout gets off a terminal; stderr's Rich reads it too
            "TERM": "dumb",
        }
        self.python = python
        self.skip_reason: str | None = None
        getattr(self, f"_setup_{name.replace('-', '_')}", lambda: None)()

    def _setup_files(self) -> None:
        (self.cwd / "tests").mkdir(exist_ok=True)
        link = self.cwd / "tests" / "fixtures"
        if not link.exists():
            link.symlink_to(ROOT / "tests" / "fixtures")

    def _setup_twcs(self) -> None:
        sample = shared_data() / "twcs" / "twcs_head5k.csv"
        if not sample.exists():
            self.skip_reason = f"{sample} is not present (shared data missing)"
            return
        link = self.cwd / "twcs_head5k.csv"
        if not link.exists():
            link.symlink_to(sample)

    def _start_server(self, module: str, platform: str) -> str:
        """Start ``python -m MODULE PLATFORM`` (a replayed API) and return the URL it prints."""
        proc = subprocess.Popen(
            [self.python, "-m", module, platform],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.procs.append(proc)
        assert proc.stdout is not None
        return proc.stdout.readline().strip()

    def _setup_mastodon(self) -> None:
        self.subs["http://127.0.0.1:35017"] = self._start_server("tests.replay", "mastodon")

    def _setup_mastodon_world(self) -> None:
        url = self._start_server("tests.worlds", "mastodon")
        self.appends.append((re.compile(r"\bcollect mastodon\b"), f" --api-url {url}"))

    def _setup_serve(self) -> None:
        demo = self.shared.get("demo")
        if demo is None or not (demo.cwd / "demo-output" / "demo.duckdb").exists():
            self.skip_reason = "the demo context has not run (its block comes first)"
            return
        sample = shared_data() / "twcs" / "twcs_head5k.csv"
        if not sample.exists():  # the import job of the curl block reads it
            self.skip_reason = f"{sample} is not present (shared data missing)"
            return
        (self.cwd / "demo-output").mkdir(exist_ok=True)
        shutil.copy(demo.cwd / "demo-output" / "demo.duckdb", self.cwd / "demo-output")
        imports = self.cwd / "imports"
        imports.mkdir(exist_ok=True)
        if not (imports / sample.name).exists():
            # A copy in the scratch folder: the server refuses links leading out of it.
            shutil.copy(sample, imports / sample.name)
        self.port = free_port()
        self.subs["127.0.0.1:8000"] = f"127.0.0.1:{self.port}"

    def run(self, step: Step, options: dict[str, str]) -> list[str]:
        """Run one step; return its output lines (stdout then stderr merged, as shown)."""
        command = step.command
        for shown, real in self.subs.items():
            command = command.replace(shown, real)
        export = re.fullmatch(r"export (\w+)=(\S*)\s*(?:#.*)?", command.strip())
        if export:  # for the later commands, each run in its own shell
            self.env[export.group(1)] = export.group(2)
            return []
        for pattern, extra in self.appends:
            if pattern.search(command):
                body, hash_, comment = command.partition(" #")
                command = body.rstrip() + extra + (hash_ + comment if hash_ else "")
        cat = re.fullmatch(r"cat (\S+)", command.strip())
        if cat:
            (self.cwd / cat.group(1)).write_text(
                "".join(line + "\n" for line in step.shown), encoding="utf-8"
            )
        if self.name == "serve" and re.search(r"\bsocialaudit\b.* serve\b", command):
            return self._serve(command)
        tries = 30 if self.name == "serve" and "curl" in command else 1
        for attempt in range(tries):
            # A terminal shows stderr among stdout; a JSON document is stdout alone.
            merge = "" if "json" in options else " 2>&1"
            res = subprocess.run(
                # The newline ends a trailing "# comment" before the redirection.
                ["bash", "-c", "{ " + command + "\n}" + merge],
                cwd=self.cwd,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=STEP_TIMEOUT_S,
            )
            self._follow_ids(step, res.stdout)
            lines = self._shown_form(res.stdout)
            if attempt + 1 == tries or agrees(step.shown, lines, wrap="wrap" in options):
                break
            time.sleep(1)  # a background job still running
        return lines

    def _follow_ids(self, step: Step, out: str) -> None:
        """A job id the README shows stands for the one this run got, in later commands too."""
        shown = re.findall(r"\b[0-9a-f]{16}\b", "\n".join(step.shown))
        for readme_id, real_id in zip(shown, re.findall(r"\b[0-9a-f]{16}\b", out), strict=False):
            self.subs.setdefault(readme_id, real_id)

    def _serve(self, command: str) -> list[str]:
        command = command.split("#", 1)[0].strip()
        command += f" --port {self.port} --import-dir imports"
        proc = subprocess.Popen(
            ["bash", "-c", "exec " + command + " 2>&1"],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.procs.append(proc)
        assert proc.stdout is not None
        first = proc.stdout.readline()
        deadline = time.time() + 120
        while time.time() < deadline:  # the cache builds in the background: wait for health
            res = subprocess.run(
                ["curl", "-sf", f"http://127.0.0.1:{self.port}/api/health"],
                capture_output=True,
                text=True,
            )
            if res.returncode == 0 and '"status":"ok"' in res.stdout.replace(" ", ""):
                break
            time.sleep(1)
        return self._shown_form(first)

    def _shown_form(self, out: str) -> list[str]:
        out = out.replace(str(self.cwd.resolve()), SHOWN_CWD).replace(str(self.cwd), SHOWN_CWD)
        for shown, real in self.subs.items():
            out = out.replace(real, shown)
        return [line.rstrip() for line in out.rstrip("\n").split("\n")] if out.strip() else []

    def close(self) -> None:
        for proc in self.procs:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


# -- the run ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What checking the README found."""

    checked: int = 0
    differing: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unmarked: list[int] = field(default_factory=list)


def check(
    *, update: bool = False, only: set[str] | None = None, python: str = sys.executable
) -> Outcome:
    """Run every marked block; with ``update``, rewrite the README's shown output."""
    lines = README.read_text(encoding="utf-8").split("\n")
    blocks = parse(lines)
    result = Outcome()
    result.unmarked = [b.start + 1 for b in blocks if b.context is None and b.shows_output]
    replacements: list[tuple[int, int, list[str]]] = []
    contexts: dict[str, Context] = {}
    with tempfile.TemporaryDirectory(prefix="readme-blocks-") as tmp:
        try:
            for block in blocks:
                if block.context is None or (only and block.context not in only):
                    continue
                ctx = contexts.get(block.context) if block.context != "unchecked" else None
                if ctx is None and block.context != "unchecked":
                    ctx = Context(block.context, Path(tmp), python, contexts)
                    contexts[block.context] = ctx
                where = f"README.md:{block.start + 1} ({block.context})"
                if block.context == "unchecked":  # a known gap, listed on every run
                    result.skipped.append(f"{where}: no context runs it yet")
                    continue
                if ctx.skip_reason:
                    result.skipped.append(f"{where}: {ctx.skip_reason}")
                    continue
                for name in filter(None, block.options.get("files", "").split(",")):
                    shutil.copy(FILES / name, ctx.cwd / name)
                wrap = "wrap" in block.options
                for step in block.steps:
                    actual = ctx.run(step, block.options)
                    if not step.shown:
                        continue  # run for its effect; its output is not shown
                    result.checked += 1
                    if "json" in block.options:
                        shown_doc = json.loads("\n".join(step.shown))
                        actual_doc = json.loads("\n".join(actual))
                        if json_agrees(shown_doc, actual_doc):
                            continue
                        fresh = json.dumps(
                            json_refreshed(shown_doc, actual_doc), ensure_ascii=False
                        )
                        new = wrapped([fresh])
                        new = [new[0]] + [" " + n.lstrip() for n in new[1:]]
                        result.differing.append(_diff(where, step, new))
                    elif agrees(step.shown, actual, wrap=wrap):
                        continue
                    else:
                        result.differing.append(_diff(where, step, actual))
                        new = wrapped(actual) if wrap else actual
                        if wrap:
                            new = [new[0]] + [" " + n.lstrip() for n in new[1:]]
                    replacements.append(
                        (
                            step.shown_from,
                            step.shown_from + _shown_span(lines, step, block),
                            [block.indent + n if n else "" for n in new],
                        )
                    )
        finally:
            for ctx in contexts.values():
                ctx.close()
    if update and replacements:
        for start, end, new in sorted(replacements, reverse=True):
            lines[start:end] = new
        README.write_text("\n".join(lines), encoding="utf-8")
    return result


def _shown_span(lines: list[str], step: Step, block: Block) -> int:
    """How many README lines the step's shown output takes (blank lines inside included)."""
    n, seen = 0, 0
    i = step.shown_from
    while seen < len(step.shown) and i < block.end:
        if lines[i].strip() or seen:
            seen += 1
        n += 1
        i += 1
    return n


def _diff(where: str, step: Step, actual: list[str]) -> str:
    shown = [normalise(s) for s in step.shown]
    got = [normalise(a) for a in actual]
    diff = "\n".join(
        difflib.unified_diff(shown, got, "README shows", "the command prints", lineterm="", n=1)
    )
    return f"{where}: $ {step.command}\n{textwrap.indent(diff, '  ')}"


def _iter_report(result: Outcome) -> Iterator[str]:
    for line in result.unmarked:
        yield (
            f"README.md:{line}: a console block shows output but has no "
            "<!-- readme-check: CONTEXT --> comment: say where its commands run."
        )
    yield from result.differing
    for s in result.skipped:
        yield f"skipped {s}"


def main(argv: list[str] | None = None) -> int:
    """Check the README's console blocks (``--update`` rewrites them); 1 when one differs."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--update", action="store_true", help="rewrite the shown output")
    ap.add_argument("--only", help="comma-separated contexts to run (default: all)")
    args = ap.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    result = check(update=args.update, only=only)
    for line in _iter_report(result):
        print(line)
    bad = bool(result.differing or result.unmarked)
    verb = "Rewrote" if args.update and result.differing else "Checked"
    print(
        f"{verb} {result.checked:,} shown outputs: {len(result.differing):,} differed, "
        f"{len(result.skipped):,} blocks skipped, {len(result.unmarked):,} unmarked."
    )
    if bad and not args.update:
        print(HINT)
    return 1 if bad and not args.update else 0


if __name__ == "__main__":
    sys.exit(main())
