"""Formulation: `formulate` on each worked case (target under 1 ms: recomputed on every rating)."""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.harness import Row
from instrument.assessment import Assessment
from instrument.definitions import catalogue, default_instrument
from instrument.exchange.assessments import load_assessment
from instrument.formulation import Review, formulate, formulation_json

FORMULATIONS = Path(__file__).resolve().parent.parent / "formulations"
GENERATED_AT = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
TARGET_MS = 1.0


def _cases() -> list[tuple[str, bytes, Assessment, Assessment | None, Review | None]]:
    paths = sorted(FORMULATIONS.glob("*.assessment.json"))
    loaded = {
        p.name.removesuffix(".assessment.json"): (p, load_assessment(p, catalogue())) for p in paths
    }
    cases = []
    for name, (path, assessment) in loaded.items():
        earlier = [
            other
            for _, other in loaded.values()
            if other.case.reference == assessment.case.reference
            and other.assessment.version < assessment.assessment.version
        ]
        previous = max(earlier, key=lambda a: a.assessment.version) if earlier else None
        review_path = FORMULATIONS / f"{name}.review.json"
        review = (
            Review.model_validate(json.loads(review_path.read_text(encoding="utf-8")))
            if review_path.exists()
            else None
        )
        cases.append((name, path.read_bytes(), assessment, previous, review))
    return cases


def median_cpu_ms(action: Callable[[], object], *, repeat: int = 500, warmup: int = 5) -> float:
    """Return the median CPU time of `action` in ms: steadier than wall time on a shared host."""
    for _ in range(warmup):
        action()
    times = []
    for _ in range(repeat):
        start = time.process_time()
        action()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def run() -> list[Row]:
    """Measure `formulate` (and writing its JSON) per worked case, against json.loads."""
    instrument = default_instrument()
    rows = []
    for name, data, assessment, previous, review in _cases():

        def make(
            a: Assessment = assessment, p: Assessment | None = previous, r: Review | None = review
        ) -> object:
            return formulate(instrument, a, p, generated_at=GENERATED_AT, review=r)

        json_only = median_cpu_ms(lambda d=data: json.loads(d), repeat=500)
        timed = median_cpu_ms(make, repeat=500)
        label = f"formulate {name}" + (" (+ previous)" if previous else "") + ", CPU"
        rows.append(Row(label, timed, TARGET_MS, ratio=timed / json_only, ratio_to="json.loads"))
    name, data, assessment, previous, review = _cases()[0]
    formulation = formulate(instrument, assessment, previous, generated_at=GENERATED_AT)
    serialise = median_cpu_ms(lambda: formulation_json(formulation), repeat=500)
    json_only = median_cpu_ms(lambda: json.loads(data), repeat=500)
    rows.append(
        Row(
            f"formulation_json {name}, CPU",
            serialise,
            ratio=serialise / json_only,
            ratio_to="json.loads",
        )
    )
    return rows
