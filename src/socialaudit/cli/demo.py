"""``socialaudit demo``: the whole pipeline on a seeded synthetic market."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

import socialaudit as sa
from socialaudit.cli import app, guarded, state
from socialaudit.cli.commands import emit_audit
from socialaudit.cli.listen import enrich_store, fit_topics_where_missing
from socialaudit.cli.options import Format
from socialaudit.cli.output import console, err_console


@app.command()
@guarded
def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the market files and the demo store.")
    ] = Path("demo-output"),
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic market.")] = 7,
) -> None:
    """Generate a synthetic market, import it and print its audit.

    Example: socialaudit demo --out demo-output
    """
    from socialaudit.synthetic import generate_market

    out.mkdir(parents=True, exist_ok=True)
    truth = generate_market(out, seed=seed)
    db = out / "demo.duckdb"
    for stale in (db, Path(f"{db}.wal")):
        stale.unlink(missing_ok=True)
    with sa.open(db) as store:
        result = sa.import_file(out / "market.csv", store=store)
        err_console.print(Text(result.summary()), soft_wrap=True)
        sa.load_orgs(out / "orgs.toml", store=store)
        sa.load_campaigns(out / "campaigns.toml", store=store)
        enrich_store(store)
        # The report and the dashboard's Topics pages then have them from the start.
        fit_topics_where_missing(store)
        report = sa.audit(store, sla_minutes=state.sla_minutes)
        from socialaudit.report import build_report

        written = build_report(
            store, out / "report.html", sla_minutes=state.sla_minutes,
            title=f"Synthetic market (seed {seed})",
        )  # fmt: skip
    emit_audit(
        Format.table,
        report,
        title=f"Synthetic market (seed {seed}) as of {report['reference_time']}",
    )
    matched = [o["org"] for o in report["orgs"] if _matches(o, truth.orgs.get(o["org"]))]
    console.print(
        f"The audit equals the planted truth for {len(matched)} of {len(truth.orgs)} "
        f"organizations on every figure ({out / 'truth.json'} has them)."
    )
    console.print(
        f"Wrote the report of the synthetic market: {written.html.resolve()} "
        f"({written.html_bytes / 1e6:.1f} MB; tables in {written.exports.resolve()}/)."
    )
    console.print(
        f"Next: socialaudit --db {db} unanswered <ORG> --older-than 7d · "
        f"socialaudit --db {db} quality · socialaudit --db {db} turns --csv · "
        f"socialaudit --db {db} topics <ORG> --faq"
    )
    console.print(
        f"The team's dashboard and REST API: socialaudit --db {db} serve "
        "(then open http://127.0.0.1:8000/; the API schema is at /openapi.json)."
    )


def _matches(org: dict[str, Any], planted: Mapping[str, Any] | None) -> bool:
    """Every figure of the audit equals the generator's planted one (floats to 1e-9)."""
    if planted is None:
        return False
    for key, value in org["responsiveness"]["all"].items():
        want = planted.get(key)
        if value is None or want is None:
            if value != want:
                return False
        elif not math.isclose(float(value), float(want), rel_tol=0, abs_tol=1e-9):
            return False
    return True
