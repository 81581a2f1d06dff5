"""Topics of what customers ask an organization, and the questions that recur (FAQ candidates).

One document per turn (the customer's opener and follow-ups: one request), TF-IDF weighted,
factorised with NMF. The number of topics is chosen by coherence (NPMI of each topic's top
terms over the same documents), the measure we also use to compare methods in
``benchmarks/bench_listening.py``. Each topic is labelled with its top terms; assignments are
stored on the opener's ``enrichments.topic_id`` so the per-topic figures (share answered,
median FRT) are computed as Ibis expressions by :mod:`socialaudit.metrics.faq`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy import sparse
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from socialaudit.enrich.textrules import normalise, without_handles
from socialaudit.errors import MetricError
from socialaudit.metrics import responsiveness as rs
from socialaudit.store import Store

VERSION = "topics-nmf-1"
MIN_TURNS = 20
TOP_TERMS = 10
# Coherence is scored on each topic's top 5 terms: in short posts, 10 terms rarely co-occur.
COHERENCE_TERMS = 5
MIN_K = 3
_TOKEN = r"(?u)\b[^\W\d_][\w'’]+\b"
# Words every customer-care conversation has: they would label every topic.
CARE_STOP = frozenset(
    {
        "hi", "hello", "hey", "thanks", "thank", "please", "pls", "help", "just", "im", "i'm",
        "dm", "got", "get", "know", "like", "don't", "can't", "it's", "i've", "you're", "url",
        "amp", "ve", "ll", "did", "does", "doesn't", "didn't", "want", "need", "really", "yes",
        "ok", "okay", "guys", "today", "day", "time", "still", "isn't", "won't", "i'll", "that's",
        "there's", "what's", "let", "tried", "trying", "way", "going", "make", "would",
    }
)  # fmt: skip
STOP_WORDS = sorted(ENGLISH_STOP_WORDS | CARE_STOP)


@dataclass
class Topic:
    """One topic: its label, top terms, size and a few example turns."""

    topic_id: int
    label: str
    top_terms: list[str]
    size: int
    coherence: float
    examples: list[str]


@dataclass
class TopicModel:
    """The fitted topics and the topic of each document (-1: none fits)."""

    topics: list[Topic]
    assignment: np.ndarray
    coherence: float
    method: str


def _prepare(text: str) -> str:
    # Handles (the brand's own above all) would become every topic's top term.
    return without_handles(normalise(text)).lower().replace("’", "'")


def npmi_coherence(binary: sparse.csc_matrix, term_ids: Sequence[int]) -> float:
    """Mean NPMI of every pair of terms over documents (1: always together, -1: never)."""
    ids = list(term_ids)
    if len(ids) < 2:
        return 0.0
    n = binary.shape[0]
    sub = binary[:, ids]
    df = np.asarray(sub.sum(axis=0)).ravel()
    co = (sub.T @ sub).toarray()
    scores = []
    for i in range(len(ids)):
        for j in range(i + 1, len(ids)):
            if co[i, j] == 0:
                scores.append(-1.0)
                continue
            p_ij = co[i, j] / n
            pmi = np.log(p_ij / ((df[i] / n) * (df[j] / n)))
            scores.append(float(pmi / -np.log(p_ij)) if p_ij < 1 else 1.0)
    return float(np.mean(scores))


def _vectorise(docs: list[str]) -> tuple[sparse.csr_matrix, np.ndarray]:
    vectorizer = TfidfVectorizer(
        stop_words=STOP_WORDS,
        token_pattern=_TOKEN,
        min_df=2,
        max_df=0.5,
        ngram_range=(1, 2),
        sublinear_tf=True,
    )
    try:
        matrix = vectorizer.fit_transform(docs)
    except ValueError:
        raise MetricError(
            "The customers' posts share too few words to find topics. Import more data."
        ) from None
    return matrix, np.array(vectorizer.get_feature_names_out())


def fit_kmeans_topics(texts: Sequence[str], *, k: int, seed: int = 0) -> TopicModel:
    """The alternative we measured NMF against: k-means on sentence embeddings.

    Topics are labelled with the TF-IDF terms heaviest in each cluster, and scored with the
    same NPMI, so the two methods are compared on equal terms (needs the embeddings extra).
    """
    from sklearn.cluster import KMeans

    from socialaudit.enrich.embeddings import embed

    docs = [_prepare(t) for t in texts]
    matrix, terms = _vectorise(docs)
    binary = (matrix > 0).astype(np.float64).tocsc()
    vectors = embed(docs)
    assignment = KMeans(n_clusters=k, random_state=seed, n_init=10).fit_predict(vectors)
    topics = []
    for t in range(k):
        members = np.flatnonzero(assignment == t)
        weight = np.asarray(matrix[members].mean(axis=0)).ravel()
        topics.append(_topic(t, weight, members, terms, binary))
    return _model(topics, assignment, "kmeans-embeddings")


def _topic(
    t: int, weight: np.ndarray, ordered: np.ndarray, terms: np.ndarray, binary: sparse.csc_matrix
) -> Topic:
    """A topic from its term weights and its documents, most typical first."""
    top = [i for i in np.argsort(weight)[::-1][:TOP_TERMS] if weight[i] > 0]
    return Topic(
        topic_id=t,
        label=" / ".join(terms[top[:3]]),
        top_terms=[str(x) for x in terms[top]],
        size=len(ordered),
        coherence=npmi_coherence(binary, top[:COHERENCE_TERMS]),
        examples=[str(i) for i in ordered[:3]],
    )


def _model(topics: list[Topic], assignment: np.ndarray, method: str) -> TopicModel:
    """Topics with their size-weighted coherence."""
    sized = [tp for tp in topics if tp.size]
    coherence = float(np.average([tp.coherence for tp in sized], weights=[tp.size for tp in sized]))
    return TopicModel(topics=topics, assignment=assignment, coherence=coherence, method=method)


def fit_topics(texts: Sequence[str], *, k: int | None = None, seed: int = 0) -> TopicModel:
    """Fit NMF topics; with ``k`` None, try a few sizes and keep the most coherent."""
    docs = [_prepare(t) for t in texts]
    if len(docs) < MIN_TURNS:
        raise MetricError(
            f"Only {len(docs)} customer requests: topics need at least {MIN_TURNS}. "
            "Import more data for this organization."
        )
    matrix, terms = _vectorise(docs)
    binary = (matrix > 0).astype(np.float64).tocsc()
    upper = max(MIN_K, min(12, len(docs) // 15, matrix.shape[1] // 3))
    candidates = [k] if k else list(range(MIN_K, upper + 1))
    best: TopicModel | None = None
    for size in candidates:
        model = _nmf(matrix, binary, terms, size, seed)
        if best is None or model.coherence > best.coherence:
            best = model
    assert best is not None
    return best


def _nmf(
    matrix: sparse.csr_matrix, binary: sparse.csc_matrix, terms: np.ndarray, k: int, seed: int
) -> TopicModel:
    k = max(1, min(k, min(matrix.shape) - 1))
    nmf = NMF(n_components=k, init="nndsvda", random_state=seed, max_iter=500)
    weights = nmf.fit_transform(matrix)
    assignment = np.where(weights.max(axis=1) > 0, weights.argmax(axis=1), -1)
    topics = []
    for t, row in enumerate(nmf.components_):
        members = np.flatnonzero(assignment == t)
        order = members[np.argsort(weights[members, t])[::-1]]
        topics.append(_topic(t, row, order, terms, binary))
    return _model(topics, assignment, "nmf")


def turn_documents(store: Store, org: str, tt: rs.TurnTables | None = None) -> pd.DataFrame:
    """One row per turn of ``org`` (spam openers left out when spam is labelled): its text."""
    docs = documents_of(store, [org], tt)
    return docs.drop(columns="org_id").reset_index(drop=True)


def documents_of(
    store: Store, orgs: Sequence[str], tt: rs.TurnTables | None = None
) -> pd.DataFrame:
    """:func:`turn_documents` of several orgs in one query: ``org_id, platform, turn_id, text``."""
    tt = tt or rs.build_turns(store)
    assert tt.turn_posts is not None
    turns = tt.turns.filter(tt.turns.org_id.isin(list(orgs)))
    e = store.table("enrichments")
    turns = turns.left_join(
        e.select("platform", turn_id=e.post_id, spam=e.is_spam), ["platform", "turn_id"]
    )
    turns = turns.filter(turns.spam.isnull() | ~turns.spam).select("org_id", "platform", "turn_id")
    posts = store.table("posts")
    tp = tt.turn_posts.select("platform", "post_id", "turn_id", "created_at")
    texts = (
        turns.join(tp, ["platform", "turn_id"])
        .join(posts.select("platform", "post_id", "text"), ["platform", "post_id"])
        .order_by(["org_id", "platform", "turn_id", "created_at", "post_id"])
    )
    frame = store.execute(texts)
    if frame.empty:
        return pd.DataFrame({"org_id": [], "platform": [], "turn_id": [], "text": []})
    frame["text"] = frame["text"].fillna("")
    keys = ["org_id", "platform", "turn_id"]
    return frame.groupby(keys, sort=True, as_index=False)["text"].agg(" ".join)


def build_topics(
    store: Store, org: str, *, k: int | None = None, turns: rs.TurnTables | None = None
) -> TopicModel:
    """Fit the org's topics and store them (replacing the org's previous topics) atomically."""
    docs = turn_documents(store, org, turns)
    return store_topics(store, org, docs, fit_topics(docs["text"].tolist(), k=k))


def store_topics(store: Store, org: str, docs: pd.DataFrame, model: TopicModel) -> TopicModel:
    """Store a model fitted on ``docs`` (from :func:`turn_documents`) as ``org``'s topics.

    Apart from :func:`build_topics` so that a server can read and fit on its read-only
    connection and take the store for the write only.
    """
    topics = pa.table(
        {
            "label": [t.label for t in model.topics],
            "top_terms": [t.top_terms for t in model.topics],
            "size": [t.size for t in model.topics],
            "is_question": pa.array([None] * len(model.topics), pa.bool_()),
            "examples": [
                [str(docs["turn_id"].iloc[int(i)]) for i in t.examples] for t in model.topics
            ],
        }
    )
    order = {t.topic_id: n for n, t in enumerate(model.topics)}
    assigned = pa.table(
        {
            "platform": pa.array(docs["platform"].tolist(), pa.string()),
            "post_id": pa.array(docs["turn_id"].tolist(), pa.string()),
            "topic": pa.array(
                [order.get(int(a)) if a >= 0 else None for a in model.assignment], pa.int64()
            ),
        }
    )
    new_ids = store.replace_topics(org, topics, assigned, version=VERSION)
    ids = {t.topic_id: new_ids[order[t.topic_id]] for t in model.topics}
    for t in model.topics:
        t.topic_id = ids[t.topic_id]
        t.examples = [str(docs["turn_id"].iloc[int(i)]) for i in t.examples]
    return model


def tokens(text: str) -> list[str]:
    """The terms the vectorizer would see (for tests and explanations)."""
    return [w for w in re.findall(_TOKEN, _prepare(text)) if w not in STOP_WORDS]


def fit_missing_topics(
    store: Store,
    /,
    *,
    turns: rs.TurnTables | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, str]:
    """Fit the topics of every org that has none stored yet and enough requests to fit.

        What a report (or a page) needs when the user never ran ``socialaudit topics ORG``.
        Returns what happened to each org without topics: ``fitted N topics``, or why not (too
        few requests). ``progress(org, done, total)`` hears each org as its fit starts, and the
    end.
    """
    tt = turns or rs.build_turns(store)
    counts = tt.turns.group_by("org_id").agg(requests=tt.turns.count())
    stored = store.table("topics").select("org_id").distinct()
    missing = counts.anti_join(stored, "org_id").order_by(["org_id"])
    frame = store.execute(missing)
    outcome: dict[str, str] = {}
    todo = [(str(r["org_id"]), int(r["requests"])) for r in frame.to_dict("records")]
    fit = [(org, n) for org, n in todo if n >= MIN_TURNS]
    for org, n in todo:
        if n < MIN_TURNS:
            outcome[org] = f"only {n:,} customer requests (topics need {MIN_TURNS})"
    # One query for every org's requests: one per org cost more than the fits themselves.
    docs = documents_of(store, [org for org, _ in fit], tt)
    by_org = {str(org): group for org, group in docs.groupby("org_id", sort=False)}
    empty = docs.iloc[0:0]
    for i, (org, _) in enumerate(fit):
        if progress is not None:
            progress(org, i, len(fit))
        mine = by_org.get(org, empty).drop(columns="org_id").reset_index(drop=True)
        try:
            model = store_topics(store, org, mine, fit_topics(mine["text"].tolist()))
        except MetricError as exc:  # spam left out: fewer requests than the turns counted
            outcome[org] = str(exc).split(":")[0].lower()
            continue
        outcome[org] = f"fitted {len(model.topics):,} topics"
    if progress is not None and fit:
        progress("", len(fit), len(fit))
    return outcome
