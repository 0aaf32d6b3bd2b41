"""The shipped definition, the loader and the semantic checks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from instrument.definition import Instrument
from instrument.definitions import SHIPPED, get_instrument, installed, load_definition
from instrument.errors import DocumentError, NotFoundError
from instrument.vocabulary import ItemKind

DEFINITION = SHIPPED / "ifi-1.0.yaml"

# The fixed ids of INSTRUMENT.md.
ITEM_IDS = (
    [f"ID{n}" for n in range(1, 6)]
    + [f"GA{n}" for n in range(1, 7)]
    + [f"EM{n}" for n in range(1, 7)]
    + [f"BE{n}" for n in range(1, 8)]
    + [f"CA{n}" for n in range(1, 4)]
    + [f"PF{n}" for n in range(1, 9)]
)
AREA_IDS = [
    "susceptibility-awareness",
    "indoctrination-resilience",
    "identity",
    "group-identity-hostility",
    "emotion-management",
    "beliefs-about-others",
    "entitlement-to-harm",
]
# "driven mainly by" and "supported by" of INSTRUMENT.md's table.
AREA_TABLE = {
    "susceptibility-awareness": ("ID2 EM1 EM2 GA4 GA6", "ID1 ID3 BE7 GA3"),
    "indoctrination-resilience": ("BE7 GA2", "GA1 GA5 ID1"),
    "identity": ("ID1 ID2 ID3 ID4", "ID5 GA4"),
    "group-identity-hostility": ("ID4 BE1 EM3", "GA1 GA5 BE2"),
    "emotion-management": ("EM5 EM3 EM4", "EM1 EM2 EM6"),
    "beliefs-about-others": ("BE2 BE3 BE1", "EM3 ID4"),
    "entitlement-to-harm": ("BE6 BE4 BE5", "BE3 ID5"),
}
STRENGTHS = {
    "susceptibility-awareness": ["PF4", "PF5"],
    "indoctrination-resilience": ["PF4"],
    "identity": ["PF2", "PF3"],
    "group-identity-hostility": ["PF1", "PF2"],
    "emotion-management": ["PF6"],
    "beliefs-about-others": ["PF4"],
    "entitlement-to-harm": ["PF8"],
}


def _raw() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DEFINITION.read_text(encoding="utf-8"))
    return loaded


def _write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "copy.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def test_shipped_definition_loads(instrument: Instrument) -> None:
    assert instrument.key == ("ifi", "1.0.0")
    assert [item.id for item in instrument.items] == ITEM_IDS
    assert [area.id for area in instrument.areas] == AREA_IDS
    assert [rs.id for rs in instrument.responsivity] == [f"RS{n}" for n in range(1, 8)]


@pytest.mark.parametrize("area_id", AREA_IDS)
def test_weights_follow_the_area_table(instrument: Instrument, area_id: str) -> None:
    mainly, supported = AREA_TABLE[area_id]
    weights = {item.id: weight for item, weight in instrument.area_items(area_id)}
    assert weights == {
        **dict.fromkeys(mainly.split(), 1.0),
        **dict.fromkeys(supported.split(), 0.5),
    }
    assert instrument.area_by_id[area_id].strengths == STRENGTHS[area_id]


@pytest.mark.parametrize("item_id", ITEM_IDS)
def test_every_item_has_guidance_and_a_role(instrument: Instrument, item_id: str) -> None:
    item = instrument.item_by_id[item_id]
    for text in (item.description, item.guidance.no, item.guidance.partial, item.guidance.yes):
        assert len(text.strip()) > 20
    if instrument.kind_of(item_id) is not ItemKind.RISK:
        assert item.weights == {}


def test_every_area_has_three_to_six_sessions(instrument: Instrument) -> None:
    for area in instrument.areas:
        assert 3 <= len(area.sessions) <= 6


def test_prevention_always_offers_two_areas(instrument: Instrument) -> None:
    assert instrument.pathway_by_id["prevention"].always_offered == [
        "susceptibility-awareness",
        "indoctrination-resilience",
    ]


def test_installed_and_lookup() -> None:
    assert ("ifi", "1.0.0") in installed()
    with pytest.raises(NotFoundError, match=r"ifi 9\.9\.9 is not installed"):
        get_instrument("ifi", "9.9.9")


def _refused(tmp_path: Path, document: dict[str, Any]) -> list[str]:
    with pytest.raises(DocumentError) as caught:
        load_definition(_write(tmp_path, document))
    return [str(p) for p in caught.value.problems()]


def test_duplicate_item_id_is_refused(tmp_path: Path) -> None:
    document = _raw()
    document["items"][1]["id"] = "ID1"
    assert "$.items[1].id: duplicate id 'ID1'" in _refused(tmp_path, document)


def test_weight_naming_an_unknown_area_is_refused(tmp_path: Path) -> None:
    document = _raw()
    document["items"][0]["weights"]["no-such-area"] = 1.0
    assert "$.items[0].weights.no-such-area: unknown intervention area 'no-such-area'" in (
        _refused(tmp_path, document)
    )


def test_protective_item_driving_an_area_is_refused(tmp_path: Path) -> None:
    document = _raw()
    pf1 = next(i for i, item in enumerate(document["items"]) if item["id"] == "PF1")
    document["items"][pf1]["weights"] = {"identity": 1.0}
    problems = _refused(tmp_path, document)
    assert any(p.startswith(f"$.items[{pf1}].weights: protective item PF1") for p in problems)


def test_capability_item_driving_an_area_is_refused(tmp_path: Path) -> None:
    document = _raw()
    ca1 = next(i for i, item in enumerate(document["items"]) if item["id"] == "CA1")
    document["items"][ca1]["weights"] = {"identity": 0.5}
    problems = _refused(tmp_path, document)
    assert any(p.startswith(f"$.items[{ca1}].weights: capability item CA1") for p in problems)


def test_area_driven_by_one_item_is_refused(tmp_path: Path) -> None:
    document = copy.deepcopy(_raw())
    for item in document["items"]:
        weights = item.get("weights", {})
        if "indoctrination-resilience" in weights and item["id"] != "BE7":
            del weights["indoctrination-resilience"]
    problems = _refused(tmp_path, document)
    assert any("'indoctrination-resilience' is driven by 1 item(s)" in p for p in problems)


def test_strength_that_is_not_protective_is_refused(tmp_path: Path) -> None:
    document = _raw()
    document["areas"][0]["strengths"] = ["ID1"]
    assert "$.areas[0].strengths[0]: 'ID1' is not a protective item" in _refused(tmp_path, document)


def test_schema_refuses_a_missing_field_with_its_path(tmp_path: Path) -> None:
    document = _raw()
    del document["items"][2]["guidance"]
    assert "$.items[2].guidance: is required" in _refused(tmp_path, document)


def test_yaml_duplicate_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("id: ifi\nid: other\n", encoding="utf-8")
    with pytest.raises(DocumentError) as caught:
        load_definition(path)
    assert "$.id: duplicate key 'id'" in [str(p) for p in caught.value.problems()]


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="not valid YAML"):
        load_definition(path)
