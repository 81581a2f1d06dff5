"""``socialaudit train sentiment``: fit a sentiment model on the user's own labelled posts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from socialaudit.cli import app, guarded
from socialaudit.cli.options import JsonFlag
from socialaudit.cli.output import console, emit_json, err_console

train_app = typer.Typer(
    help="Fit models on your own labelled posts.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(train_app, name="train")


@train_app.command("sentiment")
@guarded
def train_sentiment(
    labelled: Annotated[Path, typer.Argument(help="CSV or JSONL of labelled posts.")],
    text_column: Annotated[
        str, typer.Option("--text-column", help="Column with the text.")
    ] = "text",
    label_column: Annotated[
        str, typer.Option("--label-column", help="Column with negative/neutral/positive.")
    ] = "label",
    out: Annotated[Path, typer.Option("--out", help="Folder to save the model in.")] = Path(
        "sentiment-model"
    ),
    embeddings: Annotated[
        str,
        typer.Option(
            "--embeddings",
            help="auto = core (the static model shipped in every install), static (the "
            "embeddings extra's own distillation), minilm (slow, the extra) or none.",
        ),
    ] = "auto",
    folds: Annotated[
        int, typer.Option("--folds", min=2, max=20, help="Cross-validation folds.")
    ] = 5,
    json_flag: JsonFlag = False,
) -> None:
    """Fit embeddings + logistic regression on labelled posts; report k-fold CV macro-F1.

    The saved folder is what the enrich and classify commands take as a sentiment model.
    Example: socialaudit train sentiment my_labels.csv --text-column text --label-column label
    """
    from socialaudit.enrich.sentiment_model import train_from_file

    report = train_from_file(
        labelled,
        text_column=text_column,
        label_column=label_column,
        out=out,
        embeddings=embeddings,
        folds=folds,
        progress=lambda msg: err_console.print(Text(msg), soft_wrap=True),
    )
    if json_flag:
        emit_json(report)
        return
    counts = ", ".join(f"{n} {c}" for c, n in report["class_counts"].items())
    per_fold = ", ".join(f"{x:.3f}" for x in report["cv_folds"])
    console.print(
        Text(
            f"Trained on {report['rows']} posts ({counts}), embeddings: {report['embeddings']}.\n"
            f"{folds}-fold cross-validated macro-F1: {report['cv_macro_f1']:.3f} "
            f"(folds: {per_fold}).\nSaved the model to {report['out']}."
        ),
        soft_wrap=True,
    )
