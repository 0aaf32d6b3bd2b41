"""The Plan page (AppTest): the editor saves per field, conflicts explained, viewers redacted."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from streamlit.testing.v1 import AppTest

from instrument.access import SYSTEM
from instrument.ui import state
from tests.plan_support import finalised_case
from tests.ui.conftest import PASSWORD, Web, audit_actions, goto, table, texts


def _key(*parts: str) -> str:
    return state.widget_key(state.PLAN_PAGE, ".".join(parts))


def seed(web: Web, *, agree: bool = False) -> None:
    pat, fay = web.actor("psychologist"), web.actor("facilitator")
    with web.service() as s:
        finalised_case(
            s,
            pat,
            "C-0100",
            evidence="Fictional <img src=x onerror=alert(1)>.",
            password=PASSWORD,
        )
        s.start_plan(
            fay,
            "C-0100",
            facilitators=["fac.north", "fac2.north"],
            frequency={"sessions": 1, "per": "week"},
            review_on=dt.date(2026, 12, 20),
            approach_goals=[{"good": "relatedness", "goal": "CANARY goal"}],
        )
        if agree:
            s.confirm_password(fay, PASSWORD)
            s.agree_plan(fay, "C-0100", 1)


def _open(web: Web, who: str) -> AppTest:
    at = web.app(who, "plan", case="C-0100")
    assert not at.exception, at.exception
    return at


def test_a_facilitator_edits_the_draft_per_field(web: Web) -> None:
    seed(web)
    at = _open(web, "facilitator")
    assert "Intervention plan: case C-0100" in texts(at)
    assert "Draft plan, version 1" in texts(at)
    box = next(t for t in at.text_area if t.key == _key("edit", "order_reason"))
    box.set_value("Started with the participant's own priority.").run()
    assert not at.exception
    assert "plan-save" in audit_actions(web)
    with web.service() as s:
        plan = s.case_plan(web.actor("facilitator"), "C-0100").latest
    assert plan is not None
    assert plan.order_reason == "Started with the participant's own priority."


def test_a_stale_save_is_explained_and_nothing_is_overwritten(web: Web) -> None:
    seed(web)
    at = _open(web, "facilitator")
    with web.service() as s:  # another tab saves first
        s.save_plan(
            web.actor("facilitator-two"), "C-0100", 1, "order_reason", "Theirs.", base_revision=1
        )
    box = next(t for t in at.text_area if t.key == _key("edit", "order_reason"))
    box.set_value("Mine.").run()
    assert not at.exception
    assert "was changed by fac2" in texts(at)
    assert any(b.label == "Load their version" for b in at.button)
    with web.service() as s:
        plan = s.case_plan(web.actor("facilitator"), "C-0100").latest
    assert plan is not None
    assert plan.order_reason == "Theirs."


def test_a_viewer_sees_the_plan_without_free_text_or_names(web: Web) -> None:
    seed(web, agree=True)
    at = _open(web, "viewer")
    shown = texts(at)
    assert "Plan version 1 (agreed)" in shown
    assert "CANARY" not in shown
    assert "fac.north" not in shown
    assert not [t for t in at.text_area if "edit" in str(t.key)]


def test_review_due_is_said_on_the_page_and_in_the_case_list(web: Web) -> None:
    seed(web, agree=True)
    web.clock.advance(days=40)
    at = _open(web, "facilitator")
    assert "The review date has passed" in texts(at)
    cases = web.app("facilitator", "cases")
    frame = table(cases)
    assert list(frame["Plan"]) == ["review due (since 2026-12-20)"]


def _log_one(web: Web) -> None:
    """Log one attended session (foundation.1, fac.north) through the service."""
    with web.service() as s:
        s.log_session(
            web.actor("facilitator"),
            "C-0100",
            {
                "date": "2026-11-23",
                "facilitators": ["fac.north"],
                "sessions": ["foundation.1"],
                "attendance": "attended",
                "duration_minutes": 60,
                "engagement": "good",
            },
        )


def test_a_logged_session_is_corrected_field_by_field(web: Web) -> None:
    seed(web, agree=True)
    _log_one(web)
    at = _open(web, "facilitator")
    attendance = next(b for b in at.selectbox if b.key == _key("entry", "field", "1", "attendance"))
    attendance.set_value("declined").run()  # no reason yet: refused, nothing saved
    assert not at.exception
    assert "needs a reason" in texts(at)
    reason = next(t for t in at.text_input if t.key == _key("entry", "field", "1", "reason"))
    reason.set_value("The participant was unwell.").run()
    assert not at.exception
    with web.service() as s:
        (entry,) = s.case_plan(web.actor("facilitator"), "C-0100").delivery
    assert entry.attendance.value == "declined"
    assert entry.reason == "The participant was unwell."
    assert entry.engagement is None
    assert "session-save" in audit_actions(web)


def _entry(web: Web) -> Any:
    with web.service() as s:
        (entry,) = s.delivery_log(web.actor("facilitator"), "C-0100")
    return entry


def test_a_logged_sessions_facilitators_and_sessions_are_corrected(web: Web) -> None:
    seed(web, agree=True)
    _log_one(web)
    at = _open(web, "facilitator")
    people = next(m for m in at.multiselect if m.key == _key("entry", "field", "1", "facilitators"))
    assert people.label == "Facilitators present"
    assert people.value == ["fac.north"]
    assert {"fac.north", "fac2.north"} <= set(people.options)
    people.set_value(["fac.north", "fac2.north"]).run()
    assert not at.exception
    assert _entry(web).entry.facilitators == ["fac.north", "fac2.north"]
    covered = next(m for m in at.multiselect if m.key == _key("entry", "field", "1", "sessions"))
    assert covered.label == "Sessions covered (or due)"
    # The plan's sessions come first, in its order, named by their catalogue titles.
    assert covered.options[0].startswith("foundation.1 — ")
    covered.set_value(["foundation.1", "foundation.2"]).run()
    assert not at.exception
    saved = _entry(web)
    assert saved.entry.sessions == ["foundation.1", "foundation.2"]
    assert saved.revision == 3
    assert audit_actions(web, "session-save") == ["session-save", "session-save"]


def test_a_facilitator_who_left_the_team_is_refused_and_nothing_is_written(web: Web) -> None:
    seed(web, agree=True)
    _log_one(web)
    with web.service() as s:  # the second facilitator moves to the south team after agreeing
        s.set_team(SYSTEM, "fac2.north", "south")
    before = _entry(web)
    saves = audit_actions(web, "session-save")
    at = _open(web, "facilitator")
    people = next(m for m in at.multiselect if m.key == _key("entry", "field", "1", "facilitators"))
    # Still named by the agreed plan, and marked as no longer of the team before it is chosen.
    assert "fac2.north (no longer of this case's team)" in people.options
    people.set_value(["fac.north", "fac2.north"]).run()
    assert not at.exception
    errors = [re.sub(r"\\(.)", r"\1", str(e.value)) for e in at.error]  # Markdown escapes
    assert any(
        "$.facilitators[1]: 'fac2.north' is not a facilitator of this case's team" in e
        for e in errors
    ), errors
    after = _entry(web)
    assert (after.entry, after.revision) == (before.entry, before.revision)
    assert audit_actions(web, "session-save") == saves
    # Choosing one of the team again saves, and the refusal is gone.
    people = next(m for m in at.multiselect if m.key == _key("entry", "field", "1", "facilitators"))
    people.set_value(["fac.north"]).run()
    assert not [e for e in at.error if "fac2.north" in str(e.value)]


def test_the_plan_only_report_is_offered_in_html_pdf_and_word(web: Web) -> None:
    seed(web, agree=True)
    _log_one(web)
    at = _open(web, "facilitator")
    password = next((t for t in at.text_input if t.key == _key("download", "password")), None)
    if password is not None:
        password.set_value(PASSWORD)
    next(b for b in at.button if b.key == _key("download", "prepare")).click().run()
    assert not at.exception
    labels = [d.proto.label for d in at.get("download_button")]
    assert labels == ["Plan only (HTML)", "Plan only (PDF)", "Plan only (Word)"]
    assert "export" in audit_actions(web)


def _log_form(at: AppTest, notes: str) -> AppTest:
    """Fill the log form (today by the service's clock, foundation.2) and send it."""
    covered = next(m for m in at.multiselect if m.key == _key("log", "sessions"))
    covered.set_value(["foundation.2"])
    next(t for t in at.text_area if t.key == _key("log", "notes")).set_value(notes)
    next(b for b in at.button if b.label == "Log the session").click()
    return at.run()


def test_two_tabs_logging_the_same_session_log_it_once(web: Web) -> None:
    seed(web, agree=True)
    first, second = _open(web, "facilitator"), _open(web, "facilitator")
    date = next(d for d in first.date_input if d.key == _key("log", "date"))
    assert date.value == web.clock.now.date()  # the service's today, not the machine's
    _log_form(first, "Tab one.")
    assert not first.exception
    assert "Session 1 is logged." in texts(first)
    _log_form(second, "Tab two.")
    assert not second.exception
    shown = re.sub(r"\\(.)", r"\1", texts(second))
    assert "is logged already as entry 1" in shown
    assert "correct entry 1 in the delivery log instead of logging it twice" in shown
    with web.service() as s:
        entries = s.delivery_log(web.actor("facilitator"), "C-0100")
    assert [e.entry.notes for e in entries] == ["Tab one."]
    import sqlite3

    with sqlite3.connect(web.db_path) as conn:
        outcomes = conn.execute(
            "SELECT outcome FROM audit_log WHERE action = 'session-log' ORDER BY seq"
        ).fetchall()
    made, *rest = [o[0] for o in outcomes]
    assert made == "ok"
    assert rest
    assert all(o != "ok" for o in rest)  # the refusal is audited as one


def test_another_teams_user_does_not_find_the_plan(web: Web) -> None:
    seed(web, agree=True)
    _log_one(web)
    at = web.app("other-team", "plan", case="C-0100")
    assert not at.exception
    shown = re.sub(r"\\(.)", r"\1", texts(at))
    assert "Case C-0100 was not found" in shown
    assert "Intervention plan: case" not in shown
    assert "CANARY" not in shown
    assert not at.multiselect
    assert not at.text_area


def test_a_review_is_recorded_from_the_form_dated_by_the_services_today(web: Web) -> None:
    seed(web, agree=True)
    at = _open(web, "facilitator")
    date = next(d for d in at.date_input if d.key == _key("review", "date"))
    assert date.value == web.clock.now.date()
    people = next(m for m in at.multiselect if m.key == _key("review", "by"))
    assert people.value == ["fac.north", "fac2.north"]
    for box in at.text_area:
        if str(box.key).startswith(_key("review")) and str(box.key).endswith("evidence"):
            box.set_value("Fictional evidence of change.")
    next(b for b in at.button if b.label == "Record the review").click().run()
    assert not at.exception
    assert "Review 1 is recorded." in texts(at)
    with web.service() as s:
        (review,) = s.case_plan(web.actor("facilitator"), "C-0100").reviews
    assert review.reviewed_on == web.clock.now.date()
    assert review.by == ["fac.north", "fac2.north"]


def test_a_stale_correction_of_the_sessions_is_explained_and_not_saved(web: Web) -> None:
    seed(web, agree=True)
    _log_one(web)
    at = _open(web, "facilitator")
    with web.service() as s:  # another tab corrects the entry first
        (entry,) = s.delivery_log(web.actor("facilitator-two"), "C-0100")
        s.save_session(
            web.actor("facilitator-two"),
            "C-0100",
            1,
            {"notes": "Theirs."},
            base_revision=entry.revision,
        )
    covered = next(m for m in at.multiselect if m.key == _key("entry", "field", "1", "sessions"))
    covered.set_value(["foundation.1", "foundation.3"]).run()
    assert not at.exception
    shown = re.sub(r"\\(.)", r"\1", texts(at))
    assert "log entry 1 was changed by fac2.north" in shown
    assert "in another tab or by another person" in shown
    assert "based on revision" not in shown  # no revision numbers (issue 15)
    assert any(b.label == "Load their version" for b in at.button)
    saved = _entry(web)
    assert (saved.entry.sessions, saved.entry.notes) == (["foundation.1"], "Theirs.")


def test_a_change_made_in_another_tab_is_said_at_once_and_never_overwritten(web: Web) -> None:
    seed(web, agree=True)
    _log_one(web)
    at = _open(web, "facilitator")
    with web.service() as s:  # another tab corrects the notes
        s.save_session(
            web.actor("facilitator-two"), "C-0100", 1, {"notes": "Theirs."}, base_revision=1
        )
    at.run()  # any rerun of this tab: the change is said before anything is typed
    shown = re.sub(r"\\(.)", r"\1", texts(at))
    assert "log entry 1 was changed by fac2.north" in shown
    assert "load their version before you change it" in shown
    # The field still shows what this tab drew; a change typed over it is refused, not saved.
    notes = next(t for t in at.text_area if t.key == _key("entry", "field", "1", "notes"))
    assert notes.value == ""
    notes.set_value("Typed over the older text.").run()
    assert _entry(web).entry.notes == "Theirs."
    # Loading their version draws the fields afresh; then a change saves.
    next(b for b in at.button if b.label == "Load their version").click().run()
    assert not at.exception
    notes = next(t for t in at.text_area if t.key == _key("entry", "field", "1", "notes.g1"))
    assert notes.value == "Theirs."
    notes.set_value("Theirs, and mine.").run()
    assert _entry(web).entry.notes == "Theirs, and mine."
    assert "was changed by" not in re.sub(r"\\(.)", r"\1", texts(at))


def test_a_draft_changed_in_another_tab_is_said_at_once_and_never_overwritten(web: Web) -> None:
    seed(web)
    at = _open(web, "facilitator")
    with web.service() as s:  # another tab writes the order's reason
        s.save_plan(
            web.actor("facilitator-two"), "C-0100", 1, "order_reason", "Theirs.", base_revision=1
        )
    at.run()
    shown = re.sub(r"\\(.)", r"\1", texts(at))
    assert "plan version 1 was changed by fac2.north" in shown
    assert "load their version before you change it" in shown
    assert not [b for b in at.button if b.label.startswith("Save my")]  # nothing of mine pending
    box = next(t for t in at.text_area if t.key == _key("edit", "order_reason"))
    box.set_value("Typed over the older text.").run()
    with web.service() as s:
        plan = s.case_plan(web.actor("facilitator"), "C-0100").latest
    assert plan is not None
    assert plan.order_reason == "Theirs."
    next(b for b in at.button if b.label == "Load their version").click().run()
    assert not at.exception
    box = next(t for t in at.text_area if t.key == _key("edit", "order_reason.g1"))
    assert box.value == "Theirs."
    box.set_value("Theirs, and mine.").run()
    with web.service() as s:
        plan = s.case_plan(web.actor("facilitator"), "C-0100").latest
    assert plan is not None
    assert plan.order_reason == "Theirs, and mine."


def test_coming_back_to_the_page_draws_the_latest_entry_without_a_warning(web: Web) -> None:
    seed(web, agree=True)
    _log_one(web)
    at = _open(web, "facilitator")
    goto(at, "cases")  # the plan page's fields go
    with web.service() as s:  # meanwhile another tab corrects the notes
        s.save_session(
            web.actor("facilitator-two"), "C-0100", 1, {"notes": "Theirs."}, base_revision=1
        )
    goto(at, "plan", case="C-0100")
    assert not at.exception
    assert "in another tab or by another person" not in re.sub(r"\\(.)", r"\1", texts(at))
    notes = next(t for t in at.text_area if t.key == _key("entry", "field", "1", "notes"))
    assert notes.value == "Theirs."
    notes.set_value("Theirs, and mine.").run()
    assert _entry(web).entry.notes == "Theirs, and mine."
