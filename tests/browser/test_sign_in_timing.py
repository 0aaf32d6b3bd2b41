"""SECURITY.md 26: no user enumeration by timing, measured over HTTP (issue 11, item 5).

A real server (`streamlit run server.py`, production argon2 parameters) answers 50 sign-ins of
each kind, interleaved so that the machine's load falls on all alike: an unknown username, a
wrong password, a locked account, a deactivated one. The medians must lie within 10% of each
other. (Before: the dummy hash was made anew per request, so an unknown user cost twice.)
"""

from __future__ import annotations

import http.client
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from instrument.access import SYSTEM
from instrument.errors import AuthenticationError
from instrument.service import Service
from instrument.ui.settings import cookie_secret
from instrument.ui.sign_in import SIGN_IN_PATH, CookieSigner
from tests.browser.conftest import AppServer

PASSWORD = "timing fixture passphrase for sign-in"
TRIES = 50
WRONG_USERS = 13  # each takes at most 4 wrong passwords: none is locked by the test itself


class TimingServer(AppServer):
    """The app with sign-in throttles raised: this test is the only client."""

    def env(self) -> dict[str, str]:
        return super().env() | {
            "INSTRUMENT_SIGN_IN_PER_ADDRESS": "100000",
            "INSTRUMENT_SIGN_IN_PER_ACCOUNT": "100000",
        }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TimingServer]:
    root = tmp_path_factory.mktemp("timing")
    running = TimingServer(root)
    service = Service.open(running.db_path)  # the production argon2 parameters
    try:
        for index in range(WRONG_USERS):
            service.add_user(SYSTEM, f"wrong{index}", "viewer", PASSWORD)
        service.add_user(SYSTEM, "locked.user", "viewer", PASSWORD)
        service.add_user(SYSTEM, "gone.user", "viewer", PASSWORD)
        for _ in range(5):
            with pytest.raises(AuthenticationError):
                service.sign_in("locked.user", "not the password at all")
        service.deactivate(SYSTEM, "gone.user")
    finally:
        service.close()
    running.start()
    try:
        yield running
    finally:
        running.stop()


def _post(server: TimingServer, token: str, username: str, password: str) -> float:
    body = urlencode(
        {"username": username, "password": password, "token": token, "next": "/"}
    ).encode()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    started = time.perf_counter()
    connection.request(
        "POST",
        SIGN_IN_PATH,
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": server.url,
        },
    )
    answer = connection.getresponse()
    answer.read()
    elapsed = time.perf_counter() - started
    connection.close()
    assert answer.status == 303
    assert "ifi_session=" not in (answer.getheader("set-cookie") or "")
    return elapsed


def test_req26_every_failed_sign_in_costs_the_same(server: TimingServer) -> None:
    token = CookieSigner(cookie_secret(Path(server.env()["INSTRUMENT_COOKIE_KEY"]))).form_token(
        "sign-in"
    )
    kinds = {
        "unknown": lambda i: (f"nobody{i}", PASSWORD),
        "wrong": lambda i: (f"wrong{i % WRONG_USERS}", f"not the password {i}"),
        "locked": lambda i: ("locked.user", PASSWORD),
        "deactivated": lambda i: ("gone.user", PASSWORD),
    }
    for kind in kinds.values():  # warm up: imports, caches, the dummy hash
        _post(server, token, *kind(999))
    times: dict[str, list[float]] = {name: [] for name in kinds}
    for index in range(TRIES):
        for name, kind in kinds.items():
            times[name].append(_post(server, token, *kind(index)))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print({k: round(v * 1000, 1) for k, v in medians.items()})  # shown with pytest -s
    low, high = min(medians.values()), max(medians.values())
    assert (high - low) / low < 0.10, {k: round(v * 1000, 1) for k, v in medians.items()}
