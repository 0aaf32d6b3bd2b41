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
import functools
import json
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from typing import Any

import altair as alt
import jinja2
import vl_convert
from markupsafe import Markup

from instrument.errors import InstrumentError
from instrument.formulation import Formulation, redact
from instrument.profile import (
    BAND_COLOURS,
    BAND_LABELS,
    BAND_TEXT,
    DESCRIPTIONS,
    PRESENCE_LABELS,
    SPECS,
    Description,
    band_phrase,
    change_spec,
    describe_change,
)
from instrument.profile.good_lives import describe_good_lives, good_lives_spec

# Vega-Lite version of the installed Altair, as vl-convert names it (e.g. "6.4").
VL_VERSION = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
PNG_SCALE = 2.0
WIDE = 1150  # px: charts wider than this get a landscape page in the PDF

_SVG_NS = "{http://www.w3.org/2000/svg}"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_FORBIDDEN_TAGS = {"script", "foreignObject", "iframe", "object", "embed", "image", "use"}


# ---------------------------------------------------------------------------------------------
# Charts as pictures
# ---------------------------------------------------------------------------------------------


def chart_spec(chart: Any) -> dict[str, Any]:
    """Return the Vega-Lite spec of a chart (an Altair chart, or a spec in plain data).

    An Altair chart's is not validated again; a spec in plain data (`instrument.profile.SPECS`)
    is returned as it is.
    """
    if isinstance(chart, dict):
        return chart
    spec: dict[str, Any] = chart.to_dict(validate=False)
    return spec


def _svg(spec_json: str) -> str:
    try:
        svg: str = vl_convert.vegalite_to_svg(json.loads(spec_json), vl_version=VL_VERSION)
    except ValueError as error:  # vl-convert reports a bad spec as ValueError
        raise InstrumentError(
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
        raise InstrumentError(
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
        InstrumentError: when the SVG does not parse or holds active content.
    """
    try:
        root = ElementTree.fromstring(svg)
    except ElementTree.ParseError as error:
        raise InstrumentError(
            f"the chart's SVG does not parse: {error}", where="$", fix="report this as a bug"
        ) from error
    for element in root.iter():
        tag = element.tag.removeprefix(_SVG_NS)
        if tag in _FORBIDDEN_TAGS:
            raise InstrumentError(
                f"the chart's SVG holds a <{tag}> element", where="$", fix="report this as a bug"
            )
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on") or (
                name in ("href", _XLINK_HREF)
                and value.strip().lower().startswith(("javascript:", "data:"))
            ):
                raise InstrumentError(
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


def report_context(
    formulation: Formulation,
    *,
    redact_evidence: bool = False,
    history: Sequence[Formulation] | None = None,
    inline_svg: bool = True,
) -> dict[str, Any]:
    """Return everything the report template shows: the formulation, figures and labels.

    With `inline_svg` the charts are SVG elements of the page (the HTML report); without, each is
    an image whose source is its SVG as a data URL (the PDF: WeasyPrint lays out a page of inline
    SVG elements about 40% slower, as it styles every element of every chart).
    """
    shown = redact(formulation) if redact_evidence else formulation
    inline = inline_svg
    figures = [
        _figure(kind, SPECS[kind](shown), DESCRIPTIONS[kind](shown), inline=inline)
        for kind in SPECS
    ]
    good_lives = good_lives_spec(shown)
    good_lives_description = describe_good_lives(shown)
    if good_lives is not None and good_lives_description is not None:
        figures.append(_figure("good-lives", good_lives, good_lives_description, inline=inline))
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
    }


def render_html(
    formulation: Formulation,
    *,
    redact: bool = False,
    history: Sequence[Formulation] | None = None,
) -> str:
    """Return the report of a formulation as one self-contained HTML page (charts inline as SVG).

    `redact` leaves every evidence text and responsivity note out; `history` adds the case's
    earlier formulations to the change chart.
    """
    return _render(formulation, redact_evidence=redact, history=history, inline_svg=True)


def _render(
    formulation: Formulation,
    *,
    redact_evidence: bool,
    history: Sequence[Formulation] | None,
    inline_svg: bool,
) -> str:
    context = report_context(
        formulation, redact_evidence=redact_evidence, history=history, inline_svg=inline_svg
    )
    return _environment().get_template("report.html.j2").render(context)


def render_pdf(
    formulation: Formulation,
    *,
    redact: bool = False,
    history: Sequence[Formulation] | None = None,
) -> bytes:
    """Return the report as PDF: the same page, laid out by WeasyPrint (A4, page numbers).

    The template and its print styles are the HTML report's; only the charts are embedded as
    SVG images rather than SVG elements.
    """
    import weasyprint  # imported here: loading it and its libraries takes about half a second

    html = _render(formulation, redact_evidence=redact, history=history, inline_svg=False)
    # Only the charts' data URLs are read: the page is self-contained, and a reference slipped
    # into it (were escaping ever to fail) could not reach the network or the file system.
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"})
    document: bytes = weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
    return document
