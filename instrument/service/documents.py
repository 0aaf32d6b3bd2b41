"""Use cases on documents: validate, formulate, report, chart, schemas, installed definitions.

The entry points reach the document adapters (definitions loading, `exchange`, `report`,
`schemas`) only through here, so the CLI command and the web app's button that do the same thing
call the same function. `Documents` needs no database: it holds the installed definitions (the
shipped ones and those of the `INSTRUMENT_DEFINITIONS` folder the entry point passes in).
`formulation_document` is the one way a stored formulation leaves the web app as a file: the
service's `export_formulation` (access check, password, audit entry), then the document.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

from instrument.access import Actor
from instrument.assessment import Assessment
from instrument.case import CaseExport, VersionRecord
from instrument.definition import Instrument
from instrument.definitions import catalogue, load_definition
from instrument.errors import DocumentError, Problem
from instrument.exchange.assessments import load_assessment, load_formulation
from instrument.exchange.case import is_case_document, parse_case
from instrument.exchange.documents import read_bytes
from instrument.exchange.formats import DEFAULT_FORMAT, FORMATS, ExportFormat, export_format
from instrument.formulation import Formulation
from instrument.formulation import formulate as formulate_assessment
from instrument.migration import upgrade_assessment
from instrument.plan import CasePlan, plan_only, plan_state, redact_case_plan
from instrument.profile import CHARTS
from instrument.report import (
    CHART_FORMATS,
    REPORT_FORMATS,
    SignOff,
    chart_bytes,
    render_blank_form,
    render_blank_form_pdf,
    render_plan_docx,
    render_plan_html,
    render_plan_pdf,
    renderer_fingerprint,
    report_bytes,
)
from instrument.report import chart_width as measured_width
from instrument.schemas import SCHEMA_DIR, drifted_schemas, write_schemas
from instrument.service.views import VersionRow

DOCUMENT_KINDS: tuple[str, ...] = ("instrument", "assessment", "formulation")
CHART_NAMES: tuple[str, ...] = tuple(CHARTS)
EXPORT_FORMATS: tuple[str, ...] = tuple(FORMATS)

__all__ = [
    "CHART_FORMATS",
    "CHART_NAMES",
    "DEFAULT_FORMAT",
    "DOCUMENT_KINDS",
    "EXPORT_FORMATS",
    "FORMATS",
    "PLAN_FORMATS",
    "REPORT_FORMATS",
    "SCHEMA_DIR",
    "Documents",
    "DownloadKind",
    "ExportFormat",
    "Exports",
    "PlanFormat",
    "case_document",
    "chart_width",
    "formulation_document",
    "plan_report",
]


class Documents:
    """Documents in and out without a database, on one set of installed definitions."""

    def __init__(self, definitions: Path | None = None) -> None:
        """Use the shipped definitions plus those in the folder `definitions`, if given.

        Raises:
            DocumentError: when the folder is missing or holds an invalid or repeated definition.
        """
        self.catalogue = catalogue(definitions)

    # --- definitions ---------------------------------------------------------------------------

    def installed(self) -> list[Instrument]:
        """Return every installed definition, sorted by id and version."""
        return [self.catalogue.definitions[key] for key in sorted(self.catalogue.definitions)]

    def default_instrument(self) -> Instrument:
        """Return the newest installed definition (the one new assessments use)."""
        return self.catalogue.newest()

    def instrument(self, instrument_id: str, version: str) -> Instrument:
        """Return an installed definition.

        Raises:
            NotFoundError: naming the installed versions.
        """
        return self.catalogue.get(instrument_id, version)

    # --- reading and checking files ------------------------------------------------------------

    def read_file(self, path: Path) -> bytes:
        """Return a document file's bytes within the size limit.

        Raises:
            DocumentError: when the file is missing, a folder, unreadable or too large.
        """
        return read_bytes(path)

    def validate(self, kind: str, path: Path) -> None:
        """Check a document file of `kind` (one of `DOCUMENT_KINDS`) completely.

        Raises:
            DocumentError: listing every problem with its JSON path, or naming the kinds.
        """
        if kind not in DOCUMENT_KINDS:
            raise DocumentError.at(
                kind, f"unknown document kind {kind!r}", f"use one of {', '.join(DOCUMENT_KINDS)}"
            )
        if kind == "instrument":
            load_definition(path)
        elif kind == "assessment":
            load_assessment(path, self.catalogue)
        else:
            load_formulation(path)

    def read_formulation(self, path: Path) -> Formulation:
        """Return the formulation document in a file, checked against its schema."""
        return load_formulation(path)

    def read_assessment(self, path: Path) -> Assessment:
        """Return the assessment document in a file, checked against its instrument."""
        return load_assessment(path, self.catalogue)

    # --- computing -----------------------------------------------------------------------------

    def upgrade(self, path: Path) -> Assessment:
        """Return the assessment in a file upgraded to the newest installed definition (a draft).

        Raises:
            DocumentError: when the file is invalid, or the newest definition declares no
                migration from the assessment's version.
        """
        return upgrade_assessment(self.catalogue.newest(), self.read_assessment(path))

    def formulate(
        self, assessment: Path, previous: Path | None, *, now: dt.datetime
    ) -> Formulation:
        """Return the formulation of an assessment file (with change from `previous`).

        Raises:
            DocumentError: for a problem in either file (the previous one's are marked so).
        """
        current = self.read_assessment(assessment)
        earlier = None
        if previous is not None:
            try:
                earlier = self.read_assessment(previous)
            except DocumentError as error:
                raise DocumentError(
                    [
                        Problem(p.where, f"previous assessment: {p.message}", p.fix)
                        for p in error.problems()
                    ]
                ) from None
        instrument = self.instrument(current.instrument.id, current.instrument.version)
        return formulate_assessment(instrument, current, earlier, generated_at=now)

    def formulation_bytes(self, formulation: Formulation, fmt: str = DEFAULT_FORMAT) -> bytes:
        """Return a formulation as a document of an export format, checked before it leaves."""
        return export_format(fmt).write_formulation(formulation)

    def case_bytes(self, document: dict[str, Any], fmt: str = DEFAULT_FORMAT) -> bytes:
        """Return a case export (`Service.export_case`) as a document of an export format."""
        return export_format(fmt).write_case(document)

    def report(
        self,
        formulation: Formulation,
        fmt: str,
        *,
        redact: bool = False,
        history: Sequence[Formulation] = (),
    ) -> bytes:
        """Return the report of a formulation as `.html` or `.pdf` bytes."""
        return report_bytes(formulation, fmt, redact=redact, history=history)

    def case_report(
        self,
        path: Path,
        fmt: str,
        *,
        today: dt.date,
        version: int | None = None,
        redact: bool = False,
        plan_only: bool = False,
    ) -> bytes:
        """Return the report of a case export file (`instrument export`), with its plan.

        The report is of the latest final version (or `version`), with the earlier final
        versions on the change chart, the signatures the export records (marked as read from
        the file: a file's signatures are not verified here) and, when the case has a plan, the
        plan, its delivery and reviews. `plan_only` gives the "plan only" report for the
        participant's file instead (no assessment, notes or evidence). `redact` leaves every
        free text and every name out, as a viewer's report does.

        Raises:
            DocumentError: for a file that is not a valid case export (every problem with its
                JSON path), a version that is not final, or a plan-only report without a plan.
        """
        suffix = _report_suffix(fmt)
        export = parse_case(self.read_file(path), self.catalogue, today)
        records = _case_plan(export, today=today, redact=redact)
        if plan_only:
            if records is None:
                raise DocumentError.at(
                    "$.plans",
                    f"case {export.case.reference} has no intervention plan",
                    "leave out --plan-only for the formulation's report",
                )
            instrument = self.instrument(*_definition_of(records))
            return plan_report(instrument, records, suffix)
        finals = [v for v in export.versions if v.formulation is not None]
        chosen = _chosen_version(export, finals, version)
        assert chosen.formulation is not None
        number = chosen.assessment.assessment.version
        # Earlier final versions, less those an amendment replaced (as the change is read).
        replaced = {v.assessment.assessment.replaces for v in export.versions}
        history = [
            v.formulation
            for v in finals
            if v.formulation is not None
            and v.assessment.assessment.version < number
            and v.assessment.assessment.version not in replaced
        ]
        signatures = [
            SignOff(s.meaning, s.by, None, s.at, "as the case export file records it")
            for s in chosen.signatures
        ]
        plan = (self.instrument(*_definition_of(records)), records) if records else None
        return report_bytes(
            chosen.formulation,
            suffix,
            redact=redact,
            history=history,
            signatures=signatures,
            plan=plan,
        )

    def is_case_export(self, path: Path) -> bool:
        """Return whether a file holds a case export (`"format": "instrument-case"`)."""
        return is_case_document(self.read_file(path))

    def blank_form(self, instrument: Instrument, fmt: str) -> bytes:
        """Return the printable blank form of a definition as `.pdf` (A4) or `.html`."""
        if fmt.lower().lstrip(".") == "pdf":
            return render_blank_form_pdf(instrument)
        return render_blank_form(instrument).encode("utf-8")

    def chart(self, formulation: Formulation, name: str, fmt: str) -> bytes:
        """Return one chart of a formulation (a name of `CHART_NAMES`) as `.svg` or `.png`."""
        return chart_bytes(formulation, name, fmt)

    # --- the published schemas -----------------------------------------------------------------

    def write_schemas(self) -> list[Path]:
        """Write `schemas/*.schema.json` from the models; return the files written."""
        return write_schemas()

    def drifted_schemas(self) -> list[Path]:
        """Return the schema files that differ from the models (empty when up to date)."""
        return [SCHEMA_DIR / f"{kind}.schema.json" for kind in drifted_schemas()]


DownloadKind = Literal["html", "pdf", "docx", "png", "svg", "formulation"]


class Exports(Protocol):
    """What the downloads need of the service: its audited exports."""

    def export_formulation(self, actor: Actor, reference: str, version: int) -> Formulation:
        """Return a version's formulation, audited as an export."""
        ...

    def export_case(
        self, actor: Actor, reference: str, *, team: str | None = None
    ) -> dict[str, Any]:
        """Return the whole case as one document, audited as an export."""
        ...

    def case_history(
        self, actor: Actor, reference: str, *, team: str | None = None
    ) -> list[VersionRow]:
        """Return every version of a case with its signatures."""
        ...

    def kept_rendering(self, formulation: Formulation, kind: str, renderer: str) -> bytes | None:
        """Return the kept rendering of a final formulation, or None."""
        ...

    def keep_rendering(
        self, formulation: Formulation, kind: str, renderer: str, content: bytes
    ) -> None:
        """Keep a final formulation's rendering."""
        ...

    def report_plan(self, actor: Actor, reference: str) -> tuple[Instrument, CasePlan] | None:
        """Return what the report carries of the case's plan (redacted for viewers), or None."""
        ...


def formulation_document(
    service: Exports,
    actor: Actor,
    reference: str,
    version: int,
    kind: DownloadKind,
    *,
    fmt: str = DEFAULT_FORMAT,
) -> bytes:
    """Return one document of a stored version for a download: audited, redacted for viewers.

    `kind` is the report (`html`, `pdf`), the profile chart (`png`, `svg`) or the formulation
    itself (`formulation`, in the export format `fmt`). The service checks access and the
    password and records one `export`; a viewer gets the redacted formulation. The report and
    chart of a final version are drawn once and kept in the database (`service.rendered`),
    keyed by the formulation the actor was given: a second download reads them back.

    Raises:
        AuthenticationError: when the password must be entered again.
        NotFoundError: when the actor may not read the case's formulation.
    """
    formulation = service.export_formulation(actor, reference, version)
    if kind == "formulation":
        return export_format(fmt).write_formulation(formulation)
    signed = sign_offs(service, actor, reference, version) if kind in _REPORTS else []
    # The reports (HTML, PDF, Word) carry the case's intervention plan.
    plan = service.report_plan(actor, reference) if kind in _REPORTS else None
    # The sign-off block and the plan are part of the report: a later countersignature, a
    # logged session or a review is a new rendering.
    renderer = renderer_fingerprint() + "\n" + repr(signed)
    if plan is not None:
        renderer += "\n" + plan[1].model_dump_json()
    kept = service.kept_rendering(formulation, kind, renderer)
    if kept is not None:
        return kept
    if kind in _REPORTS:
        content = report_bytes(
            formulation, kind, redact=formulation.redacted, signatures=signed, plan=plan
        )
    else:
        content = chart_bytes(formulation, "profile", kind)
    service.keep_rendering(formulation, kind, renderer, content)
    return content


_REPORTS = ("html", "pdf", "docx")


def sign_offs(service: Exports, actor: Actor, reference: str, version: int) -> list[SignOff]:
    """Return a version's signatures for the report's sign-off block (no names for viewers)."""
    rows = service.case_history(actor, reference)
    row = next((r for r in rows if r.version == version), None)
    found = []
    for s in row.signatures if row is not None else ():
        imported = None
        if s.imported:
            by = f" by {s.imported_by}" if s.by and s.imported_by else ""
            when = f" on {s.imported_at:%Y-%m-%d %H:%M} UTC" if s.imported_at else ""
            imported = f"imported{by}{when}"
        if s.meaning == "finalised by":
            found.append(SignOff("finalised by", s.by, s.role, s.at, imported))
        elif s.meaning == "countersigned by":
            found.append(SignOff("countersigned by", s.by, s.role, s.at, imported))
    return found


PlanFormat = Literal["html", "pdf", "docx"]
PLAN_FORMATS: tuple[PlanFormat, ...] = ("html", "pdf", "docx")


def plan_report(instrument: Instrument, case_plan: CasePlan, fmt: PlanFormat) -> bytes:
    """Return the "plan only" report (HTML, PDF or Word) of records `export_plan` gave.

    Pass the records as `export_plan(..., plan_only=True)` returns them; they are stripped of
    every evidence-level text again here (`plan_only`), so no caller can put evidence or
    session notes into the participant's file.
    """
    case_plan = plan_only(case_plan)
    if fmt == "pdf":
        return render_plan_pdf(instrument, case_plan)
    if fmt == "docx":
        return render_plan_docx(instrument, case_plan)
    return render_plan_html(instrument, case_plan).encode("utf-8")


def _report_suffix(fmt: str) -> PlanFormat:
    """Return a report format of `PLAN_FORMATS` (the report's formats) for `.pdf`, `docx`..."""
    suffix = fmt.lower().lstrip(".")
    for known in PLAN_FORMATS:
        if suffix == known:
            return known
    raise DocumentError.at(
        fmt or "(no suffix)",
        f"unknown format {fmt or '(no suffix)'!r}",
        f"use {' or '.join(REPORT_FORMATS)}",
    )


def _case_plan(export: CaseExport, *, today: dt.date, redact: bool) -> CasePlan | None:
    """Return a case export's plan records as the report reads them, or None without a plan."""
    if not export.plans:
        return None
    state = plan_state(export.plans, export.delivery, export.reviews, today=today)
    records = CasePlan(
        plans=export.plans, delivery=export.delivery, reviews=export.reviews, state=state
    )
    return redact_case_plan(records) if redact else records


def _definition_of(records: CasePlan) -> tuple[str, str]:
    latest = records.plans[-1]
    return latest.instrument.id, latest.instrument.version


def _chosen_version(
    export: CaseExport, finals: Sequence[VersionRecord], version: int | None
) -> VersionRecord:
    """Return the final version to report: `version`, or the latest final one."""
    numbers = [v.assessment.assessment.version for v in finals]
    if not finals:
        raise DocumentError.at(
            "$.versions",
            f"case {export.case.reference} has no final version to report",
            "finalise an assessment and export the case again",
        )
    if version is None:
        return finals[-1]
    for record in finals:
        if record.assessment.assessment.version == version:
            return record
    raise DocumentError.at(
        "--version",
        f"version {version} is not a final version of case {export.case.reference}",
        f"use one of {', '.join(str(n) for n in numbers)}",
    )


def case_document(
    service: Exports, actor: Actor, reference: str, fmt: str = DEFAULT_FORMAT
) -> bytes:
    """Return the whole case as a document of an export format, audited as an export.

    Raises:
        AuthenticationError: when the password must be entered again.
        PermissionDeniedError: when the actor's role may not export whole cases.
    """
    return export_format(fmt).write_case(service.export_case(actor, reference))


def chart_width(chart: Any) -> int:
    """Return a chart's width in pixels as drawn (for a page that gives each chart its room)."""
    return measured_width(chart)
