"""What metric families need from where they run, and the registry they declare themselves in.

Metric code builds Ibis expressions only. Iterative algorithms (the self-thread walk) need to
materialize and count between rounds; they do it through an :class:`Engine`, which the DuckDB
store and the Spark engine both satisfy, so the same code runs on either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import ibis


class Engine(Protocol):
    """Where expressions run: a store's DuckDB, or Spark over the store's Parquet copy."""

    backend_name: str

    def table(self, name: str) -> ibis.Table:
        """Return a store table as an expression."""
        ...

    def execute(self, expr: ibis.Expr, **kwargs: Any) -> Any:
        """Run an expression (pandas for tables, a Python value for scalars)."""
        ...

    def cache(self, expr: ibis.Table) -> ibis.Table:
        """Materialize an intermediate table."""
        ...


@dataclass(frozen=True)
class MetricFamily:
    """Self-description of a metric family: the report's definitions come from here."""

    name: str
    title: str
    description: str
    requires: tuple[str, ...]
    params: dict[str, str] = field(default_factory=dict)
    version: str = "v1"
    #: (term, definition) pairs the report's Definitions section lists, in order.
    definitions: tuple[tuple[str, str], ...] = ()


REGISTRY: dict[str, MetricFamily] = {}


def register(family: MetricFamily) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: record a family's metadata next to the function that computes it."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        if family.name in REGISTRY:
            raise ValueError(f"Metric family {family.name!r} registered twice")
        REGISTRY[family.name] = family
        fn.family = family  # type: ignore[attr-defined]
        return fn

    return wrap


def epoch_s(ts: ibis.Value) -> ibis.Value:
    """Whole epoch seconds, identical on DuckDB (epoch is fractional) and Spark (truncates)."""
    return ts.truncate("s").epoch_seconds().cast("int64")
