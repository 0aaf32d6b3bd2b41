"""Final means frozen (SECURITY.md 6): a hypothesis state machine over the service.

Rules: create a case, start a draft, autosave, finalise, amend, export and import (into another
team). Invariants after every step: a final version's content hash and stored document never
change, version numbers of a case strictly increase from 1 without gaps, a case has at most one
open draft, and the audit chain verifies.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from instrument.access import SYSTEM
from instrument.assessment import Assessor, Rating
from instrument.definitions import current_instrument
from instrument.errors import ConflictError
from instrument.exchange.case import case_json
from tests.judgement_support import complete_judgement
from tests.store_support import PASSWORD, make_team

INSTRUMENT = current_instrument()
ITEMS = [item.id for item in INSTRUMENT.items]
RATINGS = st.builds(
    lambda presence, relevance: Rating(
        presence=presence,
        relevance=relevance if presence in ("partial", "yes") else None,
        evidence="Fictional evidence.",
        sources=["interview"] if presence in ("partial", "yes") else [],
        omit_reason="not-asked" if presence == "omit" else None,
    ),
    st.sampled_from(["no", "partial", "yes", "omit"]),
    st.sampled_from(["low", "moderate", "high"]),
)


class FrozenVersions(RuleBasedStateMachine):
    """Drive the service at random and check that finals never change."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.team = make_team(Path(self.folder.name) / "s.db")
        self.s = self.team.service
        self.pat = self.team.psychologist
        self.s.confirm_password(self.pat, PASSWORD)
        self.cases: list[str] = []
        self.finals: dict[tuple[str, int], tuple[str, str]] = {}
        self.imports = 0

    def teardown(self) -> None:
        self.s.close()
        self.folder.cleanup()

    @rule()
    def create(self) -> None:
        reference = f"C-{len(self.cases)}"
        self.s.create_case(self.pat, reference, "engaged")
        self.cases.append(reference)

    def _draft(self, index: int) -> tuple[str, int] | None:
        reference = self.cases[index % len(self.cases)]
        view = self.s.open_case(self.pat, reference)
        return (reference, view.open_draft) if view.open_draft else None

    @precondition(lambda self: self.cases)
    @rule(index=st.integers(0, 50))
    def start(self, index: int) -> None:
        reference = self.cases[index % len(self.cases)]
        try:
            draft = self.s.start_assessment(self.pat, reference)
        except ConflictError:
            return
        draft = self.s.save_details(
            self.pat,
            reference,
            draft.version,
            assessed_on=dt.date(2026, 11, 1),
            assessors=[Assessor(name="A. Assessor", role="psychologist")],
            notes=None,
            base_revision=draft.revision,
            provisional_reason="Fictional: every item is omitted in this test.",
        )
        for item in ITEMS:  # a complete draft, so that it can be finalised
            draft = self.s.save_rating(
                self.pat,
                reference,
                draft.version,
                item,
                Rating(presence="omit", omit_reason="not-asked"),
                base_revision=draft.revision,
            )
        complete_judgement(self.s, self.pat, reference, draft.version, draft)

    @precondition(lambda self: self.cases)
    @rule(index=st.integers(0, 50), item=st.sampled_from(ITEMS), rating=RATINGS)
    def save(self, index: int, item: str, rating: Rating) -> None:
        found = self._draft(index)
        if found is None:
            return
        reference, version = found
        revision = self.s.get_assessment(self.pat, reference, version).revision
        self.s.save_rating(self.pat, reference, version, item, rating, base_revision=revision)

    @precondition(lambda self: self.cases)
    @rule(index=st.integers(0, 50))
    def finalise(self, index: int) -> None:
        found = self._draft(index)
        if found is None:
            return
        reference, version = found
        self.s.confirm_password(self.pat, PASSWORD)
        self.s.finalise(self.pat, reference, version)
        draft = self.s.get_assessment(self.pat, reference, version)
        row = self._stored(reference, version)
        self.finals[(reference, version)] = row
        assert draft.status == "final"

    @precondition(lambda self: self.finals)
    @rule(index=st.integers(0, 50))
    def amend(self, index: int) -> None:
        reference, version = sorted(self.finals)[index % len(self.finals)]
        try:
            draft = self.s.amend(self.pat, reference, version, "A reason.")
        except ConflictError:
            return
        assert draft.replaces == version
        assert draft.version > version
        # The amendment's assessor confirms the bias check again before finalising it.
        judgement = draft.assessment.judgement
        if judgement is not None and judgement.bias_check is not None:
            check = judgement.bias_check.model_copy(update={"confirmed": True})
            self.s.save_judgement(
                self.pat,
                reference,
                draft.version,
                "bias_check",
                check,
                base_revision=draft.revision,
            )

    @precondition(lambda self: self.finals)
    @rule(index=st.integers(0, 50))
    def export_import(self, index: int) -> None:
        reference, _ = sorted(self.finals)[index % len(self.finals)]
        self.s.confirm_password(self.pat, PASSWORD)
        text = case_json(self.s.export_case(self.pat, reference))
        team = "south"
        try:
            self.s.import_case(SYSTEM, text.encode(), team)
        except ConflictError:
            return  # already imported into south once: never overwritten
        again = case_json(self.s.export_case(SYSTEM, reference, team=team))
        assert again == text

    def _stored(self, reference: str, version: int) -> tuple[str, str]:
        row = self.s.store.conn.execute(
            "SELECT a.sha256, a.document FROM assessments a JOIN cases c ON c.id = a.case_id"
            " JOIN teams t ON t.id = c.team_id WHERE t.name = 'north' AND c.reference = ?"
            " AND a.version = ?",
            (reference, version),
        ).fetchone()
        return str(row[0]), str(row[1])

    @invariant()
    def finals_never_change(self) -> None:
        for (reference, version), stored in self.finals.items():
            assert self._stored(reference, version) == stored

    @invariant()
    def versions_increase_without_gaps(self) -> None:
        rows = self.s.store.conn.execute(
            "SELECT case_id, group_concat(version), sum(status = 'draft') FROM"
            " (SELECT case_id, version, status FROM assessments ORDER BY case_id, version)"
            " GROUP BY case_id"
        ).fetchall()
        for _, versions, drafts in rows:
            numbers = [int(v) for v in versions.split(",")]
            assert numbers == list(range(1, len(numbers) + 1))
            assert drafts <= 1

    @invariant()
    def the_audit_chain_verifies(self) -> None:
        assert self.s.store.verify_audit().ok


FrozenVersions.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestFrozenVersions = FrozenVersions.TestCase
