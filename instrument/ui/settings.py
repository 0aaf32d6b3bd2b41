"""The web app's settings, read once from `INSTRUMENT_*` environment variables at the edge.

| variable                | default                  | what                                |
|-------------------------|--------------------------|-------------------------------------|
| `INSTRUMENT_DB`         | `data/instrument.db`     | the SQLite database the app uses    |
| `INSTRUMENT_AUDIT_KEY`  | (the store's default)    | the audit-chain key file            |
| `INSTRUMENT_COOKIE_KEY` | `<database>.cookie.key`  | the key that signs session cookies  |
| `INSTRUMENT_DB_KEY`     | `<database>.dbkey`       | the key that encrypts the database  |
| `INSTRUMENT_SIGN_IN_PER_ADDRESS` | `30`            | sign-in attempts per address in 10 min |
| `INSTRUMENT_SIGN_IN_PER_ACCOUNT` | `10`            | sign-in attempts per username in 10 min |

The cookie key is created on first use (32 random bytes, mode 0600) beside the database, so that
sessions survive a restart of the server and a new key signs everyone out.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from instrument.errors import StoreError
from instrument.ui.web_security import Limits

DEFAULT_DB = Path("data/instrument.db")


@dataclass(frozen=True)
class WebSettings:
    """Where the web app keeps its database and keys."""

    db_path: Path
    audit_key_path: Path | None
    cookie_key_path: Path
    db_key_path: Path | None = None
    sign_in_limits: Limits = field(default_factory=Limits)


def web_settings(environ: Mapping[str, str] | None = None) -> WebSettings:
    """Return the settings from the environment (or `environ`), with their defaults."""
    env = os.environ if environ is None else environ
    db_path = Path(env.get("INSTRUMENT_DB") or DEFAULT_DB)
    audit_key = env.get("INSTRUMENT_AUDIT_KEY")
    cookie_key = env.get("INSTRUMENT_COOKIE_KEY")
    db_key = env.get("INSTRUMENT_DB_KEY")
    return WebSettings(
        db_path=db_path,
        audit_key_path=Path(audit_key) if audit_key else None,
        cookie_key_path=Path(cookie_key) if cookie_key else db_path.with_suffix(".cookie.key"),
        db_key_path=Path(db_key) if db_key else db_path.with_name(db_path.name + ".dbkey"),
        sign_in_limits=Limits(
            per_address=_positive(env, "INSTRUMENT_SIGN_IN_PER_ADDRESS", Limits.per_address),
            per_account=_positive(env, "INSTRUMENT_SIGN_IN_PER_ACCOUNT", Limits.per_account),
        ),
    )


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    """Return a positive whole number from the environment, or the default when unset.

    Raises:
        StoreError: naming the variable, when it is set to anything else.
    """
    text = env.get(name)
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise StoreError(f"{name} must be a whole number above 0", where=name, fix="correct it")
    return int(text)


def cookie_secret(path: Path) -> bytes:
    """Return the cookie-signing key stored at `path`, creating it (mode 0600) when missing."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        key = secrets.token_bytes(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            return path.read_bytes()
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return key
    if len(data) < 32:
        raise StoreError(
            "the cookie key is too short",
            where=str(path),
            fix="delete the file; a new key is made at the next start (everyone signs in again)",
        )
    return data
