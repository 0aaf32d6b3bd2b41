"""The charts: valid Vega-Lite, drawn from the formulation's own numbers, one legible theme."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import altair as alt
import pytest

from instrument import profile as P
from instrument.definition import Instrument
from instrument.definitions import default_instrument
from instrument.errors import InstrumentError
from instrument.exchange.assessments import load_formulation
from instrument.formulation import Formulation, Review, apply_override, formulate, redact
from instrument.profile.theme import PRESENCE_DASH
from instrument.vocabulary import ItemKind, Presence, Relevance
from tests.conftest import NOW, assessment_document, make_assessment

FORMULATIONS = Path(__file__).resolve().parent.parent / "formulations"
WORKED = sorted(FORMULATIONS.glob("*.formulation.json"))

# A fictional participant rated on every kind of value: yes, partial, no, omit, and unrated items.
RATINGS: dict[str, tuple[str, str | None]] = {
    "ID1": ("yes", "high"),
    "ID2": ("yes", "moderate"),
    "ID3": ("partial", "moderate"),
    "ID4": ("partial", "high"),
    "ID5": ("no", None),
    "GA1": ("yes", "high"),
    "GA2": ("partial", "moderate"),
    "GA3": ("no", None),
    "GA4": ("yes", "moderate"),
    "GA5": ("omit", None),
    "EM1": ("yes", "high"),
    "EM2": ("partial", "moderate"),
    "EM3": ("partial", "low"),
    "EM4": ("omit", None),
    "EM5": ("yes", "moderate"),
    "EM6": ("no", None),
    "BE1": ("yes", "moderate"),
    "BE2": ("partial", "low"),
    "BE3": ("no", None),
    "BE7": ("partial", "high"),
    "CA1": ("no", None),
    "CA2": ("partial", "low"),
    "PF1": ("yes", "high"),
    "PF2": ("partial", "moderate"),
    "PF3": ("yes", "moderate"),
    "PF4": ("no", None),
    "PF5": ("partial", "high"),
    "PF7": ("yes", "moderate"),
    "PF8": ("omit", None),
}
RATIONALE = "The participant's anger at home is escalating quickly and needs work first."


def ratings_document(
    ratings: dict[str, tuple[str, str | None]], evidence: str = "Fictional evidence for {item}."
) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for item, (presence, relevance) in ratings.items():
        rating: dict[str, Any] = {"presence": presence, "sources": ["interview"]}
        if relevance:
            rating["relevance"] = relevance
        rating["evidence"] = evidence.format(item=item)
        document[item] = rating
    return document


def make_formulation(
    ratings: dict[str, tuple[str, str | None]] | None = None,
    *,
    evidence: str = "Fictional evidence for {item}.",
    overrides: dict[str, str] | None = None,
    version: int = 1,
    assessed_on: str = "2026-11-01",
    previous: dict[str, tuple[str, str | None]] | None = None,
    assessor: str = "A. Assessor",
    **changes: Any,
) -> Formulation:
    """Return a formulation made by `formulate` from a fictional assessment of case C-0001."""
    instrument = default_instrument()

    def assessment(
        rated: dict[str, tuple[str, str | None]], number: int, on: str
    ) -> dict[str, Any]:
        return assessment_document(
            ratings=ratings_document(rated, evidence),
            assessment={
                "version": number,
                "status": "draft",
                "assessed_on": on,
                "assessors": [{"name": assessor, "role": "psychologist"}],
            },
            **changes,
        )

    review = Review()
    for area, band in (overrides or {}).items():
        review = apply_override(review, area, band, RATIONALE, assessor, NOW)
    earlier = None
    if previous is not None:
        earlier = make_assessment(**assessment(previous, version - 1, "2026-03-01"))
    current = make_assessment(**assessment(ratings or RATINGS, version, assessed_on))
    return formulate(instrument, current, earlier, generated_at=NOW, review=review)


@pytest.fixture(scope="module")
def formulation() -> Formulation:
    return make_formulation(overrides={"emotion-management": "high"})


def single_charts() -> Iterator[tuple[str, Any]]:
    yield from ((name, chart.draw) for name, chart in P.CHARTS.items())


def all_charts(formulation: Formulation) -> dict[str, Any]:
    second = make_formulation({**RATINGS, "ID1": ("partial", "high")}, assessor="B. Second")
    return {
        **{kind: chart.draw(formulation) for kind, chart in P.CHARTS.items()},
        "change": P.change([formulation]),
        "agreement": P.agreement(formulation, second),
    }


def datasets(spec: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Every data set of a spec, inline or named."""
    found = list(spec.get("datasets", {}).values())

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and "values" in data:
                found.append(data["values"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in spec.items() if k != "datasets"})
    return found


def rows_with(spec: dict[str, Any], *keys: str) -> list[dict[str, Any]]:
    """The rows of the one data set whose rows carry all `keys`."""
    matching = [rows for rows in datasets(spec) if rows and all(k in rows[0] for k in keys)]
    assert len(matching) == 1, f"{len(matching)} data sets carry {keys}"
    return matching[0]


def walk_items(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk_items(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk_items(value)


# --- every chart: a valid spec, one theme -----------------------------------------------------


@pytest.mark.parametrize("kind", [*P.CHARTS, "change", "agreement"], ids=lambda kind: str(kind))
def test_the_spec_passes_altairs_own_validation(formulation: Formulation, kind: str) -> None:
    chart = all_charts(formulation)[kind]
    assert isinstance(chart, alt.TopLevelMixin)
    spec = chart.to_dict()  # validates against the Vega-Lite schema; raises when invalid
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")


@pytest.mark.parametrize("kind", [*P.CHARTS, "change", "agreement"])
def test_every_chart_has_a_title_naming_the_case_and_large_type(
    formulation: Formulation, kind: str
) -> None:
    spec = all_charts(formulation)[kind].to_dict(validate=False)
    assert "C-0001" in spec["title"]["text"]
    sizes = [value for key, value in walk_items(spec) if key.lower().endswith("fontsize")]
    assert sizes
    assert min(sizes) >= 16, "every label is at least 16 px for a projector"
    assert spec["config"]["font"] == P.FONT


def test_the_palette_tells_omit_from_no_without_colour() -> None:
    assert P.PRESENCE_COLOURS["omit"] != P.PRESENCE_COLOURS["no"]
    assert PRESENCE_DASH["omit"] != PRESENCE_DASH["no"]
    assert "omit" in P.PRESENCE_LABELS["omit"]
    assert len(set(P.PRESENCE_COLOURS.values())) == 4  # omit and not rated share white
    assert len(set(P.BAND_COLOURS.values())) == 4


@pytest.mark.parametrize("kind", [*P.CHARTS, "change", "agreement"])
def test_charts_carry_no_evidence_text(kind: str) -> None:
    marked = make_formulation(evidence="EVIDENCE-CANARY {item}")
    spec = json.dumps(all_charts(marked)[kind].to_dict(validate=False))
    assert "EVIDENCE-CANARY" not in spec


def inline_data(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with Altair's named data sets put back inline, and without config."""
    named = spec.get("datasets", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"name"} and node["name"] in named:
                return {"values": named[node["name"]]}
            return {k: walk(v) for k, v in node.items() if k not in ("datasets", "config")}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(spec)


@pytest.mark.parametrize("kind", list(P.CHARTS))
def test_the_plain_spec_is_the_charts_spec(formulation: Formulation, kind: str) -> None:
    plain = P.CHARTS[kind].spec(formulation)
    assert plain["config"] == dict(P.THEME)
    assert inline_data(plain) == inline_data(P.CHARTS[kind].draw(formulation).to_dict())


def test_charts_are_pure_functions_of_the_formulation(formulation: Formulation) -> None:
    for chart in P.CHARTS.values():
        draw = chart.draw
        assert draw(formulation).to_dict() == draw(formulation).to_dict()
        assert draw(formulation).to_dict() == draw(redact(formulation)).to_dict()


# --- profile ----------------------------------------------------------------------------------


def test_profile_bars_are_the_domain_counts(formulation: Formulation) -> None:
    rows = rows_with(P.profile(formulation).to_dict(), "presence", "count", "start", "end")
    for domain in formulation.domains:
        counts = domain.counts.model_dump()
        mine = [row for row in rows if row["domain"] == domain.domain]
        # Strengths are drawn in their own colour family: `strength-yes`, `strength-partial`.
        strength = domain.kind == ItemKind.PROTECTIVE
        assert {row["presence"]: row["count"] for row in mine} == {
            (f"strength-{presence}" if strength and presence in ("yes", "partial") else presence): (
                count
            )
            for presence, count in counts.items()
            if count
        }
        for row in mine:
            assert row["end"] - row["start"] == row["count"]
        assert max(row["end"] for row in mine) == sum(counts.values())


def test_profile_names_the_high_relevance_count_of_each_domain(formulation: Formulation) -> None:
    notes = rows_with(P.profile(formulation).to_dict(), "note", "total")
    for domain, note in zip(formulation.domains, notes, strict=True):
        if domain.high_relevance:
            assert note["note"] == f"▲ {domain.high_relevance} high relevance"
        else:
            assert note["note"] == ""


def test_profile_marks_the_protective_domain_as_strengths(formulation: Formulation) -> None:
    rows = rows_with(P.profile(formulation).to_dict(), "presence", "count")
    protective = [d.name for d in formulation.domains if d.kind == ItemKind.PROTECTIVE]
    assert {f"{name} (strengths)" for name in protective} <= {row["label"] for row in rows}


def test_describe_profile_gives_the_same_counts(formulation: Formulation) -> None:
    description = P.describe_profile(formulation)
    assert len(description.rows) == len(formulation.domains)
    for domain, row in zip(formulation.domains, description.rows, strict=True):
        c = domain.counts
        assert row == (
            domain.name,
            str(c.yes),
            str(c.partial),
            str(c.no),
            str(c.omit),
            str(c.unrated),
            str(domain.high_relevance),
        )
    assert len(description.sentences) == len(formulation.domains)


def test_a_draft_with_unrated_items_shows_them_in_the_legend() -> None:
    draft = make_formulation({"ID1": ("yes", "high"), "EM5": ("omit", None)})
    spec = P.profile(draft).to_dict()
    assert "unrated" in json.dumps(spec["layer"][0]["encoding"]["color"]["scale"]["domain"])
    every = {item.id: RATINGS.get(item.id, ("no", None)) for item in default_instrument().items}
    complete = P.profile(make_formulation(every)).to_dict()
    assert "unrated" not in complete["layer"][0]["encoding"]["color"]["scale"]["domain"]


# --- heatmap ----------------------------------------------------------------------------------


def test_heatmap_has_one_cell_per_item_with_its_rating(formulation: Formulation) -> None:
    cells = rows_with(P.heatmap(formulation).to_dict(), "item", "presence", "word")
    items = [item for domain in formulation.domains for item in domain.items]
    assert [cell["item"] for cell in cells] == [item.item for item in items]
    for cell, item in zip(cells, items, strict=True):
        presence = item.presence.value if item.presence else "unrated"
        if item.item.startswith("PF") and presence in ("yes", "partial"):
            presence = f"strength-{presence}"  # strengths: their own colour family
        assert cell["presence"] == presence
        assert cell["high"] == (
            item.presence in (Presence.YES, Presence.PARTIAL) and item.relevance == Relevance.HIGH
        )
        if item.presence == Presence.OMIT:
            assert cell["word"] == "omit"


def test_heatmap_draws_omitted_items_with_a_dashed_outline(formulation: Formulation) -> None:
    spec = P.heatmap(formulation).to_dict()
    dashed = [
        layer
        for layer in spec["layer"]
        if isinstance(layer["mark"], dict) and layer["mark"].get("strokeDash")
    ]
    assert len(dashed) == 1
    assert "omit" in dashed[0]["transform"][0]["filter"]
    thick = [
        layer
        for layer in spec["layer"]
        if isinstance(layer["mark"], dict) and layer["mark"].get("strokeWidth", 0) >= 4
    ]
    assert thick
    assert thick[0]["transform"][0]["filter"] == "datum.high"


def test_describe_heatmap_lists_every_item(formulation: Formulation) -> None:
    description = P.describe_heatmap(formulation)
    items = [item for domain in formulation.domains for item in domain.items]
    assert [row[1] for row in description.rows] == [item.item for item in items]
    assert any("GA5" in sentence and "omitted" in sentence for sentence in description.sentences)


# --- priorities -------------------------------------------------------------------------------


def test_priority_bars_are_the_scores_in_rank_order(formulation: Formulation) -> None:
    rows = rows_with(P.priorities(formulation).to_dict(), "score", "band", "note")
    ranked = sorted(formulation.priorities, key=lambda p: p.rank)
    assert [row["area"] for row in rows] == [p.area for p in ranked]
    for row, priority in zip(rows, ranked, strict=True):
        assert row["score"] == priority.score
        assert row["band"] == priority.band.value
        assert row["computed"] == priority.computed_band.value
        assert row["label"].startswith(f"{priority.rank}. ")
        for contributor in priority.contributors:
            assert contributor.item in row["contributors"]


def test_an_override_is_marked_on_the_bar_and_in_words(formulation: Formulation) -> None:
    spec = P.priorities(formulation).to_dict()
    rows = rows_with(spec, "score", "band", "note")
    overridden = [row for row in rows if row["overridden"]]
    assert [row["area"] for row in overridden] == ["emotion-management"]
    assert overridden[0]["note"].startswith("✎ high by override (rule: ")
    stroke = next(layer for layer in spec["layer"] if "strokeWidth" in layer["encoding"])
    assert stroke["encoding"]["strokeWidth"]["condition"]["test"] == "datum.overridden"
    sentences = P.describe_priorities(formulation).sentences
    assert any("set by the assessor" in sentence for sentence in sentences)


def test_the_contributing_items_are_in_the_tooltip(formulation: Formulation) -> None:
    spec = P.priorities(formulation).to_dict()
    bars = next(layer for layer in spec["layer"] if "tooltip" in layer["encoding"])
    fields = [tip["field"] for tip in bars["encoding"]["tooltip"]]
    assert "contributors" in fields


# --- strengths --------------------------------------------------------------------------------


def test_strength_dots_are_the_formulations_strengths(formulation: Formulation) -> None:
    dots = rows_with(P.strengths(formulation).to_dict(), "item", "area_id", "presence")
    expected = {(s.item, p.area) for p in formulation.priorities for s in p.strengths}
    assert {(dot["item"], dot["area_id"]) for dot in dots} == expected
    present = {
        item.item
        for domain in formulation.domains
        if domain.kind == ItemKind.PROTECTIVE
        for item in domain.items
        if item.presence in (Presence.YES, Presence.PARTIAL)
    }
    assert {dot["item"] for dot in dots} <= present


def test_a_strength_supporting_no_area_gets_its_own_row(formulation: Formulation) -> None:
    # PF7 (working alliance) supports no intervention area in the shipped definition.
    spec = P.strengths(formulation).to_dict()
    assert any("No specific area" in json.dumps(rows) for rows in datasets(spec))
    assert any("no specific area" in s for s in P.describe_strengths(formulation).sentences)


def test_no_strengths_says_so_in_words() -> None:
    none = make_formulation(
        {
            **RATINGS,
            "PF1": ("no", None),
            "PF2": ("no", None),
            "PF3": ("no", None),
            "PF5": ("no", None),
            "PF7": ("no", None),
        }
    )
    spec = P.strengths(none).to_dict()
    assert "No protective factor is rated present." in json.dumps(spec)
    assert P.describe_strengths(none).rows == ()


# --- change -----------------------------------------------------------------------------------


def test_change_draws_each_area_at_each_assessment() -> None:
    first = make_formulation({**RATINGS, "EM5": ("no", None)}, assessed_on="2026-03-01")
    second = make_formulation(version=2, previous={**RATINGS, "EM5": ("no", None)})
    spec = P.change([second, first]).to_dict()
    rows = rows_with(spec, "area_id", "band", "score", "occasion")
    for formulation in (first, second):
        version = formulation.header.assessment_version
        mine = {row["area_id"]: row for row in rows if row["version"] == version}
        assert {area: (row["band"], row["score"]) for area, row in mine.items()} == {
            p.area: (p.computed_band.value, p.score) for p in formulation.priorities
        }
    domains = rows_with(spec, "domain", "present", "total")
    assert {row["version"] for row in domains} == {1, 2}


def test_change_of_one_formulation_draws_its_previous_assessment() -> None:
    second = make_formulation(version=2, previous={**RATINGS, "EM5": ("no", None)})
    assert second.change is not None
    rows = rows_with(P.change([second]).to_dict(), "area_id", "band", "score")
    before = {row["area_id"]: row["score"] for row in rows if row["version"] == 1}
    assert before == {a.area: a.score_before for a in second.change.areas}
    description = P.describe_change([second])
    assert description.columns[2].startswith("v1")


def test_change_refuses_formulations_of_different_cases(formulation: Formulation) -> None:
    other = make_formulation(case={"reference": "C-0002", "pathway": "engaged"})
    with pytest.raises(InstrumentError) as error:
        P.change([formulation, other])
    assert error.value.where == "$.header.case_reference"
    with pytest.raises(InstrumentError):
        P.change([])


# --- agreement --------------------------------------------------------------------------------


def test_agreement_compares_every_item(formulation: Formulation) -> None:
    second = make_formulation(
        {**RATINGS, "ID1": ("partial", "high"), "EM3": ("partial", "moderate")},
        assessor="B. Second",
    )
    rows = rows_with(P.agreement(formulation, second).to_dict(), "verdict", "a", "b")
    verdicts = {row["item"]: row["verdict"] for row in rows}
    assert verdicts["ID1"] == "presence differs"
    assert verdicts["EM3"] == "relevance differs"
    assert verdicts["ID2"] == "same"
    description = P.describe_agreement(formulation, second)
    assert description.columns[1:3] == ("A. Assessor", "B. Second")
    assert "Presence differs on: ID1." in description.sentences


def test_agreement_refuses_different_instrument_versions(formulation: Formulation) -> None:
    header = formulation.header.model_copy(
        update={"instrument": formulation.header.instrument.model_copy(update={"version": "9.9.9"})}
    )
    other = formulation.model_copy(update={"header": header})
    with pytest.raises(InstrumentError):
        P.agreement(formulation, other)


# --- worked cases -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", WORKED, ids=lambda path: path.name.split(".")[0])
def test_every_chart_of_every_worked_case_validates(path: Path) -> None:
    formulation = load_formulation(path)
    for kind, chart in P.CHARTS.items():
        chart.draw(formulation).to_dict()  # raises when the spec is invalid
        description = chart.describe(formulation)
        assert description.sentences, kind


def test_the_fixture_uses_the_shipped_instrument(instrument: Instrument) -> None:
    assert make_formulation().header.instrument.version == instrument.version
    assert NOW.tzinfo is dt.UTC


def test_strengths_have_their_own_colour_family_in_every_chart(formulation: Formulation) -> None:
    spec = json.dumps(P.profile(formulation).to_dict())
    assert P.STRENGTH_COLOURS["strength-yes"] in spec
    heat = rows_with(P.heatmap(formulation).to_dict(), "item", "presence")
    for row in heat:
        if row["item"].startswith("PF") and row["presence"] in ("yes", "partial"):
            raise AssertionError(f"{row['item']} drawn like a risk item")
    strengths = json.dumps(P.strengths(formulation).to_dict())
    assert P.STRENGTH_COLOURS["strength-yes"] in strengths
    assert P.PRESENCE_COLOURS["yes"] not in strengths
