"""Building blocks of the chart specs (plain Vega-Lite data) and shared readings of a formulation.

Names with a leading underscore are private to the `instrument.profile` package: the chart modules
share them, nothing outside it uses them.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import altair as alt

from instrument.formulation import Formulation, ItemSummary, Priority
from instrument.profile.theme import (
    BAND_COLOURS,
    BAND_DASH,
    BAND_LABELS,
    BAND_ORDER,
    INK,
    LABEL_SIZE,
    LINE_HEIGHT,
    MUTED,
    PRESENCE_COLOURS,
    PRESENCE_DASH,
    PRESENCE_LABELS,
    PRESENCE_ORDER,
    STRENGTH_COLOURS,
    STRENGTH_LABELS,
    STRENGTH_PRESENCE,
    THEME,
    UNRATED,
    WHITE,
)
from instrument.vocabulary import ItemKind, Presence, Relevance

Spec = dict[str, Any]


# ---------------------------------------------------------------------------------------------
# Spec building blocks (plain Vega-Lite data)
# ---------------------------------------------------------------------------------------------


def _nominal(field: str, **extra: Any) -> Spec:
    return {"field": field, "type": "nominal", **extra}


def _quantitative(field: str, **extra: Any) -> Spec:
    return {"field": field, "type": "quantitative", **extra}


def _tooltip(*pairs: tuple[str, str]) -> list[Spec]:
    return [_nominal(field, title=title) for field, title in pairs]


INK_CHANNEL: Mapping[str, Any] = MappingProxyType(_nominal("ink", scale=None, legend=None))
"""Text colour taken as is from each row's `ink`, so that it never shares the fill's scale."""

_NOT_RATED = "datum.presence == 'omit' || datum.presence == 'unrated'"
_TOO_LITTLE = "datum.band == 'insufficient-information'"


def _title(text: str, *subtitle: str) -> Spec:
    title: Spec = {"text": text}
    if subtitle:
        title["subtitle"] = list(subtitle)
    return title


def _legend(title: str, labels: Mapping[str, str], values: Sequence[str]) -> Spec:
    expression = " : ".join(f"datum.label == '{v}' ? '{labels[v]}'" for v in values)
    return {"title": title, "labelExpr": f"{expression} : datum.label"}


def _by_value(
    field: str,
    values: Sequence[str],
    colours: Mapping[str, str],
    dashes: Mapping[str, list[int]],
    legend: Spec | None,
    *,
    dashed: bool,
) -> Spec:
    """Fill by `field`; with `dashed`, the outline and its dash too, merged into one legend.

    Vega-Lite drops `strokeDash` on rect marks, so rect charts draw dashed outlines as a layer of
    their own (`_dashed_outline`) and pass `dashed=False`.
    """
    domain = list(values)
    channels: Spec = {
        "color": _nominal(
            field, scale={"domain": domain, "range": [colours[v] for v in values]}, legend=legend
        )
    }
    if dashed:
        channels["strokeDash"] = _nominal(
            field, scale={"domain": domain, "range": [dashes[v] for v in values]}, legend=legend
        )
        channels["stroke"] = _nominal(
            field, scale={"domain": domain, "range": [INK for _ in values]}, legend=legend
        )
    return channels


def _presence_values(with_unrated: bool) -> list[str]:
    values = [p for p in PRESENCE_ORDER if with_unrated or p != UNRATED]
    return values + list(STRENGTH_COLOURS)


def _shown_presence(kind: ItemKind, presence: str) -> str:
    """Return the presence as drawn: a protective item present is drawn as a strength."""
    if kind == ItemKind.PROTECTIVE:
        return STRENGTH_PRESENCE.get(presence, presence)
    return presence


def _presence_channels(*, with_unrated: bool, dashed: bool) -> Spec:
    values = _presence_values(with_unrated)
    labels = {**PRESENCE_LABELS, **STRENGTH_LABELS}
    colours = {**PRESENCE_COLOURS, **STRENGTH_COLOURS}
    dashes = {**PRESENCE_DASH, **{v: [1, 0] for v in STRENGTH_COLOURS}}
    # Two to a row: with the strengths' two colours a legend in one row would widen the chart
    # (in the conference view the profile then no longer fits beside the priorities).
    legend = {**_legend("Presence", labels, values), "columns": 2}
    return _by_value("presence", values, colours, dashes, legend, dashed=dashed)


def _band_channels(*, dashed: bool) -> Spec:
    legend = _legend("Priority band", BAND_LABELS, BAND_ORDER)
    return _by_value("band", BAND_ORDER, BAND_COLOURS, BAND_DASH, legend, dashed=dashed)


def _outline_unless(test: str) -> Spec:
    """A solid outline, except where `test` holds (a dashed outline is drawn there instead)."""
    return {"condition": {"test": test, "value": WHITE}, "value": INK}


def _dashed_outline(x: Spec, y: Spec, test: str) -> Spec:
    """A layer that outlines with a dashed line the cells where `test` holds."""
    return {
        "transform": [{"filter": test}],
        "mark": {
            "type": "rect",
            "fillOpacity": 0,
            "stroke": INK,
            "strokeWidth": 2,
            "strokeDash": [7, 4],
            "cornerRadius": 3,
        },
        "encoding": {"x": x, "y": y},
    }


def _lines(text: str, width: int) -> str:
    """Wrap text at word boundaries into `|`-separated lines for a multi-line axis label."""
    return "|".join(textwrap.wrap(text, width=width, break_long_words=False) or [""])


def _top_axis(labels: Sequence[str]) -> Spec:
    """A top x axis of `|`-separated labels whose last line ends just above the cells.

    Vega sets the first line at the padding and flows the rest down, so the padding grows with
    the number of lines.
    """
    lines = max([label.count("|") + 1 for label in labels] + [1])
    return {
        "orient": "top",
        "labelAngle": 0,
        "labelExpr": "split(datum.label, '|')",
        "labelBaseline": "bottom",
        "labelLineHeight": LINE_HEIGHT,
        "labelPadding": 8 + (lines - 1) * LINE_HEIGHT,
        "labelFontWeight": "bold",
        "labelLimit": 260,
        "ticks": False,
        "domain": False,
    }


def _message(text: str, title: Spec, *, width: int = 760, height: int = 60) -> Spec:
    """A chart that says in words that there is nothing to draw."""
    return {
        "title": title,
        "data": {"values": [{"message": text}]},
        "mark": {
            "type": "text",
            "align": "left",
            "fontSize": LABEL_SIZE + 2,
            "color": MUTED,
            "x": 0,
            "y": height / 2,
        },
        "encoding": {"text": _nominal("message")},
        "width": width,
        "height": height,
    }


def _unit(spec: Spec) -> Any:
    fields = dict(spec)
    if "encoding" in fields:
        fields["encoding"] = alt.FacetedEncoding(**fields["encoding"])
    return alt.Chart(**fields)


def _part(spec: Spec) -> Any:
    if "layer" in spec:
        return alt.LayerChart(**{**spec, "layer": [_unit(layer) for layer in spec["layer"]]})
    for kind, cls in (("vconcat", alt.VConcatChart), ("hconcat", alt.HConcatChart)):
        if kind in spec:
            return cls(**{**spec, kind: [_part(part) for part in spec[kind]]})
    return _unit(spec)


def _complete(spec: Spec) -> Spec:
    """Return a chart's spec as a whole Vega-Lite document: schema, chart, the one theme."""
    return {"$schema": alt.SCHEMA_URL, **spec, "config": dict(THEME)}


def _altair(spec: Spec) -> Any:
    """Wrap a whole Vega-Lite spec (plain data) in Altair's chart classes.

    Nothing is copied or validated here; `chart.to_dict()` validates the whole spec.
    """
    return _part({key: value for key, value in spec.items() if key != "$schema"})


# ---------------------------------------------------------------------------------------------
# Shared readings of a formulation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Description:
    """The facts of one chart as sentences and a table, for people who cannot see the chart."""

    title: str
    sentences: tuple[str, ...]
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _presence_of(item: ItemSummary | None) -> str:
    if item is None or item.presence is None:
        return UNRATED
    return item.presence.value


def _is_present(item: ItemSummary) -> bool:
    return item.presence in (Presence.YES, Presence.PARTIAL)


def _is_high(item: ItemSummary) -> bool:
    return _is_present(item) and item.relevance == Relevance.HIGH


def _relevance_word(item: ItemSummary) -> str:
    if item.presence is None:
        return "not rated"
    if item.presence == Presence.OMIT:
        return "omit"
    if item.relevance is None:
        return ""
    return "mod." if item.relevance == Relevance.MODERATE else item.relevance.value


def _has_unrated(formulation: Formulation) -> bool:
    return any(domain.counts.unrated for domain in formulation.domains)


def _ids(ids: Sequence[str]) -> str:
    return ", ".join(ids) if ids else "none"


def _ranked(formulation: Formulation) -> list[Priority]:
    return sorted(formulation.priorities, key=lambda p: (p.rank, p.area))


def _reference(formulation: Formulation) -> str:
    return formulation.header.case_reference
