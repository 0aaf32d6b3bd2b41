"""The registries are data in one place each, and the CLI, the app and the README follow them."""

from __future__ import annotations

import re
from pathlib import Path

import click

from instrument.cli import cli
from instrument.exchange.assessments import load_formulation
from instrument.exchange.formats import FORMATS, sniff
from instrument.profile import CHARTS
from instrument.report import CHART_FORMATS, REPORT_FORMATS
from instrument.service.documents import CHART_NAMES, EXPORT_FORMATS
from tests.conftest import assessment_document

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
WORKED = REPO / "formulations" / "wc-04-group-control.formulation.json"


def _choices(command: str, option: str) -> list[str]:
    group = cli
    assert isinstance(group, click.Group)
    found = group.commands[command]
    param = next(p for p in found.params if p.name == option)
    assert isinstance(param.type, click.Choice)
    return list(param.type.choices)


def test_the_cli_offers_exactly_the_registered_charts() -> None:
    assert _choices("chart", "kind") == list(CHARTS) == list(CHART_NAMES)


def test_the_readme_names_every_chart() -> None:
    named = {
        name for token in re.findall(r"--kind ([a-z|-]+)", README) for name in token.split("|")
    }
    assert named == set(CHARTS)


def test_every_chart_has_spec_drawing_and_description() -> None:
    formulation = load_formulation(WORKED)
    for name, chart in CHARTS.items():
        assert chart.name == name
        assert chart.summary
        assert chart.spec(formulation)["$schema"].startswith("https://vega.github.io/schema/")
        assert chart.draw(formulation).to_dict()
        assert chart.describe(formulation).sentences


def test_the_cli_exports_exactly_the_registered_formats() -> None:
    assert _choices("export", "fmt") == list(FORMATS) == list(EXPORT_FORMATS)
    for name in FORMATS:
        assert f"--format {name}" in README


def test_import_sniffing_reads_the_registry() -> None:
    import json

    fmt, reads = sniff(json.dumps(assessment_document()).encode())
    assert (fmt.name, reads) == ("json", "assessment")
    fmt, reads = sniff(b'{"format": "instrument-case", "case": {}, "versions": []}')
    assert (fmt.name, reads) == ("json", "case")


def test_output_formats_are_what_the_readme_says() -> None:
    reports = "/".join(f"`{suffix}`" for suffix in REPORT_FORMATS)
    charts = "/".join(f"`{suffix}`" for suffix in CHART_FORMATS)
    assert f"{reports} (report) or {charts} (chart)" in README
