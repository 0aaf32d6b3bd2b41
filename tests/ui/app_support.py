"""Helpers for the assessment and formulation page tests, over the `web` fixture (conftest.py).

`new_case` makes a case of team north with an empty draft v1; `fill` rates every item so that a
draft may be finalised; `key` spells a widget key of the assessment form the way the page does.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from streamlit.components.v2.bidi_component.main import _make_trigger_id
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from instrument.assessment import Assessor, Rating
from instrument.definitions import get_instrument
from instrument.service import Draft
from instrument.ui import state
from instrument.vocabulary import AssessorRole, Presence, Relevance, Source, Timeframe
from tests.judgement_support import complete_judgement
from tests.ui.conftest import PASSWORD, Web

CASE = "C-0001"


def key(item: str, field: str, *, case: str = CASE, version: int = 1) -> str:
    """Return the assessment form's widget key for one field, e.g. ID1 presence."""
    return state.widget_key(state.ASSESSMENT_FORM, f"{case}.{version}.{item}.{field}")


def review_key(*parts: object, case: str = CASE, version: int = 1) -> str:
    """Return the formulation page's widget key, e.g. ("narrative", "presenting")."""
    name = ".".join(str(p) for p in (case, version, *parts))
    return state.widget_key(state.FORMULATION_REVIEW, name)


def new_case(web: Web, reference: str = CASE, pathway: str = "engaged") -> Draft:
    """Create a case of team north with an empty draft v1 (as the psychologist)."""
    actor = web.actor("psychologist")
    with web.service() as service:
        service.create_case(actor, reference, pathway)
        return service.start_assessment(actor, reference)


def draft(web: Web, reference: str = CASE, version: int = 1) -> Draft:
    """Return the stored draft, read directly through the service."""
    with web.service() as service:
        return service.get_assessment(web.actor("psychologist"), reference, version)


def fill(
    web: Web,
    reference: str = CASE,
    version: int = 1,
    *,
    evidence: str = "",
    judgement: bool = True,
) -> Draft:
    """Rate every item (every third one present) with a date and an assessor.

    With `judgement`, a minimal judgement section is saved when the draft's definition needs
    one to finalise (`tests/judgement_support.py`).
    """
    actor = web.actor("psychologist")
    with web.service() as service:
        current = service.get_assessment(actor, reference, version)
        current = service.save_details(
            actor,
            reference,
            version,
            assessed_on=dt.date(2026, 11, 1),
            assessors=[Assessor(name="Dr A. Assessor", role=AssessorRole.PSYCHOLOGIST)],
            notes=None,
            base_revision=current.revision,
        )
        ref = current.assessment.instrument  # the draft's own definition (new drafts: 1.1)
        for index, item in enumerate(get_instrument(ref.id, ref.version).items):
            present = index % 3 == 0
            rating = Rating(
                presence=Presence.YES if present else Presence.NO,
                relevance=Relevance.HIGH if present else None,
                evidence=(evidence or f"Evidence for {item.id}.") if present else None,
                sources=[Source.INTERVIEW] if present else [],
                timeframe=Timeframe.CURRENT,
            )
            current = service.save_rating(
                actor, reference, version, item.id, rating, base_revision=current.revision
            )
        if judgement:
            current = complete_judgement(service, actor, reference, version, current)
        return current


def finalise(web: Web, reference: str = CASE, version: int = 1) -> None:
    """Finalise a filled draft directly through the service (password entered just now)."""
    actor = web.actor("psychologist")
    with web.service() as service:
        service.confirm_password(actor, PASSWORD)
        service.finalise(actor, reference, version)


# --- the item controls (custom components: AppTest cannot click inside them) -------------------


def control(at: AppTest, item: str) -> dict[str, Any]:
    """Return the data the page gave one item's control (what the browser draws)."""
    for element in at.get("bidi_component"):
        if element.proto.id.endswith(f".{item}.control"):
            data: dict[str, Any] = json.loads(element.proto.json)
            return data
    raise AssertionError(f"no control drawn for {item}")


def send_change(
    at: AppTest,
    item: str,
    values: dict[str, Any],
    *,
    base: dict[str, Any] | None = None,
    seq: int | None = None,
) -> AppTest:
    """Send a change from an item's control as its JavaScript does, and run the page.

    `values` are the fields changed; the others, and `base`, default to what the control shows.
    """
    shown = control(at, item)
    start = dict(shown["values"])
    payload = {
        "seq": seq if seq is not None else int(shown["ack"]) + 1,
        "values": {**start, **values},
        "base": base if base is not None else start,
    }
    element_id = next(
        e.proto.id for e in at.get("bidi_component") if e.proto.id.endswith(f".{item}.control")
    )
    states = at._tree.get_widget_states()
    state_proto = WidgetState(
        id=_make_trigger_id(element_id, "events"),
        json_trigger_value=json.dumps([{"event": "change", "value": payload}]),
    )
    states.widgets.append(state_proto)
    at._run(states)
    assert not at.exception, [e.value for e in at.exception]
    return at
