"""The `instrument` command line: parse, call the service, print.

The settings are read once, in `main`, and reach the commands through click's context; every
command calls the service (`instrument.service`, `instrument.service.documents`). JSON goes to
stdout, messages to stderr. Every refusal of bad input exits 2, printing each
problem as `JSON-path: message — how to fix it`, in one place (`main`); no traceback ever
reaches the user.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from instrument.access import SYSTEM, Actor
from instrument.config import Settings
from instrument.errors import DocumentError, InstrumentError, Problem
from instrument.service import Service
from instrument.service.documents import (
    CHART_FORMATS,
    CHART_NAMES,
    DEFAULT_FORMAT,
    DOCUMENT_KINDS,
    EXPORT_FORMATS,
    REPORT_FORMATS,
    Documents,
)
from instrument.service.maintenance import encrypt as encrypt_database
from instrument.service.maintenance import restore_audit, use_private_umask
from instrument.service.maintenance import rotate_key as rotate_key_files
from instrument.service.verification import verify_audit

EXIT_INVALID = 2


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="instrument")
def cli() -> None:
    """Intervention formulation instrument: a structured professional judgement aid.

    It never gives a person a risk score; the assessor's judgement decides.
    """


def _settings() -> Settings:
    """Return the settings `main` read once from the environment (the click context's object)."""
    settings = click.get_current_context().find_object(Settings)
    return settings if settings is not None else Settings.from_env()


def _documents() -> Documents:
    return Documents(_settings().definitions)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the whole definition as JSON.")
@click.option(
    "--version",
    "version",
    default=None,
    help="An installed version, e.g. 1.0.0 (default: the one new drafts use).",
)
def show(as_json: bool, version: str | None) -> None:
    """Show the instrument: domains, items and intervention areas (the current one by default)."""
    documents = _documents()
    instrument = (
        documents.default_instrument() if version is None else documents.instrument("ifi", version)
    )
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
@click.argument("kind", type=click.Choice(DOCUMENT_KINDS))
@click.argument("file", type=click.Path(path_type=Path, dir_okay=True))
def validate(kind: str, file: Path) -> None:
    """Validate a document; exit 0 when valid, 2 listing every problem when not."""
    _documents().validate(kind, file)
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
    documents = _documents()
    formulation = documents.formulate(assessment, previous, now=dt.datetime.now(dt.UTC))
    text = documents.formulation_bytes(formulation).decode("utf-8")
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@cli.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=True))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Write the upgraded assessment here."
)
def upgrade(file: Path, output: Path | None) -> None:
    """Upgrade an assessment to the current definition (a draft; new items unrated, flagged)."""
    upgraded = _documents().upgrade(file)
    text = json.dumps(upgraded.to_document(), indent=2, ensure_ascii=False) + "\n"
    record = upgraded.assessment.upgraded_from
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    if record is not None and (record.new_items or record.review_items):
        click.echo(
            f"to rate: {', '.join(record.new_items) or 'none'}; "
            f"to check: {', '.join(record.review_items) or 'none'}",
            err=True,
        )


@cli.command()
@click.option("--write", "mode", flag_value="write", help="Write schemas/ from the models.")
@click.option("--check", "mode", flag_value="check", help="Exit 1 when schemas/ has drifted.")
def schema(mode: str | None) -> None:
    """Write or check the published JSON Schemas in schemas/."""
    if mode == "write":
        for path in _documents().write_schemas():
            click.echo(f"wrote {path}", err=True)
    elif mode == "check":
        drifted = _documents().drifted_schemas()
        if drifted:
            for path in drifted:
                click.echo(
                    f"{path}: differs from the models; run `instrument schema --write`", err=True
                )
            sys.exit(1)
        click.echo("schemas are up to date", err=True)
    else:
        raise click.UsageError("give --write or --check")


@cli.command(name="definitions")
def list_definitions() -> None:
    """List the installed instrument definitions."""
    for instrument in _documents().installed():
        click.echo(f"{instrument.id} {instrument.version}")


# --- documents for people: reports and charts ----------------------------------------------------


def _output_format(output: Path, formats: Any) -> str:
    suffix = output.suffix.lower()
    if suffix not in formats:
        raise DocumentError.at(
            str(output),
            f"unknown output format {output.suffix or '(no suffix)'!r}",
            f"name the output file with {' or '.join(formats)}",
        )
    return suffix


def _write_output(output: Path, data: bytes) -> None:
    try:
        output.write_bytes(data)
    except OSError as error:
        raise DocumentError.at(
            str(output),
            f"cannot write the file: {error.strerror or error}",
            "choose a writable path in an existing folder",
        ) from error
    click.echo(f"wrote {output}", err=True)


@cli.command(name="report")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="OUT.html (one self-contained page), OUT.pdf (A4) or OUT.docx (Word).",
)
@click.option(
    "--redact",
    is_flag=True,
    help="Leave every evidence text and responsivity note out (and the plan's free text and "
    "names), as a viewer's report.",
)
@click.option(
    "--earlier",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="An earlier formulation of the same case, for the change chart (repeatable).",
)
@click.option(
    "--version",
    "version",
    type=click.IntRange(min=1),
    default=None,
    help="With a case export: the final version to report (default: the latest).",
)
@click.option(
    "--plan-only",
    is_flag=True,
    help="With a case export: the 'plan only' report for the participant's file.",
)
def report_command(
    file: Path,
    output: Path,
    redact: bool,
    earlier: tuple[Path, ...],
    version: int | None,
    plan_only: bool,
) -> None:
    """Write the report of a formulation file or of a case export (`instrument export`).

    Charts, priorities with their reasons, 5P, data quality. A formulation file carries no
    signatures: the sign-off block has blank rows to sign by hand. A case export's report is
    of its latest final version (or --version), with the earlier ones on the change chart, the
    signatures the file records and, when the case has one, the intervention plan, its delivery
    and reviews; --plan-only writes the plan without any assessment, notes or evidence.
    """
    suffix = _output_format(output, REPORT_FORMATS)
    documents = _documents()
    if documents.is_case_export(file):
        if earlier:
            raise DocumentError.at(
                "--earlier",
                "a case export carries its earlier versions",
                "leave --earlier out: the change chart is drawn from the export's final versions",
            )
        content = documents.case_report(
            file,
            suffix,
            today=dt.datetime.now(dt.UTC).date(),
            version=version,
            redact=redact,
            plan_only=plan_only,
        )
        _write_output(output, content)
        return
    for option, given in (("--version", version is not None), ("--plan-only", plan_only)):
        if given:
            raise DocumentError.at(
                option,
                f"{file} is not a case export: a formulation file has one version and no plan",
                f"pass a case export (`instrument export REFERENCE`) with {option}",
            )
    formulation = documents.read_formulation(file)
    history = [documents.read_formulation(path) for path in earlier]
    _write_output(output, documents.report(formulation, suffix, redact=redact, history=history))


def _definition(named: str | None) -> Any:
    """Return the definition named `id@version`, or the newest installed one."""
    documents = _documents()
    if named is None:
        return documents.default_instrument()
    instrument_id, at, version = named.partition("@")
    if not at or not instrument_id or not version:
        raise DocumentError.at(
            "--definition",
            f"{named!r} does not name a definition",
            "write it as id@version, e.g. ifi@1.0.0 (`instrument definitions` lists them)",
        )
    return documents.instrument(instrument_id, version)


@cli.command(name="blank-form")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="OUT.pdf (A4) or OUT.html.",
)
@click.option(
    "--definition",
    default=None,
    help="The definition's id and version, e.g. ifi@1.0.0 (default: the installed one).",
)
def blank_form(output: Path, definition: str | None) -> None:
    """Write a printable blank form of the instrument definition, to fill in by hand."""
    suffix = _output_format(output, (".pdf", ".html"))
    _write_output(output, _documents().blank_form(_definition(definition), suffix))


@cli.command(name="chart")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--kind", required=True, type=click.Choice(CHART_NAMES), help="Which chart to draw.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="OUT.svg or OUT.png (PNG at twice the size, for slides).",
)
def chart_command(file: Path, kind: str, output: Path) -> None:
    """Write one chart of a formulation as SVG or PNG (no browser needed)."""
    suffix = _output_format(output, CHART_FORMATS)
    documents = _documents()
    _write_output(output, documents.chart(documents.read_formulation(file), kind, suffix))


# --- the case store: users, import, export, cases, audit, backup ---------------------------------

_DB_HELP = (
    "The database file (default: $INSTRUMENT_DB, else data/instrument.db in the project). A new "
    "database is encrypted with a new key in <db>.dbkey (or $INSTRUMENT_DB_KEY)."
)
_AS_HELP = (
    "Act as this local user (the password is read from standard input); "
    "without it the command acts as the built-in `system` actor."
)


def _db_option(command: Any) -> Any:
    return click.option(
        "--db",
        "db",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help=_DB_HELP,
    )(command)


def _open_service(db: Path | None) -> Service:
    settings = _settings().with_db(db)
    return Service.open(
        settings.db,
        key_path=settings.audit_key_path,
        db_key_path=settings.db_key_path,
        definitions=settings.definitions,
    )


def _acting(service: Service, username: str | None) -> Actor:
    """Return the system actor, or sign the named user in with a password from stdin."""
    if username is None:
        return SYSTEM
    password = _read_password()
    actor = service.session_actor(service.sign_in(username, password))
    if actor is None:  # pragma: no cover - a session just made is valid
        raise DocumentError.at("--as", "the session could not be opened", "try again")
    service.confirm_password(actor, password)
    return actor


def _read_password() -> str:
    line = sys.stdin.readline()
    password = line.removesuffix("\n").removesuffix("\r")
    if not password:
        raise DocumentError.at(
            "password", "no password on standard input", "pipe it in: --password-stdin"
        )
    return password


@cli.group()
def users() -> None:
    """Manage user accounts (acting as the built-in `system` actor)."""


@users.command(name="add")
@_db_option
@click.option("--username", required=True, help="The new user's name (2 to 40 of a-z 0-9 ._-).")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "psychologist", "supervisor", "viewer"]),
    help="The user's role.",
)
@click.option("--team", default=None, help="The user's team (default: `default`).")
@click.option(
    "--password-stdin",
    "password_stdin",
    is_flag=True,
    help="Read a first password of your choosing from standard input; without it the account "
    "gets a one-time password, printed once, to be changed at the first sign-in.",
)
def users_add(
    db: Path | None, username: str, role: str, team: str | None, password_stdin: bool
) -> None:
    """Add a user, with a one-time password printed once (or one from standard input)."""
    password = _read_password() if password_stdin else None
    with _open_service(db) as service:
        row = service.add_user(SYSTEM, username, role, password, team)
    click.echo(f"added {username} ({role})", err=True)
    if row.one_time_password:
        click.echo("one-time password (to be changed at the first sign-in): ", err=True, nl=False)
        click.echo(row.one_time_password)


@users.command(name="reset")
@_db_option
@click.option("--username", required=True, help="The user whose password is reset.")
def users_reset(db: Path | None, username: str) -> None:
    """Give a user a new one-time password (printed once); their sessions end now."""
    with _open_service(db) as service:
        password = service.reset_password(SYSTEM, username)
    click.echo(
        f"reset {username}; one-time password (to be changed at sign-in): ", err=True, nl=False
    )
    click.echo(password)


@cli.command(name="import")
@_db_option
@click.option("--team", default=None, help="The team the cases belong to (default: `default`).")
@click.option("--as", "as_user", default=None, help=_AS_HELP)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def import_files(
    db: Path | None, team: str | None, as_user: str | None, files: tuple[Path]
) -> None:
    """Import assessment documents or case exports; each file is all or nothing.

    A new reference creates the case; an assessment becomes the case's next draft version
    (a final version is never overwritten). Exit 2 listing each refused file's problems.
    """
    problems: list[Problem] = []
    imported = []
    documents = _documents()
    with _open_service(db) as service:
        actor = _acting(service, as_user)
        for path in files:
            try:
                result = service.import_document(actor, documents.read_file(path), team)
            except InstrumentError as error:
                problems += [
                    Problem(f"{path}: {p.where}", p.message, p.fix) for p in error.problems()
                ]
                continue
            imported.append(
                {
                    "file": str(path),
                    "reference": result.reference,
                    "team": result.team,
                    "versions": list(result.versions),
                }
            )
            click.echo(f"{path}: imported {result.reference} {list(result.versions)}", err=True)
    if imported:
        _print_json(imported)
    if problems:
        raise DocumentError(problems)


@cli.command()
@_db_option
@click.option("--case", "reference", required=True, help="The case reference.")
@click.option("--team", default=None, help="The case's team, when the reference is in several.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default=DEFAULT_FORMAT,
    help="The export format (today json: schemas/case.schema.json).",
)
@click.option("--as", "as_user", default=None, help=_AS_HELP)
def export(
    db: Path | None, reference: str, team: str | None, fmt: str, as_user: str | None
) -> None:
    """Print a case with its assessments and formulations (schemas/case.schema.json)."""
    with _open_service(db) as service:
        actor = _acting(service, as_user)
        document = service.export_case(actor, reference, team=team)
    click.echo(_documents().case_bytes(document, fmt).decode("utf-8"), nl=False)


@cli.command()
@_db_option
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.option("--review-due", is_flag=True, help="Only cases whose plan is past its review date.")
@click.option("--as", "as_user", default=None, help=_AS_HELP)
def cases(db: Path | None, as_json: bool, review_due: bool, as_user: str | None) -> None:
    """List the cases: reference, team, pathway, status, last assessed, top priority, plan."""
    with _open_service(db) as service:
        rows = service.list_cases(_acting(service, as_user), review_due=review_due)
    if as_json:
        _print_json(
            [
                {
                    "reference": r.reference,
                    "team": r.team,
                    "pathway": r.pathway.value,
                    "status": r.status.value if r.status else None,
                    "latest_version": r.latest_version,
                    "last_assessed": r.last_assessed.isoformat() if r.last_assessed else None,
                    "assessor": r.assessor,
                    "top_priority": r.top_priority,
                    "no_area_offered": r.no_area_offered,
                    "plan_status": r.plan_status,
                    "next_review_on": r.next_review_on.isoformat() if r.next_review_on else None,
                    "review_due": r.review_due,
                }
                for r in rows
            ]
        )
        return
    for r in rows:
        status = f"v{r.latest_version} {r.status.value}" if r.status else "no assessment"
        assessed = r.last_assessed.isoformat() if r.last_assessed else "-"
        priority = "no area offered" if r.no_area_offered else r.top_priority or "-"
        plan = r.plan_status or "no plan"
        if r.next_review_on is not None and r.plan_status == "agreed":
            plan += f", review {r.next_review_on.isoformat()}" + (" (due)" if r.review_due else "")
        click.echo(
            f"{r.reference:<20} {r.team:<12} {r.pathway.value:<11} {status:<12} "
            f"{assessed:<10} {priority:<28} {plan}"
        )


@cli.group()
def audit() -> None:
    """Check the audit log."""


@audit.command(name="verify")
@_db_option
def audit_verify(db: Path | None) -> None:
    """Verify the audit chain: exit 0 when intact, 1 naming the first bad entry."""
    settings = _settings().with_db(db)
    result = verify_audit(settings.db, settings.audit_key_path, settings.db_key_path)
    if result.ok:
        click.echo(f"audit chain intact: {result.entries} entries", err=True)
        return
    click.echo(f"audit chain broken at seq {result.first_bad_seq}: {result.reason}", err=True)
    sys.exit(1)


@audit.command(name="restore")
@_db_option
def audit_restore(db: Path | None) -> None:
    """After a deliberate restore from a backup, accept the audit log as it is (audited).

    The chain in the database must verify; an `audit-restore` entry is added and the head kept
    outside the database moves to it, so that writes are allowed again.
    """
    settings = _settings().with_db(db)
    before, seq = restore_audit(settings.db, settings.audit_key_path, settings.db_key_path)
    if before:
        click.echo(f"was: {before}", err=True)
    click.echo(f"re-anchored the audit log at seq {seq}", err=True)


@cli.command(name="rotate-key")
@_db_option
@click.argument("which", type=click.Choice(["audit", "cookie"]))
def rotate_key(db: Path | None, which: str) -> None:
    """Replace the audit key or the cookie key with a new one (audited as `key-rotate`).

    audit: the chain is verified with the old key, re-signed with the new one in one
    transaction, and the new key file moved into place (the old one is kept as <key>.old until
    you delete it). cookie: a new cookie key signs everyone out; restart the web server.
    """
    settings = _settings().with_db(db)
    key_path = rotate_key_files(
        settings.db,
        which,
        key_path=settings.audit_key_path,
        cookie_key_path=settings.cookie_key_path,
        db_key_path=settings.db_key_path,
    )
    click.echo(f"rotated the {which} key: {key_path}", err=True)


@cli.command()
@_db_option
def encrypt(db: Path | None) -> None:
    """Encrypt an existing unencrypted database in place, with a new key file (0600).

    Stop the web app first. The key goes to <db>.dbkey (or $INSTRUMENT_DB_KEY): keep it apart
    from the backups, which are encrypted with it from now on.
    """
    settings = _settings().with_db(db)
    key_path = encrypt_database(settings.db, settings.db_key_path)
    click.echo(f"encrypted {settings.db}; its key is {key_path}", err=True)


@cli.command()
@_db_option
@click.argument("out", type=click.Path(path_type=Path, dir_okay=False))
def backup(db: Path | None, out: Path) -> None:
    """Copy the database to OUT with SQLite's backup API and verify the copy."""
    with _open_service(db) as service:
        report = service.backup(SYSTEM, out)
    _print_json({"backup": str(report.path), "rows": report.counts})


def main(argv: list[str] | None = None) -> None:
    """Run the CLI, turning every refusal into exit 2 with its problems on stderr."""
    use_private_umask()
    try:
        settings = Settings.from_env()
        cli.main(args=argv, prog_name="instrument", standalone_mode=False, obj=settings)
    except InstrumentError as error:
        # One line per problem: where, what is wrong, and how to fix it.
        for problem in error.problems():
            fix = f" — {problem.fix}" if problem.fix else ""
            click.echo(f"{problem.where}: {problem.message}{fix}", err=True)
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
