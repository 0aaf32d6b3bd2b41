"""The use cases shared by the command line and the web app: access → core → store → audit.

`Service` is the one facade: every operation takes the acting user, asks `instrument.access`
first (deny by default), does its work in one store transaction together with its audit entry
(`base.py`, written once), and returns frozen views (`views.py`). The use cases live in one
module each: `auth` (sign-in, sessions, password re-entry), `admin` (users, teams, the audit
viewer), `cases`, `assessments` (drafts and autosave), `judgement` (the assessor's judgement,
part by part), `review` (finalise, countersign, amend, overrides, narratives, formulations),
`upgrade` (a final version onto the current definition), `focus`, `exchange` (import and
export), `history` (the field history of drafts), `plans` (the intervention plan, its delivery
log and progress reviews), `rendered` (kept renderings) and `backup`.

Reads that a page repeats on every rerun (`get_assessment`, `formulation`, `case_history`,
`session_actor`) are not audited; `open_case` is, once per opening: the UI calls it once when a
case is opened.
"""

from __future__ import annotations

from instrument.access import Actor, Role
from instrument.service.admin import AdminService
from instrument.service.assessments import AssessmentService
from instrument.service.auth import AuthService
from instrument.service.backup import BackupService
from instrument.service.cases import PAGE_SIZE, CaseService
from instrument.service.exchange import ExchangeService
from instrument.service.focus import FocusService
from instrument.service.history import HistoryService
from instrument.service.judgement import JudgementService
from instrument.service.plans import PlanService
from instrument.service.rendered import RenderedService
from instrument.service.review import ReviewService
from instrument.service.upgrade import UpgradeService
from instrument.service.views import (
    AuditRow,
    CasePageView,
    CaseRow,
    CaseView,
    DeliveryView,
    Draft,
    FieldChangeRow,
    ImportResult,
    PlanDraft,
    SignatureRow,
    UserRow,
    VersionRow,
)

__all__ = [
    "PAGE_SIZE",
    "Actor",
    "AuditRow",
    "CasePageView",
    "CaseRow",
    "CaseView",
    "DeliveryView",
    "Draft",
    "FieldChangeRow",
    "ImportResult",
    "PlanDraft",
    "Role",
    "Service",
    "SignatureRow",
    "UserRow",
    "VersionRow",
]


class Service(
    AuthService,
    AdminService,
    CaseService,
    AssessmentService,
    JudgementService,
    ReviewService,
    UpgradeService,
    FocusService,
    ExchangeService,
    PlanService,
    HistoryService,
    BackupService,
    RenderedService,
):
    """The instrument's use cases over one open store; one per browser session or CLI run.

    Open it with `Service.open(db_path, ...)` or over any `Store` with `Service(store, ...)`.
    """
