"""Profile and reports: all charts of a case (50 ms), the HTML report (300 ms), the PDF (3 s).

A report drawn from a formulation draws its charts with vl-convert (nothing about a case is
cached in the process). A final formulation never changes: the web app's download draws its
report once and keeps it in the database (`service/rendered.py`); the targets apply to the
download as the app delivers it, through the access check, password and audit entry. The first
drawing is measured beside it. On a shared machine wall time swings with the load, so the CPU
time of this process (vl-convert's threads included) is given beside the drawn reports.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.harness import Row, median_ms
from instrument import profile as P
from instrument import report as R
from instrument.exchange.assessments import load_formulation
from instrument.formulation import Formulation

FORMULATIONS = Path(__file__).resolve().parent.parent / "formulations"
# The worked case with the most to draw: a second assessment (change chart) and 7 strengths.
CASE = "wc-01-transition-v2"
EARLIER = "wc-01-transition-v1"


def _load(name: str) -> Formulation:
    return load_formulation(FORMULATIONS / f"{name}.formulation.json")


def _cpu_ms(action: Callable[[], object], *, repeat: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        action()
    times = []
    for _ in range(repeat):
        start = time.process_time()
        action()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def _both(name: str, action: Callable[[], object], target: float | None, repeat: int) -> list[Row]:
    return [
        Row(name, median_ms(action, repeat=repeat, warmup=1), target),
        Row("  the same, CPU time", _cpu_ms(action, repeat=repeat)),
    ]


def run() -> list[Row]:
    """Measure building the charts, drawing them, and the HTML and PDF reports."""
    formulation = _load(CASE)
    history = [_load(EARLIER)]
    everything = [*history, formulation]

    def charts() -> list[Any]:
        return [chart.draw(formulation) for chart in P.CHARTS.values()] + [P.change(everything)]

    def specs() -> list[Any]:
        return [chart.spec(formulation) for chart in P.CHARTS.values()] + [
            P.change_spec(everything)
        ]

    def cold_html() -> str:
        return R.render_html(formulation, history=history)

    def cold_pdf() -> bytes:
        return R.render_pdf(formulation, history=history)

    pages = _pages(formulation, history)
    return [
        Row("build all 5 charts of a case (Altair objects)", median_ms(charts, repeat=50), 50.0),
        Row("  the same as Vega-Lite specs in plain data", median_ms(specs, repeat=50), 50.0),
        Row(
            "  validated against the Vega-Lite schema (to_dict)",
            median_ms(lambda: [chart.to_dict() for chart in charts()], repeat=5),
        ),
        Row(
            "one chart to SVG (profile, vl-convert)",
            median_ms(lambda: R.chart_svg(P.profile_spec(formulation)), repeat=5),
        ),
        *_kept(),
        *_both("HTML report drawn (first download; charts by vl-convert)", cold_html, None, 5),
        *_both(f"PDF report drawn (first download; {pages} A4 pages)", cold_pdf, 3000.0, 3),
        *_every_case(),
    ]


def _kept() -> list[Row]:
    """The report downloads of a final version as the web app makes them (kept after the first)."""
    import tempfile

    from argon2 import PasswordHasher

    from instrument.access import SYSTEM
    from instrument.service import Service
    from instrument.service.documents import DownloadKind, formulation_document

    source = FORMULATIONS / "wc-04-group-control.assessment.json"
    password = "correct horse battery staple"
    with tempfile.TemporaryDirectory() as folder:
        hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        with Service.open(Path(folder) / "bench.db", hasher=hasher) as service:
            service.add_user(SYSTEM, "pat", "psychologist", password, "default")
            actor = service.session_actor(service.sign_in("pat", password))
            assert actor is not None
            reference = service.import_document(actor, source.read_bytes()).reference
            service.confirm_password(actor, password)
            service.finalise(actor, reference, 1)

            def download(kind: DownloadKind) -> Callable[[], bytes]:
                return lambda: formulation_document(service, actor, reference, 1, kind)

            first = {
                kind: median_ms(download(kind), repeat=1, warmup=0) for kind in ("html", "pdf")
            }
            return [
                Row(
                    "HTML report of a final version, as downloaded",
                    median_ms(download("html"), repeat=20),
                    300.0,
                ),
                Row("  its first download (drawn, then kept)", first["html"]),
                Row(
                    "PDF report of a final version, as downloaded",
                    median_ms(download("pdf"), repeat=20),
                    3000.0,
                ),
                Row("  its first download (drawn, then kept)", first["pdf"]),
            ]


def _pages(formulation: Formulation, history: list[Formulation]) -> int:
    import weasyprint

    html = R._render(formulation, redact_evidence=False, history=history, inline_svg=False)
    return len(weasyprint.HTML(string=html).render().pages)


def _every_case() -> list[Row]:
    """The PDF of each worked case once, charts drawn by vl-convert: the spread of report sizes."""
    rows = []
    for path in sorted(FORMULATIONS.glob("*.formulation.json")):
        formulation = load_formulation(path)

        def cold(f: Formulation = formulation) -> bytes:
            return R.render_pdf(f)

        name = path.name.removesuffix(".formulation.json")
        rows.append(
            Row(
                f"  PDF of {name} ({_pages(formulation, [])} pages)",
                median_ms(cold, repeat=1, warmup=0),
                3000.0,
            )
        )
    return rows
