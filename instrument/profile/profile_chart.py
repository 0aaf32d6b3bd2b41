"""The profile chart: the domains side by side, their items counted by presence."""

from __future__ import annotations

from typing import Any

from instrument.formulation import Formulation
from instrument.profile.parts import (
    INK_CHANNEL,
    Description,
    Spec,
    _altair,
    _complete,
    _has_unrated,
    _ids,
    _is_high,
    _nominal,
    _presence_channels,
    _quantitative,
    _reference,
    _shown_presence,
    _title,
    _tooltip,
)
from instrument.profile.theme import LABEL_SIZE, PRESENCE_ORDER, SHOWN_TEXT
from instrument.vocabulary import ItemKind

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
                    "ink": SHOWN_TEXT[shown],
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
