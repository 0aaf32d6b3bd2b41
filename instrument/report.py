"""Documents for people: the formulation report as HTML and PDF, and single charts as SVG or PNG.

One report design, two formats: the HTML comes from a Jinja2 template with autoescaping on, so
text typed by a user (evidence, narratives, notes, names) can never become live markup; the PDF
is that same HTML laid out by WeasyPrint, which is allowed to fetch nothing. Charts are drawn by
`instrument.profile` and rendered by vl-convert, without a browser; each SVG is parsed and
checked for active content before it is embedded as markup (`checked_svg`), although every text
in it is already escaped by the renderer.

A redacted report (the `--redact` option, the viewer role) is made from `redact(formulation)`,
and the template shows no evidence text and no responsivity note whenever the formulation says
it is redacted, so evidence cannot reach it by either path.

Rendering a chart costs vl-convert about 0.7 ms per line of text it lays out, 100–200 ms for a
whole chart. The SVGs are deliberately not cached between calls: a chart spec holds a case's
ratings, and nothing about a case may outlive the request in a process shared by every user
(SECURITY.md 13).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import math
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import altair as alt
import jinja2
import vl_convert
from markupsafe import Markup

from instrument.definition import Instrument
from instrument.errors import DocumentError, RenderError
from instrument.formulation import Formulation, Priority, redact
from instrument.plan import CasePlan, Plan, area_of, progress_rows, side_by_side, timeline
from instrument.profile import (
    BAND_COLOURS,
    BAND_LABELS,
    BAND_TEXT,
    CHARTS,
    PRESENCE_LABELS,
    Description,
    band_phrase,
    change_spec,
    describe_change,
)
from instrument.profile.plan import (
    describe_progress,
    describe_timeline,
    progress_spec,
    timeline_spec,
)

# Vega-Lite version of the installed Altair, as vl-convert names it (e.g. "6.4").
VL_VERSION = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
PNG_SCALE = 2.0
_TEMPLATES = Path(__file__).resolve().parent / "templates"
WIDE = 1150  # px: charts wider than this get a landscape page in the PDF

REPORT_FORMATS: Mapping[str, str] = MappingProxyType(
    {
        ".html": "text/html",
        ".pdf": "application/pdf",
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
)
"""The report's formats: file suffix → media type."""
CHART_FORMATS: Mapping[str, str] = MappingProxyType({".svg": "image/svg+xml", ".png": "image/png"})
"""A single chart's formats: file suffix → media type."""

_SVG_NS = "{http://www.w3.org/2000/svg}"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_FORBIDDEN_TAGS = {"script", "foreignObject", "iframe", "object", "embed", "image", "use"}


# ---------------------------------------------------------------------------------------------
# Charts as pictures
# ---------------------------------------------------------------------------------------------


def chart_spec(chart: Any) -> dict[str, Any]:
    """Return the Vega-Lite spec of a chart (an Altair chart, or a spec in plain data).

    An Altair chart's is not validated again; a spec in plain data (a chart's `spec` in
    `instrument.profile.CHARTS`) is returned as it is.
    """
    if isinstance(chart, dict):
        return chart
    spec: dict[str, Any] = chart.to_dict(validate=False)
    return spec


def _svg(spec_json: str) -> str:
    try:
        svg: str = vl_convert.vegalite_to_svg(json.loads(spec_json), vl_version=VL_VERSION)
    except ValueError as error:  # vl-convert reports a bad spec as ValueError
        raise RenderError(
            f"the chart could not be drawn: {error}",
            where="$",
            fix="check that the formulation is complete and valid",
        ) from error
    return checked_svg(svg)


def chart_svg(chart: Any, *, aria: bool = True, titled: bool = True) -> str:
    """Render a chart (Altair, or a Vega-Lite spec in plain data) to SVG with vl-convert.

    The report passes `aria=False`, which leaves out Vega's ARIA label of every mark (each chart
    sits in an element with its own label and text description, which makes them redundant, and
    the SVG is about a quarter smaller), and `titled=False`, which leaves the title to the page's
    own type (WeasyPrint draws SVG text letter by letter; in the PDF a title cost more than the
    rest of some charts).
    """
    return _svg(json.dumps(_report_spec(chart, aria=aria, titled=titled), sort_keys=True))


def _report_spec(chart: Any, *, aria: bool, titled: bool) -> dict[str, Any]:
    spec = dict(chart_spec(chart))
    if not aria:
        spec["config"] = {**spec.get("config", {}), "aria": False}
    if not titled:
        spec.pop("title", None)
    return spec


def chart_png(chart: Any, *, scale: float = PNG_SCALE) -> bytes:
    """Render a chart to PNG bytes with vl-convert; `scale` 2 suits slides and print."""
    try:
        png: bytes = vl_convert.vegalite_to_png(
            chart_spec(chart), vl_version=VL_VERSION, scale=scale
        )
    except ValueError as error:
        raise RenderError(
            f"the chart could not be drawn: {error}",
            where="$",
            fix="check that the formulation is complete and valid",
        ) from error
    return png


def checked_svg(svg: str) -> str:
    """Return the SVG unchanged after checking that it holds no active content.

    Parses the SVG as XML and refuses scripts, foreign objects, embedded documents, event
    attributes (`on...`) and `javascript:` links. Text from users is escaped by the renderer, so
    this never fails on our charts; it is the check that makes embedding the SVG as markup safe.

    Raises:
        RenderError: when the SVG does not parse or holds active content.
    """
    try:
        root = ElementTree.fromstring(svg)
    except ElementTree.ParseError as error:
        raise RenderError(
            f"the chart's SVG does not parse: {error}", where="$", fix="report this as a bug"
        ) from error
    for element in root.iter():
        tag = element.tag.removeprefix(_SVG_NS)
        if tag in _FORBIDDEN_TAGS:
            raise RenderError(
                f"the chart's SVG holds a <{tag}> element", where="$", fix="report this as a bug"
            )
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on") or (
                name in ("href", _XLINK_HREF)
                and value.strip().lower().startswith(("javascript:", "data:"))
            ):
                raise RenderError(
                    f"the chart's SVG holds an active attribute {local!r}",
                    where="$",
                    fix="report this as a bug",
                )
    return svg


_SIZE = re.compile(r'^(<svg[^>]*?) width="([0-9.]+)" height="([0-9.]+)"')


def _responsive(svg: str) -> str:
    """Let the SVG shrink to the page or screen width, never grow, and keep its proportions.

    The fixed width and height give way to a width of 100% up to the natural width; the height
    follows from the viewBox (WeasyPrint kept the fixed height and left blank bands otherwise).
    """
    return _SIZE.sub(r'\1 width="100%" style="max-width:\2px"', svg, count=1)


# ---------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------

SIGN_OFF_MEANINGS: tuple[Literal["finalised by", "countersigned by"], ...] = (
    "finalised by",
    "countersigned by",
)


@dataclass(frozen=True)
class SignOff:
    """A signature as the report shows it: its meaning, the signer's name and role, when (UTC).

    `name` is None when the reader may not see names (a redacted report): the block then says
    that the version was signed and when, not by whom.
    """

    meaning: Literal["finalised by", "countersigned by"]
    name: str | None
    role: str | None
    at: dt.datetime
    imported: str | None = None
    """For a signature made in another installation: who imported it and when (SECURITY.md 23)."""


def sign_off_rows(signatures: Sequence[SignOff]) -> list[dict[str, Any]]:
    """Return the sign-off block's rows: one per meaning, filled or blank to sign by hand.

    Every recorded signature has its row; a meaning without one (a draft, a version not yet
    countersigned, or a report made from a formulation file) keeps an empty row with lines for a
    handwritten name, role, signature and date.
    """
    rows: list[dict[str, Any]] = []
    for meaning in SIGN_OFF_MEANINGS:
        found = [s for s in signatures if s.meaning == meaning]
        for signature in found:
            rows.append(
                {
                    "meaning": meaning.capitalize()
                    + (f" (signed elsewhere; {signature.imported})" if signature.imported else ""),
                    "name": signature.name or "(not shown for your role)",
                    "role": (signature.role or "").replace("-", " "),
                    "at": signature.at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                    "signed": True,
                }
            )
        if not found:
            rows.append({"meaning": meaning.capitalize(), "signed": False})
    return rows


def renderer_fingerprint() -> str:
    """Return what identifies this renderer: its template, styles and library versions.

    Kept renderings (`service.rendered`) are keyed by it, so a changed template or a new
    vl-convert or WeasyPrint draws anew.
    """
    return _fingerprint()


@functools.cache
def _fingerprint() -> str:
    from importlib.metadata import version

    digest = hashlib.sha256()
    for name in ("report.html.j2", "report.css"):
        digest.update((_TEMPLATES / name).read_bytes())
    for package in ("instrument", "vl-convert-python", "weasyprint", "altair"):
        digest.update(f"{package} {version(package)}\n".encode())
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("instrument", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["pct"] = lambda value: f"{float(value):.0%}"
    environment.filters["score"] = lambda value: f"{float(value):.2f}"
    environment.filters["label"] = lambda value: str(value).replace("-", " ")
    return environment


def _figure(
    name: str, spec: dict[str, Any], description: Description, *, inline: bool
) -> dict[str, Any]:
    title = spec.get("title", {})
    svg = chart_svg(spec, aria=False, titled=False)
    size = _SIZE.match(svg)
    width = float(size.group(2)) if size else 0.0
    # A chart much wider than the A4 portrait text (about 680 px) would shrink below 7 pt
    # there: the PDF gives it a landscape page of its own.
    figure: dict[str, Any] = {
        "id": name,
        "spec": spec,
        "description": description,
        "wide": width > WIDE,
        "title": title.get("text", description.title),
        "subtitle": title.get("subtitle", []),
    }
    if inline:
        # Markup only for our own SVG, parsed and checked by `checked_svg`.
        figure["svg"] = Markup(_responsive(svg))
    else:
        figure["width"] = f"{width:g}"
        figure["src"] = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return figure


def _history(formulation: Formulation, history: Sequence[Formulation] | None) -> list[Formulation]:
    """The case's formulations to draw change from: the history and this one, one per version."""
    version = formulation.header.assessment_version
    earlier = [f for f in history or () if f.header.assessment_version != version]
    return [*earlier, formulation]


def plan_context(
    instrument: Instrument,
    case_plan: CasePlan,
    *,
    reassessment: Formulation | None = None,
    inline_svg: bool = True,
) -> dict[str, Any]:
    """Return what the plan section shows: the latest plan, its sessions, delivery and reviews.

    `case_plan` is shown as given: pass it redacted (`redact_case_plan`, `plan_only`) when free
    text must not appear; `reassessment` adds the formulation's change beside the progress.
    """
    plan = case_plan.latest
    names = {area.id: area.name for area in instrument.areas} | {"foundation": "Foundation"}
    catalogue = instrument.session_by_id
    delivered: dict[str, list[str]] = {}
    for entry in case_plan.delivery:
        for session in entry.sessions:
            delivered.setdefault(session, []).append(entry.attendance.value.replace("-", " "))
    sessions = [
        {
            "id": s.session,
            "title": catalogue[s.session].title if s.session in catalogue else "",
            "area": names.get(area_of(s.session), area_of(s.session)),
            "reason": s.reason,
            "delivered": ", ".join(delivered.get(s.session, [])) or "not yet",
        }
        for s in (plan.sessions if plan else [])
    ]
    dropped = [
        {
            "id": d.session,
            "title": catalogue[d.session].title if d.session in catalogue else "",
            "reason": d.reason,
        }
        for d in (plan.dropped if plan else [])
    ]
    rows = timeline(instrument, case_plan.delivery)
    progress = progress_rows(instrument, case_plan.reviews)
    reference = plan.case.reference if plan else ""
    figures = [
        _figure(
            "timeline",
            timeline_spec(rows, reference),
            describe_timeline(rows),
            inline=inline_svg,
        ),
        _figure(
            "progress",
            progress_spec(progress, reference),
            describe_progress(progress),
            inline=inline_svg,
        ),
    ]
    beside = (
        side_by_side(instrument, plan, case_plan.reviews, reassessment)
        if plan is not None and reassessment is not None
        else []
    )
    return {
        "plan": plan,
        "state": case_plan.state,
        "sessions": sessions,
        "dropped": dropped,
        "delivery": case_plan.delivery,
        "reviews": case_plan.reviews,
        "figures": {figure["id"]: figure for figure in figures},
        "area_names": names,
        "side_by_side": [row for row in beside if row.band_before or row.progress],
    }


def render_plan_html(
    instrument: Instrument, case_plan: CasePlan, *, inline_svg: bool = True
) -> str:
    """Return the "plan only" report: pass `plan_only(case_plan)`; it carries no evidence."""
    plan = case_plan.latest
    context = {
        "pl": plan_context(instrument, case_plan, inline_svg=inline_svg),
        "title": f"Intervention plan: {plan.case.reference if plan else ''}",
        "reference": plan.case.reference if plan else "",
        "instrument_id": instrument.id,
        "instrument_version": instrument.version,
        "notice": instrument.notice.strip(),
        "band_labels": BAND_LABELS,
    }
    return _environment().get_template("plan-report.html.j2").render(context)


def render_plan_pdf(instrument: Instrument, case_plan: CasePlan) -> bytes:
    """Return the "plan only" report as PDF (WeasyPrint, fetching nothing but data URLs)."""
    import weasyprint

    html = render_plan_html(instrument, case_plan, inline_svg=False)
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    document: bytes = weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
    return document


def report_context(
    formulation: Formulation,
    *,
    redact_evidence: bool = False,
    history: Sequence[Formulation] | None = None,
    inline_svg: bool = True,
    plan: dict[str, Any] | None = None,
    signatures: Sequence[SignOff] = (),
) -> dict[str, Any]:
    """Return everything the report template shows: the formulation, figures and labels.

    With `inline_svg` the charts are SVG elements of the page (the HTML report); without, each is
    an image whose source is its SVG as a data URL (the PDF: WeasyPrint lays out a page of inline
    SVG elements about 40% slower, as it styles every element of every chart).
    """
    shown = redact(formulation) if redact_evidence else formulation
    inline = inline_svg
    figures = [
        _figure(name, chart.spec(shown), chart.describe(shown), inline=inline)
        for name, chart in CHARTS.items()
        if chart.applies(shown)
    ]
    over_time = _history(shown, history)
    if len(over_time) > 1 or shown.change is not None:
        figures.append(
            _figure("change", change_spec(over_time), describe_change(over_time), inline=inline)
        )
    reference = shown.header.case_reference
    return {
        "f": shown,
        "redacted": shown.redacted,
        "figures": {figure["id"]: figure for figure in figures},
        "title": f"Case formulation: {reference}",
        "band_labels": BAND_LABELS,
        "band_colours": BAND_COLOURS,
        "band_text": BAND_TEXT,
        "presence_labels": PRESENCE_LABELS,
        "band_phrase": band_phrase,
        "items": {i.item: i for d in shown.domains for i in d.items},
        "area_names": {p.area: p.name for p in shown.priorities},
        "pl": plan,
        "sign_off": sign_off_rows(
            [SignOff(s.meaning, None, None, s.at, s.imported and "imported") for s in signatures]
            if shown.redacted
            else signatures
        ),
    }


def render_html(
    formulation: Formulation,
    *,
    redact: bool = False,
    history: Sequence[Formulation] | None = None,
    plan: tuple[Instrument, CasePlan] | None = None,
    signatures: Sequence[SignOff] = (),
) -> str:
    """Return the report of a formulation as one self-contained HTML page (charts inline as SVG).

    `redact` leaves every evidence text and responsivity note out; `history` adds the case's
    earlier formulations to the change chart; `signatures` fill the sign-off block (its rows
    stay blank, to sign by hand, for a meaning without one); `plan` (the definition and the
    case's plan records, redacted by the caller when they must be) adds the plan, its delivery
    and reviews.
    """
    return _render(
        formulation,
        redact_evidence=redact,
        history=history,
        inline_svg=True,
        signatures=signatures,
        plan=plan,
    )


def _render(
    formulation: Formulation,
    *,
    redact_evidence: bool,
    history: Sequence[Formulation] | None,
    inline_svg: bool,
    plan: tuple[Instrument, CasePlan] | None = None,
    signatures: Sequence[SignOff] = (),
) -> str:
    section = None
    if plan is not None:
        section = plan_context(plan[0], plan[1], reassessment=formulation, inline_svg=inline_svg)
    context = report_context(
        formulation,
        redact_evidence=redact_evidence,
        history=history,
        inline_svg=inline_svg,
        plan=section,
        signatures=signatures,
    )
    return _environment().get_template("report.html.j2").render(context)


def render_pdf(
    formulation: Formulation,
    *,
    redact: bool = False,
    history: Sequence[Formulation] | None = None,
    plan: tuple[Instrument, CasePlan] | None = None,
    signatures: Sequence[SignOff] = (),
) -> bytes:
    """Return the report as PDF: the same page, laid out by WeasyPrint (A4, page numbers).

    The template and its print styles are the HTML report's; only the charts are embedded as
    SVG images rather than SVG elements.
    """
    html = _render(
        formulation,
        redact_evidence=redact,
        history=history,
        inline_svg=False,
        signatures=signatures,
        plan=plan,
    )
    return _pdf(html)


def _pdf(html: str) -> bytes:
    """Lay out a page of our own HTML as PDF with WeasyPrint, fetching nothing but data URLs."""
    import weasyprint  # imported here: loading it and its libraries takes about half a second

    # Only the charts' data URLs are read: the page is self-contained, and a reference slipped
    # into it (were escaping ever to fail) could not reach the network or the file system.
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    document: bytes = weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
    return document


# ---------------------------------------------------------------------------------------------
# Documents as bytes, by format (the CLI and the web app's downloads)
# ---------------------------------------------------------------------------------------------


def _suffix(fmt: str, formats: Mapping[str, str]) -> str:
    suffix = fmt.lower() if fmt.startswith(".") else "." + fmt.lower()
    if suffix not in formats:
        raise DocumentError.at(
            fmt or "(no suffix)",
            f"unknown format {fmt or '(no suffix)'!r}",
            f"use {' or '.join(formats)}",
        )
    return suffix


def report_bytes(
    formulation: Formulation,
    fmt: str,
    *,
    redact: bool = False,
    history: Sequence[Formulation] | None = None,
    signatures: Sequence[SignOff] = (),
    plan: tuple[Instrument, CasePlan] | None = None,
) -> bytes:
    """Return the report in a format of `REPORT_FORMATS` (`.html`, `.pdf`, `.docx`; dot optional).

    `plan` adds the case's intervention plan, as `render_html` says.

    Raises:
        DocumentError: naming the formats, when `fmt` is not one of them.
    """
    suffix = _suffix(fmt, REPORT_FORMATS)
    if suffix == ".pdf":
        return render_pdf(
            formulation, redact=redact, history=history, signatures=signatures, plan=plan
        )
    if suffix == ".docx":
        return render_docx(
            formulation, redact=redact, history=history, signatures=signatures, plan=plan
        )
    return render_html(
        formulation, redact=redact, history=history, signatures=signatures, plan=plan
    ).encode("utf-8")


def chart_bytes(formulation: Formulation, name: str, fmt: str) -> bytes:
    """Return one chart of `CHARTS` in a format of `CHART_FORMATS` (`.svg` or `.png`).

    Raises:
        DocumentError: naming the charts or formats, when `name` or `fmt` is not one of them.
    """
    suffix = _suffix(fmt, CHART_FORMATS)
    if name not in CHARTS:
        raise DocumentError.at(name, f"unknown chart {name!r}", f"use one of {', '.join(CHARTS)}")
    spec = CHARTS[name].spec(formulation)
    return chart_png(spec) if suffix == ".png" else chart_svg(spec).encode("utf-8")


def chart_width(chart: Any) -> int:
    """Return a chart's width in pixels as drawn at its own scale (titles and labels included).

    Measured on the chart's SVG (vl-convert, about 100 ms), so that a page can give each chart
    exactly its room.
    """
    spec = dict(chart_spec(chart))
    spec["config"] = {**spec.get("config", {}), "aria": False}
    size = re.search(r'<svg[^>]*? width="([0-9.]+)"', _svg(json.dumps(spec, sort_keys=True)))
    return math.ceil(float(size.group(1))) if size else 800


# ---------------------------------------------------------------------------------------------
# The report as DOCX: the same content, for pasting into court and clinical reports
# ---------------------------------------------------------------------------------------------

_DOCX_WIDTH_CM = 16.5


def render_docx(
    formulation: Formulation,
    *,
    redact: bool = False,
    history: Sequence[Formulation] | None = None,
    signatures: Sequence[SignOff] = (),
    plan: tuple[Instrument, CasePlan] | None = None,
) -> bytes:
    """Return the report as a Word document (DOCX): the HTML report's content, in Word's terms.

    Headings are Word headings, tables are Word tables, each chart a PNG picture with its
    sentences below it (for readers who cannot see it); typed text goes in as text, never as
    markup. `redact`, `history`, `signatures` and `plan` mean what they mean for `render_html`.
    """
    section = None
    if plan is not None:
        section = plan_context(plan[0], plan[1], reassessment=formulation, inline_svg=False)
    context = report_context(
        formulation,
        redact_evidence=redact,
        history=history,
        inline_svg=False,
        plan=section,
        signatures=signatures,
    )
    generator = context["f"].header.generator
    writer = _Docx(context, title=context["title"], author=f"{generator.name} {generator.version}")
    writer.masthead()
    writer.priorities()
    writer.summary_judgements()
    writer.profile()
    writer.heading("Priorities with their reasons", 1)
    for priority in writer.f.priorities:
        writer.reasons(priority)
    writer.heading("Strengths", 1)
    writer.figure(context["figures"].get("strengths"))
    writer.five_p_and_spj()
    writer.judgement()
    writer.responsivity_and_quality()
    writer.limitations()
    writer.change()
    if section is not None:
        writer.plan(section)
    writer.sign_off()
    return writer.save()


def render_plan_docx(instrument: Instrument, case_plan: CasePlan) -> bytes:
    """Return the "plan only" report as a Word document: pass `plan_only(case_plan)`.

    The same content as `render_plan_html`: the plan, attendance and the change seen, with no
    evidence (no assessment, no session notes, no review evidence).
    """
    section = plan_context(instrument, case_plan, inline_svg=False)
    plan = case_plan.latest
    reference = plan.case.reference if plan else ""
    writer = _Word(
        title=f"Intervention plan: {reference}", author=f"{instrument.id} {instrument.version}"
    )
    writer.text(f"{instrument.id.upper()} {instrument.version} · intervention plan")
    writer.heading(f"Case {reference}", 0)
    writer.text("plan only: no evidence")
    notice = instrument.notice.strip()
    writer.document.add_paragraph().add_run(notice).italic = True
    writer.plan(section)
    writer.small(
        f"{notice} The plan only: it carries no evidence, no session notes and no review evidence."
    )
    return writer.save()


def _words(value: str) -> str:
    """Return an enum value as words (`did-not-attend` → `did not attend`), as the HTML's filter."""
    return value.replace("-", " ")


class _Word:
    """A python-docx document with the report's building blocks: headings, text, tables, charts."""

    def __init__(self, *, title: str, author: str) -> None:
        import docx
        from docx.shared import Pt

        self.document = docx.Document()
        self.document.core_properties.title = title
        self.document.core_properties.author = author
        normal = self.document.styles["Normal"]
        normal.font.name = "DejaVu Sans"
        normal.font.size = Pt(10)
        # A4 with 2 cm margins, as the PDF: 17 cm of text, room for the 16.5 cm charts and
        # tables (the template's US Letter with 3.2 cm margins had 15.2 cm).
        from docx.shared import Cm

        for section in self.document.sections:
            section.page_width, section.page_height = Cm(21.0), Cm(29.7)
            section.left_margin = section.right_margin = Cm(2.0)

    def heading(self, text: str, level: int) -> None:
        self.document.add_heading(text, level=level)

    def text(self, text: str, *, bullet: bool = False, bold: bool = False) -> None:
        if bold:
            self.document.add_paragraph().add_run(text).bold = True
        else:
            self.document.add_paragraph(text, style="List Bullet" if bullet else None)

    def labelled(self, label: str, text: str) -> None:
        """Add a paragraph `label: text` with the label in bold (typed text stays plain)."""
        paragraph = self.document.add_paragraph()
        paragraph.add_run(label + ": ").bold = True
        paragraph.add_run(text)

    def small(self, text: str) -> None:
        from docx.shared import Pt

        self.document.add_paragraph(text).runs[0].font.size = Pt(8)

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float] = (),
    ) -> None:
        """Add a table with a bold header row.

        `widths` (cm, adding up to the page's text width) keep narrow columns narrow, where
        equal columns would squeeze the text.
        """
        from docx.shared import Cm

        grid = self.document.add_table(rows=1, cols=len(header))
        grid.style = "Table Grid"
        for cell, text in zip(grid.rows[0].cells, header, strict=True):
            cell.text = text
            for run in cell.paragraphs[0].runs:
                run.bold = True
        for row in rows:
            for cell, text in zip(grid.add_row().cells, row, strict=True):
                cell.text = text
        if widths:
            grid.autofit = False
            for column, width in zip(grid.columns, widths, strict=True):
                column.width = Cm(width)
                for cell in column.cells:
                    cell.width = Cm(width)

    def figure(self, fig: dict[str, Any] | None) -> None:
        """Add a chart of the report's figures: title, picture, then its sentences."""
        import io

        from docx.shared import Cm

        if fig is None:
            return
        self.text(str(fig["title"]), bold=True)
        for line in fig["subtitle"]:
            self.text(str(line))
        scale = 1.5
        picture = chart_png(_report_spec(fig["spec"], aria=False, titled=False), scale=scale)
        # Drawn at its own size (CSS pixels of 1/96 inch, from the PNG's IHDR width), no wider
        # than the text: a narrow chart is not blown up to the page's width.
        pixels = int.from_bytes(picture[16:20], "big") / scale
        width = min(_DOCX_WIDTH_CM, pixels / 96 * 2.54)
        self.document.add_picture(io.BytesIO(picture), width=Cm(width))
        for sentence in fig["description"].sentences:
            self.text(sentence, bullet=True)

    def plan(self, pl: dict[str, Any]) -> None:
        """Add the plan, its delivery and its reviews (`plan_context`), as `plan.html.j2` does.

        The records are shown as given: redacted ones carry no free text, and each free text is
        written only when it is there.
        """
        self.heading("Intervention plan", 1)
        plan: Plan | None = pl["plan"]
        state = pl["state"]
        if plan is None:
            self.text(
                "No intervention indicated: the case is closed without a plan."
                if state.status.value == "no-intervention"
                else "No plan has been made for this case yet."
            )
            return
        self._plan_summary(plan, state)
        self.heading("Sessions, in planned order", 2)
        self.table(
            ["#", "Session", "Area", "Delivered"],
            [
                [
                    str(n),
                    f"{row['id']} {row['title']}"
                    + (f"\nAdded: {row['reason']}" if row["reason"] else ""),
                    row["area"],
                    row["delivered"],
                ]
                for n, row in enumerate(pl["sessions"], start=1)
            ],
            widths=(1.0, 8.5, 4.0, 3.0),
        )
        if plan.order_reason:
            self.labelled("Why the order departs from the suggestion", plan.order_reason)
        if pl["dropped"]:
            self.text("Suggested but left out:")
        for d in pl["dropped"]:
            self.text(
                f"{d['id']} {d['title']}" + (f": {d['reason']}" if d["reason"] else ""),
                bullet=True,
            )
        if plan.approach_goals:
            self.heading("Good Lives approach goals", 2)
        for g in plan.approach_goals:
            parts = [_words(g.good.value) if g.good else "", g.goal or ""]
            self.text(": ".join(part for part in parts if part), bullet=True)
        if plan.adaptations:
            self.heading("Adaptations to delivery", 2)
        for a in plan.adaptations:
            self.text(a.responsivity + (f": {a.adaptation}" if a.adaptation else ""), bullet=True)
        self._delivery(pl)
        self._reviews(pl)

    def _plan_summary(self, plan: Plan, state: Any) -> None:
        status = _words(state.status.value) + (
            f": {_words(state.ending.value)}" if state.ending else ""
        )
        review = "none"
        if state.next_review_on:
            review = state.next_review_on.isoformat() + (
                " (review due)" if state.review_due else ""
            )
        version = f"{plan.plan.version} ({plan.plan.status.value})"
        if plan.plan.replaces:
            version += f", replaces version {plan.plan.replaces}"
        agreed = "; ".join(
            f"{s.meaning} {s.by} on {s.at:%Y-%m-%d %H:%M} UTC" for s in plan.signatures
        )
        self.table(
            ["Plan", ""],
            [
                ["Plan version", version],
                ["Status", status],
                ["Facilitators", ", ".join(plan.facilitators)],
                ["Frequency", f"{plan.frequency.sessions} a {plan.frequency.per.value}"],
                ["Builds on", f"assessment version {plan.plan.assessment_version}"],
                ["Next review", review],
                ["Agreed", agreed or "not yet agreed"],
            ],
            widths=(4.0, 12.5),
        )
        if plan.plan.amendment_reason:
            self.labelled("Why the plan was amended", plan.plan.amendment_reason)

    def _delivery(self, pl: dict[str, Any]) -> None:
        self.heading("Delivery", 1)
        self.figure(pl["figures"]["timeline"])
        if not pl["delivery"]:
            return
        self.table(
            ["#", "Date", "Sessions", "Attendance", "Minutes", "Engagement"],
            [
                [
                    str(d.number),
                    d.date.isoformat(),
                    ", ".join(d.sessions) + (f"\n{d.notes}" if d.notes else ""),
                    _words(d.attendance.value) + (f": {d.reason}" if d.reason else ""),
                    str(d.duration_minutes) if d.duration_minutes else "",
                    d.engagement.value if d.engagement else "",
                ]
                for d in pl["delivery"]
            ],
            widths=(0.8, 2.6, 5.7, 3.3, 1.8, 2.3),
        )

    def _reviews(self, pl: dict[str, Any]) -> None:
        self.heading("Progress reviews", 1)
        self.figure(pl["figures"]["progress"])
        names: dict[str, str] = pl["area_names"]
        for r in pl["reviews"]:
            ending = ""
            if r.ending:
                ending = f" ({_words(r.ending.value)}" + (
                    f": {r.ending_reason})" if r.ending_reason else ")"
                )
            self.heading(
                f"Review {r.number}, {r.reviewed_on.isoformat()}: the plan "
                f"{r.decision.value}{ending}",
                2,
            )
            for p in r.progress:
                self.text(
                    f"{names.get(p.area, p.area)}: {p.change.value} change"
                    + (f". {p.evidence}" if p.evidence else ""),
                    bullet=True,
                )
        if not pl["reviews"]:
            self.text("No review recorded yet.")
        if pl["side_by_side"]:
            self.heading("Change in the formulation beside progress in the sessions", 2)
            self.table(
                ["Focus area", "Band at the plan", "Band at reassessment", "Latest review"],
                [
                    [
                        row.area_name,
                        BAND_LABELS[row.band_before.value] if row.band_before else "-",
                        BAND_LABELS[row.band_after.value] if row.band_after else "-",
                        f"{row.progress.value} change" if row.progress else "-",
                    ]
                    for row in pl["side_by_side"]
                ],
                widths=(5.5, 3.5, 3.5, 4.0),
            )

    def save(self) -> bytes:
        import io

        out = io.BytesIO()
        self.document.save(out)
        return out.getvalue()


class _Docx(_Word):
    """Writes the formulation report's content into a Word document, one section per method."""

    def __init__(self, context: dict[str, Any], *, title: str, author: str) -> None:
        super().__init__(title=title, author=author)
        self.context = context
        self.f: Formulation = context["f"]
        self.redacted: bool = context["redacted"]
        self.labels: dict[str, str] = context["band_labels"]

    def masthead(self) -> None:
        f, h = self.f, self.f.header
        self.text(f"{h.instrument.id.upper()} {h.instrument.version} · case formulation")
        self.heading(f"Case {h.case_reference}", 0)
        chips = [h.status.value, f"{h.pathway.value} pathway"]
        chips += ["provisional"] if f.data_quality.provisional else []
        chips += ["redacted: no evidence text"] if self.redacted else []
        self.text(" · ".join(chips))
        self.document.add_paragraph().add_run(f.notice).italic = True
        assessors = "; ".join(f"{a.name} ({a.role.value.replace('-', ' ')})" for a in h.assessors)
        generated = (
            f"{h.generated_at:%Y-%m-%d %H:%M} UTC by {h.generator.name} {h.generator.version}"
        )
        self.table(
            ["Provenance", ""],
            [
                ["Case reference", h.case_reference],
                ["Pathway", h.pathway.value],
                ["Assessment", f"version {h.assessment_version} ({h.assessment_status.value})"],
                ["Assessed on", h.assessed_on.isoformat() if h.assessed_on else "not recorded"],
                ["Assessors", assessors or "none named"],
                ["Instrument", f"{h.instrument.id} {h.instrument.version}"],
                ["Generated", generated],
                ["Assessment SHA-256", h.assessment_sha256],
            ],
        )
        for warning in f.data_quality.warnings:
            self.text(warning, bullet=True)

    def priorities(self) -> None:
        self.heading("Intervention priorities", 1)
        self.figure(self.context["figures"].get("priorities"))
        rows = []
        for p in self.f.priorities:
            band = self.labels[p.band.value]
            if p.override:
                band += f" (override; rule: {self.labels[p.computed_band.value]})"
            offered = "yes" if p.offered else "no"
            rows.append([str(p.rank), p.name, band, f"{p.score:.2f}", f"{p.coverage:.0%}", offered])
        self.table(["Rank", "Area", "Band", "Score", "Coverage", "Offered"], rows)
        self.text(
            "The score is the area's, from the ratings and the instrument's written rule (0 to "
            "1); it is never a risk score for the person. The rank after overrides is the one "
            "that counts."
        )

    def profile(self) -> None:
        self.heading("Profile", 1)
        self.figure(self.context["figures"].get("profile"))
        for domain in self.f.domains:
            self.text(domain.summary, bullet=True)
        self.figure(self.context["figures"].get("heatmap"))

    def _evidence(self, evidence: str | None, *rest: str) -> str:
        parts = ["" if self.redacted else (evidence or ""), *rest]
        return " · ".join(part for part in parts if part)

    def reasons(self, p: Priority) -> None:
        labels = self.labels
        self.heading(f"{p.rank}. {p.name} ({labels[p.band.value]})", 2)
        self.text(
            f"Score {p.score:.2f} · coverage {p.coverage:.0%} · {band_phrase(p)} · "
            f"{p.offered_reason}"
        )
        self.text(p.summary)
        if p.override:
            self.text(
                f"Override by {p.override.by} on {p.override.at:%Y-%m-%d}: band "
                f"{labels[p.override.band.value]} (the rule gave {labels[p.computed_band.value]})."
            )
            self.text(p.override.rationale)
        if p.contributors:
            sources = "Sources" if self.redacted else "Evidence and sources"
            self.table(
                ["Item", "Rating", "Adds", sources],
                [
                    [
                        f"{c.item} {c.name}",
                        f"{c.presence.value}, {c.relevance.value}",
                        f"{c.contribution:.2f}",
                        self._evidence(
                            c.evidence,
                            ", ".join(s.value for s in c.sources),
                            c.timeframe.value if c.timeframe else "",
                        ),
                    ]
                    for c in p.contributors
                ],
            )
        else:
            self.text("No rated item adds to this area's score.")
        if p.omitted:
            self.text(f"Omitted or not rated: {', '.join(p.omitted)}.")
        if p.strengths:
            self.text("Strengths to build on", bold=True)
        for strength in p.strengths:
            said = self._evidence(strength.evidence)
            self.text(
                f"{strength.item} {strength.name} ({strength.presence.value})"
                + (f": {said}" if said else ""),
                bullet=True,
            )
        if p.sessions:
            self.text("Suggested sessions", bold=True)
        for session in p.sessions:
            self.text(session, bullet=True)

    def summary_judgements(self) -> None:
        judgement = self.f.judgement
        if judgement is None:
            return
        self.heading("The assessor's summary judgements", 1)
        given = judgement.summary_judgements
        if given is None:
            self.text("The assessor has not recorded summary judgements yet.")
        else:
            rows = [
                (
                    view.name,
                    view.level.value if view.level is not None else "not recorded",
                    "" if self.f.redacted else (view.rationale or ""),
                )
                for view in given.judgements
            ]
            self.table(("Judgement", "Level", "Rationale"), rows)
            if given.no_intervention:
                self.text("Outcome: no intervention indicated.", bold=True)
            self.text(given.summary)
        for suggestion in judgement.review_suggestions:
            self.text(suggestion, bullet=True)

    def judgement(self) -> None:
        judgement = self.f.judgement
        if judgement is None:
            return
        if judgement.presenting_problem and not self.f.redacted:
            self.heading("Presenting problem, in the assessor's words", 2)
            self.text(judgement.presenting_problem)
        if judgement.person_specific:
            self.heading("Person-specific factors", 1)
            self.table(
                ("Factor", "Domain", "Presence", "Relevance", "5P", "Areas"),
                [
                    (
                        f"{ps.id} {ps.title}",
                        ps.domain_name,
                        ps.presence.value,
                        ps.relevance.value,
                        ps.role.value,
                        ", ".join(ps.areas),
                    )
                    for ps in judgement.person_specific
                ],
            )
        if judgement.good_lives is not None:
            self.heading("Good Lives", 1)
            self.figure(self.context["figures"].get("good-lives"))
            if judgement.good_lives.approach_goals and not self.f.redacted:
                self.text("Approach goals", bold=True)
                for goal in judgement.good_lives.approach_goals:
                    self.text(goal, bullet=True)
        self.heading("Scenarios", 1)
        self.text(
            "What could happen, described in general terms by the assessor to plan management "
            "and intervention. Scenarios are not predictions and carry no probabilities."
        )
        for sc in judgement.scenarios:
            self.heading(f"{sc.number}. {sc.title}", 2)
            if not self.f.redacted:
                for label, value in (
                    ("What could happen", sc.what),
                    ("Who could be harmed", sc.who),
                    ("Triggers", sc.triggers),
                    ("Warning signs", sc.warning_signs),
                    ("What would make it less likely", sc.less_likely),
                ):
                    if value:
                        self.text(f"{label}: {value}")
            links = [*sc.items, *sc.person_specific]
            if links:
                self.text(f"Rests on: {', '.join(links)}")

    def limitations(self) -> None:
        judgement = self.f.judgement
        if judgement is None:
            return
        self.heading("Limitations and bias check", 1)
        self.text(judgement.limitations)
        if judgement.assessor_limitations and not self.f.redacted:
            self.text(judgement.assessor_limitations)
        check = judgement.bias_check
        if check is not None:
            self.table(
                ("Bias check question", "May apply", "Note"),
                [
                    (
                        a.text,
                        "not answered" if a.applies is None else ("yes" if a.applies else "no"),
                        "" if self.f.redacted else (a.note or ""),
                    )
                    for a in check.answers
                ],
            )
            self.text(
                "The assessor confirmed the bias check."
                if check.confirmed
                else "The bias check is not confirmed yet."
            )

    def five_p_and_spj(self) -> None:
        self.heading("5P formulation", 1)
        for section in self.f.five_p:
            self.heading(section.heading.value.capitalize(), 2)
            self.text(section.summary)
            if section.not_applicable:
                self.text(f"Not applicable: {section.not_applicable}")
            if section.narrative:
                self.document.add_paragraph().add_run("Assessor's narrative").italic = True
                self.text(section.narrative)
        self.heading("Engagement, intent and capability", 1)
        for spj in self.f.spj:
            self.text(spj.summary)
        if self.f.risk_management:
            self.heading("Risk management notes", 2)
        for note in self.f.risk_management:
            self.text(note, bullet=True)

    def responsivity_and_quality(self) -> None:
        self.heading("Responsivity: adapting delivery", 1)
        self.table(
            ["Consideration", "Applies", "Adaptation" if self.redacted else "Note and adaptation"],
            [
                [
                    f"{r.id} {r.name}",
                    r.presence.value if r.presence else "not recorded",
                    self._evidence(r.note, r.adaptation or ""),
                ]
                for r in self.f.responsivity
            ],
        )
        quality = self.f.data_quality
        self.heading("Data quality", 1)
        self.table(
            ["Data quality", ""],
            [
                ["Provisional", "yes" if quality.provisional else "no"],
                ["Omitted or not rated", f"{quality.omitted_share:.0%} of items"],
                ["Omitted", ", ".join(quality.omitted) or "none"],
                ["Not rated", ", ".join(quality.unrated) or "none"],
                ["Present without evidence", ", ".join(quality.missing_evidence) or "none"],
            ],
        )

    def change(self) -> None:
        self.heading("Change since the previous assessment", 1)
        if self.f.change:
            self.text(self.f.change.summary)
        if "change" in self.context["figures"]:
            self.figure(self.context["figures"]["change"])
        elif not self.f.change:
            self.text("This is the first assessment of the case: there is nothing to compare with.")

    def sign_off(self) -> None:
        self.heading("Sign-off", 1)
        rows = self.context["sign_off"]
        self.table(
            ["Signature", "Name", "Role", "Date and time (UTC)"],
            [
                [row["meaning"], row["name"], row["role"], row["at"]]
                if row["signed"]
                else [row["meaning"], "", "", ""]
                for row in rows
            ],
        )
        if any(not row["signed"] for row in rows):
            self.text(
                "A row without a name is not signed in the system: sign it by hand, with the "
                "date and time."
            )
        h = self.f.header
        self.small(
            f"{self.f.notice} Generated by {h.generator.name} {h.generator.version} on "
            f"{h.generated_at:%Y-%m-%d %H:%M} UTC from assessment version {h.assessment_version} "
            f"of case {h.case_reference}."
            + (" Evidence text and responsivity notes are left out." if self.redacted else "")
        )


# ---------------------------------------------------------------------------------------------
# The blank form of a definition, for interviews
# ---------------------------------------------------------------------------------------------


def render_blank_form(instrument: Instrument) -> str:
    """Return a printable blank form of a definition as one HTML page (every text escaped).

    Each item with its description and rating guidance, boxes for presence, relevance, sources
    and timeframe, and lines for the evidence; then the responsivity considerations.
    """
    return _environment().get_template("blank-form.html.j2").render(i=instrument)


def render_blank_form_pdf(instrument: Instrument) -> bytes:
    """Return the blank form as an A4 PDF (WeasyPrint, fetching nothing)."""
    return _pdf(render_blank_form(instrument))
