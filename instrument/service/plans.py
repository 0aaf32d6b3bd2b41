"""The intervention plan's use cases: plan, agree, amend, log sessions, review progress.

Each operation checks the acting user first (deny by default; another team's case is not
found), runs in one transaction with its audit entry (action codes only: `plan-start`,
`plan-save`, `plan-agree`, `plan-amend`, `session-log`, `session-save`, `progress-review`;
never the text typed), and leaves the case's summary row (status, next review) equal to the
core's `plan_state`. The rules are the core's (`instrument.plan`): a refused change writes
nothing. Reads (`case_plan`, `suggested_sessions`) are not audited: the case's opening is.

Facilitators of a case are the active facilitators, psychologists and supervisors of its
team; a username of any other team is answered exactly like an unknown one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from instrument.access import Action, Actor, Resource, Role, can, may_ever
from instrument.audit import AuditAction, Entity
from instrument.definition import Instrument
from instrument.errors import ConflictError, DocumentError, Problem
from instrument.formulation import Formulation
from instrument.plan import (
    ApproachGoal,
    AreaSideBySide,
    CasePlan,
    DeliveredSession,
    Frequency,
    Plan,
    ProgressReview,
    Suggestion,
    agree,
    amend,
    approach_goals_of,
    check_delivery,
    check_review,
    cosign,
    current_agreed,
    delivery_problems,
    draft_plan,
    ended_by,
    facilitator_problems,
    no_intervention_indicated,
    plan_problems,
    plan_state,
    redact_case_plan,
    repeated_entry,
    require_draft,
    revise,
    set_attendance,
    side_by_side,
    suggest,
)
from instrument.plan import (
    plan_only as only_the_plan,
)
from instrument.service.base import Op, ServiceBase, document_error
from instrument.service.views import DeliveryView, PlanDraft
from instrument.store import CaseRecord, DeliveryRecord, PlanRecord, Transaction

FACILITATING_ROLES = (Role.PSYCHOLOGIST, Role.SUPERVISOR, Role.FACILITATOR)
PLAN_FIELDS = (
    "facilitators",
    "sessions",
    "dropped",
    "order_reason",
    "approach_goals",
    "frequency",
    "adaptations",
    "review_on",
)


def _stale(what: str, saved_by: str | None, saved_at: dt.datetime) -> str:
    """Say who changed a record meanwhile and when, without revision numbers (issue 15)."""
    at = saved_at.strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{what} was changed by {saved_by or 'system'} at {at}, in another tab or by another "
        "person, while you edited it; your change was not saved"
    )


class PlanService(ServiceBase):
    """The intervention plan of a case: its versions, the delivery log and progress reviews."""

    # --- plumbing ------------------------------------------------------------------------------

    @staticmethod
    def _roster(tx: Transaction, case: CaseRecord) -> set[str]:
        """Return the usernames who may facilitate the case: its team's active practitioners."""
        return {
            user.username
            for user in tx.users.all()
            if user.active and user.team_id == case.team_id and user.role in FACILITATING_ROLES
        }

    def _basis(self, tx: Transaction, case: CaseRecord) -> tuple[Instrument, Formulation]:
        """Return the latest final formulation of the case and its definition.

        Raises:
            ConflictError: when the case has no final assessment yet.
        """
        record = (
            tx.assessments.get(case.id, case.latest_final)
            if case.latest_final is not None
            else None
        )
        formulation = tx.formulations.get(record.id) if record is not None else None
        if formulation is None:
            raise ConflictError(
                f"case {case.reference} has no final assessment to plan from",
                where="version",
                fix="finalise an assessment first; the plan builds on its formulation",
            )
        ref = formulation.header.instrument
        return self.definitions.get(ref.id, ref.version), formulation

    @staticmethod
    def _records(tx: Transaction, case: CaseRecord) -> tuple[list[Plan], list[Any], list[Any]]:
        plans = [record.plan for record in tx.plans.versions(case.id)]
        entries = [record.entry for record in tx.plans.entries(case.id)]
        return plans, entries, tx.plans.reviews(case.id)

    def _refresh(self, op: Op, tx: Transaction, case: CaseRecord) -> None:
        """Keep the case's summary row equal to the core's reading of its records."""
        plans, entries, reviews = self._records(tx, case)
        state = plan_state(plans, entries, reviews, today=op.now.date())
        tx.plans.note_state(case.id, state, op.now)

    @staticmethod
    def _plan_version(op: Op, tx: Transaction, case: CaseRecord, version: int) -> PlanRecord:
        record = tx.plans.get(case.id, version)
        if record is None:
            raise ConflictError(
                f"case {case.reference} has no plan version {version}",
                where="version",
                fix="choose a plan version of the case",
            )
        op.entity, op.entity_id, op.version = Entity.PLAN, record.id, version
        return record

    @staticmethod
    def _view(case: CaseRecord, record: PlanRecord) -> PlanDraft:
        return PlanDraft(
            case.reference,
            record.version,
            record.plan,
            record.revision,
            record.saved_by,
            record.saved_at,
        )

    @staticmethod
    def _entry_view(case: CaseRecord, record: DeliveryRecord) -> DeliveryView:
        return DeliveryView(
            case.reference, record.entry, record.revision, record.saved_by, record.saved_at
        )

    @staticmethod
    def _check_names(names: Sequence[str], roster: set[str], where: str) -> None:
        problems = facilitator_problems(list(names), roster, where)
        if problems:
            raise DocumentError(problems)

    # --- reading -------------------------------------------------------------------------------

    def case_plan(self, actor: Actor, reference: str) -> CasePlan:
        """Return the case's plan versions, delivery log, reviews and state.

        Without `read-plan-notes` (viewers) every free text and every name is left out.
        """
        with self._operation(actor, AuditAction.VIEW, write=False) as (op, tx):
            case = self._case(op, tx, reference, Action.READ_PLAN)
            plans, entries, reviews = self._records(tx, case)
            notes = can(op.actor, Action.READ_PLAN_NOTES, Resource(case.team))
            closed = self._no_intervention(tx, case)
        state = plan_state(plans, entries, reviews, today=op.now.date(), no_intervention=closed)
        records = CasePlan(plans=plans, delivery=entries, reviews=reviews, state=state)
        return records if notes else redact_case_plan(records)

    def plan_instrument(self, plan: Plan) -> Instrument:
        """Return the installed definition a plan version builds on.

        Raises:
            NotFoundError: naming the installed versions.
        """
        return self.definitions.get(plan.instrument.id, plan.instrument.version)

    def report_plan(self, actor: Actor, reference: str) -> tuple[Instrument, CasePlan] | None:
        """Return what the formulation report carries of the plan (redacted for viewers).

        None when the actor's role never reads plans or the case has no plan.
        """
        if not may_ever(actor, Action.READ_PLAN):
            return None
        records = self.case_plan(actor, reference)
        if records.latest is None:
            return None
        return self.plan_instrument(records.latest), records

    def _no_intervention(self, tx: Transaction, case: CaseRecord) -> bool:
        """Return whether the latest final formulation says no intervention is indicated."""
        try:
            return no_intervention_indicated(self._basis(tx, case)[1])
        except ConflictError:
            return False

    def export_plan(self, actor: Actor, reference: str, *, plan_only: bool = False) -> CasePlan:
        """Return the case's plan records to leave the system as a report: audited `export`.

        Needs the password entered within 5 minutes. `plan_only` gives the records for the
        participant's file (no session notes, no review evidence, no reasons); viewers get
        them without free text or names, as `case_plan` gives them.
        """
        with self._operation(actor, AuditAction.EXPORT) as (op, tx):
            case = self._case(op, tx, reference, Action.READ_PLAN)
            self._require_password(tx, op)
            plans, entries, reviews = self._records(tx, case)
            notes = can(op.actor, Action.READ_PLAN_NOTES, Resource(case.team))
        state = plan_state(plans, entries, reviews, today=op.now.date())
        records = CasePlan(plans=plans, delivery=entries, reviews=reviews, state=state)
        if not notes:
            return redact_case_plan(records)
        return only_the_plan(records) if plan_only else records

    def plan_versions(self, actor: Actor, reference: str) -> list[PlanDraft]:
        """Return every plan version with its revision, for the plan editor (`edit-plan`)."""
        with self._operation(actor, AuditAction.VIEW, write=False) as (op, tx):
            case = self._case(op, tx, reference, Action.EDIT_PLAN)
            return [self._view(case, record) for record in tx.plans.versions(case.id)]

    def delivery_log(self, actor: Actor, reference: str) -> list[DeliveryView]:
        """Return the delivery log with its notes and revisions, for the log editor.

        Needs `read-plan-notes`: viewers read the log through `case_plan`, without its text.
        """
        with self._operation(actor, AuditAction.VIEW, write=False) as (op, tx):
            case = self._case(op, tx, reference, Action.READ_PLAN_NOTES)
            return [self._entry_view(case, record) for record in tx.plans.entries(case.id)]

    def change_beside_progress(self, actor: Actor, reference: str) -> list[AreaSideBySide]:
        """Return, per focus area, the band change at the reassessment beside the progress seen.

        Empty until a final assessment after the one the plan builds on exists (`read-plan`).
        """
        with self._operation(actor, AuditAction.VIEW, write=False) as (op, tx):
            case = self._case(op, tx, reference, Action.READ_PLAN)
            plans, _, reviews = self._records(tx, case)
            if not plans:
                return []
            instrument, formulation = self._basis(tx, case)
        return side_by_side(instrument, plans[-1], reviews, formulation)

    def suggested_sessions(
        self, actor: Actor, reference: str, approach_goals: Sequence[ApproachGoal] = ()
    ) -> Suggestion:
        """Return the sessions the latest final formulation suggests (foundation first)."""
        with self._operation(actor, AuditAction.VIEW, write=False) as (op, tx):
            case = self._case(op, tx, reference, Action.READ_PLAN)
            instrument, formulation = self._basis(tx, case)
        return suggest(instrument, formulation, approach_goals)

    def plan_roster(self, actor: Actor, reference: str) -> list[str]:
        """Return who may facilitate the case (its team's practitioners), for the plan form."""
        with self._operation(actor, AuditAction.VIEW, write=False) as (op, tx):
            case = self._case(op, tx, reference, Action.EDIT_PLAN)
            return sorted(self._roster(tx, case))

    def plan_problems(self, actor: Actor, reference: str, version: int) -> list[Problem]:
        """Return what still stops the plan version being agreed (empty when it may be)."""
        with self._operation(actor, AuditAction.VIEW, write=False) as (op, tx):
            case = self._case(op, tx, reference, Action.READ_PLAN)
            record = self._plan_version(op, tx, case, version)
            instrument, formulation = self._basis(tx, case)
            roster = self._roster(tx, case)
        if record.agreed:
            return []
        suggestion = suggest(instrument, formulation, record.plan.approach_goals)
        return plan_problems(
            instrument, record.plan, suggestion, roster=roster, today=op.now.date()
        )

    # --- the plan ------------------------------------------------------------------------------

    def start_plan(
        self,
        actor: Actor,
        reference: str,
        *,
        facilitators: Sequence[str],
        frequency: Frequency | Mapping[str, Any],
        review_on: dt.date,
        approach_goals: Sequence[ApproachGoal | Mapping[str, Any]] = (),
    ) -> PlanDraft:
        """Start the case's first plan: a draft of the suggested sessions, foundation first.

        Raises:
            DocumentError: for facilitators not of the case's team, or bad values.
            ConflictError: without a final assessment, or when the case has a plan already.
        """
        with self._operation(actor, AuditAction.PLAN_START) as (op, tx):
            case = self._case(op, tx, reference, Action.EDIT_PLAN)
            if tx.plans.versions(case.id):
                raise ConflictError(
                    f"case {reference} has a plan already",
                    where="version",
                    fix="edit its draft, or amend the agreed plan",
                )
            instrument, formulation = self._basis(tx, case)
            if no_intervention_indicated(formulation):
                raise ConflictError(
                    f"the formulation of case {reference} says no intervention is indicated",
                    where="version",
                    fix="the case closes without a plan; amend the assessment to change that",
                )
            self._check_names(facilitators, self._roster(tx, case), "$.facilitators")
            try:
                goals = [ApproachGoal.model_validate(g) for g in approach_goals]
                goals = goals or approach_goals_of(formulation)
                plan = draft_plan(
                    instrument,
                    formulation,
                    version=1,
                    facilitators=list(facilitators),
                    frequency=Frequency.model_validate(frequency),
                    review_on=review_on,
                    today=op.now.date(),
                    approach_goals=goals,
                )
            except ValidationError as error:
                raise document_error(error) from None
            tx.plans.add(case.id, plan, by=op.actor.user_id, now=op.now)
            record = self._plan_version(op, tx, case, 1)
            self._refresh(op, tx, case)
            return self._view(case, record)

    def save_plan(
        self,
        actor: Actor,
        reference: str,
        version: int,
        field: str,
        value: Any,
        *,
        base_revision: int,
    ) -> PlanDraft:
        """Save one field of a draft plan (autosave): refused when stale, agreed or invalid.

        Raises:
            ConflictError: for a stale revision (naming who saved last and when), or an agreed
                version (amend it instead).
            DocumentError: for an unknown field, a bad value or another team's facilitator.
        """
        if field not in PLAN_FIELDS:
            raise DocumentError(
                [Problem(f"$.{field}", "is not a field of the plan", ", ".join(PLAN_FIELDS))]
            )
        with self._operation(actor, AuditAction.PLAN_SAVE) as (op, tx):
            case = self._case(op, tx, reference, Action.EDIT_PLAN)
            record = self._plan_version(op, tx, case, version)
            require_draft(record.plan)
            if base_revision != record.revision:
                raise ConflictError(
                    _stale(
                        f"plan version {version}",
                        record.saved_by,
                        record.saved_at,
                    ),
                    where="revision",
                    fix="reload the plan to see their change, then make yours again",
                )
            plan = revise(record.plan, **{field: value})
            if field == "facilitators":
                self._check_names(plan.facilitators, self._roster(tx, case), "$.facilitators")
            if not tx.plans.save(record, plan, by=op.actor.user_id, now=op.now):
                raise ConflictError("the plan changed meanwhile", fix="reload it and try again")
            self._refresh(op, tx, case)
            return self._view(case, self._plan_version(op, tx, case, version))

    def agree_plan(self, actor: Actor, reference: str, version: int) -> PlanDraft:
        """Agree and sign a draft plan as one of its facilitators, or add the second signature.

        Needs the password entered within 5 minutes (a signature).

        Raises:
            DocumentError: listing what stops the plan being agreed.
            ConflictError: when the actor has signed already.
            AuthenticationError: when the password must be entered again.
        """
        with self._operation(actor, AuditAction.PLAN_AGREE) as (op, tx):
            case = self._case(op, tx, reference, Action.AGREE_PLAN)
            record = self._plan_version(op, tx, case, version)
            self._require_password(tx, op)
            if record.agreed:
                replaced_by = [
                    r.version
                    for r in tx.plans.versions(case.id)
                    if r.version > version and r.agreed
                ]
                if replaced_by:
                    raise ConflictError(
                        f"plan version {version} was replaced by version {replaced_by[0]}",
                        where="version",
                        fix="sign the current agreed version; a replaced one is kept as signed",
                    )
                signed = cosign(record.plan, signer=op.actor.username, at=op.now)
            else:
                instrument, formulation = self._basis(tx, case)
                suggestion = suggest(instrument, formulation, record.plan.approach_goals)
                signed = agree(
                    instrument,
                    record.plan,
                    suggestion,
                    signer=op.actor.username,
                    at=op.now,
                    roster=self._roster(tx, case),
                )
                if not tx.plans.save(record, signed, by=op.actor.user_id, now=op.now):
                    raise ConflictError("the plan changed meanwhile", fix="reload it")
            tx.plans.sign(record.id, user_id=op.actor.user_id, signer=op.actor.username, at=op.now)
            self._refresh(op, tx, case)
            return self._view(case, self._plan_version(op, tx, case, version))

    def amend_plan(self, actor: Actor, reference: str, version: int, reason: str) -> PlanDraft:
        """Amend the agreed plan: a new draft version that keeps its choices and names why.

        Raises:
            ConflictError: when the version is a draft, not the latest, or a draft exists.
            DocumentError: when the reason is empty.
        """
        with self._operation(actor, AuditAction.PLAN_AMEND) as (op, tx):
            case = self._case(op, tx, reference, Action.EDIT_PLAN)
            record = self._plan_version(op, tx, case, version)
            versions = tx.plans.versions(case.id)
            if versions[-1].version != version:
                raise ConflictError(
                    f"plan version {version} is not the latest (version {versions[-1].version})",
                    where="version",
                    fix="amend the latest agreed version, or continue its draft",
                )
            instrument, formulation = self._basis(tx, case)
            new = amend(
                instrument,
                formulation,
                record.plan,
                version=version + 1,
                reason=reason,
                today=op.now.date(),
            )
            tx.plans.add(case.id, new, by=op.actor.user_id, now=op.now)
            created = self._plan_version(op, tx, case, version + 1)
            self._refresh(op, tx, case)
            return self._view(case, created)

    # --- the delivery log ---------------------------------------------------------------------

    def log_session(self, actor: Actor, reference: str, entry: Mapping[str, Any]) -> DeliveryView:
        """Log a session under the current agreed plan (its number and plan version are given).

        `entry` holds the log entry's fields: `date`, `facilitators`, `sessions`, `attendance`,
        `reason`, `duration_minutes`, `engagement`, `notes`.

        Raises:
            DocumentError: a date in the future, another team's facilitator, a missing reason...
            ConflictError: without an agreed plan, or after the plan ended.
        """
        with self._operation(actor, AuditAction.SESSION_LOG) as (op, tx):
            case = self._case(op, tx, reference, Action.LOG_SESSION)
            plans, _, reviews = self._records(tx, case)
            agreed = current_agreed(plans)
            number = tx.plans.next_number(case.id, "delivered_sessions")
            fields = dict(entry) | {
                "number": number,
                "plan_version": agreed.plan.version if agreed else 1,
            }
            try:
                item = DeliveredSession.model_validate(fields)
            except ValidationError as error:
                raise document_error(error) from None
            instrument = self._instrument_of(agreed)
            check_delivery(
                instrument,
                agreed,
                item,
                ended=agreed is not None and ended_by(reviews, agreed.plan.version) is not None,
                roster=self._roster(tx, case),
                today=op.now.date(),
            )
            self._refuse_repeat(tx, case, item)
            entry_id = tx.plans.log(case.id, item, by=op.actor.user_id, now=op.now)
            op.entity, op.entity_id, op.version = Entity.DELIVERY, entry_id, number
            self._refresh(op, tx, case)
            record = tx.plans.entry(case.id, number)
            assert record is not None
            return self._entry_view(case, record)

    @staticmethod
    def _refuse_repeat(
        tx: Transaction, case: CaseRecord, item: DeliveredSession, besides: int | None = None
    ) -> None:
        """Refuse a session logged twice (two tabs, a form sent again), naming the first.

        `besides` is the entry being corrected: it does not repeat itself.
        """
        records = [r for r in tx.plans.entries(case.id) if r.entry.number != besides]
        twin = repeated_entry([r.entry for r in records], item)
        if twin is None:
            return
        record = next(r for r in records if r.entry.number == twin.number)
        covered = ", ".join(twin.sessions) or "no catalogue session"
        at = record.saved_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        raise ConflictError(
            f"this session ({covered} on {twin.date.isoformat()}, "
            f"{twin.attendance.value.replace('-', ' ')}) is logged already as entry "
            f"{twin.number}, last saved by {record.saved_by or 'system'} at {at}",
            where="$.date",
            fix=f"correct entry {twin.number} in the delivery log instead of logging it twice",
        )

    def _instrument_of(self, plan: Plan | None) -> Instrument:
        if plan is None:
            raise ConflictError(
                "the case has no agreed plan; cannot log a session",
                where="$.plan",
                fix="agree an intervention plan first",
            )
        return self.definitions.get(plan.instrument.id, plan.instrument.version)

    def save_session(
        self,
        actor: Actor,
        reference: str,
        number: int,
        changes: Mapping[str, Any],
        *,
        base_revision: int,
    ) -> DeliveryView:
        """Save one field of a log entry (autosave); `attendance` comes with its `reason`.

        Raises:
            ConflictError: for a stale revision, naming who saved last and when.
            DocumentError: for a bad value (a date in the future, another team's facilitator).
        """
        allowed = {"date", "facilitators", "sessions", "attendance", "reason"}
        allowed |= {"duration_minutes", "engagement", "notes"}
        unknown = sorted(set(changes) - allowed)
        if unknown or not changes:
            raise DocumentError(
                [
                    Problem(
                        f"$.{unknown[0]}" if unknown else "$",
                        "is not a field of a log entry" if unknown else "nothing to save",
                        ", ".join(sorted(allowed)),
                    )
                ]
            )
        with self._operation(actor, AuditAction.SESSION_SAVE) as (op, tx):
            case = self._case(op, tx, reference, Action.LOG_SESSION)
            record = tx.plans.entry(case.id, number)
            if record is None:
                raise ConflictError(
                    f"case {reference} has no log entry {number}",
                    where="number",
                    fix="choose an entry of the delivery log",
                )
            op.entity, op.entity_id, op.version = Entity.DELIVERY, record.id, number
            if base_revision != record.revision:
                raise ConflictError(
                    _stale(
                        f"log entry {number}",
                        record.saved_by,
                        record.saved_at,
                    ),
                    where="revision",
                    fix="reload the entry to see their change, then make yours again",
                )
            current = record.entry
            rest = {k: v for k, v in changes.items() if k not in ("attendance", "reason")}
            if "attendance" in changes or "reason" in changes:
                current = set_attendance(
                    current,
                    changes.get("attendance", current.attendance),
                    changes.get("reason", current.reason),
                )
            try:
                item = DeliveredSession.model_validate(current.model_dump() | rest)
            except ValidationError as error:
                raise document_error(error) from None
            plan = tx.plans.get(case.id, item.plan_version)
            instrument = self._instrument_of(plan.plan if plan else None)
            problems = delivery_problems(
                instrument, item, roster=self._roster(tx, case), today=op.now.date()
            )
            if problems:
                raise DocumentError(problems)
            self._refuse_repeat(tx, case, item, besides=number)
            if not tx.plans.save_entry(record, item, by=op.actor.user_id, now=op.now):
                raise ConflictError("the entry changed meanwhile", fix="reload it")
            self._refresh(op, tx, case)
            saved = tx.plans.entry(case.id, number)
            assert saved is not None
            return self._entry_view(case, saved)

    # --- reviews -------------------------------------------------------------------------------

    def record_review(
        self, actor: Actor, reference: str, review: Mapping[str, Any]
    ) -> ProgressReview:
        """Record a progress review of the current agreed plan (numbered automatically).

        `review` holds `reviewed_on`, `by`, `progress` (area, change, evidence for each focus
        area), `decision`, and `ending`, `ending_reason` or `next_review_on` as it requires.

        Raises:
            ConflictError: a review without an agreed plan, or after the plan ended.
            DocumentError: listing every problem of the review.
        """
        with self._operation(actor, AuditAction.PROGRESS_REVIEW) as (op, tx):
            case = self._case(op, tx, reference, Action.REVIEW_PROGRESS)
            plans, _, reviews = self._records(tx, case)
            agreed = current_agreed(plans)
            fields = dict(review) | {
                "number": tx.plans.next_number(case.id, "progress_reviews"),
                "plan_version": agreed.plan.version if agreed else 1,
            }
            try:
                item = ProgressReview.model_validate(fields)
            except ValidationError as error:
                raise document_error(error) from None
            check_review(agreed, reviews, item, roster=self._roster(tx, case), today=op.now.date())
            review_id = tx.plans.review(case.id, item, by=op.actor.user_id, now=op.now)
            op.entity, op.entity_id, op.version = Entity.PROGRESS, review_id, item.number
            self._refresh(op, tx, case)
            return item
