"""The priorities chart: the intervention areas ranked, with their bands and scores."""

from __future__ import annotations

from typing import Any

from instrument.formulation import Formulation, Priority
from instrument.profile.parts import (
    Description,
    Spec,
    _altair,
    _band_channels,
    _complete,
    _ids,
    _message,
    _nominal,
    _quantitative,
    _ranked,
    _reference,
    _title,
)
from instrument.profile.theme import BAND_LABELS, TRACK

# ---------------------------------------------------------------------------------------------
# priorities: the intervention areas ranked
# ---------------------------------------------------------------------------------------------


def band_phrase(priority: Priority) -> str:
    """Say the band that counts, and the rule's band when the assessor overrode it."""
    band = BAND_LABELS[priority.band.value]
    if priority.override is None:
        return band
    return f"{band}, set by the assessor (rule: {BAND_LABELS[priority.computed_band.value]})"


def _priority_rows(formulation: Formulation) -> list[Spec]:
    rows = []
    # 1.1 formulations (they carry a focus) show bands and bars, never decimal scores.
    number = formulation.focus is None
    for priority in _ranked(formulation):
        overridden = priority.override is not None
        band = BAND_LABELS[priority.band.value]
        score = f" · {priority.score:.2f}" if number else ""
        note = f"{band}{score}"
        if overridden:
            rule = BAND_LABELS[priority.computed_band.value]
            note = f"✎ {band} by override (rule: {rule}){score}"
        if not priority.offered:
            note += " · not offered"
        rows.append(
            {
                "label": f"{priority.rank}. {priority.name}",
                "area": priority.area,
                "band": priority.band.value,
                "computed": priority.computed_band.value,
                "score": priority.score,
                "coverage": f"{priority.coverage:.0%}",
                "overridden": overridden,
                "note": note,
                "contributors": "; ".join(
                    f"{c.item} {c.name} ({c.presence.value}, {c.relevance.value}): "
                    f"{c.contribution:.2f}"
                    for c in priority.contributors
                )
                or "none",
            }
        )
    return rows


def _priorities_spec(formulation: Formulation) -> Spec:
    rows = _priority_rows(formulation)
    title = _title(
        f"Intervention areas ranked by priority: case {_reference(formulation)}",
        "Bar length is the area's score from the ratings (0 to 1; not a risk score for the "
        "person); colour is its band.",
        "✎ and a heavy outline mark a band set by the assessor; the rule's band is in brackets.",
    )
    if formulation.focus is not None and not formulation.focus.areas:
        title["subtitle"] = [
            *title["subtitle"],
            "No area offered: the ratings do not point to work in any area.",
        ]
    if not rows:
        return _message("No intervention areas in this formulation.", title)
    y = _nominal(
        "label",
        sort=[row["label"] for row in rows],
        title=None,
        axis={"labelLimit": 380, "ticks": False, "domain": False},
        scale={"paddingInner": 0.3},
    )
    x_scale = {"domain": [0, 1], "nice": False}
    tooltip = [
        _nominal("label", title="Area"),
        _nominal("band", title="Band"),
        _nominal("computed", title="Rule's band"),
        _quantitative("score", title="Score", format=".2f"),
        _nominal("coverage", title="Coverage"),
        _nominal("contributors", title="Contributing items"),
    ]
    track = {
        "mark": {"type": "bar", "color": TRACK},
        "encoding": {
            "y": y,
            "x": {"datum": 0, "type": "quantitative", "scale": x_scale},
            "x2": {"datum": 1},
        },
    }
    bars = {
        "mark": {"type": "bar"},
        "encoding": {
            "y": y,
            "x": _quantitative(
                "score",
                scale=x_scale,
                title="Score from the ratings (0–1)",
                axis={"values": [0, 0.25, 0.5, 0.75, 1], "format": ".2f", "grid": True},
            ),
            **_band_channels(dashed=True),
            "strokeWidth": {"condition": {"test": "datum.overridden", "value": 4}, "value": 1.2},
            "tooltip": tooltip,
        },
    }
    notes = [
        {
            "transform": [{"filter": test}],
            "mark": {"type": "text", "align": "left", "dx": 10, "fontWeight": weight},
            "encoding": {
                "y": y,
                "x": _quantitative("score", scale=x_scale),
                "text": _nominal("note"),
                "tooltip": tooltip,
            },
        }
        for test, weight in (("!datum.overridden", "normal"), ("datum.overridden", "bold"))
    ]
    return {
        "title": title,
        "data": {"values": rows},
        "layer": [track, bars, *notes],
        "width": 460,
        "height": {"step": 58},
    }


def priorities(formulation: Formulation) -> Any:
    """Draw the intervention areas ranked: bar length is the rule's score, colour the band.

    An override is marked with ✎ and a heavy outline and names the band the rule computed; the
    contributing items are in the tooltip. The score is the area's, never a score for a person.
    """
    return _altair(priorities_spec(formulation))


def priorities_spec(formulation: Formulation) -> Spec:
    """Return the `priorities` chart as a whole Vega-Lite spec in plain data (what it draws)."""
    return _complete(_priorities_spec(formulation))


def _text_bar(value: float) -> str:
    """Return a score as a bar of ten blocks, e.g. `▮▮▮▯▯▯▯▯▯▯`, for tables people read."""
    filled = round(max(0.0, min(1.0, value)) * 10)
    return "▮" * filled + "▯" * (10 - filled)


def describe_priorities(formulation: Formulation) -> Description:
    """Describe the priorities chart: each area's rank, band, score, override and reasons."""
    sentences = []
    rows = []
    for priority in _ranked(formulation):
        contributors = ", ".join(
            f"{c.item} ({c.presence.value}, {c.relevance.value})" for c in priority.contributors
        )
        score = f"score {priority.score:.2f} " if formulation.focus is None else ""
        sentences.append(
            f"{priority.rank}. {priority.name}: {band_phrase(priority)}, {score}"
            f"with {priority.coverage:.0%} of its items rated; "
            f"contributing items: {contributors or 'none'}."
        )
        rows.append(
            (
                str(priority.rank),
                priority.name,
                BAND_LABELS[priority.band.value],
                BAND_LABELS[priority.computed_band.value],
                f"{priority.score:.2f}" if formulation.focus is None else _text_bar(priority.score),
                f"{priority.coverage:.0%}",
                "yes" if priority.override is not None else "no",
                _ids([c.item for c in priority.contributors]),
            )
        )
    if not rows:
        sentences.append("No intervention areas in this formulation.")
    elif formulation.focus is not None and not formulation.focus.areas:
        sentences.insert(0, "No area offered: the ratings do not point to work in any area.")
    return Description(
        title="Intervention areas ranked by priority",
        sentences=tuple(sentences),
        columns=(
            "Rank",
            "Area",
            "Band",
            "Rule's band",
            "Score",
            "Coverage",
            "Override",
            "Contributing items",
        ),
        rows=tuple(rows),
    )
