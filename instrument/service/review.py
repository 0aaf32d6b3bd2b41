"""Review and signing: overrides, narratives, finalising, countersigning, amending; formulations.

Finalising needs the password entered within 5 minutes; the stored formulation carries the
SHA-256 of the exact assessment it was made from, and the signature says "finalised by".
Formulations of drafts are computed on each read; viewers get them redacted and without names.
"""

from __future__ import annotations

from instrument.access import Action, Actor, Resource, can
from instrument.assessment import assessment_hash
from instrument.assessment import finalisation_problems as _finalisation_problems
from instrument.audit import AuditAction
from instrument.errors import ConflictError, DocumentError, Problem, StoreError
from instrument.formulation import (
    Formulation,
    apply_override,
    clear_override,
    formulate,
    redact,
    set_narrative,
)
from instrument.formulation.finalising import judgement_problems
from instrument.judgement import unconfirmed
from instrument.service.base import Op, ServiceBase
from instrument.service.views import Draft
from instrument.store import Transaction
from instrument.vocabulary import MAX_TEXT, AssessmentStatus, Band, FiveP, text_problem

FINALISED_BY = "finalised by"
COUNTERSIGNED_BY = "countersigned by"


def for_viewers(formulation: Formulation) -> Formulation:
    """Return the formulation for a viewer: redacted, and without any person's name."""
    redacted = redact(formulation)
    header = redacted.header.model_copy(update={"assessors": []})
    overrides = {
        area: override.model_copy(update={"by": "assessor"})
        for area, override in redacted.review.overrides.items()
    }
    priorities = [
        p.model_copy(update={"override": overrides.get(p.area)}) if p.override else p
        for p in redacted.priorities
    ]
    review = redacted.review.model_copy(update={"overrides": overrides})
    return redacted.model_copy(
        update={"header": header, "review": review, "priorities": priorities}
    )


class ReviewService(ServiceBase):
    """The assessor's review of a draft, its signatures, amendments and formulations."""

    def finalisation_problems(self, actor: Actor, reference: str, version: int) -> list[Problem]:
        """Return what still blocks finalising the version (empty when it may be finalised)."""
        with self._operation(actor, AuditAction.FINALISE, write=False) as (op, tx):
            case = self._case(op, tx, reference, Action.READ_EVIDENCE)
            record = self._version(op, tx, case, version)
        if record.final:
            return [Problem("version", f"version {version} is already final", "amend it")]
        assessment = record.assessment
        instrument = self._instrument(assessment)
        return _finalisation_problems(instrument, assessment) + judgement_problems(
            instrument, assessment, record.review
        )

    def finalise(self, actor: Actor, reference: str, version: int) -> Formulation:
        """Finalise a draft: check it, freeze it, store its formulation and sign it.

        Needs the password entered within the last 5 minutes. The formulation stores the
        SHA-256 of the exact assessment it was made from; the signature says "finalised by".

        Raises:
            DocumentError: listing everything that blocks finalising.
            AuthenticationError: when the password must be entered again.
        """
        with self._editing(
            actor, reference, version, None, AuditAction.FINALISE, Action.FINALISE
        ) as (op, tx, case, record):
            self._require_password(tx, op)
            draft = record.assessment
            instrument = self._instrument(draft)
            problems = _finalisation_problems(instrument, draft)
            problems += judgement_problems(instrument, draft, record.review)
            if problems:
                raise DocumentError(problems)
            info = draft.assessment.model_copy(update={"status": AssessmentStatus.FINAL})
            final = draft.model_copy(update={"assessment": info})
            formulation = formulate(
                instrument,
                final,
                self._previous_final(tx, case, version),
                generated_at=op.now,
                review=record.review,
                previous_review=self._previous_review(tx, case, version),
            )
            sha = assessment_hash(final)
            tx.assessments.finalise(record, final, sha, by=op.actor.user_id, now=op.now)
            tx.formulations.add(case.id, record.id, formulation, sha, op.now)
            self._sign(tx, op, record.id, FINALISED_BY, sha)
            return formulation

    @staticmethod
    def _sign(tx: Transaction, op: Op, assessment_id: int, meaning: str, sha: str) -> None:
        tx.signatures.add(
            assessment_id,
            user_id=op.actor.user_id,
            signer=op.actor.username,
            meaning=meaning,
            at=op.now,
            sha256=sha,
        )

    def countersign(self, actor: Actor, reference: str, version: int) -> None:
        """Countersign a final version (supervisors); needs the password within 5 minutes."""
        with self._operation(actor, AuditAction.COUNTERSIGN) as (op, tx):
            case = self._case(op, tx, reference, Action.COUNTERSIGN)
            record = self._version(op, tx, case, version)
            if not record.final or record.sha256 is None:
                raise ConflictError(
                    f"version {version} is a draft; only final versions are countersigned",
                    where="version",
                    fix="wait until it is finalised",
                )
            self._require_password(tx, op)
            if tx.signatures.has(record.id, COUNTERSIGNED_BY, op.actor.user_id):
                raise ConflictError(
                    f"you have already countersigned version {version}", where="version"
                )
            self._sign(tx, op, record.id, COUNTERSIGNED_BY, record.sha256)

    def amend(self, actor: Actor, reference: str, version: int, reason: str) -> Draft:
        """Amend a final version: a new draft pointing at it, with the reason; it stays as is."""
        with self._operation(actor, AuditAction.AMEND) as (op, tx):
            case = self._case(op, tx, reference, Action.AMEND)
            record = self._version(op, tx, case, version)
            if not record.final:
                raise ConflictError(
                    f"version {version} is a draft: change it directly", where="version"
                )
            text = (reason or "").strip()
            if not text or len(text) > MAX_TEXT:
                raise DocumentError(
                    [Problem("reason", "a reason (1 to 20,000 characters) is required", "give it")]
                )
            if (bad := text_problem(text, "reason")) is not None:
                raise DocumentError([bad])
            replaced_by = tx.assessments.amended_by(case.id, version)
            if replaced_by is not None:
                raise ConflictError(
                    f"version {version} is already amended by version {replaced_by}",
                    where="version",
                    fix=f"amend version {replaced_by} instead",
                )
            self._no_open_draft(tx, case)
            final = record.assessment
            info = final.assessment.model_copy(
                update={
                    "version": case.latest_version + 1,
                    "status": AssessmentStatus.DRAFT,
                    "replaces": version,
                    "amendment_reason": text,
                }
            )
            # Every judgement kept; the bias check is confirmed again at this finalising.
            draft = final.model_copy(
                update={"assessment": info, "judgement": unconfirmed(final.judgement)}
            )
            return self._insert_version(op, tx, case, draft, record.review)[1]

    def formulation(self, actor: Actor, reference: str, version: int) -> Formulation:
        """Return a version's formulation: stored for finals, computed for drafts.

        Viewers get it redacted: no evidence text, no responsivity notes, no names.
        """
        with self._operation(actor, AuditAction.VIEW, write=False) as (op, tx):
            return self._formulation(op, tx, reference, version)

    def export_formulation(self, actor: Actor, reference: str, version: int) -> Formulation:
        """Return a version's formulation to leave the system as a report or chart: audited.

        The same formulation as `formulation` (redacted for viewers), recorded as one `export`
        of the case and version (ids only); needs the password entered within 5 minutes. Call
        it once per document made: the app's report and chart downloads do, when clicked.
        """
        with self._operation(actor, AuditAction.EXPORT) as (op, tx):
            result = self._formulation(op, tx, reference, version)
            self._require_password(tx, op)
            return result

    def _formulation(self, op: Op, tx: Transaction, reference: str, version: int) -> Formulation:
        case = self._case(op, tx, reference, Action.READ_FORMULATION)
        record = self._version(op, tx, case, version)
        if record.final:
            stored = tx.formulations.get(record.id)
            if stored is None:
                raise StoreError(f"the formulation of version {version} is missing")
            result = stored
        else:
            assessment = record.assessment
            result = formulate(
                self._instrument(assessment),
                assessment,
                self._previous_final(tx, case, version),
                generated_at=op.now,
                review=record.review,
                previous_review=self._previous_review(tx, case, version),
            )
        full = can(op.actor, Action.READ_EVIDENCE, Resource(case.team))
        return result if full else for_viewers(result)

    def set_override(
        self,
        actor: Actor,
        reference: str,
        version: int,
        area: str,
        band: Band | str,
        rationale: str,
        *,
        base_revision: int | None = None,
        withdraw: bool = False,
    ) -> Draft:
        """Set the assessor's band for an area on a draft, with a rationale (20+ characters).

        `withdraw` (1.1 on) also takes the area out of the offer, even where the pathway always
        offers it.
        """
        with self._editing(
            actor, reference, version, base_revision, AuditAction.OVERRIDE, Action.REVIEW
        ) as (op, tx, case, record):
            instrument = self._instrument(record.assessment)
            if withdraw and instrument.rule.focus_size is None:
                raise DocumentError(
                    [
                        Problem(
                            f"$.review.overrides.{area}.withdrawn",
                            f"{instrument.id} {instrument.version} cannot withdraw an area",
                            "upgrade the assessment to 1.1 first",
                        )
                    ]
                )
            review = apply_override(
                record.review,
                area,
                band,
                rationale,
                op.actor.username,
                op.now,
                instrument=instrument,
                withdraw=withdraw,
            )
            return self._store_draft(op, tx, case, record, record.assessment, review)

    def clear_override(
        self,
        actor: Actor,
        reference: str,
        version: int,
        area: str,
        *,
        base_revision: int | None = None,
    ) -> Draft:
        """Remove the assessor's override for an area on a draft."""
        with self._editing(
            actor, reference, version, base_revision, AuditAction.OVERRIDE, Action.REVIEW
        ) as (op, tx, case, record):
            review = clear_override(record.review, area)
            return self._store_draft(op, tx, case, record, record.assessment, review)

    def save_narrative(
        self,
        actor: Actor,
        reference: str,
        version: int,
        heading: FiveP | str,
        text: str,
        *,
        base_revision: int,
    ) -> Draft:
        """Autosave the assessor's narrative for one 5P heading (blank text removes it)."""
        with self._editing(
            actor, reference, version, base_revision, AuditAction.NARRATIVE, Action.REVIEW
        ) as (op, tx, case, record):
            review = set_narrative(record.review, heading, text)
            return self._store_draft(op, tx, case, record, record.assessment, review)
