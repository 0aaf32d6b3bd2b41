"""The charts of `instrument.profile` as the pages show them: fitted to their space, with tables.

The same Vega-Lite specs as the report (plain data, from the `*_spec` functions), changed only in
what a screen needs: the chart's own fonts named again (Streamlit puts its own on axis and legend
labels otherwise), the title drawn by the page as text (so that a chart's height is its data, and
a row of charts lines up), legends in two columns, marks out of the ARIA tree (the chart's facts
reach screen readers as its `alt` sentences and its table), the notes after the bars kept inside
the plot, and, for the strengths chart, column labels turned so that they never run into each
other however narrow the column. Charts whose width is a fixed number of pixels stretch to their
column; charts whose width is a step per column (heatmap, strengths, change) keep their step.

The specs go to `st.vega_lite_chart` as data: no Altair object is built or validated against the
Vega-Lite schema on a page (that cost 50–300 ms per chart on every rerun). No chart is rendered
on the server: the browser draws them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from typing import Any, Literal

import streamlit as st

from instrument.access import Actor
from instrument.formulation import Formulation
from instrument.profile import FONT, Description, change_spec, describe_change
from instrument.service import Service, VersionRow
from instrument.vocabulary import AssessmentStatus

Spec = dict[str, Any]


def for_screen(spec: Spec, *, height_scale: float = 1.0, turned: bool = False) -> Spec:
    """Return a copy of a chart's spec for the page (the spec given is left as it is).

    The title and subtitle are the page's to draw (`title_of`, `subtitle_of`); the type keeps
    its size. `height_scale` below 1 draws the rows closer (presenter mode on a low screen);
    `turned` turns a top axis's labels (`turned_column_labels`).
    """
    shown: Spec = copy.deepcopy(spec)
    shown.pop("title", None)
    height = shown.get("height")
    if height_scale != 1.0 and isinstance(height, dict) and "step" in height:
        shown["height"] = {"step": round(float(height["step"]) * height_scale)}
    config: Spec = shown.setdefault("config", {})
    for part in ("axis", "legend"):
        config[part] = {**config.get(part, {}), "labelFont": FONT, "titleFont": FONT}
    # Two legend entries a row, each at most 240 px: a legend starts where the plot starts and
    # would otherwise be cut off where a narrow column ends.
    config["legend"] = {**config["legend"], "columns": 2, "labelLimit": 240}
    # No ARIA roles on the marks: the chart's facts reach screen readers once, as its `alt`
    # sentences and its table; Vega's per-mark roles lack labels (axe: `svg-img-alt`).
    config["aria"] = False
    config["mark"] = {**config.get("mark", {}), "aria": False}
    for layer in _units(shown):
        _ink_as_fill(layer)
    reach = reach_of_notes(shown)
    if reach is not None:
        for layer in _units(shown):
            _reach(layer, reach)
    if turned:
        turned_column_labels(shown)
    return shown


def _units(spec: Spec) -> Iterator[Spec]:
    """Yield every unit view of a spec (inside layers and vertical or horizontal concats)."""
    parts = [p for kind in ("layer", "vconcat", "hconcat") for p in spec.get(kind, [])]
    if not parts and "mark" in spec:
        yield spec
    for part in parts:
        yield from _units(part)


def _reach(layer: Spec, reach: float) -> None:
    """Let a layer's x scale reach `reach`, its notes clipped to the plot and broken in two."""
    mark = layer.get("mark")
    if isinstance(mark, dict) and mark.get("type") == "text" and mark.get("align") == "left":
        # Inside the plot now: clipped to it, the notes no longer count in the chart's bounds,
        # which made the fitted plot narrower than its notes. A note with the rule's band in
        # brackets takes two lines, the brackets on the second.
        layer["mark"] = {**mark, "clip": True, "lineBreak": "\n"}
        _break_before_brackets(layer)
    x = layer.get("encoding", {}).get("x")
    if isinstance(x, dict) and isinstance(x.get("scale"), dict) and "domain" in x["scale"]:
        low, top = x["scale"]["domain"]
        x["scale"] = {**x["scale"], "domain": [low, reach]}
        axis = x.get("axis")
        if isinstance(axis, dict) and "values" not in axis and float(top).is_integer():
            # The axis still counts only what the data can reach.
            x["axis"] = {**axis, "values": list(range(int(low), int(top) + 1))}


def _break_before_brackets(layer: Spec) -> None:
    """Show a text layer's field with a line break before its first ` (`, as `lineBreak` reads."""
    encoding = layer.get("encoding", {})
    text = encoding.get("text")
    if not isinstance(text, dict) or not isinstance(text.get("field"), str):
        return
    field = text["field"]
    calculate = {"calculate": f"replace(datum[{field!r}], ' (', '\\n(')", "as": f"{field}_lines"}
    layer["transform"] = [*layer.get("transform", []), calculate]
    encoding["text"] = {**text, "field": f"{field}_lines"}


CHAR_WIDTH = 0.72
"""Width of a character of chart text, in ems (DejaVu Sans bold, with a margin)."""
TYPICAL_PLOT = 420
"""The plot width (px) the notes' room is reckoned for (a chart in half a 1920 screen beside the
sidebar, or in presenter mode on a 1366 screen)."""


def reach_of_notes(spec: Spec) -> float | None:
    """Return how far the x scale must reach for the notes written after the bars, or None.

    A note set after a bar (a left-aligned text mark at the bar's end) runs past the plot when
    the bar is long, and a chart fitted to a column cuts it off. On screen the x scale reaches
    further instead (the axis still shows 0 to 1), so that every note (its longest line) lies
    inside a plot `TYPICAL_PLOT` wide.
    """
    rows = spec.get("data", {}).get("values")
    size = float(spec.get("config", {}).get("text", {}).get("fontSize", 18) or 18)
    reach: float | None = None
    for layer in spec.get("layer", []):
        mark = layer.get("mark", {})
        encoding = layer.get("encoding", {})
        if not isinstance(mark, dict) or mark.get("type") != "text" or mark.get("align") != "left":
            continue
        layer_rows = layer["data"].get("values") if "data" in layer else rows
        x, text = encoding.get("x", {}), encoding.get("text", {})
        domain = x.get("scale", {}).get("domain")
        if not layer_rows or not isinstance(domain, list) or len(domain) != 2 or not domain[1]:
            continue
        top = float(domain[1])
        for row in layer_rows:
            note = str(row.get(text.get("field"), "") or "")
            longest = max(len(line) for line in note.replace(" (", "\n(").split("\n"))
            share = (longest * size * CHAR_WIDTH + float(mark.get("dx", 0))) / TYPICAL_PLOT
            at = float(row.get(x.get("field"), 0) or 0)
            # The note ends inside the plot when at + share * reach <= reach.
            end = at / (1 - min(share, 0.75))
            reach = max(reach or top, end)
    return reach


def _ink_as_fill(layer: Spec) -> None:
    """Colour a text layer's letters through `fill` when the colour is given as is (no scale).

    Streamlit's Vega-Lite (6.5) then keeps one legend per chart; with the colour channel it
    draws a second, unmerged copy of the legend beside the first.
    """
    mark = layer.get("mark")
    encoding = layer.get("encoding", {})
    colour = encoding.get("color")
    if (
        isinstance(mark, dict)
        and mark.get("type") == "text"
        and isinstance(colour, dict)
        and colour.get("scale", 0) is None
    ):
        encoding["fill"] = encoding.pop("color")


def turned_column_labels(spec: Spec) -> Spec:
    """Turn the strengths chart's column labels onto one line each, at 40 degrees (in place).

    The report sets each column's label in lines under a column of 140 px; a page column can be
    much narrower, where those lines would run into the next label. Turned by 40 degrees, two
    labels stay a column's width apart whatever that width is.
    """
    for layer in _units(spec):
        x = layer.get("encoding", {}).get("x")
        axis = x.get("axis") if isinstance(x, dict) else None
        if isinstance(x, dict) and isinstance(axis, dict) and axis.get("orient") == "top":
            x["axis"] = {
                **axis,
                "labelExpr": "join(split(datum.label, '|'), ' ')",
                "labelAngle": -40,
                "labelAlign": "left",
                "labelBaseline": "middle",
                "labelPadding": 6,
                "labelLimit": 240,
            }
    return spec


def title_of(spec: Spec, fallback: str) -> str:
    """Return the chart's title text (its lines joined), or `fallback`."""
    title = spec.get("title")
    if isinstance(title, dict):
        text = title.get("text")
        if isinstance(text, list):
            return " ".join(str(t) for t in text)
        if isinstance(text, str):
            return text
    return fallback


def subtitle_of(spec: Spec) -> list[str]:
    """Return the chart's subtitle lines (how to read it)."""
    title = spec.get("title")
    subtitle = title.get("subtitle", []) if isinstance(title, dict) else []
    return [subtitle] if isinstance(subtitle, str) else [str(s) for s in subtitle]


def show_chart(
    spec: Spec,
    description: Description,
    *,
    heading: str | None = None,
    key: str | None = None,
    legend_note: bool = True,
    width: Literal["stretch", "content"] = "stretch",
    height_scale: float = 1.0,
    turned: bool = False,
) -> None:
    """Draw a chart (its Vega-Lite spec), its title above it and how to read it below.

    `width="stretch"` fits a chart of fixed width to its column; `"content"` keeps a chart drawn
    a step per column at its own size. `alt` gives the chart's facts as sentences to screen
    readers; `facts_table` gives them as a table.
    """
    st.markdown(f"**{heading or title_of(spec, description.title)}**")
    st.vega_lite_chart(
        for_screen(spec, height_scale=height_scale, turned=turned),
        theme=None,
        width=width,
        alt=" ".join(description.sentences),
        key=key,
    )
    if legend_note:
        notes = subtitle_of(spec)
        if notes:
            st.caption(" ".join(notes))


def facts_table(description: Description) -> None:
    """Show a chart's facts as a table in an expander, for people who cannot see the chart."""
    with st.expander(f"{description.title}: as a table", icon=":material/table:"):
        columns = {
            name: [row[i] for row in description.rows] for i, name in enumerate(description.columns)
        }
        st.table(columns, hide_index=True)


def over_time(shown: Formulation, earlier: Sequence[Formulation]) -> list[Formulation]:
    """Return the formulations the change chart compares: the earlier ones, then `shown`.

    One per version (an earlier formulation of `shown`'s own version is left out), oldest first.
    """
    version = shown.header.assessment_version
    kept = {
        f.header.assessment_version: f for f in earlier if f.header.assessment_version != version
    }
    ordered = [kept[v] for v in sorted(kept) if v < version]
    return [*ordered, shown]


def finals_before(
    service: Service, actor: Actor, reference: str, versions: Sequence[VersionRow], version: int
) -> list[Formulation]:
    """Return the stored formulations of the case's final versions older than `version`."""
    return [
        service.formulation(actor, reference, row.version)
        for row in versions
        if row.status is AssessmentStatus.FINAL and row.version < version
    ]


def show_change(formulations: Sequence[Formulation], *, key: str | None = None) -> bool:
    """Draw the change chart (per area and per domain across versions) with its table.

    Returns False, drawing nothing, when there is nothing to compare: one assessment and no
    earlier one recorded in it.
    """
    if not formulations or (len(formulations) < 2 and formulations[-1].change is None):
        return False
    description = describe_change(formulations)
    show_chart(change_spec(formulations), description, key=key, width="content")
    facts_table(description)
    return True
