"""The visual profile: Altair charts drawn from formulations, and the same facts as tables.

Every chart is a pure function of one or more formulations and returns an Altair chart object;
nothing here writes a file, reads the clock or touches a database. A formulation carries
everything a chart needs, so a formulation JSON from another system draws the same pictures.

The charts are written as Vega-Lite specs in plain data and wrapped in Altair's top-level chart
classes (`_altair`): building them through Altair's method chains validated and deep-copied every
fragment, about 100 ms a chart; this way all charts of a case take a few milliseconds, and
`chart.to_dict()` still validates the whole spec against the Vega-Lite schema.

One theme holds for all charts (`THEME`): a colour-blind-safe palette (Okabe–Ito blues for
presence, oranges for priority bands), type large enough for a projector at the back of a room
(labels 18 px, titles 26 px), titles that say what the chart shows. `omit` is never drawn like
`no`: it is white with a dashed outline and named in words. A high-relevance item has a thick
black border wherever items are drawn; an override is marked with ✎ and a heavy outline. Charts
never carry evidence text, so a formulation and its redacted variant draw the same pictures.

Beside each chart, a `describe_*` function returns a `Description`: the same facts as sentences
and a table, for people who cannot see the chart, and for the report's text.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import altair as alt

from instrument.errors import InstrumentError
from instrument.formulation import Formulation, ItemSummary, Priority
from instrument.vocabulary import Band, ItemKind, Presence, Relevance

Spec = dict[str, Any]

# ---------------------------------------------------------------------------------------------
# The theme
# ---------------------------------------------------------------------------------------------

FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
INK = "#1a1a1a"
MUTED = "#555555"
WHITE = "#ffffff"
TRACK = "#f2f2f2"
DIFFERS = "#a33f00"
HIGHLIGHT = "#fff1c2"

LABEL_SIZE = 18
TITLE_SIZE = 26
LINE_HEIGHT = LABEL_SIZE + 4

UNRATED = "unrated"
PRESENCE_ORDER: tuple[str, ...] = ("yes", "partial", "no", "omit", UNRATED)
PRESENCE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "yes": "yes",
        "partial": "partial",
        "no": "no",
        "omit": "omit (not enough information)",
        UNRATED: "not rated",
    }
)
# Okabe–Ito blue and sky blue for present, a light grey for absent, white with a dashed outline
# for omitted and not rated: the difference between `no` and `omit` never rests on colour alone.
PRESENCE_COLOURS: Mapping[str, str] = MappingProxyType(
    {"yes": "#0072B2", "partial": "#56B4E9", "no": "#d9d9d9", "omit": WHITE, UNRATED: WHITE}
)
PRESENCE_DASH: Mapping[str, list[int]] = MappingProxyType(
    {"yes": [1, 0], "partial": [1, 0], "no": [1, 0], "omit": [7, 4], UNRATED: [2, 3]}
)
PRESENCE_TEXT: Mapping[str, str] = MappingProxyType(
    {"yes": WHITE, "partial": INK, "no": INK, "omit": INK, UNRATED: MUTED}
)
# Strengths have their own colour family (Okabe–Ito bluish green, and a light tint of it), so a
# protective `yes` is never drawn like a risk `yes`.
STRENGTH_PRESENCE: Mapping[str, str] = MappingProxyType(
    {"yes": "strength-yes", "partial": "strength-partial"}
)
STRENGTH_LABELS: Mapping[str, str] = MappingProxyType(
    {"strength-yes": "strength: yes", "strength-partial": "strength: partial"}
)
STRENGTH_COLOURS: Mapping[str, str] = MappingProxyType(
    {"strength-yes": "#009E73", "strength-partial": "#A6DCC9"}
)
STRENGTH_TEXT: Mapping[str, str] = MappingProxyType(
    {"strength-yes": WHITE, "strength-partial": INK}
)

BAND_ORDER: tuple[str, ...] = tuple(band.value for band in Band)
BAND_LABELS: Mapping[str, str] = MappingProxyType(
    {
        Band.HIGH.value: "high",
        Band.MODERATE.value: "moderate",
        Band.LOW.value: "low",
        Band.INSUFFICIENT_INFORMATION.value: "insufficient information",
    }
)
# Okabe–Ito vermillion and orange, then a pale orange; too little information is white with a
# dashed outline, like an omitted item.
BAND_COLOURS: Mapping[str, str] = MappingProxyType(
    {
        Band.HIGH.value: "#D55E00",
        Band.MODERATE.value: "#E69F00",
        Band.LOW.value: "#f8dfb4",
        Band.INSUFFICIENT_INFORMATION.value: WHITE,
    }
)
BAND_DASH: Mapping[str, list[int]] = MappingProxyType(
    {
        Band.HIGH.value: [1, 0],
        Band.MODERATE.value: [1, 0],
        Band.LOW.value: [1, 0],
        Band.INSUFFICIENT_INFORMATION.value: [7, 4],
    }
)
BAND_TEXT: Mapping[str, str] = MappingProxyType(
    {
        Band.HIGH.value: WHITE,
        Band.MODERATE.value: INK,
        Band.LOW.value: INK,
        Band.INSUFFICIENT_INFORMATION.value: INK,
    }
)

THEME: Mapping[str, Any] = MappingProxyType(
    {
        "font": FONT,
        "background": WHITE,
        "padding": 16,
        "view": {"stroke": None},
        "title": {
            "fontSize": TITLE_SIZE,
            "subtitleFontSize": LABEL_SIZE,
            "subtitleColor": MUTED,
            "anchor": "start",
            "color": INK,
            "offset": 18,
            "subtitlePadding": 8,
        },
        "axis": {
            "labelFontSize": LABEL_SIZE,
            "titleFontSize": LABEL_SIZE,
            "labelColor": INK,
            "titleColor": INK,
            "titleFontWeight": "normal",
            "labelPadding": 8,
            "titlePadding": 12,
            "gridColor": "#e3e3e3",
            "domainColor": "#888888",
            "tickColor": "#888888",
        },
        "legend": {
            "labelFontSize": LABEL_SIZE,
            "titleFontSize": LABEL_SIZE,
            "titleFontWeight": "normal",
            "labelColor": INK,
            "titleColor": INK,
            "orient": "top",
            "direction": "horizontal",
            "symbolSize": 380,
            "symbolStrokeWidth": 1.5,
            "symbolStrokeColor": INK,
            "columnPadding": 22,
            "labelLimit": 400,
            "titleLimit": 400,
            "offset": 14,
        },
        "text": {"fontSize": LABEL_SIZE, "font": FONT, "color": INK},
        "concat": {"spacing": 48},
    }
)

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


def _multiline_y_axis() -> Spec:
    """A y axis whose `|`-separated labels are centred on their band, whatever their lines.

    Vega sets the first line of a multi-line label on the band's middle, so labels of two and
    three lines are moved up by half a line per extra line.
    """
    lines = "length(split(datum.label, '|'))"
    return {
        "labelExpr": "split(datum.label, '|')",
        "labelLimit": 420,
        "ticks": False,
        "domain": False,
        "labelLineHeight": LINE_HEIGHT,
        "labelOffset": {
            "condition": [
                {"test": f"{lines} >= 3", "value": -LINE_HEIGHT},
                {"test": f"{lines} == 2", "value": -LINE_HEIGHT / 2},
            ],
            "value": 0,
        },
    }


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


# ---------------------------------------------------------------------------------------------
# profile: the domains side by side
# ---------------------------------------------------------------------------------------------


def _domain_label(formulation: Formulation, index: int) -> str:
    domain = formulation.domains[index]
    return f"{domain.name} (strengths)" if domain.kind == ItemKind.PROTECTIVE else domain.name


def _profile_rows(formulation: Formulation) -> list[Spec]:
    """One row per domain and presence that has items: the count and where its segment lies."""
    rows: list[Spec] = []
    for index, domain in enumerate(formulation.domains):
        counts = domain.counts.model_dump()
        start = 0
        for presence in PRESENCE_ORDER:
            count = int(counts[presence])
            if count == 0:
                continue
            shown = _shown_presence(domain.kind, presence)
            rows.append(
                {
                    "domain": domain.domain,
                    "label": _domain_label(formulation, index),
                    "presence": shown,
                    "count": count,
                    "start": start,
                    "end": start + count,
                    "middle": start + count / 2,
                    "ink": {**PRESENCE_TEXT, **STRENGTH_TEXT}[shown],
                }
            )
            start += count
    return rows


def _profile_spec(formulation: Formulation) -> Spec:
    labels = [_domain_label(formulation, i) for i in range(len(formulation.domains))]
    totals = [
        {
            "label": labels[i],
            "total": sum(domain.counts.model_dump().values()),
            "note": f"▲ {domain.high_relevance} high relevance" if domain.high_relevance else "",
        }
        for i, domain in enumerate(formulation.domains)
    ]
    most = max([row["total"] for row in totals] + [1])
    y = _nominal(
        "label",
        sort=labels,
        title=None,
        axis={"labelLimit": 340, "ticks": False, "domain": False},
        scale={"paddingInner": 0.28},
    )
    x_scale = {"domain": [0, most], "nice": False}
    bars = {
        "mark": {"type": "bar", "strokeWidth": 1.2},
        "encoding": {
            "y": y,
            "x": _quantitative(
                "start",
                scale=x_scale,
                title="Number of items",
                axis={"tickMinStep": 1, "format": "d", "grid": True},
            ),
            "x2": {"field": "end"},
            **_presence_channels(with_unrated=_has_unrated(formulation), dashed=True),
            "tooltip": _tooltip(("label", "Domain"), ("presence", "Presence"), ("count", "Items")),
        },
    }
    counts = {
        "mark": {"type": "text", "fontWeight": "bold", "fontSize": LABEL_SIZE + 2},
        "encoding": {
            "y": y,
            "x": _quantitative("middle", scale=x_scale),
            "text": _quantitative("count"),
            "color": dict(INK_CHANNEL),
        },
    }
    notes = {
        "data": {"values": totals},
        "mark": {"type": "text", "align": "left", "dx": 12, "fontWeight": "bold"},
        "encoding": {
            "y": y,
            "x": _quantitative("total", scale=x_scale),
            "text": _nominal("note"),
        },
    }
    return {
        "title": _title(
            f"How many factors are present in each domain: case {_reference(formulation)}",
            "Each bar counts a domain's items by presence; ▲ counts the items of high relevance.",
        ),
        "data": {"values": _profile_rows(formulation)},
        "layer": [bars, counts, notes],
        "width": 600,
        "height": {"step": 62},
    }


def profile(formulation: Formulation) -> Any:
    """Draw the domains side by side: how many items are yes, partial, no and omit in each.

    Each domain is one bar whose segments are the counts, each written in its segment; the number
    of high-relevance items is written at the end of the bar.
    """
    return _altair(profile_spec(formulation))


def profile_spec(formulation: Formulation) -> Spec:
    """Return the `profile` chart as a whole Vega-Lite spec in plain data (what it draws)."""
    return _complete(_profile_spec(formulation))


def describe_profile(formulation: Formulation) -> Description:
    """Describe the profile chart: per domain, the counts and the high-relevance items."""
    sentences = []
    rows = []
    for domain in formulation.domains:
        c = domain.counts
        highs = [item.item for item in domain.items if _is_high(item)]
        parts = [f"{c.yes} yes", f"{c.partial} partial", f"{c.no} no", f"{c.omit} omitted"]
        if c.unrated:
            parts.append(f"{c.unrated} not rated")
        high = f"{domain.high_relevance} of high relevance"
        if highs:
            high += f" ({_ids(highs)})"
        sentences.append(f"{domain.name}: {', '.join(parts)}; {high}.")
        rows.append(
            (
                domain.name,
                str(c.yes),
                str(c.partial),
                str(c.no),
                str(c.omit),
                str(c.unrated),
                str(domain.high_relevance),
            )
        )
    return Description(
        title="How many factors are present in each domain",
        sentences=tuple(sentences),
        columns=("Domain", "Yes", "Partial", "No", "Omit", "Not rated", "High relevance"),
        rows=tuple(rows),
    )


# ---------------------------------------------------------------------------------------------
# heatmap: every item in its domain
# ---------------------------------------------------------------------------------------------


def _heatmap_rows(formulation: Formulation) -> list[Spec]:
    rows: list[Spec] = []
    for domain in formulation.domains:
        for position, item in enumerate(domain.items, start=1):
            presence = _shown_presence(domain.kind, _presence_of(item))
            rows.append(
                {
                    "domain": domain.name,
                    "position": position,
                    "item": item.item,
                    "name": item.name,
                    "presence": presence,
                    "relevance": item.relevance.value if item.relevance else "",
                    "word": _relevance_word(item),
                    "high": _is_high(item),
                    "ink": {**PRESENCE_TEXT, **STRENGTH_TEXT}[presence],
                }
            )
    return rows


def _heatmap_spec(formulation: Formulation) -> Spec:
    x = {"field": "position", "type": "ordinal", "axis": None, "scale": {"paddingInner": 0.1}}
    y = _nominal(
        "domain",
        sort=[domain.name for domain in formulation.domains],
        title=None,
        axis={"labelLimit": 280, "ticks": False, "domain": False, "labelFontWeight": "bold"},
        scale={"paddingInner": 0.14},
    )
    tooltip = _tooltip(
        ("item", "Item"), ("name", "Factor"), ("presence", "Presence"), ("relevance", "Relevance")
    )
    cells = {
        "mark": {"type": "rect", "strokeWidth": 1.2, "cornerRadius": 3},
        "encoding": {
            "x": x,
            "y": y,
            **_presence_channels(with_unrated=_has_unrated(formulation), dashed=False),
            "stroke": _outline_unless(_NOT_RATED),
            "tooltip": tooltip,
        },
    }
    high = {
        "transform": [{"filter": "datum.high"}],
        "mark": {
            "type": "rect",
            "fillOpacity": 0,
            "stroke": INK,
            "strokeWidth": 5,
            "cornerRadius": 3,
        },
        "encoding": {"x": x, "y": y, "tooltip": tooltip},
    }
    ids = {
        "mark": {"type": "text", "fontWeight": "bold", "fontSize": LABEL_SIZE + 1, "dy": -11},
        "encoding": {"x": x, "y": y, "text": _nominal("item"), "color": dict(INK_CHANNEL)},
    }
    words = {
        "mark": {"type": "text", "fontSize": LABEL_SIZE - 2, "dy": 13},
        "encoding": {"x": x, "y": y, "text": _nominal("word"), "color": dict(INK_CHANNEL)},
    }
    return {
        "title": _title(
            f"Every rated item by domain: case {_reference(formulation)}",
            "Fill shows presence; a thick black border marks high relevance; a dashed outline "
            "marks an omitted item.",
        ),
        "data": {"values": _heatmap_rows(formulation)},
        "layer": [cells, _dashed_outline(x, y, _NOT_RATED), high, ids, words],
        "width": {"step": 96},
        "height": {"step": 74},
    }


def heatmap(formulation: Formulation) -> Any:
    """Draw every item in its domain: fill by presence, a thick border for high relevance.

    Each cell names the item and, below, its relevance (`omit` and `not rated` in words), so the
    chart reads without colour.
    """
    return _altair(heatmap_spec(formulation))


def heatmap_spec(formulation: Formulation) -> Spec:
    """Return the `heatmap` chart as a whole Vega-Lite spec in plain data (what it draws)."""
    return _complete(_heatmap_spec(formulation))


def describe_heatmap(formulation: Formulation) -> Description:
    """Describe the heatmap: every item with its presence and relevance."""
    rows = []
    high: list[str] = []
    omitted: list[str] = []
    unrated: list[str] = []
    for domain in formulation.domains:
        for item in domain.items:
            presence = _presence_of(item)
            relevance = item.relevance.value if item.relevance else ""
            rows.append((domain.name, item.item, item.name, PRESENCE_LABELS[presence], relevance))
            if _is_high(item):
                high.append(item.item)
            if presence == Presence.OMIT.value:
                omitted.append(item.item)
            elif presence == UNRATED:
                unrated.append(item.item)
    sentences = [
        f"Items present with high relevance: {_ids(high)}.",
        f"Items omitted for lack of information: {_ids(omitted)}.",
    ]
    if unrated:
        sentences.append(f"Items not yet rated: {_ids(unrated)}.")
    return Description(
        title="Every rated item by domain",
        sentences=tuple(sentences),
        columns=("Domain", "Item", "Factor", "Presence", "Relevance"),
        rows=tuple(rows),
    )


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


# ---------------------------------------------------------------------------------------------
# change: one case over time
# ---------------------------------------------------------------------------------------------


def _occasions(formulations: Sequence[Formulation]) -> list[Formulation]:
    if not formulations:
        raise InstrumentError(
            "no formulation to draw change from",
            where="$",
            fix="give at least one formulation of the case",
        )
    references = sorted({f.header.case_reference for f in formulations})
    if len(references) > 1:
        raise InstrumentError(
            f"formulations of different cases: {', '.join(references)}",
            where="$.header.case_reference",
            fix="draw change from the formulations of one case",
        )
    ordered = sorted(formulations, key=lambda f: f.header.assessment_version)
    versions = [f.header.assessment_version for f in ordered]
    if len(set(versions)) != len(versions):
        raise InstrumentError(
            "two formulations of the same assessment version",
            where="$.header.assessment_version",
            fix="give one formulation per assessment version",
        )
    return ordered


def _occasion(version: int, on: Any) -> str:
    return f"v{version}|{on.isoformat()}" if on is not None else f"v{version}"


def _arrow(before: float | None, after: float) -> str:
    if before is None or abs(after - before) < 0.005:
        return ""
    return " ▲" if after > before else " ▼"


def _change_area_rows(ordered: Sequence[Formulation]) -> list[Spec]:
    """Each area's computed band and score at each assessment, oldest first.

    When the oldest formulation carries a `change` section, its previous assessment comes first.
    """
    names = {p.area: p.name for f in ordered for p in f.priorities}
    rank = {p.area: p.rank for p in ordered[-1].priorities}
    rows: list[Spec] = []
    previous: dict[str, float] = {}

    def add(area: str, version: int, occasion: str, band: Band, score: float) -> None:
        rows.append(
            {
                "area_id": area,
                "area": names.get(area, area),
                "rank": rank.get(area, len(rank) + 1),
                "occasion": occasion,
                "version": version,
                "band": band.value,
                "score": score,
                "text": f"{score:.2f}{_arrow(previous.get(area), score)}",
                "ink": BAND_TEXT[band.value],
            }
        )
        previous[area] = score

    earlier = ordered[0].change
    if earlier is not None:
        occasion = _occasion(earlier.previous_version, earlier.previous_assessed_on)
        for area in earlier.areas:
            add(area.area, earlier.previous_version, occasion, area.band_before, area.score_before)
    for formulation in ordered:
        header = formulation.header
        occasion = _occasion(header.assessment_version, header.assessed_on)
        for p in formulation.priorities:
            add(p.area, header.assessment_version, occasion, p.computed_band, p.score)
    return rows


def _change_domain_rows(ordered: Sequence[Formulation]) -> list[Spec]:
    """Each domain's number of items rated present at each assessment, oldest first."""
    rows: list[Spec] = []
    previous: dict[str, float] = {}
    for formulation in ordered:
        header = formulation.header
        occasion = _occasion(header.assessment_version, header.assessed_on)
        for domain in formulation.domains:
            c = domain.counts
            total = c.yes + c.partial + c.no + c.omit + c.unrated
            present = c.yes + c.partial
            share = present / total if total else 0.0
            rows.append(
                {
                    "domain": domain.name,
                    "occasion": occasion,
                    "version": header.assessment_version,
                    "present": present,
                    "total": total,
                    "share": share,
                    "text": f"{present} of {total}{_arrow(previous.get(domain.domain), present)}",
                    # White on the darker blues only: contrast stays above 4.5:1 both ways.
                    "ink": WHITE if share > 0.8 else INK,
                }
            )
            previous[domain.domain] = present
    return rows


def _occasion_order(rows: Sequence[Spec]) -> list[str]:
    return [occasion for _, occasion in sorted({(r["version"], r["occasion"]) for r in rows})]


def _grid_y(field: str, order: Sequence[str]) -> Spec:
    return _nominal(
        field,
        sort=list(dict.fromkeys(order)),
        title=None,
        # The same extent in both panels, so that their columns line up.
        axis={"labelLimit": 340, "minExtent": 300, "ticks": False, "domain": False},
        scale={"paddingInner": 0.1},
    )


def _change_spec(formulations: Sequence[Formulation]) -> Spec:
    ordered = _occasions(formulations)
    area_rows = _change_area_rows(ordered)
    domain_rows = _change_domain_rows(ordered)
    area_occasions = _occasion_order(area_rows)
    domain_occasions = _occasion_order(domain_rows)
    x_areas = _nominal(
        "occasion",
        sort=area_occasions,
        title=None,
        axis=_top_axis(area_occasions),
        scale={"paddingInner": 0.06},
    )
    y_areas = _grid_y("area", [r["area"] for r in sorted(area_rows, key=lambda r: r["rank"])])
    areas = {
        "title": {
            "text": "Intervention areas: the rule's band and score at each assessment (▲▼ change)",
            "fontSize": LABEL_SIZE + 2,
        },
        "data": {"values": area_rows},
        "layer": [
            {
                "mark": {"type": "rect", "strokeWidth": 1.2, "cornerRadius": 3},
                "encoding": {
                    "x": x_areas,
                    "y": y_areas,
                    **_band_channels(dashed=False),
                    "stroke": _outline_unless(_TOO_LITTLE),
                    "tooltip": [
                        _nominal("area", title="Area"),
                        _nominal("occasion", title="Assessment"),
                        _nominal("band", title="Band"),
                        _quantitative("score", title="Score", format=".2f"),
                    ],
                },
            },
            _dashed_outline(x_areas, y_areas, _TOO_LITTLE),
            {
                "mark": {"type": "text", "fontWeight": "bold"},
                "encoding": {
                    "x": x_areas,
                    "y": y_areas,
                    "text": _nominal("text"),
                    "color": dict(INK_CHANNEL),
                },
            },
        ],
        "resolve": {"scale": {"color": "independent"}},
        "width": {"step": 150},
        "height": {"step": 50},
    }
    x_domains = _nominal(
        "occasion",
        sort=domain_occasions,
        title=None,
        axis=_top_axis(domain_occasions),
        scale={"paddingInner": 0.06},
    )
    y_domains = _grid_y("domain", [r["domain"] for r in domain_rows])
    domains = {
        "title": {
            "text": "Domains: items rated present (yes or partial) at each assessment",
            "fontSize": LABEL_SIZE + 2,
        },
        "data": {"values": domain_rows},
        "layer": [
            {
                "mark": {"type": "rect", "stroke": INK, "strokeWidth": 1.2, "cornerRadius": 3},
                "encoding": {
                    "x": x_domains,
                    "y": y_domains,
                    "color": _quantitative(
                        "share",
                        scale={"domain": [0, 1], "range": ["#f4f9fd", "#0072B2"]},
                        legend={
                            "title": "Share of items present",
                            "format": ".0%",
                            "gradientLength": 260,
                            "gradientThickness": 18,
                        },
                    ),
                    "tooltip": [
                        _nominal("domain", title="Domain"),
                        _nominal("occasion", title="Assessment"),
                        _quantitative("present", title="Items present"),
                        _quantitative("total", title="Items"),
                    ],
                },
            },
            {
                "mark": {"type": "text", "fontWeight": "bold"},
                "encoding": {
                    "x": x_domains,
                    "y": y_domains,
                    "text": _nominal("text"),
                    "color": dict(INK_CHANNEL),
                },
            },
        ],
        "resolve": {"scale": {"color": "independent"}},
        "width": {"step": 150},
        "height": {"step": 50},
    }
    return {
        "title": _title(
            f"Change across assessments: case {ordered[0].header.case_reference}",
            "Columns are the case's assessments, oldest first.",
        ),
        "vconcat": [areas, domains],
        "resolve": {"scale": {"color": "independent"}},
    }


def change(formulations: Sequence[Formulation]) -> Any:
    """Draw one case's assessments over time: each area's band and score, each domain's count.

    The formulations are of one case and are put in version order. When the oldest carries a
    `change` section, its previous assessment is drawn as a first column of areas.

    Raises:
        InstrumentError: when there is no formulation, they belong to different cases, or two
            share a version.
    """
    return _altair(change_spec(formulations))


def change_spec(formulations: Sequence[Formulation]) -> Spec:
    """Return the `change` chart as a whole Vega-Lite spec in plain data (what it draws)."""
    return _complete(_change_spec(formulations))


def describe_change(formulations: Sequence[Formulation]) -> Description:
    """Describe the change chart: per area and per domain, the values at each assessment."""
    ordered = _occasions(formulations)
    area_rows = _change_area_rows(ordered)
    domain_rows = _change_domain_rows(ordered)
    occasions = _occasion_order([*area_rows, *domain_rows])
    table: dict[tuple[str, str], dict[str, str]] = {}
    for row in area_rows:
        cell = f"{BAND_LABELS[row['band']]} {row['score']:.2f}"
        table.setdefault(("area", row["area"]), {})[row["occasion"]] = cell
    for row in domain_rows:
        cell = f"{row['present']} of {row['total']} present"
        table.setdefault(("domain", row["domain"]), {})[row["occasion"]] = cell
    sentences = []
    for (kind, name), values in table.items():
        seen = [f"{values[o]} ({o.replace('|', ', ')})" for o in occasions if o in values]
        if kind == "area":
            sentences.append(f"{name}: " + " → ".join(seen) + ".")
    return Description(
        title="Change across assessments",
        sentences=tuple(sentences),
        columns=("Kind", "Name", *(o.replace("|", " ") for o in occasions)),
        rows=tuple(
            (kind, name, *(values.get(o, "") for o in occasions))
            for (kind, name), values in table.items()
        ),
    )


# ---------------------------------------------------------------------------------------------
# agreement: two assessors side by side
# ---------------------------------------------------------------------------------------------

VERDICT_WIDTH = 200
_DIFFERS = "datum.verdict == 'presence differs'"


def _assessors(formulation: Formulation, fallback: str) -> str:
    names = [assessor.name for assessor in formulation.header.assessors]
    return ", ".join(names) if names else fallback


def _rating_text(item: ItemSummary | None) -> str:
    if item is None or item.presence is None:
        return "not rated"
    if item.relevance is None:
        return item.presence.value
    return f"{item.presence.value} · {item.relevance.value}"


def _agreement_rows(first: Formulation, second: Formulation) -> list[Spec]:
    if first.header.instrument != second.header.instrument:
        raise InstrumentError(
            "the two formulations use different instrument definitions",
            where="$.header.instrument",
            fix="compare ratings made with the same instrument definition and version",
        )
    theirs = {item.item: item for domain in second.domains for item in domain.items}
    rows = []
    for domain in first.domains:
        for item in domain.items:
            other = theirs.get(item.item)
            a, b = _presence_of(item), _presence_of(other)
            if a != b:
                verdict = "presence differs"
            elif other is None or item.relevance != other.relevance:
                verdict = "relevance differs"
            else:
                verdict = "same"
            rows.append(
                {
                    "item": item.item,
                    "label": f"{item.item} {item.name}",
                    "a": a,
                    "b": b,
                    "a_text": _rating_text(item),
                    "b_text": _rating_text(other),
                    "verdict": verdict,
                }
            )
    return rows


def _agreement_spec(first: Formulation, second: Formulation) -> Spec:
    rows = _agreement_rows(first, second)
    a_name = "A: " + _assessors(first, "first assessor")
    b_name = "B: " + _assessors(second, "second assessor")
    if a_name[3:] == b_name[3:]:
        a_name += f" (v{first.header.assessment_version})"
        b_name += f" (v{second.header.assessment_version})"
    cells = [
        {
            "label": row["label"],
            "who": who,
            "presence": presence,
            "text": text,
            "ink": PRESENCE_TEXT[presence],
        }
        for row in rows
        for who, presence, text in (
            (a_name, row["a"], row["a_text"]),
            (b_name, row["b"], row["b_text"]),
        )
    ]
    same = sum(1 for row in rows if row["a"] == row["b"])
    order = [row["label"] for row in rows]
    y = _nominal(
        "label",
        sort=order,
        title=None,
        axis={
            "labelLimit": 480,
            "ticks": False,
            "domain": False,
            "labelFontSize": LABEL_SIZE - 1,
        },
        scale={"paddingInner": 0.12},
    )
    x = _nominal("who", sort=[a_name, b_name], title=None, axis=_top_axis([a_name, b_name]))
    with_unrated = any(UNRATED in (row["a"], row["b"]) for row in rows)
    ratings = {
        "data": {"values": cells},
        "layer": [
            {
                "mark": {"type": "rect", "strokeWidth": 1, "cornerRadius": 2},
                "encoding": {
                    "x": x,
                    "y": y,
                    **_presence_channels(with_unrated=with_unrated, dashed=False),
                    "stroke": _outline_unless(_NOT_RATED),
                },
            },
            _dashed_outline(x, y, _NOT_RATED),
            {
                "mark": {"type": "text", "fontSize": LABEL_SIZE - 1},
                "encoding": {
                    "x": x,
                    "y": y,
                    "text": _nominal("text"),
                    "color": dict(INK_CHANNEL),
                },
            },
        ],
        "width": {"step": 220},
        "height": {"step": 34},
    }
    verdict_y = _nominal("label", sort=order, axis=None, scale={"paddingInner": 0.12})
    verdict_text = {"type": "text", "align": "left", "fontSize": LABEL_SIZE - 1, "x": 8}
    verdicts = {
        "data": {"values": rows},
        "layer": [
            {
                "transform": [{"filter": _DIFFERS}],
                "mark": {"type": "rect", "color": HIGHLIGHT, "cornerRadius": 2},
                "encoding": {"y": verdict_y, "x": {"value": 0}, "x2": {"value": VERDICT_WIDTH}},
            },
            {
                "transform": [{"filter": _DIFFERS}],
                "mark": {**verdict_text, "fontWeight": "bold", "color": DIFFERS},
                "encoding": {"y": verdict_y, "text": _nominal("verdict")},
            },
            {
                "transform": [{"filter": f"!({_DIFFERS})"}],
                "mark": {**verdict_text, "color": MUTED},
                "encoding": {"y": verdict_y, "text": _nominal("verdict")},
            },
        ],
        "width": VERDICT_WIDTH,
        "height": {"step": 34},
    }
    return {
        "title": _title(
            f"Two assessors' ratings side by side: case {first.header.case_reference}",
            f"Presence agrees on {same} of {len(rows)} items; each cell shows presence · "
            "relevance.",
        ),
        "hconcat": [ratings, verdicts],
        "spacing": 16,
    }


def agreement(first: Formulation, second: Formulation) -> Any:
    """Draw two assessors' ratings of the same participant side by side, item by item.

    Rows where presence differs are highlighted and say so in words.

    Raises:
        InstrumentError: when the two formulations use different instrument definitions.
    """
    return _altair(agreement_spec(first, second))


def agreement_spec(first: Formulation, second: Formulation) -> Spec:
    """Return the `agreement` chart as a whole Vega-Lite spec in plain data (what it draws)."""
    return _complete(_agreement_spec(first, second))


def describe_agreement(first: Formulation, second: Formulation) -> Description:
    """Describe the agreement chart: each item's two ratings and whether they agree."""
    rows = _agreement_rows(first, second)
    same = sum(1 for row in rows if row["a"] == row["b"])
    differing = [row["item"] for row in rows if row["a"] != row["b"]]
    relevance = [row["item"] for row in rows if row["verdict"] == "relevance differs"]
    return Description(
        title="Two assessors' ratings side by side",
        sentences=(
            f"Presence agrees on {same} of {len(rows)} items.",
            f"Presence differs on: {_ids(differing)}.",
            f"Same presence, different relevance: {_ids(relevance)}.",
        ),
        columns=(
            "Item",
            _assessors(first, "first assessor"),
            _assessors(second, "second assessor"),
            "Agreement",
        ),
        rows=tuple((row["label"], row["a_text"], row["b_text"], row["verdict"]) for row in rows),
    )


# ---------------------------------------------------------------------------------------------
# The charts of one formulation (what `instrument chart --kind` and the report draw)
# ---------------------------------------------------------------------------------------------

CHARTS: Mapping[str, Callable[[Formulation], Any]] = MappingProxyType(
    {"profile": profile, "heatmap": heatmap, "priorities": priorities, "strengths": strengths}
)
SPECS: Mapping[str, Callable[[Formulation], Spec]] = MappingProxyType(
    {
        "profile": profile_spec,
        "heatmap": heatmap_spec,
        "priorities": priorities_spec,
        "strengths": strengths_spec,
    }
)
DESCRIPTIONS: Mapping[str, Callable[[Formulation], Description]] = MappingProxyType(
    {
        "profile": describe_profile,
        "heatmap": describe_heatmap,
        "priorities": describe_priorities,
        "strengths": describe_strengths,
    }
)
