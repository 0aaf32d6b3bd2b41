"""SECURITY.md 29: viewers see no free text (issue 11, item 8).

A canary is typed into every free-text field of a case (evidence, responsivity note and
adaptation, override rationale, 5P narrative); a viewer's formulation, the formulation page, the
conference page and `report --redact` show none of them. The override stays visible (band, that
there is one), its text does not.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from instrument.assessment import ResponsivityNote
from instrument.formulation import REDACTED_RATIONALE, formulation_json, redact
from instrument.report import render_html
from instrument.ui import state
from instrument.ui.pages.formulation import PARTS
from tests.ui.app_support import CASE, fill, finalise, new_case
from tests.ui.conftest import Web, texts

CANARY = "CANARYzq7f3a"
RATIONALE = f"{CANARY} rationale: seen in three sessions, the rule underrates it."
NARRATIVE = f"{CANARY} narrative of the presenting problem."
NOTE = f"{CANARY} note on reading."
ADAPTATION = f"{CANARY} adaptation: spoken material."
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def written(web: Web) -> Web:
    """Case C-0001 finalised with a canary in every free-text field."""
    new_case(web)
    draft = fill(web, evidence=f"{CANARY} evidence.")
    actor = web.actor("psychologist")
    with web.service() as service:
        draft = service.save_responsivity(
            actor,
            CASE,
            1,
            "RS1",
            ResponsivityNote(presence="yes", note=NOTE, adaptation=ADAPTATION),
            base_revision=draft.revision,
        )
        draft = service.set_override(
            actor, CASE, 1, "identity", "high", RATIONALE, base_revision=draft.revision
        )
        service.save_narrative(
            actor, CASE, 1, "presenting", NARRATIVE, base_revision=draft.revision + 0
        )
    finalise(web)
    return web


def test_req29_viewer_formulation_holds_no_free_text(written: Web) -> None:
    with written.service() as service:
        full = service.formulation(written.actor("psychologist"), CASE, 1)
        shown = service.formulation(written.actor("viewer"), CASE, 1)
    assert CANARY in formulation_json(full)  # the canaries are there to be hidden
    text = formulation_json(shown)
    assert CANARY not in text
    identity = next(p for p in shown.priorities if p.area == "identity")
    assert identity.override is not None  # the override's existence stays visible
    assert identity.override.rationale == REDACTED_RATIONALE
    assert shown.review.overrides["identity"].rationale == REDACTED_RATIONALE
    assert all(section.narrative is None for section in shown.five_p)
    assert all(r.adaptation is None and r.note is None for r in shown.responsivity)


def _everything_drawn(web: Web, who: str, page: str) -> str:
    """Return the text of every tab of the page, with every area's card open."""
    if page == "conference":
        at = web.app(who, page, case=CASE, v="1")
        assert not at.exception, [e.value for e in at.exception]
        return texts(at)
    shown = []
    for part in PARTS:
        at = web.app(who, page, case=CASE, v="1", **{state.FORMULATION_PART: part})
        for area in ("identity", "grievance", "belonging", "resilience"):
            at.session_state[
                state.widget_key(state.FORMULATION_REVIEW, f"{CASE}.1.card.{area}")
            ] = True
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        shown.append(texts(at))
    return "\n".join(shown)


@pytest.mark.parametrize("page", ["formulation", "conference"])
def test_req29_viewer_pages_show_no_free_text(written: Web, page: str) -> None:
    shown = _everything_drawn(written, "viewer", page)
    assert CANARY not in shown
    assert "identity" in shown.lower()
    # The same page, opened the same way, shows the texts to the assessor.
    assert CANARY in _everything_drawn(written, "psychologist", page)


def test_req29_report_redact_holds_no_free_text(written: Web, tmp_path: Path) -> None:
    with written.service() as service:
        full = service.formulation(written.actor("psychologist"), CASE, 1)
    assert CANARY not in render_html(full, redact=True)
    assert CANARY not in formulation_json(redact(full))
    source = tmp_path / "f.json"
    source.write_text(formulation_json(full), encoding="utf-8")
    out = tmp_path / "r.html"
    result = subprocess.run(
        [sys.executable, "-m", "instrument", "report", str(source), "-o", str(out), "--redact"],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    report = out.read_text(encoding="utf-8")
    assert CANARY not in report
    assert json.loads(source.read_text())["redacted"] is False
