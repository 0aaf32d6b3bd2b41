"""Generated text speaks of "the participant": no labelling nouns, no claim to predict behaviour.

Scans every string of every worked-case formulation and assessment, the whole shipped definition,
and the text `formulate` generates for random assessments.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from instrument.assessment import Assessment, AssessmentInfo, CaseInfo, InstrumentRef, Rating
from instrument.definitions import SHIPPED, default_instrument
from instrument.formulation import formulate, formulation_json
from instrument.vocabulary import AssessmentStatus, Pathway, Presence, Relevance
from tests.test_golden import FORMULATIONS, GENERATED_AT

# Nouns that label a person. "offending" (the behaviour) is not in the list: only "offender(s)".
LABELS = [
    r"terrorists?",
    r"extremists?",
    r"radicals?",
    r"radicali[sz](?:ed|ation)",
    r"offenders?",
    r"jihadists?",
    r"fanatics?",
    r"militants?",
    r"zealots?",
    r"perpetrators?",
    r"criminals",
    # "criminal" as a noun: after an article or "as"; the adjective ("criminal record") is fine.
    r"(?:a|an|the|as|of) criminal(?! (?:justice|record|law|court|offence|conviction|activity))",
    r"the subject",
]
LABEL = re.compile(r"\b(?:" + "|".join(LABELS) + r")\b", re.IGNORECASE)
# Claims to predict: "predicts", "will reoffend", "likely to commit" and the like.
PREDICTION = re.compile(
    r"\b(?:predicts?|predicted|(?:will|likely to|going to) (?:re)?(?:offend|commit|attack|harm))\b",
    re.IGNORECASE,
)


def strings(value: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    """Yield (JSON path, text) for every string in a JSON value."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from strings(child, f"{path}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from strings(child, f"{path}[{index}]")


def labels_in(text: str) -> list[str]:
    return [match.group(0) for match in LABEL.finditer(text)]


WORKED_FILES = sorted(FORMULATIONS.glob("*.json"))


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("The offender said", ["offender"]),
        ("extremists and Radicals", ["extremists", "Radicals"]),
        ("was radicalised online", ["radicalised"]),
        ("treated as a criminal", ["a criminal"]),
        ("has a criminal record", []),
        ("history of violence or other offending", []),
        ("the subject of the referral", ["the subject"]),
        ("the participant's grievance", []),
    ],
)
def test_the_label_check_finds_labels_and_only_labels(text: str, found: list[str]) -> None:
    assert labels_in(text) == found


@pytest.mark.parametrize("path", WORKED_FILES, ids=lambda p: p.name)
def test_worked_cases_use_no_labels(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    problems = [(where, labels_in(text)) for where, text in strings(document) if labels_in(text)]
    assert problems == []


@pytest.mark.parametrize(
    "path", sorted(FORMULATIONS.glob("*.formulation.json")), ids=lambda p: p.name
)
def test_worked_formulations_claim_no_prediction(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    claims = [(w, t) for w, t in strings(document) if PREDICTION.search(t)]
    assert claims == []
    assert "not a prediction" in document["notice"]


@pytest.mark.parametrize("path", sorted(SHIPPED.glob("*.yaml")), ids=lambda p: p.name)
def test_the_definition_uses_no_labels(path: Path) -> None:
    problems = [
        (number, labels_in(line))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if labels_in(line)
    ]
    assert problems == []


def test_the_formulations_readme_uses_no_labels() -> None:
    assert labels_in((FORMULATIONS / "README.md").read_text(encoding="utf-8")) == []


INSTRUMENT = default_instrument()
rating = st.one_of(
    st.sampled_from([Presence.NO, Presence.OMIT]).map(lambda p: Rating(presence=p)),
    st.builds(
        Rating,
        presence=st.sampled_from([Presence.PARTIAL, Presence.YES]),
        relevance=st.sampled_from(Relevance),
    ),
)


@settings(max_examples=50, deadline=None)
@given(
    ratings=st.dictionaries(st.sampled_from([i.id for i in INSTRUMENT.items]), rating),
    pathway=st.sampled_from(Pathway),
)
def test_generated_text_uses_no_labels_for_any_ratings(
    ratings: dict[str, Rating], pathway: Pathway
) -> None:
    assessment = Assessment(
        instrument=InstrumentRef(id="ifi", version="1.0.0"),
        case=CaseInfo(reference="P-1", pathway=pathway),
        assessment=AssessmentInfo(version=1, status=AssessmentStatus.DRAFT),
        ratings=ratings,
    )
    document = json.loads(
        formulation_json(formulate(INSTRUMENT, assessment, generated_at=GENERATED_AT))
    )
    for where, text in strings(document):
        assert not labels_in(text), where
        assert not PREDICTION.search(text), where
