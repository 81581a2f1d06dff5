"""The audit, benchmark and report documents of fixed markets, captured through the CLI.

``tests/golden/*.json.gz`` hold these documents as the code produced them before the results
refactor (issue 13); ``test_golden.py`` recomputes them and compares field by field. Run
``python -m tests.golden`` (with the source tree to capture on the path) to rewrite them after
an intended change of a figure: the diff of the golden files then shows what changed.

Three markets:

- ``demo``: the synthetic market of ``socialaudit demo`` (seed 7) with deterministic
  listening labels written straight into ``enrichments`` (the real enrichers' output may change
  with their models; these labels exercise the actionable, deflection, resolution and sentiment
  paths without depending on them);
- ``twcs_gen``: a seeded TWCS-format file from ``benchmarks/gen_twcs.py`` (4,000 rows);
- ``twcs_sample``: the real TWCS sample when ``/work/shared/data`` has it (post texts dropped:
  the data set is not copied into the project).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

GOLDEN = Path(__file__).resolve().parent / "golden"
ROOT = Path(__file__).resolve().parents[1]
#: The checkout's sibling ``shared/data`` (from a worktree under ``wt/<name>``: two levels up).
TWCS_SAMPLE = next(
    (
        p / "shared" / "data" / "twcs" / "twcs_head5k.csv"
        for p in (ROOT.parent, ROOT.parents[1])
        if (p / "shared" / "data" / "twcs" / "twcs_head5k.csv").exists()
    ),
    ROOT.parent / "shared" / "data" / "twcs" / "twcs_head5k.csv",
)
MARKETS = ("demo", "twcs_gen", "twcs_sample")
TEXT_FIELDS = {"text", "opener_text"}

#: Listening labels as a pure function of the post id (a hash), so every run writes the same.
FAKE_ENRICH_SQL = """
INSERT INTO enrichments (platform, post_id, intents, is_spam, sentiment, sentiment_label,
    deflection, resolved, intent_version, spam_version, sentiment_version,
    deflection_version, resolution_version)
SELECT platform, post_id,
    CASE hash(post_id) % 5 WHEN 0 THEN ['praise'] WHEN 1 THEN ['complaint']
        ELSE ['question'] END,
    hash(post_id) % 23 = 0,
    ((hash(post_id) % 201)::DOUBLE - 100.0) / 100.0,
    CASE WHEN hash(post_id) % 201 < 70 THEN 'negative'
        WHEN hash(post_id) % 201 > 130 THEN 'positive' ELSE 'neutral' END,
    CASE hash(post_id) % 7 WHEN 0 THEN 'only_moves_channel' WHEN 1 THEN 'asks_move_channel'
        ELSE NULL END,
    hash(post_id) % 3 = 0,
    'golden', 'golden', 'golden', 'golden', 'golden'
FROM posts
"""


def _cli(args: list[str]) -> str:
    from socialaudit.cli import get_app

    result = CliRunner().invoke(get_app(), args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _gen_twcs(out: Path) -> Path:
    spec = importlib.util.spec_from_file_location("gen_twcs", ROOT / "benchmarks" / "gen_twcs.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["gen_twcs"] = mod
    spec.loader.exec_module(mod)
    path = out / "twcs_gen.csv"
    mod.generate(4000, path, seed=1)
    return path


def build_store(market: str, folder: Path) -> Path:
    """Import ``market`` into a fresh store under ``folder``; return the store's path."""
    import socialaudit as sa

    folder.mkdir(parents=True, exist_ok=True)
    db = folder / f"{market}.duckdb"
    with sa.open(db) as store:
        if market == "demo":
            from socialaudit.synthetic import generate_market

            generate_market(folder, seed=7)
            sa.import_file(folder / "market.csv", store=store)
            sa.load_orgs(folder / "orgs.toml", store=store)
            sa.load_campaigns(folder / "campaigns.toml", store=store)
            store.raw.execute(FAKE_ENRICH_SQL)
        elif market == "twcs_gen":
            sa.import_file(_gen_twcs(folder), store=store)
        else:
            sa.import_file(TWCS_SAMPLE, store=store)
    return db


def _strip_text(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_text(v) for k, v in value.items() if k not in TEXT_FIELDS}
    if isinstance(value, list):
        return [_strip_text(v) for v in value]
    return value


def documents(market: str, folder: Path) -> dict[str, Any]:
    """The ``audit --json``, ``benchmark --json`` and report exports of ``market``."""
    db = str(build_store(market, folder))
    base = ["--db", db]
    audit = json.loads(_cli([*base, "audit", "--no-enrich", "--json"]))
    by_platform = json.loads(_cli([*base, "audit", "--no-enrich", "--by-platform", "--json"]))
    bench = json.loads(_cli([*base, "benchmark", "--no-enrich", "--json"]))
    bench30 = json.loads(_cli([*base, "benchmark", "--no-enrich", "--window", "30d", "--json"]))
    out = folder / "report.html"
    _cli([*base, "report", "--no-enrich", "--out", str(out)])
    exports = out.with_name(f"{out.stem}_data")
    report = {
        p.stem: json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(exports.glob("*.json"))
        if market == "demo" or p.stem != "turns"
    }
    docs = {
        "audit": audit,
        "audit_by_platform": by_platform,
        "benchmark": bench,
        "benchmark_30d": bench30,
        "report": report,
    }
    return _strip_text(docs) if market == "twcs_sample" else docs


def main() -> int:
    """Write ``tests/golden/<market>.json.gz`` for every market available."""
    import tempfile

    GOLDEN.mkdir(exist_ok=True)
    for market in MARKETS:
        if market == "twcs_sample" and not TWCS_SAMPLE.exists():
            print(f"skipped {market}: {TWCS_SAMPLE} is absent")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            docs = documents(market, Path(tmp))
        path = GOLDEN / f"{market}.json.gz"
        text = json.dumps(docs, indent=0, sort_keys=True) + "\n"
        path.write_bytes(gzip.compress(text.encode("utf-8"), 9, mtime=0))
        print(f"wrote {path} ({path.stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
