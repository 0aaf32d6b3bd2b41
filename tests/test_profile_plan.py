"""The intervention's pictures: the timeline and the progress chart, valid and free of text."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from instrument.definitions import get_instrument
from instrument.plan import DeliveredSession, ProgressReview, progress_rows, timeline
from instrument.profile.plan import (
    PLAN_SPECS,
    describe_progress,
    describe_timeline,
    progress,
    progress_spec,
    timeline_spec,
)
from instrument.profile.plan import timeline as timeline_chart

CANARY = "CANARY-<img src=x onerror=alert(1)>"
V11 = get_instrument("ifi", "1.1.0")
DAY = dt.date(2026, 10, 1)
FOCUS = ["identity", "emotion-management"]


def log() -> list[DeliveredSession]:
    sessions = ["foundation.1", "foundation.2", "identity.1", "identity.3", "emotion-management.2"]
    entries = []
    for n, session in enumerate(sessions, start=1):
        declined = n == 3
        entries.append(
            DeliveredSession(
                number=n,
                plan_version=1,
                date=DAY + dt.timedelta(days=7 * n),
                facilitators=["fac-a"],
                sessions=[session],
                attendance="declined" if declined else "attended",
                reason=CANARY if declined else None,
                duration_minutes=None if declined else 60,
                engagement=None if declined else "good",
                notes=CANARY,
            )
        )
    return entries


def reviews() -> list[ProgressReview]:
    return [
        ProgressReview(
            number=n,
            plan_version=1,
            reviewed_on=DAY + dt.timedelta(days=40 * n),
            by=["fac-a"],
            progress=[{"area": a, "change": c, "evidence": CANARY} for a in FOCUS],
            decision="continues" if n == 1 else "ends",
            ending=None if n == 1 else "completed",
            next_review_on=DAY + dt.timedelta(days=80) if n == 1 else None,
        )
        for n, c in ((1, "some"), (2, "marked"))
    ]


def test_the_charts_are_valid_vega_lite_and_carry_no_free_text() -> None:
    rows = timeline(V11, log())
    prog = progress_rows(V11, reviews())
    for chart in (timeline_chart(rows, "C-9"), progress(prog, "C-9")):
        spec = chart.to_dict()  # validates against the Vega-Lite schema
        assert CANARY not in json.dumps(spec)
        assert "CANARY" not in json.dumps(spec)
    assert set(PLAN_SPECS) == {"timeline", "progress"}


def test_the_timeline_draws_every_session_and_tells_attendance_by_shape() -> None:
    rows = timeline(V11, log())
    spec = timeline_spec(rows)
    values = spec["data"]["values"]
    assert len(values) == 5
    assert [v["attendance"] for v in values].count("declined") == 1
    encoding = spec["layer"][0]["encoding"]
    assert encoding["shape"]["scale"]["range"][:2] == ["circle", "triangle-up"]
    assert encoding["y"]["sort"][0] == "Foundation"
    text = describe_timeline(rows)
    assert text.sentences == ("5 sessions logged: 4 attended, 1 declined.",)
    assert len(text.rows) == 5


def test_progress_rises_from_some_to_marked() -> None:
    rows = progress_rows(V11, reviews())
    spec = progress_spec(rows)
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["rect", "text"]
    assert {v["step"] for v in spec["data"]["values"]} == {1, 2}
    assert describe_progress(rows).sentences[0].endswith("marked change.")


@pytest.mark.parametrize("kind", ["timeline", "progress"])
def test_empty_records_say_so_in_words(kind: str) -> None:
    spec = PLAN_SPECS[kind]([])
    assert spec["data"]["values"][0]["message"].startswith("No ")
