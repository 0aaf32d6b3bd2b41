"""The charts of `instrument.profile` as the pages show them: fitted to their space, with tables.

The same specs as the report, changed only in what a screen needs: the chart's own fonts named
again (Streamlit puts its own on axis and legend labels otherwise), the title drawn by the page as
text (so that a chart's height is its data, and a row of charts lines up), and, for the strengths
chart, column labels turned so that they never run into each other however narrow the column.
Charts whose width is a fixed number of pixels stretch to their column; charts whose width is a
step per column (heatmap, strengths, change) keep their step and scroll inside their column when
the screen is too narrow. No chart is rendered on the server: the browser draws them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import altair as alt
import streamlit as st

from instrument.access import Actor
from instrument.formulation import Formulation
from instrument.profile import FONT, Description, change, describe_change
from instrument.service import Service, VersionRow
from instrument.vocabulary import AssessmentStatus


def for_screen(chart: Any, *, height_scale: float = 1.0) -> Any:
    """Return a copy of `chart` for the page: its fonts named, no title, text coloured by fill.

    The title and subtitle are the page's to draw (`title_of`, `subtitle_of`); the type keeps
    its size. `height_scale` below 1 draws the rows closer (presenter mode on a low screen).
    """
    shown = chart.copy(deep=True)
    shown.title = alt.Undefined
    height = getattr(shown, "height", None) if isinstance(shown, alt.LayerChart) else None
    if (
        height_scale != 1.0
        and isinstance(height, dict)
        and isinstance(height.get("step"), int | float)
    ):
        shown.height = {"step": round(height["step"] * height_scale)}
    config = dict(chart.config) if isinstance(chart.config, dict) else {}
    for part in ("axis", "legend"):
        config[part] = {**config.get(part, {}), "labelFont": FONT, "titleFont": FONT}
    # Two legend entries a row, each at most 240 px: a legend starts where the plot starts and
    # would otherwise be cut off where a narrow column ends.
    config["legend"] = {**config["legend"], "columns": 2, "labelLimit": 240}
    # No ARIA roles on the marks: the chart's facts reach screen readers once, as its `alt`
    # sentences and its table; Vega's per-mark roles lack labels (axe: `svg-img-alt`).
    config["aria"] = False
    config["mark"] = {**config.get("mark", {}), "aria": False}
    shown.config = config
    for layer in _layers(shown):
        _ink_as_fill(layer)
    reach = reach_of_notes(chart)
    if reach is not None:
        for layer in _layers(shown):
            mark = layer.mark if isinstance(layer.mark, dict) else {}
            if mark.get("type") == "text" and mark.get("align") == "left":
                # Inside the plot now: clipped to it, the notes no longer count in the chart's
                # bounds, which made the fitted plot narrower than its notes. A note with the
                # rule's band in brackets takes two lines, the brackets on the second.
                layer.mark = {**mark, "clip": True, "lineBreak": "\n"}
                _break_before_brackets(layer)
            x: Any = getattr(getattr(layer, "encoding", None), "x", None)
            if isinstance(x, dict) and isinstance(x.get("scale"), dict) and "domain" in x["scale"]:
                low, top = x["scale"]["domain"]
                x["scale"] = {**x["scale"], "domain": [low, reach]}
                axis = x.get("axis")
                if isinstance(axis, dict) and "values" not in axis and float(top).is_integer():
                    # The axis still counts only what the data can reach.
                    x["axis"] = {**axis, "values": list(range(int(low), int(top) + 1))}
    return shown


def _break_before_brackets(layer: Any) -> None:
    """Show a text layer's field with a line break before its first ` (`, as `lineBreak` reads."""
    encoding: Any = getattr(layer, "encoding", None)
    text: Any = getattr(encoding, "text", None)
    if not isinstance(text, dict) or not isinstance(text.get("field"), str):
        return
    field = text["field"]
    calculate = {
        "calculate": f"replace(datum[{field!r}], ' (', '\\n(')",
        "as": f"{field}_lines",
    }
    transforms = layer.transform if isinstance(layer.transform, list) else []
    layer.transform = [*transforms, calculate]
    encoding.text = {**text, "field": f"{field}_lines"}


CHAR_WIDTH = 0.72
"""Width of a character of chart text, in ems (DejaVu Sans bold, with a margin)."""
TYPICAL_PLOT = 420
"""The plot width (px) the notes' room is reckoned for (a chart in half a 1920 screen beside the
sidebar, or in presenter mode on a 1366 screen)."""


def reach_of_notes(chart: Any) -> float | None:
    """Return how far the x scale must reach for the notes written after the bars, or None.

    A note set after a bar (a left-aligned text mark at the bar's end) runs past the plot when
    the bar is long, and a chart fitted to a column cuts it off. On screen the x scale reaches
    further instead (the axis still shows 0 to 1), so that every note (its longest line) lies
    inside a plot `TYPICAL_PLOT` wide.
    """
    spec = chart.to_dict(validate=False)
    datasets = spec.get("datasets", {})

    def values(data: Any) -> Any:
        if not isinstance(data, dict):
            return None
        return data["values"] if "values" in data else datasets.get(data.get("name"))

    rows = values(spec.get("data"))
    size = float(spec.get("config", {}).get("text", {}).get("fontSize", 18) or 18)
    reach: float | None = None
    for layer in spec.get("layer", []):
        mark = layer.get("mark", {})
        encoding = layer.get("encoding", {})
        if not isinstance(mark, dict) or mark.get("type") != "text" or mark.get("align") != "left":
            continue
        layer_rows = values(layer["data"]) if "data" in layer else rows
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


def _layers(chart: Any) -> list[Any]:
    """Return every unit layer of a chart (inside layers and vertical concatenations)."""
    found: list[Any] = []
    for kind in ("layer", "vconcat", "hconcat"):
        parts = getattr(chart, kind, alt.Undefined)
        if isinstance(parts, list):
            for part in parts:
                found.extend(_layers(part) or [part])
    return found


def _ink_as_fill(layer: Any) -> None:
    """Colour a text layer's letters through `fill` when the colour is given as is (no scale).

    Streamlit's Vega-Lite (6.5) then keeps one legend per chart; with the colour channel it
    draws a second, unmerged copy of the legend beside the first.
    """
    mark = layer.mark if isinstance(layer.mark, dict) else {}
    encoding: Any = getattr(layer, "encoding", None)
    if encoding is None or encoding is alt.Undefined:
        return
    colour = getattr(encoding, "color", alt.Undefined)
    if mark.get("type") == "text" and isinstance(colour, dict) and colour.get("scale", 0) is None:
        encoding.fill = colour
        encoding.color = alt.Undefined


def turned_column_labels(chart: Any) -> Any:
    """Return the strengths chart with its column labels on one turned line each.

    The report sets each column's label in lines under a column of 140 px; a page column can be
    much narrower, where those lines would run into the next label. Turned by 40 degrees, two
    labels stay a column's width apart whatever that width is.
    """
    shown = chart.copy(deep=True)
    for layer in _layers(shown):
        x: Any = getattr(getattr(layer, "encoding", None), "x", None)
        axis = x.get("axis") if isinstance(x, dict) else None
        if isinstance(axis, dict) and axis.get("orient") == "top":
            x["axis"] = {
                **axis,
                "labelExpr": "join(split(datum.label, '|'), ' ')",
                "labelAngle": -40,
                "labelAlign": "left",
                "labelBaseline": "middle",
                "labelPadding": 6,
                "labelLimit": 240,
            }
    return shown


def title_of(chart: Any, fallback: str) -> str:
    """Return the chart's title text (its first line), or `fallback`."""
    title = chart.title
    if isinstance(title, dict):
        text = title.get("text")
        if isinstance(text, list):
            return " ".join(str(t) for t in text)
        if isinstance(text, str):
            return text
    return fallback


def subtitle_of(chart: Any) -> list[str]:
    """Return the chart's subtitle lines (how to read it)."""
    title = chart.title
    subtitle = title.get("subtitle", []) if isinstance(title, dict) else []
    return [subtitle] if isinstance(subtitle, str) else [str(s) for s in subtitle]


def show_chart(
    chart: Any,
    description: Description,
    *,
    heading: str | None = None,
    key: str | None = None,
    legend_note: bool = True,
    width: Literal["stretch", "content"] = "stretch",
    height_scale: float = 1.0,
) -> None:
    """Draw a chart, its title above it and how to read it below.

    `width="stretch"` fits a chart of fixed width to its column; `"content"` keeps a chart drawn
    a step per column at its own size. `alt` gives the chart's facts as sentences to screen
    readers; `facts_table` gives them as a table.
    """
    st.markdown(f"**{heading or title_of(chart, description.title)}**")
    st.altair_chart(
        for_screen(chart, height_scale=height_scale),
        theme=None,
        width=width,
        alt=" ".join(description.sentences),
        key=key,
    )
    if legend_note:
        notes = subtitle_of(chart)
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
    chart = change(formulations)
    description = describe_change(formulations)
    show_chart(chart, description, key=key, width="content")
    facts_table(description)
    return True
