"""The shipped instrument definitions, and loading any definition: YAML → jsonschema → model.

An organisation adapts the instrument by copying `ifi-1.0.yaml`, changing it under a new version,
and placing it in a folder of its own that the `INSTRUMENT_DEFINITIONS` setting names: the entry
points pass that folder down, and `catalogue(extra)` serves the shipped definitions and the
folder's together. A definition in that folder with the id and version of an installed one is
refused, so a version always means one definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

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
        DocumentError: when a definition in the folder is invalid (never serve a broken one), or
            two files define the same id and version.
    """
    found: dict[tuple[str, str], Instrument] = {}
    for path in sorted(folder.glob("*.yaml")):
        instrument = load_definition(path)
        if instrument.key in found:
            raise DocumentError.at(
                f"{path}: $.version",
                f"{instrument.id} {instrument.version} is defined twice in {folder}",
                "give each definition a version of its own",
            )
        found[instrument.key] = instrument
    return found


@dataclass(frozen=True)
class Catalogue:
    """The installed definitions: the shipped ones and those of the extra folder, if any."""

    definitions: Mapping[tuple[str, str], Instrument]

    def get(self, instrument_id: str, version: str) -> Instrument:
        """Return an installed definition by id and version.

        Raises:
            NotFoundError: naming the installed versions, when it is not installed.
        """
        try:
            return self.definitions[(instrument_id, version)]
        except KeyError:
            available = ", ".join(f"{i} {v}" for i, v in sorted(self.definitions)) or "none"
            raise NotFoundError(
                f"instrument {instrument_id} {version} is not installed (installed: {available})",
                where="$.instrument",
                fix="use an installed instrument id and version",
            ) from None

    def newest(self, instrument_id: str = DEFAULT[0]) -> Instrument:
        """Return the newest installed version of an instrument (what new drafts are made with).

        Raises:
            NotFoundError: when no version of the instrument is installed.
        """
        versions = [i for (key, _), i in self.definitions.items() if key == instrument_id]
        if not versions:
            raise NotFoundError(
                f"no version of instrument {instrument_id} is installed",
                where="$.instrument",
                fix="install its definition",
            )
        return max(versions, key=lambda i: _version_key(i.version))


def catalogue(extra: Path | None = None) -> Catalogue:
    """Return the shipped definitions plus those in the folder `extra`.

    Each folder is loaded once per process (`installed`); a definition holds no case data.

    Raises:
        DocumentError: when the folder does not exist, a definition in it is invalid, or it
            repeats the id and version of an installed definition.
    """
    found = dict(installed(SHIPPED))
    if extra is not None:
        if not extra.is_dir():
            raise DocumentError.at(
                str(extra),
                "the folder of extra definitions does not exist",
                "create it, or correct or unset INSTRUMENT_DEFINITIONS",
            )
        for key, instrument in installed(extra).items():
            if key in found:
                raise DocumentError.at(
                    f"{extra}: $.version",
                    f"{instrument.id} {instrument.version} is installed already",
                    "give the adapted definition a version of its own",
                )
            found[key] = instrument
    return Catalogue(MappingProxyType(found))


def get_instrument(
    instrument_id: str = DEFAULT[0], version: str = DEFAULT[1], folder: Path = SHIPPED
) -> Instrument:
    """Return a definition of `folder` (the shipped ones by default) by id and version.

    Raises:
        NotFoundError: naming the installed versions, when it is not installed.
    """
    return Catalogue(installed(folder)).get(instrument_id, version)


def default_instrument() -> Instrument:
    """Return the shipped default definition (`ifi` 1.0.0)."""
    return get_instrument(*DEFAULT)


def _version_key(version: str) -> tuple[tuple[int, str], ...]:
    """Return a sort key for `1.0.0`-style versions: numbers compare as numbers (1.10 > 1.9)."""
    return tuple((int(part), "") if part.isdigit() else (-1, part) for part in version.split("."))


def current_instrument() -> Instrument:
    """Return the definition new drafts use: the newest shipped `ifi` (1.1.0)."""
    return catalogue().newest(DEFAULT[0])
