"""Shared helpers for the store and service tests: a movable clock, a service, users, ratings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from instrument.access import SYSTEM, Actor
from instrument.assessment import Assessor, Rating
from instrument.definition import Instrument
from instrument.definitions import get_instrument
from instrument.service import Draft, Service
from tests.judgement_support import complete_judgement

T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery staple"
# Cheap parameters keep the suite fast; one test checks the production defaults and rehashing.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: dt.datetime = T0) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def open_service(db: Path, clock: Clock | None = None) -> Service:
    return Service.open(db, clock=clock or Clock(), hasher=FAST_HASHER)


@dataclass
class Team:
    """A service with users in two teams: north (everyone) and south (one psychologist)."""

    service: Service
    clock: Clock
    admin: Actor
    psychologist: Actor
    supervisor: Actor
    viewer: Actor
    other: Actor  # a psychologist of team south


def sign(service: Service, username: str, password: str = PASSWORD) -> Actor:
    actor = service.session_actor(service.sign_in(username, password))
    assert actor is not None
    return actor


def make_team(db: Path, clock: Clock | None = None) -> Team:
    clock = clock or Clock()
    service = open_service(db, clock)
    service.add_team(SYSTEM, "north")
    service.add_team(SYSTEM, "south")
    service.add_user(SYSTEM, "ada", "admin", PASSWORD, "north")
    service.add_user(SYSTEM, "pat", "psychologist", PASSWORD, "north")
    service.add_user(SYSTEM, "sam", "supervisor", PASSWORD, "north")
    service.add_user(SYSTEM, "vic", "viewer", PASSWORD, "north")
    service.add_user(SYSTEM, "oli", "psychologist", PASSWORD, "south")
    return Team(
        service,
        clock,
        *(sign(service, name) for name in ("ada", "pat", "sam", "vic", "oli")),
    )


def complete(
    service: Service,
    actor: Actor,
    reference: str,
    version: int,
    instrument: Instrument,
    *,
    evidence: str = "Fictional evidence.",
    judgement: bool = True,
) -> Draft:
    """Rate every item and fill the details so that the draft may be finalised.

    The draft's own definition is used (new drafts are 1.1); omitted items get a reason where
    that definition asks for one. With `judgement`, a minimal judgement section is saved when
    the definition needs one to finalise (`tests/judgement_support.py`).
    """
    draft = service.get_assessment(actor, reference, version)
    ref = draft.assessment.instrument
    instrument = get_instrument(ref.id, ref.version)
    reasons = instrument.scales.omit_reasons is not None
    for index, item in enumerate(instrument.items):
        presence = ("no", "partial", "yes", "omit")[index % 4]
        rating = Rating(
            presence=presence,
            relevance="moderate" if presence in ("partial", "yes") else None,
            evidence=evidence,
            sources=["interview"] if presence in ("partial", "yes") else [],
            omit_reason="not-asked" if presence == "omit" and reasons else None,
        )
        draft = service.save_rating(
            actor, reference, version, item.id, rating, base_revision=draft.revision
        )
    draft = service.save_details(
        actor,
        reference,
        version,
        assessed_on=dt.date(2026, 11, 1),
        assessors=[Assessor(name="A. Assessor", role="psychologist")],
        notes="Fictional notes.",
        base_revision=draft.revision,
    )
    if judgement:
        draft = complete_judgement(service, actor, reference, version, draft)
    return draft


def dump(db: Path) -> list[str]:
    """Return the database's schema and rows as text, for before/after comparisons.

    An encrypted database (a `<db>.dbkey` beside it, as the command line makes) is read with
    its key through the connection factory.
    """
    from instrument.store.files import load_key
    from instrument.store.sqlite.connection import connect

    keyfile = db.with_name(db.name + ".dbkey")
    key = load_key(keyfile, create=False, what="database key") if keyfile.exists() else None
    conn = connect(db, key)
    try:
        lines = []
        tables = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
            "ORDER BY type, name"
        ).fetchall()
        for kind, name, sql in tables:
            lines.append(f"{kind} {name}: {sql}")
            if kind == "table":
                rows = conn.execute(f'SELECT * FROM "{name}" ORDER BY rowid').fetchall()
                lines += [f'INSERT INTO "{name}" VALUES{tuple(row)!r}' for row in rows]
        return lines
    finally:
        conn.close()


def install_versions(
    monkeypatch: pytest.MonkeyPatch, instrument: Instrument, *versions: str
) -> Instrument:
    """Install more versions of the instrument beside the shipped one; return the last.

    Each is the shipped definition under another version number with its first item renamed
    `Renamed in <version>`, so a page or a formulation shows which version it was drawn from.
    """
    from instrument import definitions

    found = dict(definitions.installed())
    newer = instrument
    for version in versions:
        data = instrument.model_dump(mode="json", by_alias=True, exclude_none=True)
        data["version"] = version
        data["items"][0]["name"] = f"Renamed in {version}"
        newer = Instrument.model_validate(data)
        found[newer.key] = newer
    monkeypatch.setattr(definitions, "installed", lambda folder=definitions.SHIPPED: found)
    return newer
