"""The visual profile: Altair charts drawn from formulations, and the same facts as tables.

Every chart is a pure function of one or more formulations and returns an Altair chart object;
nothing here writes a file, reads the clock or touches a database. A formulation carries
everything a chart needs, so a formulation JSON from another system draws the same pictures.

The charts are written as Vega-Lite specs in plain data (`parts`) and wrapped in Altair's
top-level chart classes (`_altair`): building them through Altair's method chains validated and
deep-copied every fragment, about 100 ms a chart; this way all charts of a case take a few
milliseconds, and `chart.to_dict()` still validates the whole spec against the Vega-Lite schema.

One theme holds for all charts (`theme.THEME`): a colour-blind-safe palette (Okabe–Ito blues
for presence, oranges for priority bands), type large enough for a projector at the back of a
room (labels 18 px, titles 26 px), titles that say what the chart shows. `omit` is never drawn
like `no`: it is white with a dashed outline and named in words. A high-relevance item has a
thick black border wherever items are drawn; an override is marked with ✎ and a heavy outline.
Charts never carry evidence text, so a formulation and its redacted variant draw the same
pictures.

Beside each chart, a `describe_*` function returns a `Description`: the same facts as sentences
and a table, for people who cannot see the chart, and for the report's text.

The package, one module per chart:

    theme.py             the palette, type sizes and labels; THEME
    parts.py             spec building blocks and the shared readings of a formulation
    profile_chart.py     profile: the domains side by side
    heatmap_chart.py     heatmap: every item in its domain
    priorities_chart.py  priorities: the intervention areas ranked
    strengths_chart.py   strengths: the protective factors and the areas they support
    change_chart.py      change: one case over time (several formulations)
    agreement_chart.py   agreement: two assessors side by side (two formulations)
    plan.py              the intervention's timeline and progress (drawn from plan records,
                         not a formulation, so not in `CHARTS`)
    good_lives.py        good-lives: the assessor's Good Lives panel, when recorded

`CHARTS` is the one registry of the charts of a formulation: name → spec, drawing and
description, and whether the report draws it for a formulation (`applies`: the Good Lives chart
only when the assessor recorded a panel). The CLI (`instrument chart --kind`), the pages and the
report all read it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from instrument.formulation import Formulation
from instrument.profile.agreement_chart import agreement, agreement_spec, describe_agreement
from instrument.profile.change_chart import change, change_spec, describe_change
from instrument.profile.good_lives import (
    describe_good_lives,
    good_lives,
    good_lives_spec,
    has_good_lives,
)
from instrument.profile.heatmap_chart import describe_heatmap, heatmap, heatmap_spec
from instrument.profile.parts import Description, Spec
from instrument.profile.priorities_chart import (
    band_phrase,
    describe_priorities,
    priorities,
    priorities_spec,
)
from instrument.profile.profile_chart import describe_profile, profile, profile_spec
from instrument.profile.strengths_chart import describe_strengths, strengths, strengths_spec
from instrument.profile.theme import (
    BAND_COLOURS,
    BAND_LABELS,
    BAND_ORDER,
    BAND_TEXT,
    FONT,
    PRESENCE_COLOURS,
    PRESENCE_LABELS,
    PRESENCE_ORDER,
    STRENGTH_COLOURS,
    THEME,
)


@dataclass(frozen=True)
class Chart:
    """One chart of a formulation: its spec (plain data), its drawing (Altair), its description."""

    name: str
    summary: str
    spec: Callable[[Formulation], Spec]
    draw: Callable[[Formulation], Any]
    describe: Callable[[Formulation], Description]
    applies: Callable[[Formulation], bool] = field(default=lambda formulation: True)


CHARTS: Mapping[str, Chart] = MappingProxyType(
    {
        chart.name: chart
        for chart in (
            Chart(
                "profile",
                "the domains side by side, their items counted by presence",
                profile_spec,
                profile,
                describe_profile,
            ),
            Chart(
                "heatmap",
                "every item in its domain, coloured by presence",
                heatmap_spec,
                heatmap,
                describe_heatmap,
            ),
            Chart(
                "priorities",
                "the intervention areas ranked, with band and score",
                priorities_spec,
                priorities,
                describe_priorities,
            ),
            Chart(
                "strengths",
                "the protective factors present and the areas they support",
                strengths_spec,
                strengths,
                describe_strengths,
            ),
            Chart(
                "good-lives",
                "the primary goods: importance, attainment now and the means used",
                good_lives_spec,
                good_lives,
                describe_good_lives,
                has_good_lives,
            ),
        )
    }
)
"""The charts of one formulation, in the report's order (what `instrument chart --kind` draws)."""

__all__ = [
    "BAND_COLOURS",
    "BAND_LABELS",
    "BAND_ORDER",
    "BAND_TEXT",
    "CHARTS",
    "FONT",
    "PRESENCE_COLOURS",
    "PRESENCE_LABELS",
    "PRESENCE_ORDER",
    "STRENGTH_COLOURS",
    "THEME",
    "Chart",
    "Description",
    "Spec",
    "agreement",
    "agreement_spec",
    "band_phrase",
    "change",
    "change_spec",
    "describe_agreement",
    "describe_change",
    "describe_good_lives",
    "describe_heatmap",
    "describe_priorities",
    "describe_profile",
    "describe_strengths",
    "good_lives",
    "good_lives_spec",
    "heatmap",
    "heatmap_spec",
    "priorities",
    "priorities_spec",
    "profile",
    "profile_spec",
    "strengths",
    "strengths_spec",
]
