"""The web server: the app script (`app.py`) plus the sign-in and sign-out routes.

Start it with `streamlit run server.py` (`make run`). On the first start against an empty
database it creates the `admin` account and prints its random password once, here, on the
terminal; `make demo` (INSTRUMENT_DEMO=1) fills a separate database with the fictional worked
cases and one account per role instead.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import streamlit as st
from starlette.middleware import Middleware

from instrument.store.files import use_private_umask
from instrument.ui.settings import web_settings
from instrument.ui.sign_in import routes
from instrument.ui.web_security import SecurityHeaders

HERE = Path(__file__).resolve().parent
use_private_umask()  # every file and folder the server creates is 0600/0700 (SECURITY.md 25)


def _first_start() -> None:
    """Create the first administrator (or the demo accounts) and print passwords once."""
    from instrument.service import Service

    settings = web_settings()
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    if os.environ.get("INSTRUMENT_DEMO") == "1":
        from instrument.demo import load_demo

        accounts = load_demo(
            settings.db_path, key_path=settings.audit_key_path, db_key_path=settings.db_key_path
        )
        if accounts:
            print("\nDemo accounts (fictional data; passwords shown once, now):", flush=True)
            for username, role, password in accounts:
                print(f"  {role:<13} {username:<18} {password}", flush=True)
            print(flush=True)
        else:
            print(
                f"\nThe demo database {settings.db_path} is loaded already; its passwords were "
                f"shown on its first start. Delete it for a fresh demo with new passwords.\n",
                flush=True,
            )
        return
    service = Service.open(
        settings.db_path, key_path=settings.audit_key_path, db_key_path=settings.db_key_path
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


@asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[dict[str, Any] | None]:
    """Prepare the database before the first request."""
    _first_start()
    yield None


app = st.App(
    str(HERE / "app.py"),
    routes=routes(),
    lifespan=lifespan,
    middleware=[Middleware(SecurityHeaders)],
)
