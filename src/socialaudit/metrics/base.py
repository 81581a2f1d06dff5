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


def group_percentile(
    value: ibis.Value, group: ibis.Value, /, *, higher_is_better: bool = True
) -> ibis.Value:
    """A row's percentile (0-100, 100 = best) on ``value`` among the rows of its ``group``.

    The percentile is ``100 x (n - r) / (n - 1)`` where ``r`` is the row's position from the
    best (1 = best) among the ``n`` rows of the group that have a value, and tied rows share the
    best position they tie for: ten orgs that all answer 100% are all at 100, not 0. Rows
    without a value, and groups with one valued row, get null: there is nobody to compare with.
    Nulls form their own window partition, so how an engine sorts nulls cannot move a rank.

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> t = ibis.memtable(pd.DataFrame({"g": ["a"] * 4, "x": [1.0, 2.0, 2.0, None]}))
    >>> e = t.mutate(p=group_percentile(t.x, t.g)).order_by("x")
    >>> ibis.duckdb.connect().execute(e)["p"].tolist()
    [0.0, 100.0, 100.0, nan]
    """
    known = value.notnull()
    partition = [group, known]
    order = value.desc() if higher_is_better else value.asc()
    from_best = ibis.percent_rank().over(ibis.window(group_by=partition, order_by=order))
    n = value.count().over(ibis.window(group_by=partition))
    return ibis.ifelse(known & (n > 1), 100.0 * (1.0 - from_best), ibis.null()).cast("float64")


def wilson_bounds(
    rate: ibis.Value, trials: ibis.Value, /, *, z: float = 1.959963984540054
) -> tuple[ibis.Value, ibis.Value]:
    """The 95% Wilson score interval of a proportion ``rate`` observed over ``trials``.

    The same formula as the tier rules' interval, as expressions, for rates whose trials are
    not the count the rate is divided by (share of voice: posts, not mentions). Null when
    there are no trials.
    """
    n = trials.cast("float64").nullif(0.0)
    p = rate.cast("float64")
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denom
    half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom
    low = centre - half
    high = centre + half
    # At 0% and 100% the bound is exactly 0 or 1; floating point leaves a residue of 1e-18.
    return (
        ibis.ifelse((p <= 0.0) | (low < 0.0), 0.0, low),
        ibis.ifelse((p >= 1.0) | (high > 1.0), 1.0, high),
    )
