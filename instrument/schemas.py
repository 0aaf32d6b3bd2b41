"""Build the published JSON Schemas (Draft 2020-12) from the models, and the validators for them.

`instrument schema --write` writes `schemas/*.schema.json`; `--check` compares. External documents
are validated against the checked-in files (the contract), with validators built once.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from instrument.assessment import Assessment
from instrument.case import DESCRIPTION, CaseExport
from instrument.definition import Instrument
from instrument.formulation import Formulation

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_BASE = "https://example.org/instrument/schemas/"
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


class _PublishedSchema(GenerateJsonSchema):
    """Schema generator for published documents.

    Optional fields are written as absent-or-typed rather than `anyOf [type, null]`: the product
    never writes `null`, and a plain type gives outside developers plain error messages.
    """

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        """Describe an optional value by its inner type alone."""
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        """Leave `default: null` out; absent means none."""
        json_schema = super().default_schema(schema)
        if json_schema.get("default", ...) is None:
            json_schema.pop("default")
        return json_schema


# Each published document: its file stem, title, model and a description for outside readers.
PUBLISHED: dict[str, tuple[str, type[BaseModel], str]] = {
    "instrument": (
        "Instrument definition",
        Instrument,
        "An instrument definition: domains, items with rating guidance, intervention areas, the "
        "weights from items to areas and the numbers of the priority rule. Written as YAML or "
        "JSON; an organisation may adapt its own copy under a new version.",
    ),
    "assessment": (
        "Assessment",
        Assessment,
        "One assessment of one participant on one occasion: presence and relevance ratings with "
        "evidence and sources, responsivity notes and status. Produced by the instrument or by "
        "other tools; item ids come from the instrument definition named in `instrument`.",
    ),
    "formulation": (
        "Formulation",
        Formulation,
        "A case formulation computed from an assessment and reviewed by the assessor: ranked "
        "intervention priorities with their reasons, a 5P formulation, engagement/intent/"
        "capability, responsivity and data quality. A structured professional judgement aid: "
        "never a risk score for a person, never for automated decision-making.",
    ),
}


def build_schema(kind: str) -> dict[str, Any]:
    """Return the JSON Schema of one published document kind, built from its model."""
    title, model, description = PUBLISHED[kind]
    schema = model.model_json_schema(schema_generator=_PublishedSchema, mode="validation")
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{SCHEMA_BASE}{kind}.schema.json",
        "title": title,
        "description": description,
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def extra_schemas() -> dict[str, dict[str, Any]]:
    """Return schemas published by other modules (e.g. the case export), keyed by kind."""
    return {"case": _model_schema("case", "Case export", CaseExport, DESCRIPTION)}


def _model_schema(
    kind: str, title: str, model: type[BaseModel], description: str
) -> dict[str, Any]:
    schema = model.model_json_schema(schema_generator=_PublishedSchema, mode="validation")
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"{SCHEMA_BASE}{kind}.schema.json",
        "title": title,
        "description": description,
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def all_schemas() -> dict[str, dict[str, Any]]:
    """Return every published schema keyed by kind."""
    schemas = {kind: build_schema(kind) for kind in PUBLISHED}
    schemas.update(extra_schemas())
    return schemas


def schema_text(schema: dict[str, Any]) -> str:
    """Return a schema as the exact text written to disk."""
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every published schema into `directory`; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, schema in all_schemas().items():
        path = directory / f"{kind}.schema.json"
        path.write_text(schema_text(schema), encoding="utf-8")
        written.append(path)
    return written


def drifted_schemas(directory: Path = SCHEMA_DIR) -> list[str]:
    """Return the kinds whose file in `directory` is missing or differs from the models."""
    drifted = []
    for kind, schema in all_schemas().items():
        path = directory / f"{kind}.schema.json"
        if not path.exists() or path.read_text(encoding="utf-8") != schema_text(schema):
            drifted.append(kind)
    return drifted


@cache
def validator_for(kind: str) -> Draft202012Validator:
    """Return the validator of a published document kind, built once from its published file.

    The checked-in file is the contract; when the package runs without it (an installed wheel),
    the same schema is built from the models.
    """
    path = SCHEMA_DIR / f"{kind}.schema.json"
    exists = path.exists()
    schema = json.loads(path.read_text(encoding="utf-8")) if exists else all_schemas()[kind]
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(inline_refs(schema), format_checker=FormatChecker())


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Return the schema with every local `#/$defs/...` reference replaced by its definition.

    The published models are not recursive, so the result is finite; validating against it is
    the same contract without a reference lookup per value (about five times faster).
    """
    definitions = schema.get("$defs", {})

    def resolve(node: Any, depth: int) -> Any:
        if depth > 64:
            raise ValueError("schema references nest too deeply to inline")
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                target = resolve(definitions[ref.removeprefix("#/$defs/")], depth + 1)
                rest = {k: resolve(v, depth + 1) for k, v in node.items() if k != "$ref"}
                return {**target, **rest}
            return {k: resolve(v, depth + 1) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [resolve(v, depth + 1) for v in node]
        return node

    inlined: dict[str, Any] = resolve(schema, 0)
    return inlined
