"""The shape of ``src/socialaudit``: largest functions, cross-package imports, one key's spread.

Issue 13's before/after figures come from here::

    python benchmarks/code_shape.py [--src src] [--key deflection_rate] [--top 10]

- largest functions: lines from ``def`` to the last line of the body (decorators excluded);
- cross-package imports: ``import``/``from`` statements in package A naming package B of
  ``socialaudit`` (A != B), counted per statement, with the pairs listed;
- the files under ``src/`` whose text names the key.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import Counter
from pathlib import Path


def _package(path: Path, root: Path) -> str:
    rel = path.relative_to(root).parts
    return rel[0] if len(rel) > 1 else rel[0].removesuffix(".py")


def functions(root: Path) -> list[tuple[int, str]]:
    """(lines, qualified name) of every function and method under ``root``."""
    out = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                out.append((lines, f"{path.relative_to(root)}:{node.name}"))
    return sorted(out, reverse=True)


def cross_imports(root: Path) -> Counter[tuple[str, str]]:
    """(importing package, imported package) -> number of import statements."""
    pairs: Counter[tuple[str, str]] = Counter()
    for path in sorted(root.rglob("*.py")):
        here = _package(path, root)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "socialaudit" and len(parts) > 1 and parts[1] != here:
                    pairs[(here, parts[1])] += 1
    return pairs


def main(argv: list[str] | None = None) -> int:
    """Print the three figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, default=Path("src"))
    parser.add_argument("--key", default="deflection_rate")
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)
    root = args.src / "socialaudit"
    funcs = functions(root)
    print(f"largest functions (lines), {len(funcs)} in all:")
    for lines, name in funcs[: args.top]:
        print(f"  {lines:4d}  {name}")
    pairs = cross_imports(root)
    print(f"cross-package imports: {sum(pairs.values())} statements, {len(pairs)} package pairs")
    cycles = sorted({tuple(sorted(p)) for p in pairs if (p[1], p[0]) in pairs})
    print(f"  package pairs importing each other: {', '.join('<->'.join(c) for c in cycles)}")
    print(f"  metrics -> enrich: {pairs.get(('metrics', 'enrich'), 0)}")
    named = sorted(
        str(p.relative_to(args.src))
        for p in args.src.rglob("*")
        if p.is_file() and p.suffix in {".py", ".j2", ".js", ".toml"}
        and args.key in p.read_text(encoding="utf-8")
    )  # fmt: skip
    print(f"files naming {args.key!r}: {len(named)}")
    for name in named:
        print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
