"""The enricher contract and registry (SPEC section 3, enrich stage).

An enricher labels a batch of posts at a time (NLP is batched, never per row through SQL). The
same object serves two callers: ``socialaudit enrich``, which feeds it Arrow batches of stored
posts and writes its columns into ``enrichments``, and ``socialaudit classify``, which feeds it the
text column of any CSV/JSONL and writes ``label`` and ``score``. Each enricher owns a version
string: when it changes, only that enricher's columns are recomputed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

import pyarrow as pa

# Which stored posts an enricher runs on: every post, customers' posts (not by an org account),
# or posts by an org's accounts (brand replies).
Target = Literal["all", "customer", "org"]


@dataclass
class Labels:
    """One batch's results, every list aligned with the input rows.

    ``label``/``score`` are what ``classify`` prints (multi-label as ``;``-joined text);
    ``columns`` are the ``enrichments`` columns this enricher owns, ready to store.
    """

    label: list[str | None]
    score: list[float | None]
    columns: dict[str, list[object]] = field(default_factory=dict)


class Enricher(Protocol):
    """What every enricher provides."""

    name: str  # "language", "sentiment", "intent", "spam", "deflection", "resolution"
    version: str  # bump to recompute this enricher's columns on every post
    target: Target
    # The enrichments columns it owns, name -> Ibis type string (e.g. "float64", "array<string>").
    columns: dict[str, str]

    def run(self, batch: pa.Table) -> Labels:
        """Label a batch with columns ``text`` (string) and ``author_id`` (string, may be null).

        Stored posts also carry ``platform``, ``post_id`` and ``is_org`` (author is an org account);
        ``classify`` input carries only ``text`` and a null ``author_id``. Must not depend on batch
        boundaries except where documented (e.g. near-duplicates across authors).
        """
        ...


REGISTRY: dict[str, Callable[[], Enricher]] = {}


def register(name: str) -> Callable[[Callable[[], Enricher]], Callable[[], Enricher]]:
    """Record a factory under ``name`` (factories let heavy models load only when used)."""

    def wrap(factory: Callable[[], Enricher]) -> Callable[[], Enricher]:
        if name in REGISTRY:
            raise ValueError(f"Enricher {name!r} registered twice")
        REGISTRY[name] = factory
        return factory

    return wrap


def texts(batch: pa.Table) -> Sequence[str]:
    """The batch's texts as Python strings, nulls as empty strings."""
    return [t or "" for t in batch.column("text").to_pylist()]


T = TypeVar("T")


def per_distinct(items: Sequence[str], label: Callable[[str], T]) -> list[T]:
    """``label`` of every item, computed once per distinct text (templates and retweets repeat)."""
    memo: dict[str, T] = {}
    for item in items:
        if item not in memo:
            memo[item] = label(item)
    return [memo[item] for item in items]
