"""The `instrument` command line: parse, call the library or service, print.

JSON goes to stdout, messages to stderr. Every refusal of bad input exits 2, printing each
problem as `JSON-path: message`, in one place (`main`); no traceback ever reaches the user.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from instrument.definitions import default_instrument, get_instrument, installed, load_definition
from instrument.errors import DocumentError, InstrumentError, Problem
from instrument.exchange.assessments import load_assessment, load_formulation
from instrument.exchange.documents import schema_problems
from instrument.formulation import formulate as formulate_assessment
from instrument.formulation import formulation_json
from instrument.schemas import SCHEMA_DIR, drifted_schemas, write_schemas

EXIT_INVALID = 2


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="instrument")
def cli() -> None:
    """Intervention formulation instrument: a structured professional judgement aid.

    It never gives a person a risk score; the assessor's judgement decides.
    """


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the whole definition as JSON.")
def show(as_json: bool) -> None:
    """Show the installed instrument: domains, items and intervention areas."""
    instrument = default_instrument()
    if as_json:
        _print_json(instrument.model_dump(mode="json"))
        return
    click.echo(f"{instrument.title} ({instrument.id} {instrument.version})")
    click.echo(instrument.notice.strip())
    for domain in instrument.domains:
        click.echo(f"\n{domain.name} [{domain.kind.value}]")
        for item in instrument.items_of(domain.id):
            areas = ", ".join(f"{a} {w:g}" for a, w in item.weights.items())
            click.echo(f"  {item.id:<4} {item.name}" + (f"  → {areas}" if areas else ""))
    click.echo("\nIntervention areas")
    for area in instrument.areas:
        drivers = ", ".join(item.id for item, _ in instrument.area_items(area.id))
        click.echo(f"  {area.id:<26} {area.name}  ← {drivers}")
    click.echo("\nResponsivity")
    for rs in instrument.responsivity:
        click.echo(f"  {rs.id:<4} {rs.name}")


@cli.command()
@click.argument("kind", type=click.Choice(["instrument", "assessment", "formulation"]))
@click.argument("file", type=click.Path(path_type=Path, dir_okay=True))
def validate(kind: str, file: Path) -> None:
    """Validate a document; exit 0 when valid, 2 listing every problem when not."""
    if kind == "instrument":
        load_definition(file)
    elif kind == "assessment":
        load_assessment(file)
    else:
        load_formulation(file)
    click.echo(f"{file}: valid {kind}", err=True)


@cli.command()
@click.argument("assessment", type=click.Path(path_type=Path, dir_okay=True))
@click.option(
    "--previous",
    type=click.Path(path_type=Path, dir_okay=True),
    help="The previous assessment of the same case, to report change.",
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Write the formulation to this file."
)
def formulate(assessment: Path, previous: Path | None, output: Path | None) -> None:
    """Formulate an assessment: ranked priorities with reasons, 5P, data quality (JSON)."""
    current = load_assessment(assessment)
    earlier = None
    if previous is not None:
        try:
            earlier = load_assessment(previous)
        except DocumentError as error:
            raise DocumentError(
                [
                    Problem(p.where, f"previous assessment: {p.message}", p.fix)
                    for p in error.problems()
                ]
            ) from None
    instrument = get_instrument(current.instrument.id, current.instrument.version)
    formulation = formulate_assessment(
        instrument, current, earlier, generated_at=dt.datetime.now(dt.UTC)
    )
    text = formulation_json(formulation)
    problems = schema_problems("formulation", json.loads(text))
    if problems:
        raise DocumentError(problems)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@cli.command()
@click.option("--write", "mode", flag_value="write", help="Write schemas/ from the models.")
@click.option("--check", "mode", flag_value="check", help="Exit 1 when schemas/ has drifted.")
def schema(mode: str | None) -> None:
    """Write or check the published JSON Schemas in schemas/."""
    if mode == "write":
        for path in write_schemas():
            click.echo(f"wrote {path}", err=True)
    elif mode == "check":
        drifted = drifted_schemas()
        if drifted:
            for kind in drifted:
                click.echo(
                    f"{SCHEMA_DIR / (kind + '.schema.json')}: differs from the models; "
                    "run `instrument schema --write`",
                    err=True,
                )
            sys.exit(1)
        click.echo("schemas are up to date", err=True)
    else:
        raise click.UsageError("give --write or --check")


@cli.command(name="definitions")
def list_definitions() -> None:
    """List the installed instrument definitions."""
    for instrument_id, version in sorted(installed()):
        click.echo(f"{instrument_id} {version}")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI, turning every refusal into exit 2 with its problems on stderr."""
    try:
        cli.main(args=argv, prog_name="instrument", standalone_mode=False)
    except InstrumentError as error:
        for problem in error.problems():
            click.echo(f"{problem.where}: {problem.message}", err=True)
        sys.exit(EXIT_INVALID)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as error:
        error.show()
        sys.exit(EXIT_INVALID if error.exit_code == 2 else error.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(0)
