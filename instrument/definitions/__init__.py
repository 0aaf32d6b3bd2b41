"""The shipped instrument definitions, and loading any definition: YAML → jsonschema → model.

An organisation adapts the instrument by copying `ifi-1.0.yaml`, changing it under a new version,
and placing it here (or pointing `INSTRUMENT_DEFINITIONS` at a folder holding it).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from instrument.definition import Instrument, check_definition
from instrument.errors import DocumentError, NotFoundError, Problem
from instrument.exchange.documents import read_bytes, read_document, syntax_for

SHIPPED = Path(__file__).resolve().parent
DEFAULT = ("ifi", "1.0.0")


def load_definition(path: Path) -> Instrument:
    """Load and check one definition file (YAML or JSON).

    Raises:
        DocumentError: for any problem, each with its JSON path.
    """
    data = read_bytes(path)
    try:
        return read_document(
            data,
            "instrument",
            Instrument,
            syntax=syntax_for(path),
            semantic=_semantic_problems,
        )
    except DocumentError as error:
        error.source = str(path)
        raise


def _semantic_problems(instrument: Instrument) -> list[Problem]:
    try:
        check_definition(instrument)
    except DocumentError as error:
        return error.problems()
    return []


@lru_cache(maxsize=8)
def installed(folder: Path = SHIPPED) -> dict[tuple[str, str], Instrument]:
    """Return every definition in `folder`, keyed by (id, version); loaded once per process.

    Raises:
        DocumentError: when a definition in the folder is invalid: never serve a broken one.
    """
    found: dict[tuple[str, str], Instrument] = {}
    for path in sorted(folder.glob("*.yaml")):
        instrument = load_definition(path)
        found[instrument.key] = instrument
    return found


def get_instrument(
    instrument_id: str = DEFAULT[0], version: str = DEFAULT[1], folder: Path = SHIPPED
) -> Instrument:
    """Return an installed definition by id and version.

    Raises:
        NotFoundError: naming the installed versions, when it is not installed.
    """
    definitions = installed(folder)
    try:
        return definitions[(instrument_id, version)]
    except KeyError:
        available = ", ".join(f"{i} {v}" for i, v in sorted(definitions)) or "none"
        raise NotFoundError(
            f"instrument {instrument_id} {version} is not installed (installed: {available})",
            where="$.instrument",
            fix="use an installed instrument id and version",
        ) from None


def default_instrument() -> Instrument:
    """Return the shipped default definition (`ifi` 1.0.0)."""
    return get_instrument(*DEFAULT)


def _version_key(version: str) -> tuple[tuple[int, str], ...]:
    """Return a sort key for `1.0.0`-style versions: numbers compare as numbers (1.10 > 1.9)."""
    return tuple((int(part), "") if part.isdigit() else (-1, part) for part in version.split("."))


def newest_instrument(instrument_id: str = DEFAULT[0], folder: Path = SHIPPED) -> Instrument:
    """Return the newest installed version of an instrument (what new drafts are made with).

    Raises:
        NotFoundError: when no version of the instrument is installed.
    """
    versions = [i for (key, _), i in installed(folder).items() if key == instrument_id]
    if not versions:
        raise NotFoundError(
            f"no version of instrument {instrument_id} is installed",
            where="$.instrument",
            fix="install its definition",
        )
    return max(versions, key=lambda i: _version_key(i.version))


def current_instrument() -> Instrument:
    """Return the definition new drafts use: the newest installed `ifi` (1.1.0)."""
    return newest_instrument(DEFAULT[0])
