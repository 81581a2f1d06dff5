"""The network command: relevant network, trusted voices and a graph export for Gephi."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from socialaudit.cli import app, guarded, open_store
from socialaudit.cli.options import Format, JsonFlag, Limit
from socialaudit.cli.output import console, emit, emit_json, err_console, percent
from socialaudit.errors import ConfigError
from socialaudit.metrics import network_audit as na

VOICE_COLUMNS = [
    ("org", "org"),
    ("rank", "#"),
    ("voice", "voice"),
    ("answers_first", "answered first"),
    ("before_org", "before org"),
    ("instead_of_org", "instead of org"),
    ("after_org", "after org"),
    ("reactions", "customer replied"),
    ("thanked", "thanked"),
    ("pagerank", "PageRank"),
    ("example", "example thread"),
]


@app.command()
@guarded
def network(
    target: Annotated[str, typer.Argument(help="An organization, or one account (id or handle).")],
    limit: Limit = 10,
    gexf: Annotated[
        Path | None, typer.Option("--gexf", help="Also write the conversation graph as GEXF.")
    ] = None,
    graphml: Annotated[
        Path | None, typer.Option("--graphml", help="Also write the conversation graph as GraphML.")
    ] = None,
    peer_group: Annotated[
        bool, typer.Option("--peer-group", help="TARGET is a peer group: all its orgs together.")
    ] = False,
    json_: JsonFlag = False,
) -> None:
    """Show who engages with an org or person, who comes back, and whom customers trust.

    Example: socialaudit network AppleSupport --gexf apple.gexf
    """
    with open_store(read_only=True) as store:
        result = na.network(store, target, limit=limit or 10, peer_group=peer_group)
        if gexf is not None or graphml is not None:
            graph = na.conversation_graph(store, target, peer_group=peer_group)
            _export(graph, gexf=gexf, graphml=graphml)
    if json_:
        emit_json(result)
        return
    _print_network(result)


def _export(graph: Any, *, gexf: Path | None, graphml: Path | None) -> None:
    import networkx as nx

    for path, writer in ((gexf, nx.write_gexf), (graphml, nx.write_graphml)):
        if path is None:
            continue
        try:
            writer(graph, path)
        except OSError as exc:
            raise ConfigError(f"Cannot write {path} ({exc.strerror}). Check the folder.") from None
        err_console.print(
            Text(
                f"Wrote {graph.number_of_nodes():,} nodes and {graph.number_of_edges():,} "
                f"edges to {path}."
            )
        )


def _print_network(r: dict[str, Any]) -> None:
    g, rel = r["graph"], r["relevant_network"]
    who = f"{r['target']} ({', '.join(r['accounts'])})"
    console.print(
        Text(
            f"Network of {who}: {g['conversations']:,} conversations, {g['nodes']:,} accounts, "
            f"{g['interactions']:,} interactions."
        ),
        soft_wrap=True,
    )
    followers = f"{rel['followers']:,} followers, " if rel["followers"] is not None else ""
    on_topic = "" if rel["on_topic"] is None else f", {rel['on_topic']:,} on its topics"
    console.print(
        Text(
            f"{followers}relevant people: {rel['relevant']:,} of {rel['interactors']:,} "
            f"interactors ({percent(rel['relevant_share'])}); {rel['repeat']:,} came back in "
            f"another conversation{on_topic}."
        ),
        soft_wrap=True,
    )
    for note in rel["missing"]:
        console.print(Text(f"Not shown: {note}."), soft_wrap=True)
    voices = r["trusted_voices"]
    if voices is None:
        console.print("Trusted voices are measured for organizations (their customers' turns).")
        return
    rows = [
        {**v, "example": v["examples"][0]["reply_permalink"] if v["examples"] else None}
        for v in voices
    ]
    emit(
        Format.table,
        rows,
        VOICE_COLUMNS,
        title=f"Trusted voices of {r['target']}: {r['definitions']['trusted_voice_rank']}",
        formatters={"pagerank": lambda v: "–" if v is None or v != v else f"{v:.4f}"},
        untrusted=("org", "voice", "example"),
    )
    if not rows:
        console.print("No account outside the org replied to its customers' turns.")
