"""WC-10, a fictional case from referral to a completed intervention, built through the service.

The participant (fictional, engaged pathway) was referred after joining an online group that
blames another group for local problems. The first assessment finds needs for belonging and
recognition met by the group, a grievance and a sense of threat that fuel hostility, and the
group's pull; the plan works on identity and belonging, understanding susceptibility and
managing powerful feelings with two facilitators. Eight sessions are logged (one declined), a
review finds some change in each focus area and ends the plan as completed, and the
reassessment shows the change. Everything is general: no group, place, method or target.

`build(service, actors, clock)` makes the whole case; `SCENE` holds its dates. The golden test
exports it to `formulations/plans/wc-10-intervention.case.json`; the browser test does the same
steps through the pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from instrument.access import Actor
from instrument.assessment import Assessor, Rating, ResponsivityNote
from instrument.definitions import current_instrument
from instrument.service import Service

REFERENCE = "WC-10"
PATHWAY = "engaged"

# item: (presence, relevance, evidence, sources) at the first assessment ...
FIRST: dict[str, tuple[str, str | None, str | None, list[str]]] = {
    "ID1": (
        "yes",
        "high",
        "The participant said the online group was the first place they felt they belonged "
        "since leaving college.",
        ["interview", "collateral"],
    ),
    "ID3": (
        "yes",
        "high",
        "The participant described being admired in the group for their posts and wanting "
        "that recognition elsewhere.",
        ["interview"],
    ),
    "GA1": (
        "partial",
        "moderate",
        "Regular contact with an online group that blames another group for local problems; "
        "no offline meetings reported.",
        ["file-review", "interview"],
    ),
    "GA2": (
        "yes",
        "moderate",
        "The participant followed the group's moderators on what to read and whom to avoid.",
        ["interview", "collateral"],
    ),
    "EM1": (
        "yes",
        "high",
        "A grievance about losing a job is blamed on the other group and voiced with hostility.",
        ["interview"],
    ),
    "EM2": (
        "yes",
        "moderate",
        "The participant spoke of feeling that their neighbourhood was under threat.",
        ["interview"],
    ),
    "BE1": (
        "partial",
        "moderate",
        "Some us-and-them talk about the other group, softened when challenged.",
        ["interview", "observation"],
    ),
    "PF1": (
        "partial",
        "moderate",
        "An older sibling stays in touch and is supportive.",
        ["collateral"],
    ),
    "PF5": (
        "partial",
        "moderate",
        "The participant has some doubts about the group's leaders.",
        ["interview"],
    ),
}
# ... and at the reassessment, after the intervention.
SECOND: dict[str, tuple[str, str | None, str | None, list[str]]] = {
    "ID1": (
        "partial",
        "moderate",
        "The participant now finds belonging in a football club and a training course as well.",
        ["interview", "collateral"],
    ),
    "ID3": ("no", None, None, []),
    "GA1": ("no", None, None, []),
    "GA2": ("no", None, None, []),
    "EM1": (
        "partial",
        "moderate",
        "The job loss still hurts; the participant no longer blames the other group for it.",
        ["interview"],
    ),
    "EM2": ("no", None, None, []),
    "BE1": ("no", None, None, []),
    "PF1": (
        "yes",
        "high",
        "Sees the sibling weekly and has new friends at the club.",
        ["collateral"],
    ),
    "PF2": ("yes", "moderate", "Valued roles as a team-mate and a trainee.", ["interview"]),
    "PF5": (
        "yes",
        "high",
        "The participant has left the group's channels and says they want to stay out.",
        ["interview", "collateral"],
    ),
}


BIAS_QUESTIONS = (
    "single-source",
    "sympathy-or-antipathy",
    "cultural-or-religious",
    "power-or-language",
)
APPROACH_GOALS = (
    "Rejoin a local football club.",
    "Finish a training course and look for work.",
)


def _bias_check(single_source_note: str | None = None) -> dict[str, Any]:
    answers: dict[str, Any] = {question: {"applies": False} for question in BIAS_QUESTIONS}
    if single_source_note is not None:
        answers["single-source"] = {"applies": True, "note": single_source_note}
    return {"answers": answers, "confirmed": True}


def _narratives(texts: dict[str, str]) -> dict[str, Any]:
    return {heading: {"narrative": text} for heading, text in texts.items()}


# The assessor's judgement after the ratings: at the first assessment ...
FIRST_JUDGEMENT: dict[str, Any] = {
    "person_specific": {
        "PS1": {
            "title": "Loss of a valued job",
            "domain": "emotion",
            "presence": "yes",
            "relevance": "high",
            "evidence": "The participant lost a job they were proud of a year ago and links the "
            "loss to the grievance voiced in the group.",
            "sources": ["interview", "collateral"],
            "role": "precipitating",
            "areas": ["emotion-management"],
        }
    },
    "five_p": {
        "presenting_problem": "Referred by probation after reports of hostile posts in an online "
        "group; the participant agreed to the assessment.",
        "headings": _narratives(
            {
                "presenting": "Hostile talk about another group in an online group the "
                "participant feels they belong to.",
                "predisposing": "A sense of not belonging since leaving college.",
                "precipitating": "The loss of a valued job and the grievance that followed.",
                "perpetuating": "Admiration in the group for hostile posts; little belonging "
                "elsewhere.",
                "protective": "A supportive older sibling and some doubts about the group's "
                "leaders.",
            }
        ),
    },
    "good_lives": {
        "goods": {
            "relatedness": {
                "importance": "high",
                "attainment": "low",
                "means": "harmful",
                "supplied_by_group": True,
                "note": "Belonging is found mostly in the online group.",
            },
            "community": {
                "importance": "moderate",
                "attainment": "low",
                "means": "harmful",
                "supplied_by_group": True,
            },
            "work": {
                "importance": "high",
                "attainment": "low",
                "means": "none",
                "supplied_by_group": False,
                "note": "Wants to work again; no route found yet.",
            },
            "play": {
                "importance": "moderate",
                "attainment": "low",
                "means": "none",
                "supplied_by_group": False,
            },
        },
        "approach_goals": list(APPROACH_GOALS),
    },
    "scenarios": [
        {
            "title": "Hostility growing into harassment",
            "what": "The participant's hostile posts could turn into harassment of members of "
            "the other group online.",
            "who": "Members of the other group, in general.",
            "triggers": "A new setback at work or at home; praise in the group for hostile posts.",
            "warning_signs": "More time in the group's channels; less contact with the sibling.",
            "less_likely": "Belonging and recognition found elsewhere; the sibling's support.",
            "items": ["ID1", "ID3", "EM1"],
            "person_specific": ["PS1"],
        }
    ],
    "summary": {
        "priority": {
            "level": "high",
            "rationale": "Identity and susceptibility needs are high and the participant is "
            "willing to take part now.",
        },
        "serious_harm": {
            "level": "low",
            "rationale": "Hostility is verbal and online; no intent or capability to harm was "
            "found.",
        },
        "urgency": {
            "level": "moderate",
            "rationale": "Start within weeks, while the participant is willing to engage.",
        },
    },
    "bias_check": _bias_check(),
    "limitations": "No contact with the online group's other members; the sibling was the only "
    "collateral source.",
}
# ... and at the reassessment, after the intervention.
SECOND_JUDGEMENT: dict[str, Any] = {
    "five_p": {
        "presenting_problem": "Reassessment at the end of the intervention.",
        "headings": _narratives(
            {
                "presenting": "No hostile posts reported since the plan started.",
                "predisposing": "A sense of not belonging since leaving college, now less strong.",
                "precipitating": "The job loss still hurts but is no longer blamed on another "
                "group.",
                "perpetuating": "Little left: the participant has left the group's channels.",
                "protective": "The sibling, the football club and a training course.",
            }
        ),
    },
    "good_lives": {
        "goods": {
            "relatedness": {
                "importance": "high",
                "attainment": "moderate",
                "means": "prosocial",
                "supplied_by_group": False,
            },
            "work": {
                "importance": "high",
                "attainment": "moderate",
                "means": "prosocial",
                "supplied_by_group": False,
            },
        },
        "approach_goals": ["Keep up the club and the course after the intervention ends."],
    },
    "summary": {
        "priority": {
            "level": "low",
            "rationale": "The focus areas changed; what remains can be followed up by probation.",
        },
        "serious_harm": {"level": "low", "rationale": "No hostility seen or reported since."},
        "urgency": {"level": "low", "rationale": "Nothing needs to start now."},
    },
    "bias_check": _bias_check(
        "The facilitators' view is balanced by the sibling's account and the club's coach."
    ),
}


@dataclass(frozen=True)
class Scene:
    """The dates of the case."""

    first_assessed: dt.date = dt.date(2026, 3, 2)
    plan_started: dt.datetime = dt.datetime(2026, 3, 9, 10, 0, tzinfo=dt.UTC)
    review_on: dt.date = dt.date(2026, 5, 11)
    second_assessed: dt.date = dt.date(2026, 5, 18)


SCENE = Scene()


def rating(spec: tuple[str, str | None, str | None, list[str]]) -> Rating:
    """Return a rating from a (presence, relevance, evidence, sources) row."""
    presence, relevance, evidence, sources = spec
    return Rating(
        presence=presence,
        relevance=relevance,
        evidence=evidence,
        sources=sources,
        timeframe="current" if presence != "no" else None,
    )


def assess(
    s: Service,
    psychologist: Actor,
    ratings: dict[str, tuple[str, str | None, str | None, list[str]]],
    assessed_on: dt.date,
    password: str,
    *,
    reference: str = REFERENCE,
    finalise: bool = True,
    judgement: dict[str, Any] | None = None,
) -> int:
    """Rate every item of the newest definition (unlisted ones `no`), save the judgement's parts;
    finalise the draft."""
    draft = s.start_assessment(psychologist, reference)
    for item in current_instrument().items:
        spec = ratings.get(item.id, ("no", None, None, []))
        draft = s.save_rating(
            psychologist,
            reference,
            draft.version,
            item.id,
            rating(spec),
            base_revision=draft.revision,
        )
    draft = s.save_responsivity(
        psychologist,
        reference,
        draft.version,
        "RS5",
        ResponsivityNote(
            presence="yes",
            note="Wary of people in authority after the job loss.",
            adaptation="Explain at the start of each session what is recorded and who sees it.",
        ),
        base_revision=draft.revision,
    )
    draft = s.save_details(
        psychologist,
        reference,
        draft.version,
        assessed_on=assessed_on,
        assessors=[Assessor(name="A. Assessor", role="psychologist")],
        notes=None,
        base_revision=draft.revision,
    )
    for part, value in (judgement or {}).items():
        draft = s.save_judgement(
            psychologist, reference, draft.version, part, value, base_revision=draft.revision
        )
    if finalise:
        s.confirm_password(psychologist, password)
        s.finalise(psychologist, reference, draft.version)
    return draft.version


def session_entry(
    day: dt.date, session: str, *, declined: bool = False, notes: str | None = None
) -> dict[str, Any]:
    """Return a log entry of the case: both facilitators, an hour, or declined with a reason."""
    if declined:
        return {
            "date": day.isoformat(),
            "facilitators": ["fay", "fred"],
            "sessions": [session],
            "attendance": "declined",
            "reason": "The participant asked to postpone: a family event that day.",
        }
    return {
        "date": day.isoformat(),
        "facilitators": ["fay", "fred"],
        "sessions": [session],
        "attendance": "attended",
        "duration_minutes": 60,
        "engagement": "good" if session.startswith("foundation") else "some",
        "notes": notes or "The participant took part and agreed the next steps.",
    }


def build(
    s: Service, psychologist: Actor, fay: Actor, fred: Actor, clock: Any, password: str
) -> None:
    """Make WC-10 from referral to a completed intervention and a reassessment."""
    s.create_case(psychologist, REFERENCE, PATHWAY)
    assess(s, psychologist, FIRST, SCENE.first_assessed, password, judgement=FIRST_JUDGEMENT)
    clock.now = SCENE.plan_started
    draft = s.start_plan(
        fay,
        REFERENCE,
        facilitators=["fay", "fred"],
        frequency={"sessions": 1, "per": "week"},
        review_on=SCENE.review_on,
        # The assessor's approach goals, each named with the good it serves.
        approach_goals=[
            {"good": "relatedness", "goal": APPROACH_GOALS[0]},
            {"good": "work", "goal": APPROACH_GOALS[1]},
        ],
    )
    # Tailored: the foundation sessions and the first session of each focus area; the rest of
    # the suggestion is left out, each with the facilitators' reason.
    kept, dropped, areas = [], [], set()
    for planned in draft.plan.sessions:
        area = planned.session.rsplit(".", 1)[0]
        if area == "foundation" or area not in areas:
            kept.append({"session": planned.session})
            areas.add(area)
        else:
            dropped.append(
                {
                    "session": planned.session,
                    "reason": "Its aims were met in the area's first session for this participant.",
                }
            )
    draft = s.save_plan(fay, REFERENCE, 1, "sessions", kept, base_revision=draft.revision)
    draft = s.save_plan(fay, REFERENCE, 1, "dropped", dropped, base_revision=draft.revision)
    s.confirm_password(fay, password)
    s.agree_plan(fay, REFERENCE, draft.version)
    s.confirm_password(fred, password)
    s.agree_plan(fred, REFERENCE, draft.version)
    sessions = [p.session for p in draft.plan.sessions]
    day = SCENE.plan_started.date()
    for n in range(8):
        day += dt.timedelta(days=7)
        clock.now = dt.datetime.combine(day, dt.time(15, 0), tzinfo=dt.UTC)
        # The third session is declined, and delivered the week after.
        index = min(n if n <= 2 else n - 1, len(sessions) - 1)
        s.log_session(fay, REFERENCE, session_entry(day, sessions[index], declined=n == 2))
    clock.now = dt.datetime.combine(SCENE.review_on, dt.time(11, 0), tzinfo=dt.UTC)
    focus = draft.plan.focus
    s.record_review(
        fred,
        REFERENCE,
        {
            "reviewed_on": SCENE.review_on.isoformat(),
            "by": ["fay", "fred"],
            "progress": [
                {
                    "area": area,
                    "change": "marked" if area == focus[0] else "some",
                    "evidence": "Seen across the sessions and confirmed by the sibling.",
                }
                for area in focus
            ],
            "decision": "ends",
            "ending": "completed",
        },
    )
    clock.now = dt.datetime.combine(SCENE.second_assessed, dt.time(10, 0), tzinfo=dt.UTC)
    assess(s, psychologist, SECOND, SCENE.second_assessed, password, judgement=SECOND_JUDGEMENT)
