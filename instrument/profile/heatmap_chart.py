"""The heatmap: every item in its domain, coloured by presence, high relevance outlined."""

from __future__ import annotations

from typing import Any

from instrument.formulation import Formulation
from instrument.profile.parts import (
    _NOT_RATED,
    INK_CHANNEL,
    Description,
    Spec,
    _altair,
    _complete,
    _dashed_outline,
    _has_unrated,
    _ids,
    _is_high,
    _nominal,
    _outline_unless,
    _presence_channels,
    _presence_of,
    _reference,
    _relevance_word,
    _shown_presence,
    _title,
    _tooltip,
)
from instrument.profile.theme import INK, LABEL_SIZE, PRESENCE_LABELS, SHOWN_TEXT, UNRATED
from instrument.vocabulary import Presence

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
                    "ink": SHOWN_TEXT[presence],
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
