"""The assessor's judgement as form fields, both ways, without Streamlit (unit-tested).

A field is named by a dotted string (`five_p.presenting_problem`, `ps.PS1.title`,
`gl.relatedness.importance`, `sc.0.what`, `sum.urgency.level`, `bias.single-source.note`);
`fields_of` gives every field's value from a stored judgement, and the `*_value` functions build
one part of the judgement (as JSON-ready data for `Service.save_judgement`) from the fields, so
that the page only draws widgets and passes their values through.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from instrument.formulation import Review
from instrument.judgement import BiasQuestion, Judgement
from instrument.vocabulary import FiveP, Good

Get = Callable[[str], Any]
"""Returns a field's current value (None when the widget is empty)."""

SCENARIO_TEXTS = ("what", "who", "triggers", "warning_signs", "less_likely")
PERSON_FIELDS = ("title", "domain", "presence", "relevance", "evidence", "sources", "role", "areas")
GOOD_FIELDS = ("importance", "attainment", "means", "supplied", "note")
SUMMARY_KEYS = ("priority", "serious_harm", "urgency")


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def next_person_specific_id(existing: Sequence[str]) -> str:
    """Return the first free id `PS1`, `PS2`, ... (the ids are never reused within a draft)."""
    numbers = {int(i[2:]) for i in existing if i[2:].isdigit()}
    number = 1
    while number in numbers:
        number += 1
    return f"PS{number}"


def fields_of(judgement: Judgement | None, review: Review | None = None) -> dict[str, Any]:
    """Return every field's value from the stored judgement (and the review's 5P narratives)."""
    j = judgement or Judgement()
    fields = _five_p_fields(j, review)
    for ps_id, factor in j.person_specific.items():
        data = factor.model_dump(mode="json")
        for field in PERSON_FIELDS:
            fields[f"ps.{ps_id}.{field}"] = data.get(field)
    panel = j.good_lives
    if panel is not None:
        for good, rating in panel.goods.items():
            fields[f"gl.{good.value}.importance"] = rating.importance.value
            fields[f"gl.{good.value}.attainment"] = rating.attainment.value
            fields[f"gl.{good.value}.means"] = rating.means.value
            fields[f"gl.{good.value}.supplied"] = rating.supplied_by_group
            fields[f"gl.{good.value}.note"] = rating.note
        fields["gl.goals"] = "\n".join(panel.approach_goals) or None
    for index, scenario in enumerate(j.scenarios):
        data = scenario.model_dump(mode="json")
        for field in ("title", *SCENARIO_TEXTS, "items", "person_specific"):
            fields[f"sc.{index}.{field}"] = data[field]
    fields.update(_other_fields(j))
    fields["limitations"] = j.limitations
    return fields


def _five_p_fields(j: Judgement, review: Review | None) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    five_p = j.five_p
    fields["five_p.presenting_problem"] = five_p.presenting_problem if five_p else None
    for heading in FiveP:
        text = five_p.headings.get(heading) if five_p else None
        reason = text.not_applicable if text else None
        narrative = text.narrative if text else None
        if narrative is None and reason is None and review is not None:
            narrative = review.narratives.get(heading)
        fields[f"five_p.{heading.value}.na"] = reason is not None
        fields[f"five_p.{heading.value}.text"] = reason if reason is not None else narrative
    if five_p is not None:
        for item_id, heading in five_p.placements.items():
            fields[f"five_p.place.{item_id}"] = heading.value
    return fields


def _other_fields(j: Judgement) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    summary = j.summary
    if summary is not None:
        for key in SUMMARY_KEYS:
            value = getattr(summary, key)
            fields[f"sum.{key}.level"] = value.level.value if value else None
            fields[f"sum.{key}.rationale"] = value.rationale if value else None
        fields["sum.no_intervention"] = summary.no_intervention
    check = j.bias_check
    if check is not None:
        for question, answer in check.answers.items():
            fields[f"bias.{question.value}.applies"] = "yes" if answer.applies else "no"
            fields[f"bias.{question.value}.note"] = answer.note
        fields["bias.confirmed"] = check.confirmed
    return fields


def five_p_value(get: Get, placeable: Sequence[tuple[str, FiveP]]) -> dict[str, Any] | None:
    """Build `five_p` from its fields; `placeable` lists (item id, definition heading)."""
    headings: dict[str, Any] = {}
    for heading in FiveP:
        text = _text(get(f"five_p.{heading.value}.text"))
        if not text:
            continue
        field = "not_applicable" if get(f"five_p.{heading.value}.na") else "narrative"
        headings[heading.value] = {field: text}
    placements = {
        item_id: chosen
        for item_id, default in placeable
        if (chosen := get(f"five_p.place.{item_id}")) and chosen != default.value
    }
    value: dict[str, Any] = {}
    presenting = _text(get("five_p.presenting_problem"))
    if presenting:
        value["presenting_problem"] = presenting
    if placements:
        value["placements"] = placements
    if headings:
        value["headings"] = headings
    return value or None


def person_specific_value(get: Get, ids: Sequence[str]) -> dict[str, Any]:
    """Build `person_specific` from the fields of the factors `ids`."""
    factors: dict[str, Any] = {}
    for ps_id in ids:
        factor: dict[str, Any] = {}
        for field in PERSON_FIELDS:
            value = get(f"ps.{ps_id}.{field}")
            if field in ("sources", "areas"):
                factor[field] = list(value or [])
            elif field in ("title", "evidence"):
                if _text(value):
                    factor[field] = _text(value)
            elif value is not None:
                factor[field] = value
        factors[ps_id] = factor
    return factors


def good_lives_value(get: Get) -> dict[str, Any] | None:
    """Build `good_lives`: a good is kept once its importance, attainment and means are set."""
    goods: dict[str, Any] = {}
    for good in Good:
        values = {field: get(f"gl.{good.value}.{field}") for field in GOOD_FIELDS}
        if not all(values[f] for f in ("importance", "attainment", "means")):
            continue
        entry = {
            "importance": values["importance"],
            "attainment": values["attainment"],
            "means": values["means"],
            "supplied_by_group": bool(values["supplied"]),
        }
        if _text(values["note"]):
            entry["note"] = _text(values["note"])
        goods[good.value] = entry
    goals = [line.strip() for line in str(get("gl.goals") or "").splitlines() if line.strip()]
    if not goods and not goals:
        return None
    return {"goods": goods, "approach_goals": goals}


def scenarios_value(get: Get, count: int, *, drop: int | None = None) -> list[dict[str, Any]]:
    """Build `scenarios` from the fields of `count` scenarios, leaving out the one at `drop`."""
    scenarios = []
    for index in range(count):
        if index == drop:
            continue
        scenario: dict[str, Any] = {"title": _text(get(f"sc.{index}.title"))}
        for field in SCENARIO_TEXTS:
            scenario[field] = _text(get(f"sc.{index}.{field}"))
        scenario["items"] = list(get(f"sc.{index}.items") or [])
        scenario["person_specific"] = list(get(f"sc.{index}.person_specific") or [])
        scenarios.append(scenario)
    return scenarios


def summary_value(get: Get) -> dict[str, Any] | None:
    """Build `summary`: a judgement is kept once its level is chosen."""
    value: dict[str, Any] = {}
    for key in SUMMARY_KEYS:
        level = get(f"sum.{key}.level")
        if level:
            value[key] = {"level": level, "rationale": _text(get(f"sum.{key}.rationale"))}
    if get("sum.no_intervention"):
        value["no_intervention"] = True
    return value or None


def bias_check_value(get: Get) -> dict[str, Any] | None:
    """Build `bias_check`: an answer is kept once yes or no is chosen."""
    answers: dict[str, Any] = {}
    for question in BiasQuestion:
        applies = get(f"bias.{question.value}.applies")
        if applies not in ("yes", "no"):
            continue
        answer: dict[str, Any] = {"applies": applies == "yes"}
        note = _text(get(f"bias.{question.value}.note"))
        if note:
            answer["note"] = note
        answers[question.value] = answer
    confirmed = bool(get("bias.confirmed"))
    if not answers and not confirmed:
        return None
    return {"answers": answers, "confirmed": confirmed}


def limitations_value(get: Get) -> str | None:
    """Build `limitations` (blank clears it)."""
    return _text(get("limitations")) or None
