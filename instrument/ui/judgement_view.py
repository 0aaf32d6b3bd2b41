"""The assessor's judgement as the formulation and conference pages show it (read only).

Everything comes from the formulation the service returns: a viewer's copy is redacted, so it
holds titles, levels and links only, and these panels show exactly that. Typed text is shown
with `st.text` or escaped with `plain`, never as Markdown or HTML.
"""

from __future__ import annotations

import streamlit as st

from instrument.formulation import Formulation
from instrument.formulation.judgement import (
    FormulationJudgement,
    SummaryJudgementView,
    escalation_raised,
)
from instrument.judgement import Level
from instrument.profile import describe_good_lives, good_lives_spec
from instrument.ui.components import FIVE_P_TITLES, BadgeColour, plain
from instrument.vocabulary import Band

LEVEL_BADGES: dict[Level, BadgeColour] = {
    Level.HIGH: "red",
    Level.MODERATE: "orange",
    Level.LOW: "green",
}
_REDACTED = "Not shown for your role."


def summary_judgements(formulation: Formulation) -> None:
    """Show the assessor's summary judgements with what bears on each, and any suggestions."""
    judgement = formulation.judgement
    if judgement is None:
        return
    st.header("The assessor's summary judgements", anchor="summary-judgements", divider="gray")
    if escalation_raised(formulation):
        # The prompt itself is shown first on the page; here, beside the judgements it asks for.
        st.caption("The escalation prompt is raised (see above): it asks for these judgements.")
    given = judgement.summary_judgements
    if given is None:
        st.caption("The assessor has not recorded summary judgements yet.")
    else:
        columns = st.columns(len(given.judgements))
        for column, view in zip(columns, given.judgements, strict=True):
            with column, st.container(border=True):
                _judgement_card(view, redacted=formulation.redacted)
        if given.no_intervention:
            st.info("The assessor's outcome: no intervention indicated.", icon=":material/block:")
        st.caption(plain(given.summary))
    for suggestion in judgement.review_suggestions:
        st.warning(plain(suggestion), icon=":material/rate_review:")


def _judgement_card(view: SummaryJudgementView, *, redacted: bool) -> None:
    st.markdown(f"**{view.name}**")
    if view.level is None:
        st.caption("Not recorded yet.")
    else:
        st.badge(view.level.value, color=LEVEL_BADGES[view.level])
    if view.rationale:
        st.text(view.rationale)
    elif redacted and view.level is not None:
        st.caption(f"Rationale: {_REDACTED}")
    bearing = []
    if view.items:
        bearing.append("items " + ", ".join(view.items))
    if view.scenarios:
        bearing.append("scenarios " + ", ".join(str(n) for n in view.scenarios))
    if bearing:
        st.caption("Bearing on it: " + "; ".join(bearing))


def _why_scenarios(formulation: Formulation) -> str:
    """Say which condition asks for a scenario: a high area, the raised prompt, or both."""
    high = [p.name for p in formulation.priorities if p.band is Band.HIGH]
    raised = formulation.escalation is not None and formulation.escalation.raised
    reasons = []
    if len(high) == 1:
        reasons.append(f"{high[0]} is high")
    elif len(high) == 2:
        reasons.append(f"{high[0]} and {high[1]} are high")
    elif high:
        reasons.append(f"{high[0]} and {len(high) - 1} other areas are high")
    if raised:
        reasons.append("the escalation prompt is raised")
    return " and ".join(reasons) or "an area is high or the escalation prompt is raised"


def scenarios(formulation: Formulation) -> None:
    """Show the scenarios: titles and links always, their texts when the copy holds them."""
    judgement = formulation.judgement
    if judgement is None:
        return
    st.header("Scenarios", anchor="scenarios", divider="gray")
    st.caption(
        "What could happen, in general terms, to plan management and intervention: never a "
        "prediction, never a probability."
    )
    if not judgement.scenarios:
        if judgement.scenarios_required:
            why = _why_scenarios(formulation)
            st.warning(
                f"No scenario yet: at least one is needed to finalise ({why}).",
                icon=":material/warning:",
            )
        else:
            st.caption("No scenario is recorded.")
    for scenario in judgement.scenarios:
        with st.container(border=True):
            st.markdown(f"**Scenario {scenario.number}: {plain(scenario.title)}**")
            rows = [
                ("What could happen", scenario.what),
                ("Who could be harmed", scenario.who),
                ("Triggers and destabilisers", scenario.triggers),
                ("Warning signs", scenario.warning_signs),
                ("What would make it less likely", scenario.less_likely),
            ]
            if all(text is None for _, text in rows):
                st.caption(f"The scenario's text: {_REDACTED}")
            for label, text in rows:
                if text is not None:
                    st.markdown(f"*{label}*")
                    st.text(text or "—")
            links = [*scenario.items, *scenario.person_specific]
            st.caption("Rests on: " + (", ".join(links) if links else "no linked factor"))


def presenting_problem(judgement: FormulationJudgement | None) -> None:
    """Show the presenting problem in the assessor's words, when the copy holds it."""
    if judgement is not None and judgement.presenting_problem:
        st.markdown("**Presenting problem, in the assessor's words**")
        st.text(judgement.presenting_problem)


def rest(formulation: Formulation) -> None:
    """Show person-specific factors, Good Lives, limitations and the bias check."""
    judgement = formulation.judgement
    if judgement is None:
        return
    _person_specific(judgement)
    _good_lives(formulation)
    _limitations(judgement)


def _person_specific(judgement: FormulationJudgement) -> None:
    if judgement.person_specific:
        st.header("Person-specific factors", anchor="person-specific", divider="gray")
        st.caption("Factors the list does not hold; they never change a score.")
        for factor in judgement.person_specific:
            with st.container(border=True):
                st.markdown(
                    f"**{factor.id} · {plain(factor.title)}** — {plain(factor.domain_name)}, "
                    f"{factor.presence.value}, {factor.relevance.value} relevance, "
                    f"{FIVE_P_TITLES[factor.role].lower()}"
                )
                if factor.areas:
                    st.caption("Linked to: " + ", ".join(factor.areas))
                if factor.evidence:
                    st.text(factor.evidence)


def _good_lives(formulation: Formulation) -> None:
    panel = formulation.judgement.good_lives if formulation.judgement else None
    if panel is not None:
        st.header("Good Lives", anchor="good-lives", divider="gray")
        st.vega_lite_chart(good_lives_spec(formulation), width="content")
        st.caption(plain(" ".join(describe_good_lives(formulation).sentences)))
        if panel.approach_goals:
            st.markdown("**Approach goals**")
            for goal in panel.approach_goals:
                st.text(f"• {goal}")


def _limitations(judgement: FormulationJudgement) -> None:
    st.header("Limitations and bias check", anchor="limitations", divider="gray")
    st.write(plain(judgement.limitations))
    if judgement.assessor_limitations:
        st.text(judgement.assessor_limitations)
    check = judgement.bias_check
    if check is not None:
        for answer in check.answers:
            said = "not answered" if answer.applies is None else ("yes" if answer.applies else "no")
            st.markdown(f"- {plain(answer.text)} **{said}**")
            if answer.note:
                st.text(answer.note)
        st.caption("Confirmed by the assessor." if check.confirmed else "Not confirmed yet.")
