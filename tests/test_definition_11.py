"""The 1.1 definition: the ids INSTRUMENT.md fixes, and every new rule of check_definition."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from instrument.definition import Instrument
from instrument.definitions import SHIPPED, current_instrument, load_definition
from instrument.errors import DocumentError
from instrument.vocabulary import Good, ItemKind

DEFINITION = SHIPPED / "ifi-1.1.yaml"
V11 = current_instrument()


def _raw() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DEFINITION.read_text(encoding="utf-8"))
    return loaded


def _refused(tmp_path: Path, document: dict[str, Any]) -> list[str]:
    path = tmp_path / "copy.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    with pytest.raises(DocumentError) as caught:
        load_definition(path)
    return [str(p) for p in caught.value.problems()]


def test_the_ids_instrument_md_fixes() -> None:
    assert V11.key == ("ifi", "1.1.0")
    assert [i.id for i in V11.items_of("intent")] == ["IA1", "IA2", "IA3", "IA4"]
    assert V11.domain_by_id["intent"].kind is ItemKind.INTENT
    assert all(not item.weights for item in V11.items_of("intent"))
    assert [g.id.value for g in V11.goods] == [
        "life",
        "knowledge",
        "play",
        "work",
        "agency",
        "inner-peace",
        "relatedness",
        "community",
        "spirituality",
        "pleasure",
        "creativity",
    ]
    assert {g.id for g in V11.goods} == set(Good)
    assert [r.value for r in V11.scales.omit_reasons or []] == [
        "not-asked",
        "declined",
        "no-records",
        "conflicting-information",
        "other",
    ]


def test_every_session_has_an_id_title_aims_items_and_pathways() -> None:
    assert [s.id for s in V11.foundation] == [f"foundation.{n}" for n in range(1, 5)]
    for area in V11.areas:
        assert not area.sessions  # 1.1 holds the catalogue, not bare topics
        assert 3 <= len(area.catalogue) <= 6
        assert [s.id for s in area.catalogue] == [
            f"{area.id}.{n}" for n in range(1, len(area.catalogue) + 1)
        ]
        assert area.goods
        for session in area.catalogue:
            assert session.title
            assert session.aims
            assert session.pathways
            assert session.items
            assert all(item in V11.item_by_id for item in session.items)
            assert re.fullmatch(r"[a-z-]+\.[0-9]+", session.id)
    assert len(V11.session_by_id) == 4 + sum(len(a.catalogue) for a in V11.areas)


def test_relevance_is_worded_for_each_pathway_and_for_strengths() -> None:
    scales = V11.scales
    assert scales.relevance_by_pathway is not None
    assert "susceptibility" in scales.relevance_for("prevention", ItemKind.RISK)[2].description
    assert "offending" in scales.relevance_for("convicted", ItemKind.RISK)[2].description
    assert "involvement" in scales.relevance_for("engaged", ItemKind.RISK)[2].description
    strength = scales.relevance_for("convicted", ItemKind.PROTECTIVE)[2].description
    assert "strength" in strength
    assert "offending" not in strength


def test_presence_anchors_describe_presence_only() -> None:
    text = {i: V11.item_by_id[i].guidance.yes for i in ("ID2", "ID3", "EM4")}
    assert "interest or involvement" not in text["ID2"]
    assert "motivate choices" not in text["ID3"]
    assert "linked in time or meaning" not in text["EM4"]
    for item in ("EM1", "EM2"):
        note = V11.item_by_id[item].guidance.note or ""
        assert "not the validity" in note
        assert "is not itself a need" in note
    ca3 = V11.item_by_id["CA3"].guidance
    assert "not rated here" in ca3.no
    assert "allegation" not in ca3.partial.lower()
    assert V11.item_by_id["CA4"].name == "History of non-violent offending"


def test_a_weight_that_would_bury_a_decisive_factor_is_refused(tmp_path: Path) -> None:
    document = _raw()
    ga1 = next(i for i in document["items"] if i["id"] == "GA1")
    ga1["weights"]["indoctrination-resilience"] = 0.4  # 0.4 / 3 < 0.16
    problems = _refused(tmp_path, document)
    assert any(
        "GA1 rated yes with high relevance would leave indoctrination" in p for p in problems
    )
    document = _raw()
    del document["rule"]["reference_weight"]
    assert any("reference_weight: required" in p for p in _refused(tmp_path, document))


def test_session_ids_goods_escalation_migrations_and_phrases_are_checked(tmp_path: Path) -> None:
    document = _raw()
    document["areas"][0]["catalogue"][1]["id"] = "identity.2"
    document["goods"] = [g for g in document["goods"] if g["id"] != "creativity"]
    document["foundation"][0]["items"] = ["ZZ9"]
    document["escalation"]["any_of"][0]["all_of"][0]["items"] = ["IA9"]
    document["migrations"][0]["new"] = ["IA5"]
    del document["items"][0]["phrase"]
    problems = _refused(tmp_path, document)
    joined = "\n".join(problems)
    assert "should be 'susceptibility-awareness.2'" in joined
    assert "$.areas[2].goods[3]: good 'creativity' is not defined under `goods`" in joined
    assert "$.foundation[0].items[0]: unknown item id 'ZZ9'" in joined
    assert "$.escalation.any_of[0].all_of[0].items[0]: unknown item id 'IA9'" in joined
    assert "$.migrations[0].new: 'IA5' is not an item of this version" in joined
    assert "$.items[0].phrase: ID1 has no phrase while other items have one" in joined


def test_intent_items_may_not_drive_an_area(tmp_path: Path) -> None:
    document = _raw()
    ia1 = next(i for i in document["items"] if i["id"] == "IA1")
    ia1["weights"] = {"identity": 1.0}
    assert any("intent item IA1 must not drive" in p for p in _refused(tmp_path, document))


def test_10_stays_installed_unchanged(instrument: Instrument) -> None:
    assert instrument.key == ("ifi", "1.0.0")
    assert instrument.escalation is None
    assert not instrument.goods
    assert not instrument.migrations
    assert len(instrument.items) == 35


def test_an_unknown_good_is_refused_by_the_schema_with_its_path(tmp_path: Path) -> None:
    document = _raw()
    document["areas"][1]["goods"] = ["wealth"]
    assert any(p.startswith("$.areas[1].goods[0]:") for p in _refused(tmp_path, document))
