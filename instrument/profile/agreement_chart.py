"""The agreement chart: two assessors' ratings side by side, item by item."""

from __future__ import annotations

from typing import Any

from instrument.errors import DocumentError
from instrument.formulation import Formulation, ItemSummary
from instrument.profile.parts import (
    _NOT_RATED,
    INK_CHANNEL,
    Description,
    Spec,
    _altair,
    _complete,
    _dashed_outline,
    _ids,
    _nominal,
    _outline_unless,
    _presence_channels,
    _presence_of,
    _title,
    _top_axis,
)
from instrument.profile.theme import DIFFERS, HIGHLIGHT, LABEL_SIZE, MUTED, PRESENCE_TEXT, UNRATED

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
        raise DocumentError.at(
            "$.header.instrument",
            "the two formulations use different instrument definitions",
            "compare ratings made with the same instrument definition and version",
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
        DocumentError: when the two formulations use different instrument definitions.
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
