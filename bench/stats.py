"""Rounds of timings, their median and spread, and ratios taken round by round."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile, interpolated between the two nearest samples."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Spread:
    """Median and p10-p90 of one figure over repeated rounds."""

    median: float
    p10: float
    p90: float
    rounds: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(
            statistics.median(values), quantile(values, 0.1), quantile(values, 0.9), len(values)
        )


@dataclass
class Row:
    """One line of the table: an absolute figure and its ratio to a reference of the same run."""

    section: str
    case: str
    unit: str  # "µs", "ms", "s", "req/s"
    absolute: Spread
    reference: str = ""
    ratio: Spread | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def ratios(values: Sequence[float], references: Sequence[float]) -> list[float]:
    """Round-by-round ratios: each figure divided by the reference of the same round."""
    return [value / reference for value, reference in zip(values, references, strict=True)]


def per_op_seconds(op: Callable[[Any], object], items: Sequence[Any]) -> float:
    """Seconds per call of `op` over `items`, timed as one batch (the clock costs nothing then)."""
    gc.collect()
    started = time.perf_counter()
    for item in items:
        op(item)
    return (time.perf_counter() - started) / len(items)
