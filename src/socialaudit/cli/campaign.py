"""The campaign commands: declare campaigns and costs, then see what a campaign earned.

``socialaudit campaign NAME`` is short for ``socialaudit campaign show NAME``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text
from typer.core import TyperGroup

import socialaudit as sa
from socialaudit.cli import app, guarded, open_store
from socialaudit.cli.options import Format, JsonFlag
from socialaudit.cli.output import (
    console,
    emit,
    emit_json,
    err_console,
    peer_group_text,
    percent,
    records,
)
from socialaudit.metrics.campaigns import campaign_report
from socialaudit.store import campaigns as cs


class _ShowByDefault(TyperGroup):
    """A group whose unknown first word is a campaign name: ``campaign X`` = ``campaign show X``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["show", *args]
        return super().parse_args(ctx, args)


campaign_app = typer.Typer(
    cls=_ShowByDefault,
    help="Campaigns: what a campaign made people say, and what it cost.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(campaign_app, name="campaign")


@campaign_app.command()
@guarded
def add(
    campaign_id: Annotated[str, typer.Argument(help="The campaign's id (what `show` takes).")],
    org: Annotated[str, typer.Option("--org", help="The organization running it.")],
    start: Annotated[str, typer.Option("--start", help="First day (UTC), e.g. 2017-11-01.")],
    end: Annotated[str, typer.Option("--end", help="Last day (UTC, included), e.g. 2017-11-14.")],
    hashtag: Annotated[
        list[str] | None, typer.Option("--hashtag", help="A campaign hashtag (repeat).")
    ] = None,
    keyword: Annotated[
        list[str] | None, typer.Option("--keyword", help="A keyword in the text (repeat).")
    ] = None,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="A campaign account (repeat).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="A display name.")] = None,
    costs: Annotated[
        Path | None,
        typer.Option(
            "--costs", help="Costs CSV: day,channel,spend,impressions,clicks,conversions."
        ),
    ] = None,
) -> None:
    """Declare (or replace) one campaign.

    Example: socialaudit campaign add fiber --org AcmeHelp --start 2017-11-01 --end 2017-11-10
    --hashtag AcmeFiber
    """
    entry: dict[str, Any] = {
        "id": campaign_id,
        "org": org,
        "start": start,
        "end": end,
        "hashtags": hashtag or None,
        "keywords": keyword or None,
        "accounts": account or None,
        "name": name,
        "costs": None if costs is None else str(costs),
    }
    spec = cs.make_spec({k: v for k, v in entry.items() if v is not None}, where="campaign add")
    with open_store(must_exist=True) as store:
        cs.save_campaigns([spec], store=store)
    err_console.print(
        Text(f"Saved campaign {spec.campaign_id} ({spec.start} to {spec.end}, end excluded).")
    )


@campaign_app.command()
@guarded
def load(path: Annotated[Path, typer.Argument(help="A campaigns.toml.")]) -> None:
    """Declare (or replace) every campaign of a campaigns.toml, with the costs files it names.

    Example: socialaudit campaign load campaigns.toml
    """
    with open_store(must_exist=True) as store:
        n = sa.load_campaigns(path, store=store)
    err_console.print(Text(f"Saved {n:,} campaigns from {path}."))


@campaign_app.command("costs")
@guarded
def costs_(
    campaign_id: Annotated[str, typer.Argument(help="The campaign.")],
    path: Annotated[
        Path, typer.Argument(help="CSV: day,channel,spend,impressions,clicks,conversions.")
    ],
) -> None:
    """Replace a campaign's costs with a CSV's rows.

    Example: socialaudit campaign costs fiber costs.csv
    """
    with open_store(must_exist=True) as store:
        n = cs.save_costs(campaign_id, path, store=store)
    err_console.print(Text(f"Stored {n:,} cost rows for {campaign_id}."))


@campaign_app.command("list")
@guarded
def list_(json_: JsonFlag = False) -> None:
    """List the stored campaigns.

    Example: socialaudit campaign list
    """
    with open_store(read_only=True) as store:
        c = store.table("campaigns")
        rows = records(store.execute(c.order_by("campaign_id")))
    emit(
        Format.json if json_ else Format.table,
        rows,
        [
            ("campaign_id", "id"),
            ("name", "name"),
            ("org_id", "org"),
            ("start", "start"),
            ("end", "end (excl.)"),
        ],
        title=f"{len(rows):,} campaigns",
        untrusted=("campaign_id", "name", "org_id"),
    )


@campaign_app.command()
@guarded
def show(
    campaign_id: Annotated[str, typer.Argument(help="The campaign's id or name.")],
    json_: JsonFlag = False,
) -> None:
    """Show a campaign's buzz, uplift, share of voice and cost per result.

    Example: socialaudit campaign fiber --json
    """
    with open_store(read_only=True) as store:
        r = campaign_report(store, campaign_id)
    if json_:
        emit_json(r)
        return
    _print_report(r)


def _money(v: Any) -> str:
    return "–" if v is None else f"{v:,.2f}"


def _signed_pct(ratio: float | None) -> str:
    return "–" if ratio is None else f"{100 * ratio:+.1f}%"


def _mix(sent: dict[str, Any] | None) -> str | None:
    if sent is None:
        return None
    return " / ".join(percent(sent[k]) for k in ("positive", "neutral", "negative"))


def _print_report(r: dict[str, Any]) -> None:
    w, b = r["window"], r["before"]
    console.print(
        Text(
            f"Campaign {r['name']} ({r['campaign']}) of {r['org']}: "
            f"{w['start']} to {w['end']} (end excluded); peer group: "
            f"{peer_group_text(r['peer_group'], r['peer_group_source'])}"
        ),
        soft_wrap=True,
    )
    ratio = r["uplift"]["ratio"]
    sov = w["share_of_voice"]
    sov_b = b["share_of_voice"]
    sent = w["sentiment"]
    rows = [
        {"figure": "mentions", "during": w["mentions"], "before": b["mentions"]},
        {"figure": "unique authors", "during": w["unique_authors"], "before": b["unique_authors"]},
        {
            "figure": "potential reach (upper bound)",
            "during": w["potential_reach"],
            "before": b["potential_reach"],
        },
        {
            "figure": f"engagement ({w['engagement_basis']})",
            "during": w["engagement"],
            "before": b["engagement"],
        },
        {
            "figure": "share of voice",
            "during": None if sov is None else percent(sov["share"]),
            "before": None if sov_b is None else percent(sov_b["share"]),
        },
        {
            "figure": "sentiment +/=/-",
            "during": _mix(sent),
            "before": None,
        },
    ]
    emit(
        Format.table,
        rows,
        [("figure", "figure"), ("during", "campaign window"), ("before", "window before")],
        title=f"Uplift in mentions: {r['uplift']['mentions']:+,} ({_signed_pct(ratio)})",
        untrusted=("figure",),
    )
    c = r["costs"]
    if c is not None:
        emit(
            Format.table,
            [
                {"figure": "spend", "value": _money(c["spend"]), "formula": ""},
                {"figure": "CPM", "value": _money(c["cpm"]), "formula": r["formulas"]["cpm"]},
                {"figure": "CPC", "value": _money(c["cpc"]), "formula": r["formulas"]["cpc"]},
                {
                    "figure": "cost per engagement",
                    "value": _money(c["cost_per_engagement"]),
                    "formula": r["formulas"]["cost_per_engagement"],
                },
                {
                    "figure": "cost per conversion",
                    "value": _money(c["cost_per_conversion"]),
                    "formula": r["formulas"]["cost_per_conversion"],
                },
            ],
            [("figure", "cost"), ("value", "value"), ("formula", "formula")],
            title="Cost per result",
            untrusted=("figure", "value", "formula"),
        )
    emit(
        Format.table,
        r["daily"],
        [("day", "day"), ("mentions", "mentions"), ("unique_authors", "authors")]
        + ([("spend", "spend"), ("clicks", "clicks"), ("conversions", "conversions")] if c else []),
        title="Daily series",
    )
    for note in r["missing"]:
        console.print(Text(f"Not shown: {note}."), soft_wrap=True)
