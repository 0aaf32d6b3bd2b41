"""The published schemas: generated from the models, checked in, readable by outsiders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from instrument.schemas import SCHEMA_DIR, all_schemas, drifted_schemas, write_schemas


def test_checked_in_schemas_match_the_models() -> None:
    assert drifted_schemas() == [], "run `instrument schema --write` and commit schemas/"


def test_schema_check_command_passes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "instrument", "schema", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_drift_is_detected(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    assert drifted_schemas(tmp_path) == []
    path = tmp_path / "assessment.schema.json"
    path.write_text(path.read_text().replace("ratings", "ratingz"))
    assert drifted_schemas(tmp_path) == ["assessment"]


@pytest.mark.parametrize("kind", sorted(all_schemas()))
def test_schema_is_draft_2020_12_with_id_and_docs(kind: str) -> None:
    schema = json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(f"/{kind}.schema.json")
    assert schema["title"]
    assert len(schema["description"]) > 40

    def undocumented(node: Any, path: str) -> list[str]:
        missing = []
        if isinstance(node, dict):
            for name, prop in node.get("properties", {}).items():
                if "description" not in prop:
                    missing.append(f"{path}.{name}")
            for key, child in node.items():
                missing += undocumented(child, f"{path}/{key}")
        return missing

    assert undocumented(schema, "") == []
