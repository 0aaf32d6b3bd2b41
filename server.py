"""The web server: the app script (`app.py`) plus the sign-in and sign-out routes.

Start it with `streamlit run server.py` (`make run`). On the first start against an empty
database it creates the `admin` account and prints its random password once, here, on the
terminal; `make demo` (INSTRUMENT_DEMO=1) fills a separate database with the fictional worked
cases and one account per role instead.

The settings are read here once (`Settings.from_env()`) and passed to the routes. Streamlit's
hardening (SECURITY.md 14) is applied here too, by `harden()`, so that it holds however the server
is started: `.streamlit/config.toml` is only one of the places Streamlit reads, and a config file
in the working directory, or a `STREAMLIT_*` variable, could otherwise loosen it.
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from types import MappingProxyType
from typing import Any

import streamlit as st
from starlette.middleware import Middleware
from streamlit import config

from instrument.config import Settings
from instrument.errors import ConfigurationError
from instrument.service.maintenance import use_private_umask
from instrument.ui.index_page import IndexHint
from instrument.ui.navigation import PAGES
from instrument.ui.sign_in import routes
from instrument.ui.web_security import SecurityHeaders

HERE = Path(__file__).resolve().parent
use_private_umask()  # every file and folder the server creates is 0600/0700 (SECURITY.md 25)

HARDENING: Mapping[str, Any] = MappingProxyType(
    {
        "server.headless": True,
        "server.address": "127.0.0.1",
        "server.fileWatcherType": "none",
        "server.maxUploadSize": 5,
        "server.enableXsrfProtection": True,
        "server.enableCORS": True,
        "server.runOnSave": False,
        "browser.gatherUsageStats": False,
        "runner.magicEnabled": False,
        "client.toolbarMode": "viewer",
        "client.showErrorDetails": "none",
    }
)
"""The Streamlit options the server always runs with (STACK-NOTES.md; SECURITY.md 14)."""


def harden() -> None:
    """Set every option of `HARDENING`, whatever config files, variables or flags said."""
    for name, value in HARDENING.items():
        config.set_option(name, value, where_defined="server.py (HARDENING)")


def _first_start(settings: Settings) -> None:
    """Create the first administrator (or the demo accounts) and print passwords once."""
    from instrument.service import Service

    settings.db.parent.mkdir(parents=True, exist_ok=True)
    if settings.demo:
        from instrument.demo import load_demo

        accounts = load_demo(
            settings.db,
            key_path=settings.audit_key_path,
            db_key_path=settings.db_key_path,
        )
        if accounts:
            print("\nDemo accounts (fictional data; passwords shown once, now):", flush=True)
            for username, role, password in accounts:
                print(f"  {role:<13} {username:<18} {password}", flush=True)
            print(flush=True)
        else:
            print(
                f"\nThe demo database {settings.db} is loaded already; its passwords were "
                f"shown on its first start. Delete it for a fresh demo with new passwords.\n",
                flush=True,
            )
        return
    service = Service.open(
        settings.db,
        key_path=settings.audit_key_path,
        db_key_path=settings.db_key_path,
        definitions=settings.definitions,
    )
    try:
        password = service.ensure_admin()
    finally:
        service.close()
    if password:
        print(
            "\nFirst start: created the administrator account.\n"
            f"  username: admin\n  password: {password}\n"
            "This one-time password is shown once: sign in with it, choose your own, then "
            "create the team's accounts.\n",
            flush=True,
        )


def _settings() -> Settings:
    """Read the settings once; a bad one stops the start with its name and fix, exit code 2."""
    try:
        return Settings.from_env()
    except ConfigurationError as error:
        print(f"{error.where}: {error.message} ({error.fix})", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def warm_up() -> None:
    """Import every page's module now, then freeze the heap for the garbage collector.

    Streamlit ends each script run with a full garbage collection (`runner.postScriptGC`), and
    Python collects the oldest generation now and then during runs too. Each walked every object
    of the loaded libraries (about 140,000: 75 ms on 2 cores) while holding the GIL, which
    delayed the run's last messages to the browser and the next run. `gc.freeze()` keeps what
    start-up loaded (modules: nothing per user) out of later collections; what the runs create
    is collected as before. Importing the pages here also spares the first visitor of each page
    its import.
    """
    for spec in PAGES.values():
        importlib.import_module(spec.module)
    gc.collect()
    gc.freeze()


SETTINGS = _settings()
harden()


@asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[dict[str, Any] | None]:
    """Apply the hardening again (after Streamlit's own start-up), then prepare the database."""
    harden()
    _first_start(SETTINGS)
    warm_up()
    yield None


app = st.App(
    str(HERE / "app.py"),
    routes=routes(SETTINGS),
    lifespan=lifespan,
    middleware=[Middleware(SecurityHeaders), Middleware(IndexHint)],
)
