"""The intervention's pictures: a timeline of delivered sessions, and progress over reviews.

Pure functions of the plan's readings (`instrument.plan.timeline` and `progress_rows`), as plain
Vega-Lite specs in the profile's one theme, wrapped in Altair on request; each has a
`describe_*` twin giving the same facts as sentences and a table. They never carry notes,
reasons or evidence: a viewer's charts are the same as a facilitator's.

Attendance is told by shape as well as colour (Okabe–Ito): attended a filled blue circle, declined
an orange triangle, cancelled a grey square, did not attend a purple cross.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from instrument.plan import Attendance, ProgressRow, TimelineRow
from instrument.profile.parts import (
    Description,
    Spec,
    _altair,
    _complete,
    _message,
    _nominal,
    _quantitative,
    _title,
)
from instrument.profile.theme import INK, LABEL_SIZE, WHITE

ATTENDANCE_ORDER: tuple[str, ...] = tuple(a.value for a in Attendance)
ATTENDANCE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "attended": "attended",
        "declined": "declined",
        "cancelled": "cancelled",
        "did-not-attend": "did not attend",
    }
)
ATTENDANCE_COLOURS: Mapping[str, str] = MappingProxyType(
    {
        "attended": "#0072B2",
        "declined": "#E69F00",
        "cancelled": "#999999",
        "did-not-attend": "#CC79A7",
    }
)
ATTENDANCE_SHAPES: Mapping[str, str] = MappingProxyType(
    {
        "attended": "circle",
        "declined": "triangle-up",
        "cancelled": "square",
        "did-not-attend": "cross",
    }
)
CHANGE_LABELS: Mapping[int, str] = MappingProxyType(
    {-1: "worse", 0: "no change", 1: "some change", 2: "marked change"}
)
# Worse in vermillion, none a light grey, some a sky blue, marked the deep blue; each cell also
# says its change in words, so colour is never the only cue.
CHANGE_COLOURS: Mapping[str, str] = MappingProxyType(
    {
        "worse": "#D55E00",
        "no change": "#e3e3e3",
        "some change": "#9fd0f0",
        "marked change": "#0072B2",
    }
)


def _area_order(rows: Sequence[TimelineRow]) -> list[str]:
    order: list[str] = []
    for row in rows:
        if row.area_name not in order:
            order.append(row.area_name)
    return order


def timeline_spec(rows: Sequence[TimelineRow], reference: str = "") -> Spec:
    """Return the timeline of delivered sessions: date across, area down, attendance as shape."""
    title = _title(
        "Sessions delivered, by area and attendance",
        f"Case {reference}" if reference else "The delivery log",
    )
    if not rows:
        return _complete(_message("No session has been logged yet.", title))
    values = [
        {
            "number": row.number,
            "date": row.date.isoformat(),
            "area": row.area_name,
            "session": row.session or "-",
            "title": row.title or "-",
            "attendance": row.attendance.value,
        }
        for row in rows
    ]
    areas = _area_order(rows)
    labels = " : ".join(
        f"datum.label == '{value}' ? '{ATTENDANCE_LABELS[value]}'" for value in ATTENDANCE_ORDER
    )
    points: Spec = {
        "mark": {"type": "point", "filled": True, "size": 420, "stroke": INK, "strokeWidth": 1},
        "encoding": {
            "x": {
                "field": "date",
                "type": "temporal",
                "title": "Date",
                "axis": {"format": "%d %b", "labelAngle": 0},
            },
            "y": _nominal("area", title=None, sort=areas, axis={"labelLimit": 360}),
            "color": _nominal(
                "attendance",
                title="Attendance",
                scale={
                    "domain": list(ATTENDANCE_ORDER),
                    "range": [ATTENDANCE_COLOURS[v] for v in ATTENDANCE_ORDER],
                },
                legend={"title": "Attendance", "labelExpr": f"{labels} : datum.label"},
            ),
            "shape": _nominal(
                "attendance",
                scale={
                    "domain": list(ATTENDANCE_ORDER),
                    "range": [ATTENDANCE_SHAPES[v] for v in ATTENDANCE_ORDER],
                },
                legend=None,
            ),
            "tooltip": [
                _quantitative("number", title="Log entry"),
                {"field": "date", "type": "temporal", "title": "Date"},
                _nominal("session", title="Session"),
                _nominal("title", title="Title"),
                _nominal("attendance", title="Attendance"),
            ],
        },
    }
    spec: Spec = {
        "title": title,
        "data": {"values": values},
        "layer": [points],  # one layer: drawn alike by the report and the pages
        "width": 760,
        "height": {"step": 56},  # a row an area, whatever the container's size
    }
    return _complete(spec)


def timeline(rows: Sequence[TimelineRow], reference: str = "") -> Any:
    """Return the timeline as an Altair chart."""
    return _altair(timeline_spec(rows, reference))


def describe_timeline(rows: Sequence[TimelineRow]) -> Description:
    """Return the timeline's facts as sentences and a table."""
    entries = {row.number: row.attendance for row in rows}
    counts = {a: sum(1 for v in entries.values() if v is a) for a in Attendance}
    said = ", ".join(f"{counts[a]} {ATTENDANCE_LABELS[a.value]}" for a in Attendance if counts[a])
    sentences = (
        (f"{len(entries)} sessions logged: {said}.",) if entries else ("No session logged yet.",)
    )
    return Description(
        title="Sessions delivered, by area and attendance",
        sentences=sentences,
        columns=("Entry", "Date", "Area", "Session", "Attendance"),
        rows=tuple(
            (
                str(row.number),
                row.date.isoformat(),
                row.area_name,
                row.title or row.session or "-",
                ATTENDANCE_LABELS[row.attendance.value],
            )
            for row in rows
        ),
    )


def _review_label(row: ProgressRow) -> str:
    return f"Review {row.review} ({row.reviewed_on.strftime('%d %b %Y')})"


def progress_spec(rows: Sequence[ProgressRow], reference: str = "") -> Spec:
    """Return progress per focus area over the reviews: a row an area, a column a review."""
    title = _title(
        "Progress per area over the reviews",
        "The change the facilitators saw: worse, none, some or marked; never a score",
    )
    if not rows:
        return _complete(_message("No review has been recorded yet.", title))
    reviews = sorted({(row.review, _review_label(row)) for row in rows})
    values = [
        {
            "review": _review_label(row),
            "area": row.area_name,
            "step": row.step,
            "change": CHANGE_LABELS[row.step],
            "ink": WHITE if row.step in (-1, 2) else INK,
        }
        for row in rows
    ]
    areas: list[str] = []
    for row in rows:
        if row.area_name not in areas:
            areas.append(row.area_name)
    domain = [CHANGE_LABELS[step] for step in sorted(CHANGE_LABELS)]
    x = _nominal(
        "review",
        title=None,
        sort=[label for _, label in reviews],
        axis={"labelAngle": 0, "labelLimit": 400, "orient": "top"},
    )
    y = _nominal("area", title=None, sort=areas, axis={"labelLimit": 360})
    spec: Spec = {
        "title": title,
        "data": {"values": values},
        "layer": [
            {
                "mark": {"type": "rect", "stroke": WHITE, "strokeWidth": 4},
                "encoding": {
                    "x": x,
                    "y": y,
                    "color": _nominal(
                        "change",
                        title="Change seen",
                        scale={"domain": domain, "range": [CHANGE_COLOURS[v] for v in domain]},
                    ),
                    "tooltip": [
                        _nominal("review", title="Review"),
                        _nominal("area", title="Area"),
                        _nominal("change", title="Change seen"),
                    ],
                },
            },
            {
                "mark": {"type": "text", "fontSize": LABEL_SIZE},
                "encoding": {
                    "x": x,
                    "y": y,
                    "text": _nominal("change"),
                    "color": _nominal("ink", scale=None, legend=None),
                },
            },
        ],
        "width": {"step": 240},  # a column a review
        "height": {"step": 64},  # a row an area
    }
    return _complete(spec)


def progress(rows: Sequence[ProgressRow], reference: str = "") -> Any:
    """Return progress over reviews as an Altair chart."""
    return _altair(progress_spec(rows, reference))


def describe_progress(rows: Sequence[ProgressRow]) -> Description:
    """Return the progress chart's facts as sentences and a table."""
    latest = max((row.review for row in rows), default=None)
    last = [row for row in rows if row.review == latest]
    sentences = tuple(
        f"At review {row.review}, {row.area_name}: {CHANGE_LABELS[row.step]}." for row in last
    ) or ("No review recorded yet.",)
    return Description(
        title="Progress per area over the reviews",
        sentences=sentences,
        columns=("Review", "Date", "Area", "Change seen"),
        rows=tuple(
            (
                str(row.review),
                row.reviewed_on.isoformat(),
                row.area_name,
                CHANGE_LABELS[row.step],
            )
            for row in rows
        ),
    )


PLAN_SPECS: Mapping[str, Callable[..., Spec]] = MappingProxyType(
    {"timeline": timeline_spec, "progress": progress_spec}
)
"""The plan's charts by name: `timeline` takes timeline rows, `progress` progress rows."""
