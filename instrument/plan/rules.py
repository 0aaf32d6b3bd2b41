"""The plan's rules: suggesting sessions, checking and signing a plan, logging and reviewing.

Every function is pure: the caller passes `today` (the date the service's clock gives) and the
team's facilitators (`roster`: the usernames that may facilitate the case's team). Bad input is
refused with every problem and a JSON path (`DocumentError`); a change the record's state does
not allow (an agreed plan edited, a review without a plan) is a `ConflictError`. Nothing is
written by a refused call, because nothing here writes: the service stores only what returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from pydantic import ValidationError

from instrument.assessment import CaseInfo, InstrumentRef
from instrument.definition import Instrument, Session
from instrument.errors import ConflictError, DocumentError, Problem
from instrument.formulation import Formulation, Priority
from instrument.plan.document import (
    Adaptation,
    ApproachGoal,
    AreaGoals,
    AreaProgress,
    Attendance,
    Decision,
    DeliveredSession,
    Ending,
    Frequency,
    Plan,
    PlanInfo,
    PlannedSession,
    PlanSignature,
    PlanStatus,
    ProgressChange,
    ProgressReview,
    SuggestedSession,
    Suggestion,
)
from instrument.vocabulary import ResponsivityPresence

FOUNDATION = "foundation"
DEFAULT_FOCUS = 3
AGREED_BY = "agreed by"


def area_of(session_id: str) -> str:
    """Return the area id of a catalogue session (`foundation` for a foundation session)."""
    return session_id.rsplit(".", 1)[0]


# --- the suggestion ------------------------------------------------------------------------------


def focus_of(formulation: Formulation, size: int = DEFAULT_FOCUS) -> list[str]:
    """Return the formulation's focus areas: its `focus` when it has one, else the top offered.

    Instrument 1.1 formulations name a `focus` (`focus.areas`: at most three offered areas,
    adjustable by the assessor); an older formulation has none, and its first `size` offered
    areas by rank stand in.
    """
    if formulation.focus is not None:
        return list(formulation.focus.areas)
    offered = sorted((p for p in formulation.priorities if p.offered), key=lambda p: p.rank)
    return [priority.area for priority in offered[:size]]


def approach_goals_of(formulation: Formulation) -> list[ApproachGoal]:
    """Return the approach goals the assessor wrote in the Good Lives panel (none before it).

    The panel's goals name no good (the assessor writes them against the panel as a whole); the
    facilitators may name one in the plan.
    """
    judgement = formulation.judgement
    panel = judgement.good_lives if judgement is not None else None
    texts = panel.approach_goals if panel is not None else []
    return [ApproachGoal(goal=text) for text in texts if text.strip()]


def no_intervention_indicated(formulation: Formulation) -> bool:
    """Return whether the assessor's summary judgement is "no intervention indicated"."""
    judgement = formulation.judgement
    summary = judgement.summary_judgements if judgement is not None else None
    return summary is not None and summary.no_intervention


def _drivers(priority: Priority | None) -> list[str]:
    if priority is None:
        return []
    ranked = sorted(priority.contributors, key=lambda c: (-c.contribution, c.item))
    return [contributor.item for contributor in ranked]


def _suits(session: Session, pathway: str) -> bool:
    return pathway in {p.value for p in session.pathways}


def suggest(
    instrument: Instrument,
    formulation: Formulation,
    approach_goals: Sequence[ApproachGoal] = (),
) -> Suggestion:
    """Return the sessions the formulation suggests, foundation sessions first.

    For each focus area, in focus order, the catalogue sessions that suit the case's pathway and
    address at least one of the items driving the area (in catalogue order); when none addresses
    a driver, the area's first suitable session. Beside each area: the Good Lives goods its work
    serves and the approach goals written for those goods.

    Raises:
        DocumentError: when the definition has no session catalogue (1.0).
    """
    if not instrument.foundation:
        raise DocumentError(
            [
                Problem(
                    "$.instrument",
                    f"{instrument.id} {instrument.version} has no session catalogue",
                    "plan from a formulation made with instrument 1.1 or later (upgrade first)",
                )
            ]
        )
    pathway = formulation.header.pathway.value
    priorities = {p.area: p for p in formulation.priorities}
    focus = focus_of(formulation)
    sessions = [
        SuggestedSession(session=s.id, title=s.title, area=None, addresses=[])
        for s in instrument.foundation
        if _suits(s, pathway)
    ]
    drivers: dict[str, list[str]] = {}
    goals: list[AreaGoals] = []
    for area_id in focus:
        area = instrument.area_by_id.get(area_id)
        if area is None:
            continue
        drivers[area_id] = _drivers(priorities.get(area_id))
        suitable = [s for s in area.catalogue if _suits(s, pathway)]
        chosen = [s for s in suitable if set(s.items) & set(drivers[area_id])] or suitable[:1]
        sessions += [
            SuggestedSession(
                session=s.id,
                title=s.title,
                area=area_id,
                addresses=[item for item in drivers[area_id] if item in s.items],
            )
            for s in chosen
        ]
        goals.append(
            AreaGoals(
                area=area_id,
                goods=list(area.goods),
                approach_goals=[g for g in approach_goals if g.good in area.goods],
            )
        )
    return Suggestion(focus=focus, drivers=drivers, sessions=sessions, goals=goals)


def carried_adaptations(formulation: Formulation) -> list[Adaptation]:
    """Return the responsivity adaptations of the assessment, to carry into the plan."""
    return [
        Adaptation(responsivity=r.id, adaptation=r.adaptation)
        for r in formulation.responsivity
        if r.presence is ResponsivityPresence.YES and (r.adaptation or "").strip()
    ]


# --- the plan ------------------------------------------------------------------------------------


def facilitator_problems(
    names: Sequence[str], roster: Collection[str], where: str = "$.facilitators"
) -> list[Problem]:
    """Return why the named facilitators cannot facilitate this case (empty when they can).

    `roster` holds the usernames of the active facilitators, psychologists and supervisors of the
    case's team; a user of another team, an unknown user and a viewer get the same message, so
    that the answer reveals no other team's accounts.
    """
    problems = []
    if not names:
        problems.append(Problem(where, "at least one facilitator is needed", "name one or two"))
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name.casefold() in seen:
            problems.append(
                Problem(f"{where}[{index}]", f"{name!r} is named twice", "name each person once")
            )
        seen.add(name.casefold())
        if name not in roster:
            problems.append(
                Problem(
                    f"{where}[{index}]",
                    f"{name!r} is not a facilitator of this case's team",
                    "choose a facilitator, psychologist or supervisor of the case's team",
                )
            )
    return problems


def draft_plan(
    instrument: Instrument,
    formulation: Formulation,
    *,
    version: int,
    facilitators: Sequence[str],
    frequency: Frequency,
    review_on: dt.date,
    today: dt.date,
    approach_goals: Sequence[ApproachGoal] = (),
    replaces: Plan | None = None,
    amendment_reason: str | None = None,
) -> Plan:
    """Return a new draft plan: the suggested sessions in order, goals and adaptations carried.

    An amendment (`replaces` given) keeps the replaced plan's choices; a first plan starts from the
    suggestion. Checks are left to `plan_problems` (a draft may be incomplete).
    """
    suggestion = suggest(instrument, formulation, approach_goals)
    info = PlanInfo(
        version=version,
        status=PlanStatus.DRAFT,
        assessment_version=formulation.header.assessment_version,
        created_on=today,
        replaces=replaces.plan.version if replaces else None,
        amendment_reason=amendment_reason,
    )
    if replaces is not None:
        return replaces.model_copy(update={"plan": info, "signatures": []})
    return Plan(
        instrument=InstrumentRef(id=instrument.id, version=instrument.version),
        case=CaseInfo(
            reference=formulation.header.case_reference, pathway=formulation.header.pathway
        ),
        plan=info,
        facilitators=list(facilitators),
        focus=list(suggestion.focus),
        sessions=[PlannedSession(session=s.session) for s in suggestion.sessions],
        approach_goals=list(approach_goals),
        frequency=frequency,
        adaptations=carried_adaptations(formulation),
        review_on=review_on,
    )


def _blank(text: str | None) -> bool:
    return not (text or "").strip()


def plan_problems(
    instrument: Instrument,
    plan: Plan,
    suggestion: Suggestion,
    *,
    roster: Collection[str],
    today: dt.date,
) -> list[Problem]:
    """Return everything that stops the plan being agreed (empty when it may be signed).

    Departures from the suggestion need reasons: a session added (its `reason`), a suggested
    session left out (an entry in `dropped`), a different order of the suggested sessions kept
    (`order_reason`; foundation sessions come first in the suggestion).
    """
    problems = facilitator_problems(plan.facilitators, roster)
    problems += _choice_problems(instrument, plan, suggestion)
    problems += _carried_problems(instrument, plan)
    if plan.review_on <= today:
        problems.append(
            Problem(
                "$.review_on",
                f"the review date {plan.review_on.isoformat()} is not after today",
                "set a review date in the future",
            )
        )
    if plan.plan.replaces is not None and _blank(plan.plan.amendment_reason):
        problems.append(
            Problem("$.plan.amendment_reason", "an amendment needs a reason", "say why")
        )
    return problems


def _choice_problems(instrument: Instrument, plan: Plan, suggestion: Suggestion) -> list[Problem]:
    problems: list[Problem] = []
    catalogue = instrument.session_by_id
    suggested = [s.session for s in suggestion.sessions]
    chosen = [s.session for s in plan.sessions]
    if not chosen:
        problems.append(Problem("$.sessions", "no session is chosen", "choose sessions"))
    seen: set[str] = set()
    for index, planned in enumerate(plan.sessions):
        where = f"$.sessions[{index}]"
        if planned.session in seen:
            problems.append(Problem(where, f"{planned.session} is chosen twice", "choose it once"))
        seen.add(planned.session)
        if planned.session not in catalogue:
            problems.append(
                Problem(
                    f"{where}.session",
                    f"{planned.session} is not a session of the catalogue",
                    f"choose a session of {instrument.id} {instrument.version}",
                )
            )
        elif planned.session not in suggested and _blank(planned.reason):
            problems.append(
                Problem(
                    f"{where}.reason",
                    f"{planned.session} was not suggested; adding it needs a reason",
                    "say why this session is added",
                )
            )
    dropped = {d.session for d in plan.dropped}
    for index, entry in enumerate(plan.dropped):
        where = f"$.dropped[{index}]"
        if entry.session not in suggested or entry.session in seen:
            problems.append(
                Problem(
                    f"{where}.session",
                    f"{entry.session} is not a suggested session left out",
                    "list only suggested sessions that are not chosen",
                )
            )
        if _blank(entry.reason):
            problems.append(
                Problem(f"{where}.reason", "leaving a session out needs a reason", "say why")
            )
    for session in suggested:
        if session not in seen and session not in dropped:
            problems.append(
                Problem(
                    "$.dropped",
                    f"the suggested session {session} is left out without a reason",
                    "choose it, or add it to `dropped` with a reason",
                )
            )
    kept = [s for s in chosen if s in suggested]
    if kept != [s for s in suggested if s in kept] and _blank(plan.order_reason):
        problems.append(
            Problem(
                "$.order_reason",
                "the order departs from the suggestion (foundation sessions first)",
                "say why the sessions are reordered, or keep the suggested order",
            )
        )
    return problems


def _carried_problems(instrument: Instrument, plan: Plan) -> list[Problem]:
    problems: list[Problem] = []
    for index, area in enumerate(plan.focus):
        if area not in instrument.area_by_id:
            problems.append(Problem(f"$.focus[{index}]", f"unknown area {area!r}", "name an area"))
    for index, adaptation in enumerate(plan.adaptations):
        if adaptation.responsivity not in instrument.responsivity_by_id:
            problems.append(
                Problem(
                    f"$.adaptations[{index}].responsivity",
                    f"unknown responsivity id {adaptation.responsivity!r}",
                    "use an id such as RS1",
                )
            )
        if _blank(adaptation.adaptation):
            problems.append(
                Problem(f"$.adaptations[{index}].adaptation", "is empty", "describe it")
            )
    goods = {good.id for good in instrument.goods}
    for index, goal in enumerate(plan.approach_goals):
        if goal.good is not None and goal.good not in goods:
            problems.append(
                Problem(
                    f"$.approach_goals[{index}].good",
                    "is not a good of the definition",
                    "choose one of its Good Lives goods, or leave the good out",
                )
            )
        if _blank(goal.goal):
            problems.append(
                Problem(f"$.approach_goals[{index}].goal", "is empty", "write the goal")
            )
    return problems


def require_draft(plan: Plan) -> None:
    """Refuse any change to an agreed (signed) plan version.

    Raises:
        ConflictError: when the version is agreed; amend it instead.
    """
    if plan.plan.status is PlanStatus.AGREED:
        raise ConflictError(
            f"plan version {plan.plan.version} is agreed and signed; amend it instead of "
            "changing it",
            where="$.plan.status",
            fix="amend the plan: a new draft version that names why it changes",
        )


def revise(plan: Plan, **changes: Any) -> Plan:
    """Return the draft plan with fields changed (validated as a whole).

    Raises:
        ConflictError: when the plan is agreed.
        DocumentError: when a changed field is not valid.
    """
    require_draft(plan)
    fixed = {"instrument", "case", "plan", "signatures"} & set(changes)
    if fixed:
        raise DocumentError(
            [Problem(f"$.{sorted(fixed)[0]}", "cannot be changed by editing", "leave it out")]
        )
    try:
        return Plan.model_validate({**plan.model_dump(), **changes})
    except ValidationError as error:
        raise DocumentError(
            [
                Problem(_json_path(e["loc"]), e["msg"], "correct the value")
                for e in error.errors(include_url=False)
            ]
        ) from None


def _json_path(loc: Sequence[int | str]) -> str:
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


def agree(
    instrument: Instrument,
    plan: Plan,
    suggestion: Suggestion,
    *,
    signer: str,
    at: dt.datetime,
    roster: Collection[str],
) -> Plan:
    """Return the plan agreed and signed by one of its facilitators.

    Raises:
        ConflictError: when already agreed.
        DocumentError: with every problem of `plan_problems`, or a signer who is not a facilitator.
    """
    require_draft(plan)
    today = at.date()
    problems = plan_problems(instrument, plan, suggestion, roster=roster, today=today)
    if signer not in plan.facilitators:
        problems.append(
            Problem(
                "$.signatures",
                "only a facilitator of the plan may agree it",
                "ask one of the plan's facilitators to sign",
            )
        )
    if problems:
        raise DocumentError(problems)
    info = plan.plan.model_copy(update={"status": PlanStatus.AGREED, "agreed_on": today})
    signature = PlanSignature(meaning=AGREED_BY, by=signer, at=at)
    return plan.model_copy(update={"plan": info, "signatures": [signature]})


def cosign(plan: Plan, *, signer: str, at: dt.datetime) -> Plan:
    """Return the agreed plan signed by its second facilitator as well.

    Raises:
        ConflictError: when the plan is a draft, or the signer has signed already.
        DocumentError: when the signer is not a facilitator of the plan.
    """
    if plan.plan.status is not PlanStatus.AGREED:
        raise ConflictError("only an agreed plan is signed by a second facilitator", fix="agree it")
    if signer not in plan.facilitators:
        raise DocumentError(
            [
                Problem(
                    "$.signatures",
                    "only a facilitator of the plan may sign it",
                    "ask one of the plan's facilitators to sign",
                )
            ]
        )
    if any(s.by == signer for s in plan.signatures):
        raise ConflictError(f"{signer} has signed this plan already", where="$.signatures")
    signature = PlanSignature(meaning=AGREED_BY, by=signer, at=at)
    return plan.model_copy(update={"signatures": [*plan.signatures, signature]})


def amend(
    instrument: Instrument,
    formulation: Formulation,
    plan: Plan,
    *,
    version: int,
    reason: str,
    today: dt.date,
) -> Plan:
    """Return a new draft version replacing an agreed plan, keeping its choices.

    `formulation` is the latest final one (a reassessment may have changed the focus; the new
    draft records which assessment version it builds on).

    Raises:
        ConflictError: when the plan is not agreed.
        DocumentError: when the reason is empty.
    """
    if plan.plan.status is not PlanStatus.AGREED:
        raise ConflictError(
            f"plan version {plan.plan.version} is a draft; edit it instead of amending",
            fix="edit the draft",
        )
    if _blank(reason):
        raise DocumentError(
            [Problem("$.plan.amendment_reason", "an amendment needs a reason", "say why")]
        )
    return draft_plan(
        instrument,
        formulation,
        version=version,
        facilitators=plan.facilitators,
        frequency=plan.frequency,
        review_on=plan.review_on,
        today=today,
        approach_goals=plan.approach_goals,
        replaces=plan,
        amendment_reason=reason,
    )


# --- the delivery log ---------------------------------------------------------------------------


def delivery_problems(
    instrument: Instrument,
    entry: DeliveredSession,
    *,
    roster: Collection[str],
    today: dt.date,
) -> list[Problem]:
    """Return why a delivery log entry is refused (empty when it may be stored).

    A session dated after today, a facilitator not of the case's team, an unknown catalogue
    session, a missing reason for a session that did not take place, and engagement or duration
    recorded for one that did not.
    """
    problems = facilitator_problems(entry.facilitators, roster)
    if entry.date > today:
        problems.append(
            Problem(
                "$.date",
                f"the session is dated {entry.date.isoformat()}, after today ({today.isoformat()})",
                "log a session on or after the day it takes place",
            )
        )
    for index, session in enumerate(entry.sessions):
        if session not in instrument.session_by_id:
            problems.append(
                Problem(
                    f"$.sessions[{index}]",
                    f"{session} is not a session of the catalogue",
                    "choose a catalogue session",
                )
            )
    attended = entry.attendance is Attendance.ATTENDED
    if attended:
        if not entry.sessions:
            problems.append(
                Problem("$.sessions", "an attended session covers at least one", "choose it")
            )
        if entry.duration_minutes is None:
            problems.append(
                Problem("$.duration_minutes", "required for an attended session", "give minutes")
            )
    else:
        if _blank(entry.reason):
            problems.append(
                Problem(
                    "$.reason",
                    f"a session marked {entry.attendance.value} needs a reason",
                    "say why the session did not take place",
                )
            )
        for field in ("engagement", "duration_minutes"):
            if getattr(entry, field) is not None:
                problems.append(
                    Problem(
                        f"$.{field}",
                        f"is recorded only for an attended session, not {entry.attendance.value}",
                        "leave it out",
                    )
                )
    return problems


def check_delivery(
    instrument: Instrument,
    plan: Plan | None,
    entry: DeliveredSession,
    *,
    ended: bool,
    roster: Collection[str],
    today: dt.date,
) -> DeliveredSession:
    """Return the entry when it may be logged against the case's current agreed plan.

    Raises:
        ConflictError: without an agreed plan, or after the plan ended.
        DocumentError: with every problem of `delivery_problems`.
    """
    _require_agreed(plan, "log a session")
    assert plan is not None
    if ended:
        raise ConflictError(
            "the plan has ended; no further sessions are logged",
            fix="amend the plan to start working again",
        )
    if entry.plan_version != plan.plan.version:
        raise DocumentError(
            [Problem("$.plan_version", "is not the current agreed plan", "log it under that one")]
        )
    problems = delivery_problems(instrument, entry, roster=roster, today=today)
    if problems:
        raise DocumentError(problems)
    return entry


def repeated_entry(
    entries: Sequence[DeliveredSession], entry: DeliveredSession
) -> DeliveredSession | None:
    """Return the logged entry that `entry` repeats, or None.

    The same date, the same catalogue sessions and the same attendance is the same session
    logged twice (two tabs, a form sent again): it is corrected, not logged again.
    """
    for logged in entries:
        if (
            logged.date == entry.date
            and sorted(logged.sessions) == sorted(entry.sessions)
            and logged.attendance is entry.attendance
        ):
            return logged
    return None


def set_attendance(
    entry: DeliveredSession, attendance: Attendance | str, reason: str | None
) -> DeliveredSession:
    """Return the entry with new attendance; engagement and duration go when it did not happen."""
    value = Attendance(attendance)
    update: dict[str, Any] = {"attendance": value, "reason": reason}
    if value is not Attendance.ATTENDED:
        update |= {"engagement": None, "duration_minutes": None}
    return entry.model_copy(update=update)


# --- progress reviews ----------------------------------------------------------------------------


def _require_agreed(plan: Plan | None, what: str) -> None:
    if plan is None or plan.plan.status is not PlanStatus.AGREED:
        raise ConflictError(
            f"the case has no agreed plan; cannot {what}",
            where="$.plan",
            fix="agree an intervention plan first",
        )


def check_review(
    plan: Plan | None,
    previous: Sequence[ProgressReview],
    review: ProgressReview,
    *,
    roster: Collection[str],
    today: dt.date,
) -> ProgressReview:
    """Return the review when it may be recorded for the case's current agreed plan.

    Raises:
        ConflictError: without an agreed plan (a review without a plan), or after it ended.
        DocumentError: listing every problem (dates, areas, decision and ending).
    """
    _require_agreed(plan, "record a review")
    assert plan is not None
    if ended_by(previous, plan.plan.version) is not None:
        raise ConflictError(
            "the plan has ended; no further review is recorded",
            fix="amend the plan to start working again",
        )
    same_day = [
        r
        for r in previous
        if r.plan_version == review.plan_version and r.reviewed_on == review.reviewed_on
    ]
    if same_day:
        raise ConflictError(
            f"review {same_day[0].number} of plan version {review.plan_version} is dated "
            f"{review.reviewed_on.isoformat()} already",
            where="$.reviewed_on",
            fix="a review is recorded once; read review "
            f"{same_day[0].number}, or date a later review on the day it takes place",
        )
    problems = facilitator_problems(review.by, roster, "$.by")
    if review.plan_version != plan.plan.version:
        problems.append(
            Problem("$.plan_version", "is not the current agreed plan", "review that one")
        )
    if review.reviewed_on > today:
        problems.append(
            Problem(
                "$.reviewed_on",
                f"the review is dated {review.reviewed_on.isoformat()}, after today",
                "record a review on or after the day it takes place",
            )
        )
    problems += _progress_problems(plan, review)
    problems += _decision_problems(review)
    if problems:
        raise DocumentError(problems)
    return review


def _progress_problems(plan: Plan, review: ProgressReview) -> list[Problem]:
    problems: list[Problem] = []
    areas = [p.area for p in review.progress]
    for index, progress in enumerate(review.progress):
        where = f"$.progress[{index}]"
        if progress.area not in plan.focus or areas.count(progress.area) > 1:
            problems.append(
                Problem(
                    f"{where}.area",
                    f"{progress.area!r} is not a focus area of the plan, or is given twice",
                    "give one entry for each focus area of the plan",
                )
            )
        if _blank(progress.evidence):
            problems.append(
                Problem(f"{where}.evidence", "the change needs its evidence", "say what was seen")
            )
    missing = [area for area in plan.focus if area not in areas]
    if missing:
        problems.append(
            Problem(
                "$.progress",
                f"no progress recorded for {', '.join(missing)}",
                "record the change seen in every focus area",
            )
        )
    return problems


def _decision_problems(review: ProgressReview) -> list[Problem]:
    problems: list[Problem] = []
    if review.decision is Decision.ENDS:
        if review.ending is None:
            problems.append(Problem("$.ending", "say why the plan ends", "choose an ending"))
        if review.ending is Ending.OTHER and _blank(review.ending_reason):
            problems.append(Problem("$.ending_reason", "required for `other`", "say what"))
        if review.next_review_on is not None:
            problems.append(
                Problem("$.next_review_on", "a plan that ends has no next review", "leave it out")
            )
    else:
        if review.ending is not None or review.ending_reason is not None:
            problems.append(
                Problem("$.ending", "only a plan that ends has an ending", "leave it out")
            )
        if review.next_review_on is None:
            problems.append(
                Problem("$.next_review_on", "the next review date is missing", "set it")
            )
        elif review.next_review_on <= review.reviewed_on:
            problems.append(
                Problem(
                    "$.next_review_on",
                    "the next review must come after this one",
                    "set a later date",
                )
            )
    return problems


def ended_by(
    reviews: Iterable[ProgressReview], plan_version: int | None = None
) -> ProgressReview | None:
    """Return the review that ended the plan (of `plan_version` when given), or None.

    A plan amended after it ended is agreed again as a new version, and runs until a review of
    that version ends it.
    """
    return next(
        (
            r
            for r in reviews
            if r.decision is Decision.ENDS
            and (plan_version is None or r.plan_version == plan_version)
        ),
        None,
    )


def progress_template(plan: Plan) -> list[AreaProgress]:
    """Return an empty progress entry for each focus area, for a review form to fill in."""
    return [AreaProgress(area=area, change=ProgressChange.NONE) for area in plan.focus]


# --- redaction ----------------------------------------------------------------------------------


def _alias(names: Sequence[str], known: Sequence[str]) -> list[str]:
    """Return `facilitator 1`, `facilitator 2`... for usernames: viewers see no names."""
    order = list(dict.fromkeys([*known, *names]))
    return [f"facilitator {order.index(name) + 1}" for name in names]


def redact_plan(plan: Plan) -> Plan:
    """Return the plan without free text (reasons, goals, adaptations) or names, for viewers."""
    info = plan.plan.model_copy(update={"amendment_reason": None})
    known = plan.facilitators
    return plan.model_copy(
        update={
            "plan": info,
            "facilitators": _alias(plan.facilitators, known),
            "sessions": [s.model_copy(update={"reason": None}) for s in plan.sessions],
            "dropped": [d.model_copy(update={"reason": None}) for d in plan.dropped],
            "order_reason": None,
            "approach_goals": [g.model_copy(update={"goal": None}) for g in plan.approach_goals],
            "adaptations": [a.model_copy(update={"adaptation": None}) for a in plan.adaptations],
            "signatures": [
                s.model_copy(update={"by": _alias([s.by], known)[0]}) for s in plan.signatures
            ],
        }
    )


def redact_delivery(entry: DeliveredSession, known: Sequence[str] = ()) -> DeliveredSession:
    """Return the log entry without notes, reason or names (evidence-level), for viewers."""
    return entry.model_copy(
        update={
            "notes": None,
            "reason": None,
            "facilitators": _alias(entry.facilitators, known),
        }
    )


def redact_review(review: ProgressReview, known: Sequence[str] = ()) -> ProgressReview:
    """Return the review without its evidence, ending text or names, for viewers."""
    return review.model_copy(
        update={
            "progress": [p.model_copy(update={"evidence": None}) for p in review.progress],
            "ending_reason": None,
            "by": _alias(review.by, known),
        }
    )
