"""Read outside documents strictly, in the order SECURITY.md 18 sets.

1. limits before parsing: size (5 MB) and nesting depth (32);
2. a strict parse: UTF-8 only, no duplicate keys, no `NaN`/`Infinity`, strings up to 20,000
   characters, no control characters in keys;
3. jsonschema with a FormatChecker against the published schema (validators built once);
4. the pydantic models, then the semantic rules that need the instrument.

Every refusal is one `DocumentError` carrying every problem with its JSON path.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import yaml
from jsonschema.exceptions import ValidationError
from pydantic import BaseModel
from pydantic import ValidationError as ModelValidationError

from instrument.errors import MAX_COUNTED, UNCOUNTED, DocumentError, Problem
from instrument.judgement import PERSON_SPECIFIC_PATTERN
from instrument.schemas import validator_for
from instrument.vocabulary import MAX_TEXT, TEXT_PATTERN, text_problem

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 32
MAX_VALUES = 100_000
"""A case export of 60 versions holds about 80,000 values; more is refused before the schema."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")

M = TypeVar("M", bound=BaseModel)


def json_path(parts: Iterator[Any] | list[Any] | tuple[Any, ...]) -> str:
    """Return a JSON path such as `$.ratings.ID1.relevance` or `$.assessors[0].name`."""
    path = "$"
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _IDENTIFIER.fullmatch(str(part)):
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
    problems = bounded(_walk(document, []))
    if problems:
        raise DocumentError(problems)
    return document


def bounded(problems: Iterable[Problem]) -> list[Problem]:
    """Return at most `MAX_COUNTED` problems (then `UNCOUNTED`): enough to list 100, count more."""
    found = list(itertools.islice(problems, MAX_COUNTED + 1))
    if len(found) > MAX_COUNTED:
        found[MAX_COUNTED] = UNCOUNTED
    return found


def _max_depth(text: str) -> int:
    """Return the deepest bracket nesting outside strings: a cheap scan that cannot recurse.

    Regular expressions drop the strings and everything but brackets (in C), so the Python
    loop only sees the brackets themselves.
    """
    depth = deepest = 0
    for char in _NOT_BRACKET.sub("", _STRING.sub("", text)):
        if char in "[{":
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


class _StrictLoader(yaml.CSafeLoader):
    """A YAML loader (libyaml) that keeps dates as strings and marks duplicate keys."""


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


MAX_YAML_EVENTS = 100_000
"""A definition is a few thousand YAML values; a document with more is refused unread."""


def _prescan_yaml(text: str) -> None:
    """Refuse aliases and oversized YAML from the event stream, before any value is built.

    An alias (`*name`) lets 450 bytes stand for billions of values ("billion laughs"); a
    definition never needs one. Counting events stops a document of 330,000 keys in a fraction
    of the time building it would take.

    Raises:
        DocumentError: naming the line of the first alias, or the limit.
    """
    for count, event in enumerate(yaml.parse(text, Loader=yaml.CSafeLoader)):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
            raise DocumentError(
                [
                    Problem(
                        "$",
                        f"YAML aliases are not allowed: *{event.anchor}{where}",
                        "write the value out in full where it is needed",
                    )
                ]
            )
        if count > MAX_YAML_EVENTS:
            raise DocumentError(
                [
                    Problem(
                        "$",
                        f"the YAML document holds more than {MAX_YAML_EVENTS:,} values; "
                        "an instrument definition holds a few thousand",
                        "remove what is not part of the definition",
                    )
                ]
            )


def _parse_yaml(text: str) -> Any:
    try:
        _prescan_yaml(text)
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
    """Yield problems the parser let through: duplicates, NaN, long strings, bad keys, depth."""
    stack: list[tuple[Any, list[Any]]] = [(value, parts)]
    seen = 0
    while stack:
        node, path = stack.pop()
        seen += 1
        if seen > MAX_VALUES:
            yield Problem(
                "$",
                f"the document holds more than {MAX_VALUES:,} values",
                "split it into smaller documents",
            )
            return
        if len(path) > MAX_DEPTH and isinstance(node, dict | list):
            yield Problem(
                json_path(path[:MAX_DEPTH]),
                f"nesting is deeper than {MAX_DEPTH} levels",
                "flatten the document; no valid document nests this deep",
            )
        elif isinstance(node, _Duplicate):
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
    return sorted(bounded(_problem(error) for error in validator.iter_errors(document)))


def _problem(error: ValidationError) -> Problem:
    path = list(error.absolute_path)
    if error.validator == "required":
        missing = re.match(r"'(.+)' is a required property", error.message)
        if missing:
            return Problem(json_path([*path, missing.group(1)]), "is required", "add it")
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        allowed = set(schema.get("properties", {}))
        extra = set(error.instance) - allowed
        if extra:
            return Problem(
                json_path([*path, min(extra)]),
                "is not a field of this document",
                f"remove it; allowed here: {', '.join(sorted(allowed))}",
            )
    if error.validator == "type" and isinstance(error.instance, str | int | float | bool):
        return Problem(
            json_path(path),
            f"{json.dumps(error.instance)[:60]} is not of type {error.validator_value!r}",
            f"give a {error.validator_value}",
        )
    if error.validator == "pattern" and isinstance(error.instance, str):
        single_line = error.validator_value != TEXT_PATTERN
        found = text_problem(error.instance, json_path(path), single_line=single_line)
        if found is not None:
            return found
    message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
    return Problem(json_path(path), message, "see the published schema for what is allowed")


KEY_FIXES: dict[str, str] = {
    PERSON_SPECIFIC_PATTERN: "number person-specific factors PS1 to PS99, without leading zeros",
}
"""How to fix a key refused by its pattern, by the pattern."""


def model_problems(error: ModelValidationError) -> list[Problem]:
    """Turn a pydantic validation error into problems with JSON paths.

    A text refused by its pattern for a control or bidirectional character is said in words
    (which character, and why), never as the pattern itself.
    """
    problems: list[Problem] = []
    for e in error.errors(include_url=False):
        loc = list(e["loc"])
        if len(loc) >= 2 and loc[-1] == "[key]":
            # A key of a keyed object (person-specific factors, ratings) that has the wrong
            # form: the path names the key itself, and the fix says which keys are allowed.
            pattern = str((e.get("ctx") or {}).get("pattern", ""))
            problems.append(
                Problem(
                    json_path(loc[:-1]),
                    "this key is not allowed here",
                    KEY_FIXES.get(pattern, "see the published schema for the keys allowed"),
                )
            )
            continue
        where = json_path(loc)
        value = e.get("input")
        if e["type"] == "string_pattern_mismatch" and isinstance(value, str):
            pattern = str((e.get("ctx") or {}).get("pattern", ""))
            found = text_problem(value, where, single_line=pattern != TEXT_PATTERN)
            if found is not None:
                problems.append(found)
                continue
        problems.append(Problem(where, e["msg"], "see the published schema"))
    return sorted(problems)


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
