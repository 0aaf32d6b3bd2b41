"""Run every benchmark module (`bench_*.py`) and print its figures: `python -m benchmarks`."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import benchmarks
from benchmarks.harness import print_rows


def main() -> None:
    """Import each `benchmarks.bench_*` module and print what its `run()` returns."""
    only = set(sys.argv[1:])
    for module_info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda m: m.name):
        if not module_info.name.startswith("bench_"):
            continue
        if only and module_info.name not in only:
            continue
        module = importlib.import_module(f"benchmarks.{module_info.name}")
        before = os.getloadavg()
        rows = module.run()
        print_rows(
            module.__doc__.strip().splitlines()[0] if module.__doc__ else module_info.name,
            rows,
        )
        # Times on a shared 2-core machine follow its load: say what it was, before and after.
        print(f"(load average before {_load(before)}, after {_load(os.getloadavg())})")


def _load(averages: tuple[float, float, float]) -> str:
    return " / ".join(f"{a:.2f}" for a in averages)


if __name__ == "__main__":
    main()
