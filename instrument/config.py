"""The settings of the instrument: one frozen model, read from `INSTRUMENT_*` variables at the edge.

`Settings.from_env()` is called once by each entry point (the `instrument` command, the web
server and the web app's script) and the result is passed down; no module below the entry points
reads the environment. Every variable is a field here, named by its `validation_alias`, and the
README's configuration table lists the same variables with the same defaults (a test compares
them).

pydantic-settings would read the same five variables; a plain pydantic model with aliases does it
in a few lines, without a second settings library and its own rules for `.env` files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from instrument.errors import ConfigurationError

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_DB = PROJECT / "data" / "instrument.db"
PREFIX = "INSTRUMENT_"


class Settings(BaseModel):
    """Where the instrument keeps its database, keys and extra definitions."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    db: Path = Field(
        default=DEFAULT_DB,
        validation_alias="INSTRUMENT_DB",
        description="The SQLite database of the app and the CLI.",
    )
    audit_key: Path | None = Field(
        default=None,
        validation_alias="INSTRUMENT_AUDIT_KEY",
        description="The audit chain's key file; unset: `<database file>.key` beside it.",
    )
    cookie_key: Path | None = Field(
        default=None,
        validation_alias="INSTRUMENT_COOKIE_KEY",
        description="The session-cookie key file; unset: `<database name>.cookie.key` beside it.",
    )
    definitions: Path | None = Field(
        default=None,
        validation_alias="INSTRUMENT_DEFINITIONS",
        description="A folder of extra instrument definitions (`*.yaml`), beside the shipped one.",
    )
    demo: bool = Field(
        default=False,
        validation_alias="INSTRUMENT_DEMO",
        description="Fill an empty database with the worked cases and demo accounts (web server).",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Return the settings from the environment (or `environ`); unset or empty: the default.

        Raises:
            ConfigurationError: naming the variable, when a value cannot be read, or when an
                `INSTRUMENT_*` variable is not a setting (a misspelt name would be ignored).
        """
        env = os.environ if environ is None else environ
        known = {field.validation_alias for field in cls.model_fields.values()}
        unknown = sorted(name for name in env if name.startswith(PREFIX) and name not in known)
        if unknown:
            raise ConfigurationError(
                f"unknown setting {unknown[0]}",
                where=unknown[0],
                fix=f"use one of {', '.join(sorted(str(k) for k in known))}, or unset it",
            )
        values = {name: env[name] for name in known if isinstance(name, str) and env.get(name)}
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            first = error.errors()[0]
            name = str(first["loc"][0]) if first["loc"] else PREFIX
            raise ConfigurationError(
                f"not a valid value: {first['msg']}",
                where=name,
                fix="give a valid value (see the README's configuration table), or unset it",
            ) from None

    def with_db(self, db: Path | None) -> Settings:
        """Return these settings on another database (the CLI's `--db`); None keeps this one."""
        return self if db is None else self.model_copy(update={"db": db})

    @property
    def audit_key_path(self) -> Path:
        """Return the audit key file: `INSTRUMENT_AUDIT_KEY`, else `<database file>.key`."""
        return self.audit_key or self.db.with_name(self.db.name + ".key")

    @property
    def cookie_key_path(self) -> Path:
        """Return the cookie key file: `INSTRUMENT_COOKIE_KEY`, else `<database>.cookie.key`."""
        return self.cookie_key or self.db.with_suffix(".cookie.key")
