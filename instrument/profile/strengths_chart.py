"""The strengths chart: the protective factors present and the areas they support."""

from __future__ import annotations

from typing import Any

from instrument.formulation import Formulation, ItemSummary, Priority
from instrument.profile.parts import (
    Description,
    Spec,
    _altair,
    _complete,
    _is_high,
    _is_present,
    _lines,
    _message,
    _nominal,
    _presence_of,
    _ranked,
    _reference,
    _title,
    _tooltip,
    _top_axis,
)
from instrument.profile.theme import (
    BAND_LABELS,
    INK,
    MUTED,
    STRENGTH_COLOURS,
    TRACK,
    UNRATED,
    WHITE,
)
from instrument.vocabulary import ItemKind

# ---------------------------------------------------------------------------------------------
# strengths: the protective factors present and the areas they support
# ---------------------------------------------------------------------------------------------

NO_AREA = "no specific area"


def _present_strengths(formulation: Formulation) -> list[ItemSummary]:
    return [
        item
        for domain in formulation.domains
        if domain.kind == ItemKind.PROTECTIVE
        for item in domain.items
        if _is_present(item)
    ]


def _supported_areas(formulation: Formulation) -> dict[str, list[Priority]]:
    supported: dict[str, list[Priority]] = {}
    for priority in _ranked(formulation):
        for strength in priority.strengths:
            supported.setdefault(strength.item, []).append(priority)
    return supported


def _strength_label(item: ItemSummary) -> str:
    return f"{item.item}|" + _lines(item.name, 12)


def _area_label(priority: Priority) -> str:
    return f"{priority.rank}. {priority.name}"


def _strength_cells(formulation: Formulation) -> list[Spec]:
    """One row per strength and area it supports (the dots of the chart)."""
    supported = _supported_areas(formulation)
    return [
        {
            "item": item.item,
            "strength": _strength_label(item),
            "area_id": priority.area,
            "area": _area_label(priority),
            "presence": _presence_of(item),
            "relevance": item.relevance.value if item.relevance else "",
            "high": _is_high(item),
            "band": BAND_LABELS[priority.band.value],
        }
        for item in _present_strengths(formulation)
        for priority in supported.get(item.item, [])
    ]


def _strengths_spec(formulation: Formulation) -> Spec:
    present = _present_strengths(formulation)
    title = _title(
        f"Strengths to build on, by area: case {_reference(formulation)}",
        "Columns are protective factors rated present; a dot marks an area it supports.",
        "Areas are in priority order; a thick ring marks a strength of high relevance.",
    )
    if not present:
        return _message("No protective factor is rated present.", title)
    supported = _supported_areas(formulation)
    columns = [_strength_label(item) for item in present]
    rows = [_area_label(p) for p in _ranked(formulation)]
    rings = [
        {"strength": columns[i], "area": NO_AREA.capitalize()}
        for i, item in enumerate(present)
        if item.item not in supported
    ]
    if rings:
        rows.append(NO_AREA.capitalize())
    x = _nominal(
        "strength",
        sort=columns,
        title=None,
        axis={**_top_axis(columns), "labelFontWeight": "normal"},
        scale={"paddingInner": 0.06},
    )
    y = _nominal(
        "area",
        sort=rows,
        title=None,
        axis={"labelLimit": 380, "ticks": False, "domain": False},
        scale={"paddingInner": 0.08},
    )
    layers: list[Spec] = [
        {
            "data": {"values": [{"strength": c, "area": r} for r in rows for c in columns]},
            "mark": {"type": "rect", "fill": TRACK, "cornerRadius": 3},
            "encoding": {"x": x, "y": y},
        },
        {
            "data": {"values": _strength_cells(formulation)},
            "mark": {"type": "point", "filled": True, "size": 900, "shape": "circle", "opacity": 1},
            "encoding": {
                "x": x,
                "y": y,
                "fill": _nominal(
                    "presence",
                    scale={
                        "domain": ["yes", "partial"],
                        "range": [
                            STRENGTH_COLOURS["strength-yes"],
                            STRENGTH_COLOURS["strength-partial"],
                        ],
                    },
                    legend={"title": "Strength present"},
                ),
                "stroke": {"condition": {"test": "datum.high", "value": INK}, "value": WHITE},
                "strokeWidth": {"condition": {"test": "datum.high", "value": 4}, "value": 1},
                "tooltip": _tooltip(
                    ("strength", "Strength"),
                    ("area", "Area"),
                    ("presence", "Presence"),
                    ("relevance", "Relevance"),
                    ("band", "Area's band"),
                ),
            },
        },
    ]
    if rings:
        layers.append(
            {
                "data": {"values": rings},
                "mark": {
                    "type": "point",
                    "shape": "circle",
                    "size": 700,
                    "stroke": MUTED,
                    "strokeWidth": 2,
                    "filled": False,
                },
                "encoding": {"x": x, "y": y},
            }
        )
    return {"title": title, "layer": layers, "width": {"step": 140}, "height": {"step": 52}}


def strengths(formulation: Formulation) -> Any:
    """Draw the protective factors rated present against the intervention areas they support.

    Columns are the strengths, rows the areas in priority order; a dot means the strength is one
    to build on in that area (fill by presence, a thick ring for high relevance). A strength that
    supports no listed area has a hollow ring in a last row.
    """
    return _altair(strengths_spec(formulation))


def strengths_spec(formulation: Formulation) -> Spec:
    """Return the `strengths` chart as a whole Vega-Lite spec in plain data (what it draws)."""
    return _complete(_strengths_spec(formulation))


def describe_strengths(formulation: Formulation) -> Description:
    """Describe the strengths chart: each strength present and the areas it supports."""
    supported = _supported_areas(formulation)
    rows = []
    sentences = []
    for item in _present_strengths(formulation):
        areas = [p.name for p in supported.get(item.item, [])]
        relevance = item.relevance.value if item.relevance else ""
        where = ", ".join(areas) if areas else NO_AREA
        detail = item.presence.value if item.presence else UNRATED
        if relevance:
            detail += f", {relevance} relevance"
        sentences.append(f"{item.item} {item.name} ({detail}) supports: {where}.")
        rows.append((item.item, item.name, _presence_of(item), relevance, where))
    if not rows:
        sentences.append("No protective factor is rated present.")
    return Description(
        title="Strengths to build on, and the areas they support",
        sentences=tuple(sentences),
        columns=("Item", "Strength", "Presence", "Relevance", "Supports"),
        rows=tuple(rows),
    )
