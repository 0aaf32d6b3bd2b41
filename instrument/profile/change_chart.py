"""The change chart: one case over time, area bands and domain counts per occasion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from instrument.errors import DocumentError
from instrument.formulation import Formulation
from instrument.profile.parts import (
    _TOO_LITTLE,
    INK_CHANNEL,
    Description,
    Spec,
    _altair,
    _band_channels,
    _complete,
    _dashed_outline,
    _nominal,
    _outline_unless,
    _quantitative,
    _title,
    _top_axis,
)
from instrument.profile.theme import BAND_LABELS, BAND_TEXT, INK, LABEL_SIZE, WHITE
from instrument.vocabulary import Band

# ---------------------------------------------------------------------------------------------
# change: one case over time
# ---------------------------------------------------------------------------------------------


def _occasions(formulations: Sequence[Formulation]) -> list[Formulation]:
    if not formulations:
        raise DocumentError.at(
            "$", "no formulation to draw change from", "give at least one formulation of the case"
        )
    references = sorted({f.header.case_reference for f in formulations})
    if len(references) > 1:
        raise DocumentError.at(
            "$.header.case_reference",
            f"formulations of different cases: {', '.join(references)}",
            "draw change from the formulations of one case",
        )
    ordered = sorted(formulations, key=lambda f: f.header.assessment_version)
    versions = [f.header.assessment_version for f in ordered]
    if len(set(versions)) != len(versions):
        raise DocumentError.at(
            "$.header.assessment_version",
            "two formulations of the same assessment version",
            "give one formulation per assessment version",
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
        DocumentError: when there is no formulation, they belong to different cases, or two
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
