"""Profile and reports: all charts of a case (50 ms), the HTML report (300 ms), the PDF (3 s)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.harness import Row, median_ms
from instrument import profile as P
from instrument import report as R
from instrument.exchange.assessments import load_formulation
from instrument.formulation import Formulation

FORMULATIONS = Path(__file__).resolve().parent.parent / "formulations"
# The worked case with the most to draw: a second assessment (change) with an override.
CASE = "wc-01-transition-v2"
EARLIER = "wc-01-transition-v1"


def _load(name: str) -> Formulation:
    return load_formulation(FORMULATIONS / f"{name}.formulation.json")


def _all_charts(formulation: Formulation, history: list[Formulation]) -> list[Any]:
    charts = [draw(formulation) for draw in P.CHARTS.values()]
    charts.append(P.change([*history, formulation]))
    return charts


def run() -> list[Row]:
    """Measure building the charts, their specs, their SVG, and the HTML and PDF reports."""
    formulation = _load(CASE)
    history = [_load(EARLIER)]
    build = median_ms(lambda: _all_charts(formulation, history), repeat=50)
    specs = median_ms(
        lambda: [R.chart_spec(chart) for chart in _all_charts(formulation, history)], repeat=20
    )
    validated = median_ms(
        lambda: [chart.to_dict() for chart in _all_charts(formulation, history)],
        repeat=5,
    )

    def cold_html() -> str:
        R._svg.cache_clear()  # every chart drawn again by vl-convert, as for a new case
        return R.render_html(formulation, history=history)

    def cold_pdf() -> bytes:
        R._svg.cache_clear()
        return R.render_pdf(formulation, history=history)

    one_svg = median_ms(
        lambda: (R._svg.cache_clear(), R.chart_svg(P.profile(formulation))), repeat=5
    )
    html_cold = median_ms(cold_html, repeat=5, warmup=1)
    html_warm = median_ms(lambda: R.render_html(formulation, history=history), repeat=20)
    pdf_cold = median_ms(cold_pdf, repeat=3, warmup=1)
    import weasyprint

    html = R.render_html(formulation, history=history)
    pages = len(weasyprint.HTML(string=html).render().pages)
    return [
        Row("build all 5 charts of a case (Altair objects)", build, 50.0),
        Row("all 5 charts as Vega-Lite specs (to_dict, no validation)", specs),
        Row("all 5 charts validated against the Vega-Lite schema", validated),
        Row("one chart to SVG (profile, vl-convert)", one_svg),
        Row("HTML report, charts drawn afresh (vl-convert)", html_cold, 300.0),
        Row("HTML report, charts from the SVG cache", html_warm, 300.0),
        Row(f"PDF report, charts drawn afresh (WeasyPrint, {pages} pages)", pdf_cold, 3000.0),
    ]
