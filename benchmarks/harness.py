"""Timing helpers shared by the benchmark modules: medians, ratios, a printed table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One measured figure: what, the median in milliseconds, and an optional comparison."""

    name: str
    median_ms: float
    target_ms: float | None = None
    ratio: float | None = None
    ratio_to: str = ""


def median_ms(action: Callable[[], object], *, repeat: int = 50, warmup: int = 3) -> float:
    """Return the median wall time of `action` in milliseconds."""
    for _ in range(warmup):
        action()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def print_rows(title: str, rows: list[Row]) -> None:
    """Print one module's figures as a table."""
    print(f"\n## {title}")
    print(f"{'measure':<60} {'median ms':>10} {'target ms':>10}  ratio")
    for row in rows:
        target = f"{row.target_ms:>10.1f}" if row.target_ms is not None else f"{'':>10}"
        ratio = f"{row.ratio:.1f}x {row.ratio_to}" if row.ratio is not None else ""
        mark = ""
        if row.target_ms is not None:
            mark = "  ok" if row.median_ms <= row.target_ms else "  OVER TARGET"
        print(f"{row.name:<60} {row.median_ms:>10.3f} {target}  {ratio}{mark}")
