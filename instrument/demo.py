"""The demonstration database: the fictional worked cases and one account per role.

`make demo` starts the app on its own database (`data/demo.db`, never the working one). On the
first start `load_demo` creates the accounts with random passwords (returned once, for the
terminal), a team `demo`, and imports every worked case from `formulations/` through the
service, exactly as a user would: imported as drafts, reviewed where a review file exists, and
finalised with the psychologist's password, except the case with too little information, left
as a draft to show one; then the whole cases of `formulations/plans/` (case exports with their
intervention plan, delivery and reviews). Later starts find the accounts and load nothing.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from instrument.access import SYSTEM, Actor
from instrument.errors import AuthenticationError
from instrument.service import Service

DEMO_TEAM = "demo"
WORKED_CASES = Path(__file__).resolve().parent.parent / "formulations"
KEEP_AS_DRAFT = ("wc-06",)
"""Worked cases left as drafts, so that the demo shows one."""
NATIVE_11 = ("wc-07-intent-prompt", "wc-08-nothing-offered", "wc-09-judgement")
"""Worked cases assessed under ifi 1.1: the escalation prompt raised, and no area offered."""

DEMO_ACCOUNTS = (
    ("demo.psychologist", "psychologist"),
    ("demo.supervisor", "supervisor"),
    ("demo.viewer", "viewer"),
    ("demo.facilitator", "facilitator"),
)


def _signed_in(service: Service, username: str, password: str) -> Actor:
    actor = service.session_actor(service.sign_in(username, password))
    if actor is None:  # a session just made is valid; this only guards the type
        raise AuthenticationError(f"could not sign in as {username}")
    return actor


def load_demo(
    db_path: Path,
    *,
    key_path: Path | None = None,
    cases: Path = WORKED_CASES,
    db_key_path: Path | None = None,
) -> list[tuple[str, str, str]]:
    """Fill an empty database with the demo; return (username, role, password) once.

    Returns an empty list when the database already has users (the demo was loaded before).
    """
    with Service.open(db_path, key_path=key_path, db_key_path=db_key_path) as service:
        admin_password = service.ensure_admin()
        if admin_password is None:
            return []
        # The operator's `system` actor sets the demo accounts up (an administrator never
        # chooses passwords); the admin's own is a one-time one, changed at the first sign-in.
        service.add_team(SYSTEM, DEMO_TEAM)
        accounts = [("admin", "admin", admin_password)]
        for username, role in DEMO_ACCOUNTS:
            password = secrets.token_urlsafe(15)
            service.add_user(SYSTEM, username, role, password, team=DEMO_TEAM)
            accounts.append((username, role, password))
        psychologist, password = accounts[1][0], accounts[1][2]
        actor = _signed_in(service, psychologist, password)
        for path in sorted(cases.glob("*.assessment.json")):
            _load_case(service, actor, password, path)
        # The cases assessed under 1.1 (the upgraded copies of the cases above are not loaded:
        # the demo shows the upgrade as a button on each final 1.0 version instead).
        for name in NATIVE_11:
            path = cases / "1.1" / f"{name}.assessment.json"
            if path.exists():
                _load_case(service, actor, password, path)
        # Whole cases with their intervention plan (case exports), e.g. WC-10.
        for path in sorted((cases / "plans").glob("*.case.json")):
            service.import_case(actor, path.read_bytes(), team=DEMO_TEAM)
        service.sign_out_everywhere(actor)
    return accounts


def _load_case(service: Service, actor: Actor, password: str, path: Path) -> None:
    """Import one worked case, apply its review, and finalise it (unless kept as a draft)."""
    draft = service.import_assessment(actor, path.read_bytes(), team=DEMO_TEAM)
    name = path.name.removesuffix(".assessment.json")
    review_path = path.with_name(f"{name}.review.json")
    if review_path.exists():
        review = json.loads(review_path.read_text(encoding="utf-8"))
        for area, override in review.get("overrides", {}).items():
            draft = service.set_override(
                actor,
                draft.reference,
                draft.version,
                area,
                override["band"],
                override["rationale"],
                base_revision=draft.revision,
            )
        for heading, text in review.get("narratives", {}).items():
            draft = service.save_narrative(
                actor, draft.reference, draft.version, heading, text, base_revision=draft.revision
            )
    if name.startswith(KEEP_AS_DRAFT):
        return
    service.confirm_password(actor, password)
    service.finalise(actor, draft.reference, draft.version)
