"""Read outside documents strictly, in the order SECURITY.md 18 sets.

1. limits before parsing: size (5 MB) and nesting depth (32);
2. a strict parse: UTF-8 only, no duplicate keys, no `NaN`/`Infinity`, strings up to 20,000
   characters, no control characters in keys;
3. jsonschema with a FormatChecker against the published schema (validators built once);
4. the pydantic models, then the semantic rules that need the instrument.

Every refusal is one `DocumentError` carrying every problem with its JSON path.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml
from jsonschema.exceptions import ValidationError
from pydantic import BaseModel
from pydantic import ValidationError as ModelValidationError

from instrument.errors import DocumentError, Problem
from instrument.schemas import validator_for
from instrument.vocabulary import MAX_TEXT

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 32
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")

M = TypeVar("M", bound=BaseModel)


def json_path(parts: Iterator[Any] | list[Any] | tuple[Any, ...]) -> str:
    """Return a JSON path such as `$.ratings.ID1.relevance` or `$.assessors[0].name`."""
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _IDENTIFIER.match(str(part)):
            path += f".{part}"
        else:
            path += f"[{json.dumps(str(part), ensure_ascii=True)}]"
    return path


def read_bytes(path: Path) -> bytes:
    """Read a file, refusing a missing, unreadable or too large one before reading it."""
    where = "$"
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DocumentError.at(
            where, f"file not found: {path}", "check the path", source=str(path)
        ) from None
    except OSError as error:
        raise DocumentError.at(
            where,
            f"cannot read {path}: {error.strerror}",
            "check the path",
            source=str(path),
        ) from None
    if path.is_dir():
        raise DocumentError.at(
            where, f"{path} is a folder, not a file", "name a file", source=str(path)
        )
    if size > MAX_BYTES:
        raise DocumentError([_too_large(size)], source=str(path))
    try:
        return path.read_bytes()
    except OSError as error:
        raise DocumentError.at(
            where,
            f"cannot read {path}: {error.strerror}",
            "check permissions",
            source=str(path),
        ) from None


def _too_large(size: int) -> Problem:
    return Problem(
        "$",
        f"the document is {size / 1024 / 1024:.1f} MB; the limit is 5 MB",
        "split it into smaller documents",
    )


def parse(data: bytes, *, syntax: str = "json") -> Any:
    """Parse bytes strictly as JSON (or YAML for definitions) after checking the limits.

    Raises:
        DocumentError: for any problem, with its path.
    """
    if len(data) > MAX_BYTES:
        raise DocumentError([_too_large(len(data))])
    if not data.strip():
        raise DocumentError.at("$", "the document is empty", "give a JSON object")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DocumentError.at(
            "$", f"not UTF-8 text (invalid byte at offset {error.start})", "save the file as UTF-8"
        ) from None
    text = text.removeprefix("\ufeff")
    depth = _max_depth(text)
    if depth > MAX_DEPTH:
        raise DocumentError.at(
            "$",
            f"nesting is deeper than {MAX_DEPTH} levels",
            "flatten the document; no valid document nests this deep",
        )
    document = _parse_yaml(text) if syntax == "yaml" else _parse_json(text)
    problems = list(_walk(document, []))
    if problems:
        raise DocumentError(problems)
    return document


def _max_depth(text: str) -> int:
    """Return the deepest bracket nesting outside strings: a cheap scan that cannot recurse."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return deepest
        elif char in "]}":
            depth -= 1
    return deepest


class _Duplicate:
    """Marks a key given more than once in one object."""

    def __init__(self, key: str) -> None:
        self.key = key


class _Constant:
    """Marks `NaN`, `Infinity` or `-Infinity`, which JSON does not allow."""

    def __init__(self, name: str) -> None:
        self.name = name


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            result[key] = _Duplicate(key)
        else:
            result[key] = value
    return result


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_pairs, parse_constant=_Constant)
    except json.JSONDecodeError as error:
        raise DocumentError.at(
            "$",
            f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}",
            "fix the JSON syntax",
        ) from None
    except (ValueError, RecursionError) as error:
        raise DocumentError.at("$", f"not valid JSON: {error}", "fix the JSON syntax") from None


class _StrictLoader(yaml.SafeLoader):
    """A YAML loader that keeps dates as strings and marks duplicate keys."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    pairs = [
        (loader.construct_object(k, deep=True), loader.construct_object(v, deep=True))
        for k, v in node.value
    ]
    return _pairs([(str(k) if not isinstance(k, str) else k, v) for k, v in pairs])


def _keep_text(loader: _StrictLoader, node: yaml.Node) -> str:
    """Keep YAML timestamps as text, as a JSON document would hold them."""
    return str(node.value)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_StrictLoader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    _keep_text,
)


def _parse_yaml(text: str) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "syntax error"
        raise DocumentError.at(
            "$", f"not valid YAML: {problem}{where}", "fix the YAML syntax"
        ) from None
    except RecursionError:
        raise DocumentError.at("$", "nesting is too deep", "flatten the document") from None


def _walk(value: Any, parts: list[Any]) -> Iterator[Problem]:
    """Yield problems the parser let through: duplicates, NaN, long strings, bad keys."""
    stack: list[tuple[Any, list[Any]]] = [(value, parts)]
    while stack:
        node, path = stack.pop()
        if isinstance(node, _Duplicate):
            yield Problem(json_path(path), f"duplicate key {node.key!r}", "give each key once")
        elif isinstance(node, _Constant):
            yield Problem(
                json_path(path),
                f"{node.name} is not allowed",
                "give a finite number or leave it out",
            )
        elif isinstance(node, float) and not math.isfinite(node):
            yield Problem(json_path(path), "only finite numbers are allowed", "give a number")
        elif isinstance(node, str) and len(node) > MAX_TEXT:
            yield Problem(
                json_path(path),
                f"text of {len(node):,} characters is longer than the limit of {MAX_TEXT:,}",
                "shorten it",
            )
        elif isinstance(node, dict):
            for key, child in node.items():
                if _CONTROL.search(key) or len(key) > 200:
                    yield Problem(
                        json_path(path),
                        f"key {key[:40]!r} contains control characters or is too long",
                        "use plain ids as keys",
                    )
                    continue
                stack.append((child, [*path, key]))
        elif isinstance(node, list):
            stack.extend((child, [*path, index]) for index, child in enumerate(node))


def schema_problems(kind: str, document: Any) -> list[Problem]:
    """Return every problem jsonschema finds in `document` against the published schema."""
    validator = validator_for(kind)
    problems = [_problem(error) for error in validator.iter_errors(document)]
    return sorted(problems)


def _problem(error: ValidationError) -> Problem:
    path = list(error.absolute_path)
    if error.validator == "required":
        missing = re.match(r"'(.+)' is a required property", error.message)
        if missing:
            return Problem(json_path([*path, missing.group(1)]), "is required", "add it")
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        allowed = set(schema.get("properties", {}))
        extra = sorted(set(error.instance) - allowed)
        if extra:
            return Problem(
                json_path([*path, extra[0]]),
                "is not a field of this document",
                f"remove it; allowed here: {', '.join(sorted(allowed))}",
            )
    if error.validator == "type" and isinstance(error.instance, str | int | float | bool):
        return Problem(
            json_path(path),
            f"{json.dumps(error.instance)[:60]} is not of type {error.validator_value!r}",
            f"give a {error.validator_value}",
        )
    if (
        error.validator == "pattern"
        and isinstance(error.instance, str)
        and _CONTROL.search(error.instance)
    ):
        return Problem(json_path(path), "contains control characters", "remove them")
    message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
    return Problem(json_path(path), message, "see the published schema for what is allowed")


def model_problems(error: ModelValidationError) -> list[Problem]:
    """Turn a pydantic validation error into problems with JSON paths."""
    return sorted(
        Problem(json_path(list(e["loc"])), e["msg"], "see the published schema")
        for e in error.errors(include_url=False)
    )


def build_model(model: type[M], document: Any) -> M:
    """Build a model from a schema-valid document, turning any refusal into a DocumentError."""
    try:
        return model.model_validate(document)
    except ModelValidationError as error:
        raise DocumentError(model_problems(error)) from None


def read_document(
    data: bytes,
    kind: str,
    model: type[M],
    *,
    syntax: str = "json",
    semantic: Callable[[M], list[Problem]] | None = None,
) -> M:
    """Read a document of a published kind: limits, strict parse, schema, model, semantic rules.

    Raises:
        DocumentError: listing every problem found at the first stage that found any.
    """
    document = parse(data, syntax=syntax)
    if not isinstance(document, dict):
        found = "an array" if isinstance(document, list) else "a single value"
        raise DocumentError.at(
            "$", f"the top level must be an object, not {found}", "wrap it in { }"
        )
    problems = schema_problems(kind, document)
    if problems:
        raise DocumentError(problems)
    result = build_model(model, document)
    if semantic is not None:
        problems = semantic(result)
        if problems:
            raise DocumentError(problems)
    return result


def syntax_for(path: Path) -> str:
    """Return `yaml` for `.yaml`/`.yml` files and `json` for everything else."""
    return "yaml" if path.suffix.lower() in (".yaml", ".yml") else "json"
