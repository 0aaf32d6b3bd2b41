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
from instrument.definition import Item
from instrument.definitions import SHIPPED, current_instrument, default_instrument
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


WORKED_FILES = sorted(FORMULATIONS.glob("*.json")) + sorted(FORMULATIONS.glob("1.1/*.json"))


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
    "path",
    sorted(FORMULATIONS.glob("*.formulation.json"))
    + sorted(FORMULATIONS.glob("1.1/*.formulation.json")),
    ids=lambda p: str(p.relative_to(FORMULATIONS)),
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


# --- 1.1: the sentences a psychologist would sign ----------------------------------------------

V11 = current_instrument()


def _formulate_11(ratings: dict[str, Rating], pathway: Pathway = Pathway.ENGAGED) -> dict[str, Any]:
    assessment = Assessment(
        instrument=InstrumentRef(id=V11.id, version=V11.version),
        case=CaseInfo(reference="P-1", pathway=pathway),
        assessment=AssessmentInfo(version=1, status=AssessmentStatus.DRAFT),
        ratings=ratings,
    )
    document: dict[str, Any] = json.loads(
        formulation_json(formulate(V11, assessment, generated_at=GENERATED_AT))
    )
    return document


def _all_text(document: dict[str, Any]) -> str:
    return "\n".join(text for _, text in strings(document))


@settings(max_examples=50, deadline=None)
@given(
    ratings=st.dictionaries(st.sampled_from([i.id for i in V11.items]), rating),
    pathway=st.sampled_from(Pathway),
)
def test_11_generated_text_uses_no_labels_and_predicts_nothing(
    ratings: dict[str, Rating], pathway: Pathway
) -> None:
    for where, text in strings(_formulate_11(ratings, pathway)):
        assert not labels_in(text), where
        assert not PREDICTION.search(text), where


@pytest.mark.parametrize("item", [i for i in V11.items if i.weights], ids=lambda i: i.id)
def test_a_partial_item_is_worded_as_partial(item: Item) -> None:
    partial = Rating(presence=Presence.PARTIAL, relevance=Relevance.HIGH)
    document = _formulate_11({item.id: partial})
    summaries = [p["summary"] for p in document["priorities"] if p["area"] in item.weights]
    assert item.phrase is not None
    expected = item.phrase_partial or f"some signs of {item.phrase}"
    assert all(f"{expected} ({item.id}, partial, high relevance)" in s for s in summaries)


@pytest.mark.parametrize("item", V11.items, ids=lambda i: i.id)
def test_no_sentence_glues_the_participant_onto_a_factor_it_does_not_own(item: Item) -> None:
    yes = Rating(presence=Presence.YES, relevance=Relevance.HIGH)
    text = _formulate_11({item.id: yes})
    assert item.phrase is not None
    assert f"the participant's {item.phrase}" not in _all_text(text)
    assert "the participant's the participant" not in _all_text(text)


def test_the_sentences_the_issue_quoted_are_fixed() -> None:
    yes = Rating(presence=Presence.YES, relevance=Relevance.HIGH)
    partial_low = Rating(presence=Presence.PARTIAL, relevance=Relevance.LOW)
    text = _all_text(
        _formulate_11({"GA2": yes, "GA3": yes, "BE6": partial_low, "BE4": yes, "PF8": partial_low})
    )
    assert "the participant's group influence and control" not in text
    assert "a group's influence and control over the participant (GA2, yes, high relevance)" in text
    assert "the participant's family or friends" not in text
    assert "family members or friends of the participant who endorse" in text
    assert "the participant's entitlement to change society through harm" not in text
    assert "some signs of a sense of entitlement to change society through harm (BE6" in text
    assert (
        "Strengths to build on: some interest in legitimate, non-violent ways of pursuing goals "
        "(PF8, partial, low relevance)." in text
    )


def test_the_escalation_prompt_asks_for_judgement_and_the_local_procedure() -> None:
    yes = Rating(presence=Presence.YES, relevance=Relevance.MODERATE)
    prompt = _formulate_11({"IA3": yes})["escalation"]
    assert prompt["raised"] is True
    assert prompt["reasons"] == [
        {"reason": "an intent-and-action factor is rated yes", "items": ["IA3"]}
    ]
    assert "summary judgement" in prompt["prompt"]
    assert "local safeguarding or referral procedure" in prompt["prompt"]
    assert "not a score and not a prediction of behaviour" in prompt["prompt"]


def test_prevention_5p_does_not_speak_of_involvement() -> None:
    yes = Rating(presence=Presence.YES, relevance=Relevance.HIGH)
    document = _formulate_11({"ID2": yes, "GA4": yes}, Pathway.PREVENTION)
    five_p = " ".join(section["summary"] for section in document["five_p"])
    assert "involvement" not in five_p
