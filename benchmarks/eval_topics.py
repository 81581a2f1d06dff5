"""Compare topic methods by coherence: TF-IDF + NMF (the default) vs k-means on embeddings.

For the organizations of the TWCS sample with the most turns, both methods get the same
documents (one per turn) and the same number of topics (the one NMF picks by coherence), and
both are scored with the same measure: mean NPMI of each topic's top 5 terms over those
documents, weighted by topic size. K-means needs the ``embeddings`` extra; without it only NMF
is printed.

Usage: python benchmarks/eval_topics.py [--orgs 6]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import socialaudit
from socialaudit.enrich.embeddings import available
from socialaudit.enrich.topics import fit_kmeans_topics, fit_topics, turn_documents

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "twcs" / "twcs_head5k.csv"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=6)
    args = parser.parse_args()
    if not SAMPLE.exists():
        print(f"SKIPPED: {SAMPLE} is not here (the shared data folder is absent).")
        return 0
    store = socialaudit.open(":memory:")
    socialaudit.import_file(SAMPLE, store=store)
    top = store.frame(
        "SELECT author_id AS org, count(*) AS n FROM posts WHERE inbound = false "
        "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
        [args.orgs],
    )["org"]
    kmeans = available("static")
    print(f"{'org':<16}{'turns':>6}{'k':>4}{'NMF NPMI':>10}{'k-means NPMI':>14}{'NMF s':>8}")
    wins = 0
    for org in top:
        docs = turn_documents(store, org)["text"].tolist()
        start = time.perf_counter()
        nmf = fit_topics(docs)
        nmf_s = time.perf_counter() - start
        k = len(nmf.topics)
        km = fit_kmeans_topics(docs, k=k).coherence if kmeans else float("nan")
        wins += nmf.coherence >= km
        print(f"{org:<16}{len(docs):>6}{k:>4}{nmf.coherence:>10.3f}{km:>14.3f}{nmf_s:>8.2f}")
    if kmeans:
        print(f"NMF at least as coherent on {wins} of {len(top)} organizations.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
