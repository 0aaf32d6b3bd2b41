"""The web app's settings: `config.Settings`, read once per server process, and the cookie key.

The web server (`server.py`) reads `Settings.from_env()` itself and hands it to its routes; the
app's script reaches the same settings through `current_settings()`, read on first use and kept
for the process (`st.cache_resource`: settings are the same for every user and hold no case
data). The variables and their defaults are in the README's configuration table.

The cookie key is created on first use (32 random bytes, mode 0600) beside the database, so that
sessions survive a restart of the server and a new key signs everyone out.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import streamlit as st

from instrument.config import Settings
from instrument.errors import StoreError


@st.cache_resource(show_spinner=False)
def current_settings() -> Settings:
    """Return the settings of this server process, read from the environment on first use."""
    return Settings.from_env()


def cookie_secret(path: Path) -> bytes:
    """Return the cookie-signing key stored at `path`, creating it (mode 0600) when missing."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
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
