"""``socialaudit train sentiment`` on a tiny hand-written labelled file, and its bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from socialaudit.enrich import embeddings as emb
from socialaudit.enrich.sentiment_model import TrainError, load_trained

FIXTURE = Path(__file__).parent / "fixtures" / "sentiment_labelled.csv"


def test_train_cv_save_and_use(tmp_path: Path, runner, app) -> None:
    out = tmp_path / "model"
    res = runner.invoke(
        app,
        ["train", "sentiment", str(FIXTURE), "--out", str(out), "--embeddings", "none", "--json"],
    )
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["rows"] == 24
    assert report["class_counts"] == {"negative": 8, "neutral": 8, "positive": 8}
    assert len(report["cv_folds"]) == 5
    assert 0.0 <= report["cv_macro_f1"] <= 1.0
    meta = json.loads((out / "meta.json").read_text())
    assert meta["kind"] == "sentiment" and meta["cv_macro_f1"] == report["cv_macro_f1"]

    enricher = load_trained(out)
    assert enricher.name == "sentiment" and enricher.version.startswith("trained-")
    texts = [
        "@AcmeAir worst airline ever, lost my bag and nobody answers",
        "@AcmeHelp thank you so much, the crew was wonderful!",
        "@AcmeAir worst airline ever, lost my bag and nobody answers",
    ]
    labels = enricher.run(pa.table({"text": texts, "author_id": [None] * 3}))
    assert labels.label[0] == labels.label[2] == "negative"
    assert labels.label[1] == "positive"
    assert labels.score[0] < 0 < labels.score[1]
    assert labels.columns == {"sentiment": labels.score, "sentiment_label": labels.label}


def test_train_table_output(tmp_path: Path, runner, app) -> None:
    res = runner.invoke(
        app,
        ["train", "sentiment", str(FIXTURE), "--out", str(tmp_path / "m"), "--embeddings", "none"],
    )
    assert res.exit_code == 0, res.output
    assert "5-fold cross-validated macro-F1" in res.stdout


@pytest.mark.skipif(not emb.available("static"), reason="embeddings extra not installed")
def test_train_with_static_embeddings(tmp_path: Path, runner, app) -> None:
    out = tmp_path / "model"
    args = ["train", "sentiment", str(FIXTURE), "--out", str(out), "--embeddings", "static"]
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["embeddings"] == "static"
    enricher = load_trained(out)
    got = enricher.run(pa.table({"text": ["@AcmeHelp great support, thank you!"]}))
    assert got.label == ["positive"]


def _write(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("", [], "is empty"),
        ("text,label\n", [], "no data"),
        ("body,label\nhi,positive\n", [], "no column 'text'"),
        ("text,sentiment\nhi,positive\n", [], "no column 'label'"),
        ("text,label\n" + "fine,positive\n" * 10, [], "two sentiment classes"),
        ("text,label\n" + "a,positive\n" * 10 + "b,negative\n" * 2, [], "Too few labelled"),
        ("text,label\nhi,happy\nho,sad\n", [], "Unknown sentiment labels"),
    ],
)
def test_bad_input_one_line_exit_2(
    tmp_path: Path, runner, app, content: str, args: list[str], message: str
) -> None:
    path = _write(tmp_path, content)
    res = runner.invoke(app, ["train", "sentiment", str(path), "--out", str(tmp_path / "m"), *args])
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "m").exists()


def test_missing_file_and_bad_model_dir(tmp_path: Path, runner, app) -> None:
    res = runner.invoke(app, ["train", "sentiment", str(tmp_path / "nope.csv")])
    assert res.exit_code == 2 and "No such file" in res.output
    with pytest.raises(TrainError, match="not a trained sentiment model"):
        load_trained(tmp_path)


def test_trained_model_in_enrich_and_classify(tmp_path: Path, runner, app, write_twcs) -> None:
    model = tmp_path / "model"
    res = runner.invoke(
        app, ["train", "sentiment", str(FIXTURE), "--out", str(model), "--embeddings", "none"]
    )
    assert res.exit_code == 0, res.output
    db = str(tmp_path / "s.duckdb")
    rows = [
        (1, "c1", True, 0, "@AcmeAir worst airline ever, lost my bag and nobody answers", None),
        (2, "AcmeAir", False, 5, "@c1 sorry to hear that", 1),
    ]
    runner.invoke(app, ["--db", db, "import", str(write_twcs(rows))])
    default = runner.invoke(app, ["--db", db, "enrich"])
    assert default.exit_code == 0, default.output
    # The trained model has another version: only sentiment runs again, on every post.
    res = runner.invoke(app, ["--db", db, "enrich", "--sentiment-model", str(model)])
    assert res.exit_code == 0, res.output
    assert "sentiment 2" in res.output and "intent" not in res.output
    import socialaudit

    with socialaudit.open(db) as store:
        versions = store.frame("SELECT DISTINCT sentiment_version AS v FROM enrichments")["v"]
    assert versions.tolist() == [load_trained(model).version]
    src = tmp_path / "in.csv"
    src.write_text("text\n@AcmeHelp thank you so much, the crew was wonderful!\n", encoding="utf-8")
    res = runner.invoke(app, ["classify", "sentiment", str(src), "--model", str(model)])
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[1].split(",")[-2] == "positive"
    wrong = runner.invoke(app, ["classify", "intent", str(src), "--model", str(model)])
    assert wrong.exit_code == 2 and "Unknown intent model" in wrong.output
