"""Foundation: loading the instrument and validating one full assessment."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.harness import Row, median_ms
from instrument.definitions import SHIPPED, catalogue, load_definition
from instrument.exchange.assessments import parse_assessment
from instrument.exchange.documents import parse


def _full_assessment() -> bytes:
    from instrument.definitions import default_instrument

    instrument = default_instrument()
    ratings = {
        item.id: {
            "presence": "partial",
            "relevance": "moderate",
            "evidence": "Fictional evidence text for benchmarking. " * 4,
            "sources": ["interview", "file-review"],
            "timeframe": "current",
        }
        for item in instrument.items
    }
    document = {
        "instrument": {"id": "ifi", "version": "1.0.0"},
        "case": {"reference": "B-0001", "pathway": "engaged"},
        "assessment": {
            "version": 1,
            "status": "draft",
            "assessed_on": "2026-11-01",
            "assessors": [{"name": "A. Assessor", "role": "psychologist"}],
        },
        "ratings": ratings,
        "responsivity": {rs.id: {"presence": "no"} for rs in instrument.responsivity},
    }
    return json.dumps(document).encode()


def run() -> list[Row]:
    """Measure loading the definition and validating a full assessment."""
    definition = next(Path(SHIPPED).glob("*.yaml"))
    definition_bytes = definition.read_bytes()
    load = median_ms(lambda: load_definition(definition), repeat=20)
    import yaml

    yaml_only = median_ms(lambda: yaml.safe_load(definition_bytes), repeat=20)
    data = _full_assessment()
    json_only = median_ms(lambda: json.loads(data), repeat=200)
    validate = median_ms(lambda: parse_assessment(data, catalogue()), repeat=200)
    strict = median_ms(lambda: parse(data), repeat=200)
    return [
        Row(
            "load + check the instrument definition (YAML)",
            load,
            ratio=load / yaml_only,
            ratio_to="yaml.safe_load",
        ),
        Row(
            "strict parse of a full assessment (limits, duplicates, NaN)",
            strict,
            ratio=strict / json_only,
            ratio_to="json.loads",
        ),
        Row(
            "validate one full assessment (35 items, schema + model + rules)",
            validate,
            ratio=validate / json_only,
            ratio_to="json.loads",
        ),
    ]
