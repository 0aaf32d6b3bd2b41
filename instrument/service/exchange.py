"""Exchange: a case out as one document, assessment documents and case exports in.

Imports are all or nothing and obey the strict limits of SECURITY.md 18: a refused document
writes nothing, not even an audit entry.
"""

from __future__ import annotations

from typing import Any

from instrument.access import Action, Actor, Role
from instrument.assessment import CaseInfo, assessment_hash
from instrument.audit import AuditAction, AuditEvent, Entity
from instrument.case import CaseExport, SignatureRecord, VersionRecord
from instrument.errors import ConflictError
from instrument.formulation import Review
from instrument.plan import plan_state
from instrument.service.base import DEFAULT_TEAM, Op, ServiceBase
from instrument.service.views import Draft, ImportResult
from instrument.store import CaseRecord, Transaction
from instrument.vocabulary import AssessmentStatus


class ExchangeService(ServiceBase):
    """Exporting and importing cases and assessments."""

    def export_case(
        self, actor: Actor, reference: str, *, team: str | None = None
    ) -> dict[str, Any]:
        """Return the case with every version, review, formulation and signature as one document.

        Needs the password entered within 5 minutes; validated against the published
        `schemas/case.schema.json` before it is returned.
        """
        from instrument.exchange.case import case_document, sign_export

        with self._operation(actor, AuditAction.EXPORT) as (op, tx):
            case = self._case(op, tx, reference, Action.EXPORT_CASE, team)
            self._require_password(tx, op)
            signatures: dict[int, list[SignatureRecord]] = {}
            for s in tx.signatures.for_case(case.id):
                signatures.setdefault(s.assessment_id, []).append(
                    SignatureRecord(meaning=s.meaning, by=s.signer, at=s.signed_at)
                )
            versions = [
                VersionRecord(
                    assessment=record.assessment,
                    review=record.review,
                    formulation=tx.formulations.get(record.id) if record.final else None,
                    signatures=signatures.get(record.id, []),
                )
                for record in tx.assessments.all(case.id)
            ]
            document = case_document(
                CaseInfo(reference=case.reference, pathway=case.pathway),
                versions,
                plans=[record.plan for record in tx.plans.versions(case.id)],
                delivery=[record.entry for record in tx.plans.entries(case.id)],
                reviews=tx.plans.reviews(case.id),
            )
            return sign_export(document, self.store.key)

    def import_assessment(self, actor: Actor, data: bytes, team: str | None = None) -> Draft:
        """Import an assessment document as a new draft of its case (created when new).

        The strict limits of SECURITY.md 18 apply; the document becomes the case's next version
        as a draft, whatever its own version and status say: an import never overwrites a final
        version. All or nothing.

        Raises:
            DocumentError: listing every problem with its JSON path (nothing is written).
            ConflictError: when the case has an open draft, or a different pathway.
        """
        from instrument.exchange.assessments import parse_assessment

        with self._operation(actor, AuditAction.IMPORT) as (op, tx):
            self._require(op, Action.IMPORT)
            team_name = self._target_team(op, team)
            assessment = parse_assessment(data, self.definitions)
            case, created = self._import_target(op, tx, assessment.case, team_name)
            if not created:
                self._no_open_draft(tx, case)
            replaces = assessment.assessment.replaces
            keep = replaces is not None and tx.assessments.is_final(case.id, replaces)
            info = assessment.assessment.model_copy(
                update={
                    "version": case.latest_version + 1,
                    "status": AssessmentStatus.DRAFT,
                    "replaces": replaces if keep else None,
                    "amendment_reason": assessment.assessment.amendment_reason if keep else None,
                }
            )
            draft = assessment.model_copy(update={"assessment": info})
            return self._insert_version(op, tx, case, draft, Review())[1]

    def _import_target(
        self, op: Op, tx: Transaction, info: CaseInfo, team_name: str
    ) -> tuple[CaseRecord, bool]:
        """Return the case an import goes to, creating it (audited `create`) when new."""
        team_id = self._team_id(tx, team_name)
        case = tx.cases.in_team(team_id, info.reference)
        created = case is None
        if case is None:
            case_id = self._insert_case(op, tx, info.reference, info.pathway, team_name)
            op.extra.append(
                AuditEvent(
                    at=op.now,
                    action=AuditAction.CREATE,
                    actor_id=op.actor.user_id,
                    role=op.actor.role.value,
                    entity=Entity.CASE,
                    entity_id=case_id,
                )
            )
            case = tx.cases.get(case_id)
            assert case is not None
        elif case.pathway is not info.pathway:
            raise ConflictError(
                f"case {info.reference} is on the {case.pathway.value} pathway",
                where="$.case.pathway",
                fix="correct the pathway in the document",
            )
        op.entity, op.entity_id = Entity.CASE, case.id
        return case, created

    def import_case(self, actor: Actor, data: bytes, team: str | None = None) -> ImportResult:
        """Import a case export into a team where its reference is new, version by version.

        Final versions stay final with their stored formulation (checked against the hash of
        the assessment) and their signatures (recorded as imported).

        Raises:
            DocumentError: listing every problem with its JSON path (nothing is written).
            ConflictError: when the reference exists in the team: import its assessment instead.
        """
        from instrument.exchange.case import export_origin, parse_case

        with self._operation(actor, AuditAction.IMPORT) as (op, tx):
            self._require(op, Action.IMPORT)
            team_name = self._target_team(op, team)
            export = parse_case(data, self.definitions, op.now.date())
            export_origin(export, self.store.key)  # this installation's signature must match
            team_id = self._team_id(tx, team_name)
            if tx.cases.in_team(team_id, export.case.reference, fold_case=True) is not None:
                raise ConflictError(
                    f"case {export.case.reference} already exists in team {team_name}",
                    where="$.case.reference",
                    fix="import its latest assessment document instead (a new draft)",
                )
            case, _ = self._import_target(op, tx, export.case, team_name)
            for record in export.versions:
                final = record.assessment.assessment.status is AssessmentStatus.FINAL
                status = AssessmentStatus.FINAL if final else AssessmentStatus.DRAFT
                assessment_id, _ = self._insert_version(
                    op, tx, case, record.assessment, record.review, status=status
                )
                if record.formulation is not None:
                    sha = assessment_hash(record.assessment)
                    tx.formulations.add(case.id, assessment_id, record.formulation, sha, op.now)
                    for signature in record.signatures:
                        tx.signatures.add(
                            assessment_id,
                            user_id=None,
                            signer=signature.by,
                            meaning=signature.meaning,
                            at=signature.at,
                            sha256=sha,
                            imported=True,
                            imported_by=op.actor.username,
                            imported_at=op.now,
                        )
            self._import_plan(op, tx, case, export)
            op.version = None
            return ImportResult(
                export.case.reference,
                team_name,
                tuple(r.assessment.assessment.version for r in export.versions),
                True,
            )

    @staticmethod
    def _import_plan(op: Op, tx: Transaction, case: CaseRecord, export: CaseExport) -> None:
        """Store the export's plan versions (signatures kept as imported), log and reviews."""
        by = op.actor.user_id
        for plan in export.plans:
            plan_id = tx.plans.add(case.id, plan, by=by, now=op.now)
            for signature in plan.signatures:
                tx.plans.sign(
                    plan_id, user_id=None, signer=signature.by, at=signature.at, imported=True
                )
        for entry in export.delivery:
            tx.plans.log(case.id, entry, by=by, now=op.now)
        for review in export.reviews:
            tx.plans.review(case.id, review, by=by, now=op.now)
        if export.plans:
            state = plan_state(export.plans, export.delivery, export.reviews, today=op.now.date())
            tx.plans.note_state(case.id, state, op.now)

    def import_document(self, actor: Actor, data: bytes, team: str | None = None) -> ImportResult:
        """Import an assessment document or a case export, whichever `data` is.

        The export-format registry (`instrument.exchange.formats`) tells which it is.
        """
        from instrument.exchange.formats import sniff

        if sniff(data)[1] == "case":
            return self.import_case(actor, data, team)
        draft = self.import_assessment(actor, data, team)
        actor_team = team or (actor.team if actor.role is not Role.SYSTEM else DEFAULT_TEAM)
        return ImportResult(
            draft.reference,
            actor_team or DEFAULT_TEAM,
            (draft.version,),
            draft.version == 1,
        )
