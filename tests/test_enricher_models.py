"""One set of labels per store, whatever is installed (issue 16, build item 1).

- The default enrichers give the same labels in the core install (no torch, no
  sentence-transformers, no model2vec) as with the ``embeddings`` extra: the same posts are
  labelled in a subprocess where the extra cannot be imported and here, where it can.
- Another model runs only when chosen (``enrich --model``); the store records the choice, later
  runs keep it, and ``audit --json`` reports the model and the versions it read.
- The shipped static model embeds with numpy + tokenizers only, the same vector for a text in
  any batch, and matches model2vec's own encoder when that is installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import socialaudit
from socialaudit.enrich import intent, static_model
from socialaudit.enrich.catalog import DEFAULT_ENRICHERS, load, parse_model
from socialaudit.enrich.runner import enrich, pending
from socialaudit.errors import ConfigError

EXTRA_MODULES = ("torch", "sentence_transformers", "model2vec", "transformers", "safetensors")
POSTS = [
    "@AmazonHelp where is my package? ordered 2 weeks ago",
    "@AmazonHelp tracking says delivered yesterday but there is no parcel at my door",
    "@Delta my flight was delayed 4 hours and nobody tells us anything",
    "@Tesco the app keeps crashing, can you fix it?",
    "@AppleSupport thank you so much, that fixed it! 🙏",
    "@sprintcare thanks in advance, any update on my ticket?",
    "@British_Airways great, another delay. worst airline",
    "@AmazonHelp order 123-4567",
    "@ChipotleTweets $3 burritos tonight, see you there",
    "@XboxSupport Hi, having trouble buying fifa points on Xbox one, can you help?",
    "@SpotifyCares It's back now. Thank you though.",
    "@VerizonSupport Same problem on both boxes",
    "@116216 hola, no he recibido el código de descuento, me ayudan?",
    "@AppleSupport 先日教えていただいたように再起動したら直りました！ありがとうございます",
    "",
    "@Uber_Support &amp; you charged me twice &lt;again&gt;",
]

# Run in a fresh interpreter where every module of the extra fails to import, as in the core
# install: label POSTS with every default enricher and print the labels and versions.
_CORE_INSTALL = """
import json, sys
for name in {blocked!r}:
    sys.modules[name] = None  # import raises ImportError, as when the extra is absent
import pyarrow as pa
from socialaudit.enrich.catalog import DEFAULT_ENRICHERS, load
posts = json.loads(sys.stdin.read())
batch = pa.table({{"text": posts, "author_id": [None] * len(posts)}})
out = {{}}
for name in DEFAULT_ENRICHERS:
    enricher = load(name)
    out[name] = {{"version": enricher.version, "labels": enricher.run(batch).label}}
print(json.dumps(out))
"""


def _labels_here(posts: list[str]) -> dict[str, dict[str, object]]:
    batch = pa.table({"text": posts, "author_id": [None] * len(posts)})
    out: dict[str, dict[str, object]] = {}
    for name in DEFAULT_ENRICHERS:
        enricher = load(name)
        out[name] = {"version": enricher.version, "labels": enricher.run(batch).label}
    return out


def test_default_labels_are_identical_with_and_without_the_embeddings_extra() -> None:
    installed = [m for m in EXTRA_MODULES if importlib.util.find_spec(m) is not None]
    for name in installed:  # this process: the full install, with the extra loaded
        __import__(name)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    core = subprocess.run(
        [sys.executable, "-c", _CORE_INSTALL.format(blocked=EXTRA_MODULES)],
        input=json.dumps(POSTS),
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    core_labels = json.loads(core.stdout)
    full_labels = _labels_here(POSTS)
    assert core_labels == full_labels
    # The check is not vacuous: the default intent model finds a complaint with no complaint
    # word that the rules alone miss.
    assert "complaint" in full_labels["intent"]["labels"][1]  # type: ignore[index]


def test_a_text_gets_the_same_vector_in_any_batch() -> None:
    model = static_model.shipped()
    alone = model.encode([POSTS[1]])
    mixed = model.encode(["", POSTS[0], POSTS[1], "zzz"])
    assert np.array_equal(alone[0], mixed[2])
    assert np.allclose(np.linalg.norm(mixed[[1, 2, 3]], axis=1), 1.0, atol=1e-5)
    assert not mixed[0].any()  # no token: a zero vector, not NaN
    assert model.encode([]).shape == (0, model.dim)


def test_static_model_pools_as_model2vec_does() -> None:
    """Our numpy pooling over the shipped vectors equals model2vec's encoder on the same ones."""
    pytest.importorskip("model2vec")
    from model2vec import StaticModel

    ours = static_model.shipped()
    theirs = StaticModel(ours.vectors, ours.tokenizer, normalize=True)
    texts = [intent.model_text(t) for t in POSTS]
    assert np.allclose(ours.encode(texts), theirs.encode(texts), atol=1e-5)


def test_intent_variants_and_versions() -> None:
    rules, default = intent.IntentEnricher("rules"), intent.IntentEnricher()
    assert rules.version != default.version
    assert default.version.endswith(static_model.VERSION)
    text = POSTS[1]
    assert "complaint" not in rules.classify_many([text])[0][0]
    labels, fired = default.classify_many([text])[0]
    assert "complaint" in labels and "complaint_model" in fired
    with pytest.raises(ConfigError, match="Unknown intent model"):
        intent.IntentEnricher("minilm")


def test_parse_model() -> None:
    assert parse_model("intent=rules") == ("intent", "rules")
    assert parse_model(" intent = default ") == ("intent", "default")
    name, path = parse_model("sentiment=some/dir")
    assert name == "sentiment" and Path(path).is_absolute()
    for bad in ("intent", "intent=", "nope=rules"):
        with pytest.raises(ConfigError):
            parse_model(bad)
    with pytest.raises(ConfigError, match="only its default"):
        load("spam", "fancy")


def _store_with_posts(tmp_path: Path, write_twcs) -> socialaudit.Store:
    rows = [
        (1, "c1", True, 0, POSTS[1], None),
        (2, "AcmeHelp", False, 5, "@c1 sorry, please DM us your order number", 1),
        (3, "c2", True, 10, POSTS[0], None),
    ]
    store = socialaudit.open(tmp_path / "m.duckdb")
    socialaudit.import_file(write_twcs(rows), store=store)
    return store


def test_store_records_the_chosen_model(tmp_path: Path, write_twcs) -> None:
    store = _store_with_posts(tmp_path, write_twcs)
    enrich(store, ["intent"])
    assert store.enricher_models() == {}
    # Re-running changes nothing unless asked.
    assert enrich(store, ["intent"]).total == 0
    chosen = enrich(store, ["intent"], models={"intent": "rules"})
    assert chosen.rows == {"intent": 2}
    assert store.enricher_models() == {"intent": "rules"}
    # A later run without --model keeps the recorded choice: nothing to redo.
    assert pending(store, load("intent", "rules")) == 0
    assert enrich(store).rows["intent"] == 0
    report = socialaudit.audit(store)
    assert report["enrichers"]["intent"] == {
        "model": "rules",
        "versions": {intent.RULES_VERSION: 2},
    }
    assert report["enrichers"]["spam"]["model"] == "default"
    # An unknown model is refused before anything is recorded.
    with pytest.raises(ConfigError):
        enrich(store, ["intent"], models={"intent": "nope"})
    assert store.enricher_models() == {"intent": "rules"}
    back = enrich(store, ["intent"], models={"intent": "default"})
    assert back.rows == {"intent": 2} and store.enricher_models() == {}
    versions = socialaudit.audit(store)["enrichers"]["intent"]["versions"]
    assert versions == {intent.VERSION: 2}
    store.close()


def test_enrich_model_option(tmp_path: Path, runner, app, write_twcs) -> None:
    db = str(tmp_path / "c.duckdb")
    rows = [(1, "c1", True, 0, POSTS[1], None), (2, "AcmeHelp", False, 5, "@c1 hi", 1)]
    runner.invoke(app, ["--db", db, "import", str(write_twcs(rows))])
    res = runner.invoke(app, ["--db", db, "enrich", "--model", "intent=rules"])
    assert res.exit_code == 0, res.output
    assert "intent=rules" in res.output
    bad = runner.invoke(app, ["--db", db, "enrich", "--model", "intent"])
    assert bad.exit_code == 2 and "ENRICHER=MODEL" in bad.output
    audit = runner.invoke(app, ["--db", db, "audit", "--json"])
    assert audit.exit_code == 0, audit.output
    doc = json.loads(audit.stdout)
    assert doc["enrichers"]["intent"]["model"] == "rules"
    assert doc["enrichers"]["intent"]["versions"] == {intent.RULES_VERSION: 1}


def test_train_auto_embeddings_are_the_shipped_model(tmp_path: Path, runner, app) -> None:
    fixture = Path(__file__).parent / "fixtures" / "sentiment_labelled.csv"
    res = runner.invoke(
        app, ["train", "sentiment", str(fixture), "--out", str(tmp_path / "m"), "--json"]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["embeddings"] == "core"
