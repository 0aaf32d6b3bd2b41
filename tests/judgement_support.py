"""A minimal, complete judgement section for tests that finalise a draft of instrument 1.1 on.

Finalising a 1.1 draft needs the assessor's judgement (5P narratives, summary judgements, the
bias check, a scenario where an area is high); the helpers that fill a draft to finalise it
save this one. All text is fictional and general.
"""

from __future__ import annotations

from typing import Any

from instrument.access import Actor
from instrument.definitions import get_instrument
from instrument.formulation.finalising import judgement_required
from instrument.service import Draft, Service

RATIONALE = "A fictional rationale written for the tests."


def minimal_judgement(item_id: str) -> dict[str, Any]:
    """Return every part of a judgement that finalising needs, linked to `item_id`."""
    narrative = {"narrative": "A fictional narrative."}
    return {
        "five_p": {
            "presenting_problem": "A fictional referral.",
            "headings": {
                heading: dict(narrative)
                for heading in (
                    "presenting",
                    "predisposing",
                    "precipitating",
                    "perpetuating",
                    "protective",
                )
            },
        },
        "scenarios": [
            {
                "title": "A general scenario",
                "what": "Something general could happen.",
                "who": "People in general.",
                "triggers": "General setbacks.",
                "warning_signs": "General signs.",
                "less_likely": "General support.",
                "items": [item_id],
            }
        ],
        "summary": {
            key: {"level": "moderate", "rationale": RATIONALE}
            for key in ("priority", "serious_harm", "urgency")
        },
        "bias_check": {
            "answers": {
                question: {"applies": False}
                for question in (
                    "single-source",
                    "sympathy-or-antipathy",
                    "cultural-or-religious",
                    "power-or-language",
                )
            },
            "confirmed": True,
        },
    }


def complete_judgement(
    service: Service, actor: Actor, reference: str, version: int, draft: Draft
) -> Draft:
    """Save the minimal judgement when the draft's definition needs one to finalise.

    Headings that already have a narrative in the draft's review keep it.
    """
    ref = draft.assessment.instrument
    instrument = get_instrument(ref.id, ref.version)
    if not judgement_required(instrument, draft.assessment):
        return draft
    parts = minimal_judgement(instrument.items[0].id)
    # A narrative already written on the formulation page (the review) stands for its heading.
    headings = parts["five_p"]["headings"]
    for heading in draft.review.narratives:
        headings.pop(heading.value, None)
    for part, value in parts.items():
        draft = service.save_judgement(
            actor, reference, version, part, value, base_revision=draft.revision
        )
    return draft
