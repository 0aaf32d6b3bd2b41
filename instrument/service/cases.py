"""Cases: create, list (one page at a time, or all), open and read the history."""

from __future__ import annotations

from instrument.access import Action, Actor, Resource, Role, can
from instrument.audit import AuditAction, Entity
from instrument.service.base import Op, ServiceBase
from instrument.service.views import CasePageView, CaseRow, CaseView, SignatureRow, VersionRow
from instrument.store import CaseQuery, CaseRecord, Transaction
from instrument.vocabulary import AssessmentStatus, Pathway

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


def _query(
    team: str | None,
    text: str | None,
    pathway: Pathway | str | None,
    status: AssessmentStatus | str | None,
    assessor: str | None,
    *,
    names: bool,
) -> CaseQuery:
    """Return the store query; raise ValueError for an unknown pathway or status."""
    return CaseQuery(
        team=team,
        text=text or None,
        pathway=None if pathway is None else Pathway(pathway),
        status=None if status is None else AssessmentStatus(status),
        assessor=assessor or None,
        names=names,
    )


class CaseService(ServiceBase):
    """Creating, listing and opening cases."""

    def create_case(
        self, actor: Actor, reference: str, pathway: Pathway | str, team: str | None = None
    ) -> CaseView:
        """Create a case (reference unique within its team) with no assessment yet."""
        with self._operation(actor, AuditAction.CREATE) as (op, tx):
            self._require(op, Action.CREATE_CASE)
            team_name = self._target_team(op, team)
            case_id = self._insert_case(op, tx, reference, pathway, team_name)
            op.entity, op.entity_id = Entity.CASE, case_id
            return CaseView(reference, Pathway(pathway), team_name, ())

    def list_cases(
        self,
        actor: Actor,
        *,
        text: str | None = None,
        pathway: Pathway | str | None = None,
        status: AssessmentStatus | str | None = None,
        assessor: str | None = None,
        team: str | None = None,
    ) -> list[CaseRow]:
        """Return the cases the actor may see, in reference order, filtered as asked.

        `text` matches part of the reference, `assessor` part of the latest version's first
        assessor's name. Audited as `list`, or `search` when any filter is given (the terms are
        not recorded).
        """
        page = self._list(actor, text, pathway, status, assessor, team, limit=None, offset=0)
        return list(page.rows)

    def list_cases_page(
        self,
        actor: Actor,
        *,
        text: str | None = None,
        pathway: Pathway | str | None = None,
        status: AssessmentStatus | str | None = None,
        assessor: str | None = None,
        team: str | None = None,
        offset: int = 0,
        limit: int = PAGE_SIZE,
    ) -> CasePageView:
        """Return one page of `list_cases` (same filters, order and audit) and the total.

        `offset` counts cases from 0; `limit` is 1 to 500 cases.
        """
        limit = max(1, min(int(limit), MAX_PAGE_SIZE))
        return self._list(
            actor, text, pathway, status, assessor, team, limit=limit, offset=max(0, int(offset))
        )

    def _list(
        self,
        actor: Actor,
        text: str | None,
        pathway: Pathway | str | None,
        status: AssessmentStatus | str | None,
        assessor: str | None,
        team: str | None,
        *,
        limit: int | None,
        offset: int,
    ) -> CasePageView:
        searching = any(v is not None for v in (text, pathway, status, assessor, team))
        action = AuditAction.SEARCH if searching else AuditAction.LIST
        empty = CasePageView((), 0, offset, limit or 0)
        with self._operation(actor, action) as (op, tx):
            self._require(op, Action.LIST_CASES)
            scope_team = op.actor.team if op.actor.role is not Role.SYSTEM else team
            if op.actor.role is not Role.SYSTEM and team is not None and team != scope_team:
                return empty
            hide_names = not can(op.actor, Action.READ_EVIDENCE, Resource(scope_team))
            if assessor and hide_names:
                return empty
            try:
                query = _query(scope_team, text, pathway, status, assessor, names=not hide_names)
            except ValueError:
                return empty  # an unknown pathway or status matches no case
            page = tx.cases.search(query, limit=limit, offset=offset)
        return CasePageView(
            page.rows, page.total, offset, limit if limit is not None else page.total
        )

    @staticmethod
    def _versions(tx: Transaction, case: CaseRecord, *, names: bool) -> tuple[VersionRow, ...]:
        signatures: dict[int, list[SignatureRow]] = {}
        for s in tx.signatures.for_case(case.id):
            signatures.setdefault(s.assessment_id, []).append(
                SignatureRow(
                    s.meaning,
                    s.signer if names else None,
                    s.signed_at,
                    s.role.value if names and s.role else None,
                )
            )
        return tuple(
            VersionRow(
                version=v.version,
                status=v.status,
                revision=v.revision,
                assessed_on=v.assessed_on,
                replaces=v.replaces,
                saved_by=(v.saved_by or "system") if names else None,
                saved_at=v.saved_at,
                signatures=tuple(signatures.get(v.id, ())),
            )
            for v in tx.assessments.versions(case.id)
        )

    def _case_view(self, op: Op, tx: Transaction, case: CaseRecord) -> CaseView:
        names = can(op.actor, Action.READ_EVIDENCE, Resource(case.team))
        return CaseView(
            reference=case.reference,
            pathway=case.pathway,
            team=case.team,
            versions=self._versions(tx, case, names=names),
        )

    def open_case(self, actor: Actor, reference: str, *, team: str | None = None) -> CaseView:
        """Open a case: audited as one `view` (call it once per opening, not per rerun)."""
        with self._operation(actor, AuditAction.VIEW) as (op, tx):
            case = self._case(op, tx, reference, Action.VIEW_CASE, team)
            return self._case_view(op, tx, case)

    def case_history(
        self, actor: Actor, reference: str, *, team: str | None = None
    ) -> list[VersionRow]:
        """Return every version of a case, oldest first (not audited: part of a view)."""
        with self._operation(actor, AuditAction.VIEW, write=False) as (op, tx):
            case = self._case(op, tx, reference, Action.VIEW_CASE, team)
            return list(self._case_view(op, tx, case).versions)
