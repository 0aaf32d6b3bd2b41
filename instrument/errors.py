"""The one exception hierarchy of the instrument.

Every error says what is wrong, where (a JSON path such as `$.ratings.ID1.relevance`, or an item
id) and how to fix it. The CLI turns any of them into exit code 2 in one place; the web app shows
the same message beside the field.

    InstrumentError            (the base: caught, never raised itself)
    ├── DocumentError          a document, file or argument is refused; carries every Problem
    │   └── DefinitionError    an instrument definition breaks a semantic rule
    ├── NotFoundError          a case, assessment, user or definition does not exist (or is hidden)
    ├── ConflictError          a stale revision, a duplicate reference, a frozen version
    ├── PermissionDeniedError  the acting user may not do this
    ├── AuthenticationError    sign-in failed, locked out, or re-entry of the password needed
    ├── StoreError             the database refused or is unsafe to write
    ├── ConfigurationError     an `INSTRUMENT_*` setting cannot be read
    └── RenderError            a chart or report could not be drawn (a bug, never user input)

A test keeps this drawing and the classes in step, and checks that no module raises the base.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a document: where it is, what is wrong, and how to fix it."""

    where: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        """Render as `path: message`, the form the CLI prints one per line."""
        return f"{self.where}: {self.message}"


class InstrumentError(Exception):
    """Base of every error the instrument raises on purpose."""

    def __init__(self, message: str, *, where: str = "", fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.fix = fix

    def problems(self) -> list[Problem]:
        """Return the error as a list of problems, for uniform display."""
        return [Problem(self.where or "$", self.message, self.fix)]

    def __str__(self) -> str:
        """Render the error with its location when it has one."""
        return f"{self.where}: {self.message}" if self.where else self.message


class DocumentError(InstrumentError):
    """An outside document (file, upload, import) was refused; it lists every problem found."""

    def __init__(self, problems: list[Problem], *, source: str = "") -> None:
        ordered = sorted(set(problems))
        first = ordered[0] if ordered else Problem("$", "the document is not valid")
        super().__init__(first.message, where=first.where, fix=first.fix)
        self.all_problems = ordered or [first]
        self.source = source

    @classmethod
    def at(cls, where: str, message: str, fix: str = "", *, source: str = "") -> DocumentError:
        """Return the error of one problem: `DocumentError.at("$.x", "is required", "add it")`."""
        return cls([Problem(where, message, fix)], source=source)

    def problems(self) -> list[Problem]:
        """Return every problem, sorted by path."""
        return list(self.all_problems)

    def __str__(self) -> str:
        """Render every problem on its own line as `path: message`."""
        return "\n".join(str(p) for p in self.all_problems)


class DefinitionError(DocumentError):
    """An instrument definition is well-formed but breaks a semantic rule."""


class NotFoundError(InstrumentError):
    """A requested record does not exist, or the acting user may not know that it does."""


class ConflictError(InstrumentError):
    """A change was refused because it conflicts with what is stored."""


class PermissionDeniedError(InstrumentError):
    """The acting user's role or team does not allow this operation."""


class AuthenticationError(InstrumentError):
    """Sign-in failed, the account is locked, or the password must be entered again."""


class StoreError(InstrumentError):
    """The database is unavailable, damaged or refused the change."""


class ConfigurationError(InstrumentError):
    """An `INSTRUMENT_*` setting is unknown or its value cannot be read."""


class RenderError(InstrumentError):
    """A chart or report could not be drawn from a formulation that passed its checks."""
