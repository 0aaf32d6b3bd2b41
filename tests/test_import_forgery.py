"""SECURITY.md 23: imports cannot forge (issue 11, item 2).

An export whose bands were rewritten is refused with the path of the first difference; one
whose signer was changed imports only as a signature made elsewhere, shown that way, never as a
local signature; into the installation that exported it, any change breaks its signature.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from instrument.access import SYSTEM
from instrument.errors import DocumentError
from instrument.exchange.case import case_json
from tests.store_support import PASSWORD, Team, make_team
from tests.test_exchange_case import CASES, _load_into

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Team, dict[str, Any]]:
    team = make_team(tmp_path / "a.db")
    reference = _load_into(team, CASES["WC-02"])
    team.service.confirm_password(team.psychologist, PASSWORD)
    return team, team.service.export_case(team.psychologist, reference)


def _final_index(document: dict[str, Any]) -> int:
    return next(
        i
        for i, v in enumerate(document["versions"])
        if v["assessment"]["assessment"]["status"] == "final"
    )


def _rewrite_band(document: dict[str, Any]) -> tuple[dict[str, Any], str]:
    forged = copy.deepcopy(document)
    index = _final_index(forged)
    priority = forged["versions"][index]["formulation"]["priorities"][0]
    priority["band"] = "low" if priority["band"] != "low" else "high"
    return forged, f"$.versions[{index}].formulation.priorities[0].band"


def test_req23_an_export_with_a_changed_band_is_refused_with_its_path(
    exported: tuple[Team, dict[str, Any]], tmp_path: Path
) -> None:
    _, document = exported
    forged, where = _rewrite_band(document)
    elsewhere = make_team(tmp_path / "b.db")
    with pytest.raises(DocumentError) as refused:
        elsewhere.service.import_case(SYSTEM, case_json(forged).encode(), "north")
    problems = {p.where: p.message for p in refused.value.problems()}
    assert where in problems
    assert "recomputed from the assessment" in problems[where]
    assert elsewhere.service.list_cases(SYSTEM) == []


def test_req23_the_cli_refuses_a_rewritten_band_with_exit_2_and_the_path(
    exported: tuple[Team, dict[str, Any]], tmp_path: Path
) -> None:
    _, document = exported
    forged, where = _rewrite_band(document)
    path = tmp_path / "forged.case.json"
    path.write_text(case_json(forged), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "instrument", "import", "--db", str(tmp_path / "c.db"), str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert result.returncode == 2
    assert f"{path}: {where}: does not match the formulation recomputed" in result.stderr
    assert "Traceback" not in result.stderr


def test_req23_a_changed_signer_imports_only_as_signed_elsewhere(
    exported: tuple[Team, dict[str, Any]], tmp_path: Path
) -> None:
    _, document = exported
    forged = copy.deepcopy(document)
    index = _final_index(forged)
    forged["versions"][index]["signatures"][0]["by"] = "chief.psychologist"
    elsewhere = make_team(tmp_path / "b.db")
    pat = elsewhere.psychologist
    elsewhere.service.import_case(pat, case_json(forged).encode())
    view = elsewhere.service.open_case(pat, forged["case"]["reference"])
    signatures = view.versions[index].signatures
    assert signatures
    assert all(s.imported for s in signatures)
    text = signatures[0].describe()
    assert text.startswith("signed elsewhere: finalised by chief.psychologist on ")
    assert ", imported by pat on " in text
    # No local signature exists: pat never signed this version here.
    assert not any(s.by == "pat" and not s.imported for s in signatures)


def test_req23_this_installations_signature_catches_any_change(
    exported: tuple[Team, dict[str, Any]],
) -> None:
    team, document = exported
    assert document["signature"]["algorithm"] == "HMAC-SHA256"
    forged = copy.deepcopy(document)
    index = _final_index(forged)
    forged["versions"][index]["signatures"][0]["by"] = "chief.psychologist"
    with pytest.raises(DocumentError) as refused:
        team.service.import_case(SYSTEM, case_json(forged).encode(), "south")
    assert [p.where for p in refused.value.problems()] == ["$.signature.value"]
    # Unchanged, the same export verifies and imports into another team here.
    result = team.service.import_case(SYSTEM, case_json(document).encode(), "south")
    assert result.team == "south"


def test_req23_a_forged_signature_block_is_refused(
    exported: tuple[Team, dict[str, Any]],
) -> None:
    team, document = exported
    forged = copy.deepcopy(document)
    forged["signature"]["value"] = "0" * 64
    with pytest.raises(DocumentError, match="changed after it was exported"):
        team.service.import_case(SYSTEM, json.dumps(forged).encode(), "south")


def test_req23_the_report_sign_off_marks_an_imported_signature(
    exported: tuple[Team, dict[str, Any]], tmp_path: Path
) -> None:
    from instrument.report import sign_off_rows
    from instrument.service.documents import sign_offs

    _, document = exported
    forged = copy.deepcopy(document)
    index = _final_index(forged)
    forged["versions"][index]["signatures"][0]["by"] = "chief.psychologist"
    elsewhere = make_team(tmp_path / "b.db")
    pat = elsewhere.psychologist
    elsewhere.service.import_case(pat, case_json(forged).encode())
    reference = forged["case"]["reference"]
    version = forged["versions"][index]["assessment"]["assessment"]["version"]
    rows = sign_off_rows(sign_offs(elsewhere.service, pat, reference, version))
    signed = [row for row in rows if row["signed"]]
    assert signed
    assert all("signed elsewhere; imported by pat on " in row["meaning"] for row in signed)
