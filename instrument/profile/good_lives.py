"""The Good Lives chart: for each primary good, its importance, attainment now and the means.

One row per primary good, in the Good Lives Model's order. The outline bar is how important the
good is to the participant; the filled bar inside it is how far it is attained now, coloured by
the means used (prosocial, harmful, none); a diamond and words mark a good the group, cause or
ideas supply, which is what leaving would cost. A good not rated says so in words. Notes and
approach goals are never drawn, so a redacted formulation draws the same picture.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import altair as alt

from instrument.formulation import Formulation
from instrument.formulation.judgement import GoodLivesSummary
from instrument.judgement import GOOD_NAMES, Level, Means
from instrument.profile.parts import Description, _altair
from instrument.profile.theme import INK, LABEL_SIZE, MUTED, THEME, WHITE
from instrument.vocabulary import Good

Spec = dict[str, Any]

LEVEL_VALUES: Mapping[Level, int] = MappingProxyType(
    {Level.LOW: 1, Level.MODERATE: 2, Level.HIGH: 3}
)
# Okabe–Ito bluish green for prosocial means, vermillion for harmful, a grey for none.
MEANS_COLOURS: Mapping[str, str] = MappingProxyType(
    {Means.PROSOCIAL.value: "#009E73", Means.HARMFUL.value: "#D55E00", Means.NONE.value: "#bdbdbd"}
)
SUPPLIED = "◆ the group supplies it"
_TEXT = LABEL_SIZE - 2  # the words beside the bars, a little smaller than the axis labels
_SHORT: Mapping[Good, str] = MappingProxyType(
    {
        Good.LIFE: "Life",
        Good.KNOWLEDGE: "Knowledge",
        Good.PLAY: "Excellence in play",
        Good.WORK: "Excellence in work",
        Good.AGENCY: "Excellence in agency",
        Good.INNER_PEACE: "Inner peace",
        Good.RELATEDNESS: "Relatedness",
        Good.COMMUNITY: "Community",
        Good.SPIRITUALITY: "Spirituality",
        Good.PLEASURE: "Pleasure",
        Good.CREATIVITY: "Creativity",
    }
)


def _panel(formulation: Formulation) -> GoodLivesSummary | None:
    judgement = formulation.judgement
    return None if judgement is None else judgement.good_lives


def has_good_lives(formulation: Formulation) -> bool:
    """Return whether the formulation holds a Good Lives panel (the report draws it only then)."""
    return _panel(formulation) is not None


def good_lives_spec(formulation: Formulation) -> Spec:
    """Return the Good Lives chart as a whole Vega-Lite spec.

    Without a panel (instrument 1.0, or a judgement without one) every good says "not recorded".
    """
    panel = _panel(formulation)
    order = [_SHORT[good] for good in Good]
    if panel is None:
        return _spec(
            formulation, order, [], [{"good": g, "message": "not recorded"} for g in order]
        )
    rows = [
        {
            "good": _SHORT[g.good],
            "importance": LEVEL_VALUES[g.importance],
            "attainment": LEVEL_VALUES[g.attainment],
            "importance_word": g.importance.value,
            "attainment_word": g.attainment.value,
            "means": g.means.value,
            "supplied": SUPPLIED if g.supplied_by_group else "",
        }
        for g in panel.goods
    ]
    missing = [{"good": _SHORT[good], "message": "not rated"} for good in panel.unrated]
    return _spec(formulation, order, rows, missing)


def _spec(
    formulation: Formulation, order: list[str], rows: list[Spec], missing: list[Spec]
) -> Spec:
    y = {
        "field": "good",
        "type": "nominal",
        "sort": order,
        "title": None,
        "scale": {"domain": order},
        "axis": {"labelLimit": 300, "ticks": False, "domain": False},
    }
    x = {
        "type": "quantitative",
        "scale": {"domain": [0, 4.6]},
        "title": "Outline: importance · filled bar: attainment now",
        "axis": {
            "values": [1, 2, 3],
            "labelExpr": "datum.value == 1 ? 'low' : datum.value == 2 ? 'moderate' : 'high'",
            "grid": True,
        },
    }
    layers: list[Spec] = [
        {
            "data": {"values": rows},
            "mark": {"type": "bar", "fill": WHITE, "stroke": INK, "strokeWidth": 1.5, "size": 34},
            "encoding": {
                "y": y,
                "x": {**x, "field": "importance"},
                "tooltip": [
                    {"field": "good", "type": "nominal", "title": "Good"},
                    {"field": "importance_word", "type": "nominal", "title": "Importance"},
                ],
            },
        },
        {
            "data": {"values": rows},
            "mark": {"type": "bar", "size": 18},
            "encoding": {
                "y": y,
                "x": {**x, "field": "attainment"},
                "fill": {
                    "field": "means",
                    "type": "nominal",
                    "scale": {
                        "domain": list(MEANS_COLOURS),
                        "range": list(MEANS_COLOURS.values()),
                    },
                    "legend": {"title": "Attainment now, by the means used"},
                },
                "tooltip": [
                    {"field": "good", "type": "nominal", "title": "Good"},
                    {"field": "attainment_word", "type": "nominal", "title": "Attainment"},
                    {"field": "means", "type": "nominal", "title": "Means"},
                ],
            },
        },
        {
            "data": {"values": rows},
            "mark": {"type": "text", "align": "left", "dx": 10, "color": INK, "fontSize": _TEXT},
            "encoding": {
                "y": y,
                "x": {"datum": 3, "type": "quantitative", "scale": {"domain": [0, 4.6]}},
                "text": {"field": "supplied", "type": "nominal"},
            },
        },
    ]
    if missing:
        layers.append(
            {
                "data": {"values": missing},
                "mark": {
                    "type": "text",
                    "align": "left",
                    "color": MUTED,
                    "fontStyle": "italic",
                    "fontSize": _TEXT,
                },
                "encoding": {
                    "y": y,
                    "x": {"datum": 0.1, "type": "quantitative", "scale": {"domain": [0, 4.6]}},
                    "text": {"field": "message", "type": "nominal"},
                },
            }
        )
    return {
        "$schema": alt.SCHEMA_URL,
        "title": {
            "text": f"Good Lives: case {formulation.header.case_reference}",
            "subtitle": [
                "Outline: how important the good is to the participant. Filled bar: how far it",
                "is attained now, coloured by the means used. ◆: the group, cause or ideas supply",
                "it, so leaving would cost it.",
            ],
        },
        "layer": layers,
        "width": 620,
        "height": {"step": 44},
        "config": dict(THEME),
    }


def good_lives(formulation: Formulation) -> Any:
    """Draw the Good Lives chart (an Altair chart validated against the Vega-Lite schema)."""
    return _altair(good_lives_spec(formulation))


def describe_good_lives(formulation: Formulation) -> Description:
    """Describe the Good Lives chart in sentences and a table."""
    panel = _panel(formulation)
    if panel is None:
        return Description(
            title="Good Lives: importance, attainment and means for each primary good",
            sentences=("The assessor has recorded no Good Lives panel for this formulation.",),
            columns=("Good", "Importance", "Attainment now", "Means", "Supplied by the group"),
            rows=tuple((GOOD_NAMES[good], "not recorded", "", "", "") for good in Good),
        )
    rows = tuple(
        (
            GOOD_NAMES[g.good],
            g.importance.value,
            g.attainment.value,
            g.means.value,
            "yes" if g.supplied_by_group else "no",
        )
        for g in panel.goods
    ) + tuple((GOOD_NAMES[good], "not rated", "", "", "") for good in panel.unrated)
    return Description(
        title="Good Lives: importance, attainment and means for each primary good",
        sentences=(panel.summary,),
        columns=("Good", "Importance", "Attainment now", "Means", "Supplied by the group"),
        rows=rows,
    )
