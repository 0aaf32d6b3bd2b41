"""Helpers for the plan's service tests: facilitators, a finalised 1.1 case, a plan, a log."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from instrument.access import SYSTEM, Actor
from instrument.assessment import Assessor, Rating, ResponsivityNote
from instrument.definitions import current_instrument
from instrument.service import Service
from tests.judgement_support import complete_judgement
from tests.store_support import PASSWORD, Clock, Team, make_team, sign

DRIVERS = ("ID1", "ID3", "GA6", "EM1", "EM2")


def plan_team(db: Path, clock: Clock | None = None) -> tuple[Team, Actor, Actor, Actor]:
    """Return the team of `make_team` with facilitators fay and fred (north), sid (south)."""
    team = make_team(db, clock)
    s = team.service
    s.add_user(SYSTEM, "fay", "facilitator", PASSWORD, "north")
    s.add_user(SYSTEM, "fred", "facilitator", PASSWORD, "north")
    s.add_user(SYSTEM, "sid", "facilitator", PASSWORD, "south")
    return team, sign(s, "fay"), sign(s, "fred"), sign(s, "sid")


def finalised_case(
    s: Service,
    pat: Actor,
    reference: str,
    *,
    yes: tuple[str, ...] = DRIVERS,
    evidence: str = "Fictional evidence.",
    create: bool = True,
    assessed_on: dt.date = dt.date(2026, 11, 1),
    password: str = PASSWORD,
) -> int:
    """Create (or continue) a case and finalise its next version with `yes` items high."""
    if create:
        s.create_case(pat, reference, "engaged")
    draft = s.start_assessment(pat, reference)
    instrument = current_instrument()
    for item in instrument.items:
        present = item.id in yes
        rating = Rating(
            presence="yes" if present else "no",
            relevance="high" if present else None,
            evidence=evidence if present else None,
            sources=["interview"] if present else [],
        )
        draft = s.save_rating(
            pat, reference, draft.version, item.id, rating, base_revision=draft.revision
        )
    draft = s.save_responsivity(
        pat,
        reference,
        draft.version,
        "RS1",
        ResponsivityNote(presence="yes", adaptation="Spoken rather than written material."),
        base_revision=draft.revision,
    )
    draft = s.save_details(
        pat,
        reference,
        draft.version,
        assessed_on=assessed_on,
        assessors=[Assessor(name="A. Assessor", role="psychologist")],
        notes=None,
        base_revision=draft.revision,
    )
    draft = complete_judgement(s, pat, reference, draft.version, draft)
    s.confirm_password(pat, password)
    s.finalise(pat, reference, draft.version)
    return draft.version


def entry(day: dt.date, session: str, **changes: Any) -> dict[str, Any]:
    """Return a log entry's fields: attended, an hour, good engagement, fictional notes."""
    values: dict[str, Any] = {
        "date": day.isoformat(),
        "facilitators": ["fay", "fred"],
        "sessions": [session],
        "attendance": "attended",
        "duration_minutes": 60,
        "engagement": "good",
        "notes": "Fictional notes.",
    }
    return values | changes
