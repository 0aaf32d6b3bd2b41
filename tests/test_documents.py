"""Strict reading of outside documents: generated valid ones pass, corrupted ones are refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from instrument.definitions import catalogue, default_instrument
from instrument.errors import DocumentError
from instrument.exchange.assessments import parse_assessment
from instrument.exchange.documents import MAX_BYTES, json_path, parse

INSTRUMENT = default_instrument()
ITEMS = [item.id for item in INSTRUMENT.items]
RESPONSIVITY = [rs.id for rs in INSTRUMENT.responsivity]
TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=40
)
SOURCES = ["interview", "file-review", "collateral", "observation", "self-report", "other"]


@st.composite
def ratings(draw: st.DrawFn) -> dict[str, Any]:
    chosen = draw(st.lists(st.sampled_from(ITEMS), unique=True, max_size=len(ITEMS)))
    result: dict[str, Any] = {}
    for item_id in chosen:
        presence = draw(st.sampled_from(["no", "partial", "yes", "omit"]))
        rating: dict[str, Any] = {"presence": presence}
        if presence in ("partial", "yes"):
            rating["relevance"] = draw(st.sampled_from(["low", "moderate", "high"]))
        if draw(st.booleans()):
            rating["evidence"] = draw(TEXT)
        if draw(st.booleans()):
            rating["sources"] = draw(st.lists(st.sampled_from(SOURCES), unique=True, max_size=3))
        if draw(st.booleans()):
            rating["timeframe"] = draw(st.sampled_from(["current", "historical"]))
        result[item_id] = rating
    return result


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    info: dict[str, Any] = {
        "version": draw(st.integers(1, 50)),
        "status": draw(st.sampled_from(["draft", "final"])),
    }
    if draw(st.booleans()):
        info["assessed_on"] = draw(st.dates()).isoformat()
    info["assessors"] = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "name": st.text(min_size=1, max_size=30).filter(str.strip),
                    "role": st.sampled_from(["psychologist", "supervisor", "co-assessor"]),
                }
            ),
            max_size=2,
        )
    )
    document: dict[str, Any] = {
        "instrument": {"id": "ifi", "version": "1.0.0"},
        "case": {
            "reference": draw(st.from_regex(r"[A-Z][A-Z0-9-]{1,10}", fullmatch=True)),
            "pathway": draw(st.sampled_from(["prevention", "engaged", "convicted"])),
        },
        "assessment": info,
        "ratings": draw(ratings()),
        "responsivity": {
            rs: {"presence": draw(st.sampled_from(["yes", "no", "omit"])), "note": draw(TEXT)}
            for rs in draw(st.lists(st.sampled_from(RESPONSIVITY), unique=True, max_size=3))
        },
    }
    if draw(st.booleans()):
        document["notes"] = draw(TEXT)
    return document


def _encode(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_valid_documents_pass_and_round_trip(document: dict[str, Any]) -> None:
    first = parse_assessment(_encode(document), catalogue())
    dumped = first.to_document()
    second = parse_assessment(_encode(dumped), catalogue())
    assert second == first
    assert second.to_document() == dumped


CORRUPTIONS = [
    ("$.case.pathway", lambda d: d["case"].update(pathway="sometimes")),
    ("$.case.reference", lambda d: d["case"].update(reference="C-1\x07")),
    ("$.assessment.version", lambda d: d["assessment"].update(version="1")),
    ("$.assessment.status", lambda d: d["assessment"].update(status="done")),
    ("$.assessment.assessed_on", lambda d: d["assessment"].update(assessed_on="2026-13-45")),
    ("$.instrument.version", lambda d: d["instrument"].update(version="2.0.0")),
    ("$.ratings.ZZ1", lambda d: d["ratings"].update(ZZ1={"presence": "no"})),
    ("$.ratings.ID1.presence", lambda d: d["ratings"].update(ID1={"presence": "maybe"})),
    ("$.ratings.ID1.relevance", lambda d: d["ratings"].update(ID1={"presence": "yes"})),
    (
        "$.ratings.ID1.sources[0]",
        lambda d: d["ratings"].update(ID1={"presence": "no", "sources": ["rumour"]}),
    ),
    ("$.extra", lambda d: d.update(extra=1)),
    ("$.case", lambda d: d.pop("case")),
    ("$.notes", lambda d: d.update(notes="x" * 20_001)),
]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.sampled_from(CORRUPTIONS))
def test_corrupted_documents_are_refused_with_a_path(
    document: dict[str, Any], corruption: Any
) -> None:
    where, corrupt = corruption
    corrupt(document)
    with pytest.raises(DocumentError) as caught:
        parse_assessment(_encode(document), catalogue())
    assert where in [p.where for p in caught.value.problems()]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the document is empty"),
        (b"   \n", "the document is empty"),
        (b"\xff\xfe{}", "not UTF-8 text"),
        (b"{not json", "not valid JSON"),
        (b'{"a": NaN}', "NaN is not allowed"),
        (b'{"a": -Infinity}', "-Infinity is not allowed"),
        (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
        (b"[" * 100_000 + b"]" * 100_000, "nesting is deeper than 32 levels"),
        (b'{"a": "' + b"x" * 20_001 + b'"}', "longer than the limit"),
        (b'{"a\\u0000b": 1}', "control characters"),
    ],
    ids=[
        "empty",
        "blank",
        "not-utf8",
        "not-json",
        "nan",
        "infinity",
        "duplicate",
        "deep",
        "long-string",
        "control-key",
    ],
)
def test_parse_refusals(data: bytes, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        parse(data)


def test_too_large_is_refused_before_parsing() -> None:
    with pytest.raises(DocumentError, match="the limit is 5 MB"):
        parse(b" " * (MAX_BYTES + 1))


@pytest.mark.parametrize("top", [b"[]", b"3", b'"text"', b"null"])
def test_top_level_must_be_an_object(top: bytes) -> None:
    with pytest.raises(DocumentError, match="the top level must be an object"):
        parse_assessment(top, catalogue())


def test_json_path_rendering() -> None:
    assert json_path(["ratings", "ID1", "relevance"]) == "$.ratings.ID1.relevance"
    assert json_path(["assessors", 0, "name"]) == "$.assessors[0].name"
    assert json_path(["odd key"]) == '$["odd key"]'
