"""SECURITY.md 34: headers and throttles (issue 11, item 13).

Security headers on every HTTP answer, sign-in throttled per address and per account, at most
two password checks at once, a new sign-in ends the session it replaces, the notice cookie does
not carry the typed username, and signed-out pages never show file paths.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from instrument.config import Settings
from instrument.errors import ConfigurationError, StoreError
from instrument.ui import context, sign_in
from instrument.ui.settings import sign_in_limits
from instrument.ui.sign_in import NOTICE_COOKIE, SESSION_COOKIE
from instrument.ui.web_security import (
    UNAVAILABLE,
    HashingSlots,
    Limits,
    SecurityHeaders,
    Throttle,
    content_security_policy,
    script_hashes,
    streamlit_index,
)
from tests.ui.asgi_support import asgi_get
from tests.ui.conftest import Web, texts
from tests.ui.test_sign_in import _cookie, _form, _post

ORIGIN = "http://127.0.0.1:8501"


# --- headers ---------------------------------------------------------------------------------


def _get(app: Starlette, *, scheme: str) -> dict[str, str]:
    return asgi_get(app, "/", {}, scheme=scheme).headers


def _headers_app() -> Starlette:
    return Starlette(
        routes=[Route("/", lambda _request: PlainTextResponse("hello"))],
        middleware=[Middleware(SecurityHeaders)],
    )


def test_req34_security_headers_on_every_answer() -> None:
    headers = _get(_headers_app(), scheme="http")
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert "base-uri 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in headers  # browsers ignore it without TLS


def test_req34_hsts_behind_tls() -> None:
    headers = _get(_headers_app(), scheme="https")
    assert headers["strict-transport-security"].startswith("max-age=31536000")


def test_req34_csp_allows_scripts_only_from_the_server_and_by_hash() -> None:
    csp = content_security_policy()
    scripts = next(d for d in csp.split("; ") if d.startswith("script-src "))
    assert "'unsafe-inline'" not in scripts
    assert "'unsafe-eval'" not in scripts
    assert "*" not in scripts
    assert "http" not in csp
    # Streamlit's page has inline scripts: each one's hash is allowed, nothing else inline.
    expected = base64.b64encode(hashlib.sha256(b"a()").digest()).decode()
    assert script_hashes("<script>a()</script><script src='x.js'></script>") == [
        f"'sha256-{expected}'"
    ]
    page_hashes = script_hashes(streamlit_index())
    assert page_hashes
    assert all(h in scripts for h in page_hashes)


def test_req34_server_uses_the_headers_middleware() -> None:
    source = (Path(__file__).resolve().parents[2] / "server.py").read_text(encoding="utf-8")
    assert "middleware=[Middleware(SecurityHeaders)" in source


# --- throttles -------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_req34_throttle_counts_a_sliding_window() -> None:
    clock = FakeClock()
    throttle = Throttle(3, 600, clock)
    for _ in range(3):
        assert throttle.retry_after("a") is None
        throttle.record("a")
    assert throttle.retry_after("a") == pytest.approx(600)
    assert throttle.retry_after("b") is None
    clock.now += 599
    assert throttle.retry_after("a") == pytest.approx(1)
    clock.now += 2
    assert throttle.retry_after("a") is None


def _limited_app(web: Web, limits: Limits, slots: HashingSlots | None = None) -> Starlette:
    settings = Settings(
        db=web.db_path,
        sign_in_per_address=limits.per_address,
        sign_in_per_account=limits.per_account,
    )
    return Starlette(routes=sign_in.routes(settings, slots=slots))


def _notice(web: Web, cookies: list[str]) -> str:
    notice = web.signer().read_notice(_cookie(cookies, NOTICE_COOKIE)[0])
    assert notice is not None
    return notice[1]


def _audit_count(web: Web) -> int:
    import sqlite3

    conn = sqlite3.connect(web.db_path)
    try:
        return int(conn.execute("SELECT count(*) FROM audit_log").fetchone()[0])
    finally:
        conn.close()


def test_req34_sign_in_rate_limited_per_account(web: Web) -> None:
    app = _limited_app(web, Limits(per_address=100, per_account=3))
    wrong = _form(web, password="not the password at all")
    for _ in range(3):
        _post(app, sign_in.SIGN_IN_PATH, wrong, origin=ORIGIN)
    before = _audit_count(web)
    status, headers, cookies = _post(app, sign_in.SIGN_IN_PATH, _form(web), origin=ORIGIN)
    assert status == 303
    assert "Too many sign-in attempts" in _notice(web, cookies)
    assert int(headers["retry-after"]) > 0
    assert all(not line.startswith(SESSION_COOKIE + "=") for line in cookies)
    assert _audit_count(web) == before  # refused before the service was asked
    # Another account from the same address is not held up by this one.
    other = _form(web, "supervisor")
    _, _, cookies = _post(app, sign_in.SIGN_IN_PATH, other, origin=ORIGIN)
    _cookie(cookies, SESSION_COOKIE)


def test_req34_sign_in_rate_limited_per_address(web: Web) -> None:
    app = _limited_app(web, Limits(per_address=4, per_account=100))
    for index in range(4):
        spray = _form(web) | {"username": f"nobody{index}", "password": "sprayed password 1"}
        _post(app, sign_in.SIGN_IN_PATH, spray, origin=ORIGIN)
    _, _, cookies = _post(app, sign_in.SIGN_IN_PATH, _form(web), origin=ORIGIN)
    assert "Too many sign-in attempts" in _notice(web, cookies)


def _post_scope(form: dict[str, str]) -> tuple[dict[str, object], bytes]:
    body = urlencode(form).encode()
    scope: dict[str, object] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": sign_in.SIGN_IN_PATH,
        "raw_path": sign_in.SIGN_IN_PATH.encode(),
        "query_string": b"",
        "headers": [
            (b"host", b"127.0.0.1:8501"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
            (b"origin", ORIGIN.encode()),
        ],
        "server": ("127.0.0.1", 8501),
        "client": ("127.0.0.1", 5000),
        "root_path": "",
    }
    return scope, body


async def _call(app: Starlette, form: dict[str, str]) -> list[dict[str, object]]:
    scope, body = _post_scope(form)
    sent: list[dict[str, object]] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, object]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[arg-type]
    return sent


def test_req34_concurrent_password_checks_are_capped(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = 0
    most = 0
    lock = threading.Lock()
    real = sign_in._sign_in

    def slow_sign_in(settings: Settings, username: str, password: str) -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.15)
            return real(settings, username, password)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(sign_in, "_sign_in", slow_sign_in)
    slots = HashingSlots(size=2, wait_seconds=30)
    app = _limited_app(web, Limits(per_address=100, per_account=100), slots)
    forms = [
        _form(web) | {"username": f"spray{i}", "password": "sprayed password 1"} for i in range(8)
    ]

    async def all_at_once() -> None:
        await asyncio.gather(*(_call(app, form) for form in forms))

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, all_at_once()).result()
    assert most == 2
    assert slots.most_running == 2


def test_req34_a_busy_server_says_so_instead_of_queueing_forever(web: Web) -> None:
    slots = HashingSlots(size=1, wait_seconds=0.05)

    async def hold() -> None:
        assert await slots.acquire()

    app = _limited_app(web, Limits(), slots)

    async def scenario() -> list[dict[str, object]]:
        await hold()  # the only slot is taken, on the loop the request uses
        return await _call(app, _form(web))

    with ThreadPoolExecutor(max_workers=1) as pool:
        sent = pool.submit(asyncio.run, scenario()).result()
    raw = sent[0]["headers"]
    assert isinstance(raw, list)
    lines = [v.decode() for k, v in raw if k == b"set-cookie"]
    assert "The server is busy" in _notice(web, lines)


# --- sessions and notices --------------------------------------------------------------------


def test_req34_a_new_sign_in_ends_the_session_it_replaces(web: Web) -> None:
    app = _limited_app(web, Limits())
    old = web.sign_in("viewer")
    old_cookie = f"{SESSION_COOKIE}={web.signer().session_cookie(old)}"
    _, _, cookies = _post(
        app, sign_in.SIGN_IN_PATH, _form(web, "psychologist"), cookies=old_cookie, origin=ORIGIN
    )
    new = web.signer().session_id(_cookie(cookies, SESSION_COOKIE)[0])
    assert new is not None
    assert new != old
    with web.service() as service:
        assert service.session_actor(old) is None
        actor = service.session_actor(new)
        assert actor is not None
        assert actor.username == "psy.north"


def test_req34_notice_cookie_does_not_carry_the_typed_username(web: Web) -> None:
    app = _limited_app(web, Limits())
    typed = _form(web, password="not the password at all") | {"username": "someone.typed"}
    _, _, cookies = _post(app, sign_in.SIGN_IN_PATH, typed, origin=ORIGIN)
    value, _ = _cookie(cookies, NOTICE_COOKIE)
    payload = value.split(".")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert b"someone.typed" not in decoded
    assert "someone.typed" not in value
    assert web.signer().read_notice(value) == (
        "error",
        "the username or password is not right, or the account is locked for a while; "
        "try again, or ask an administrator",
    )


SECRET_PATH = "/srv/secret-folder/instrument.db"


def test_req34_signed_out_pages_never_show_file_paths(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    web.sign_in("psychologist")

    def broken() -> object:
        raise StoreError(f"the database {SECRET_PATH} is damaged", where=SECRET_PATH, fix="x")

    monkeypatch.setattr(context, "open_service", broken)
    at = web.app(None)
    shown = texts(at)
    assert "secret-folder" not in shown
    assert UNAVAILABLE in shown


def test_req34_sign_in_route_never_shows_file_paths(
    web: Web, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(_settings: Settings) -> object:
        raise StoreError(f"the database {SECRET_PATH} is damaged", where=SECRET_PATH)

    monkeypatch.setattr(sign_in, "_open_service", broken)
    app = _limited_app(web, Limits())
    _, _, cookies = _post(app, sign_in.SIGN_IN_PATH, _form(web), origin=ORIGIN)
    message = _notice(web, cookies)
    assert message == UNAVAILABLE
    assert "secret-folder" not in message


def test_req34_limits_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {"INSTRUMENT_SIGN_IN_PER_ADDRESS": "7", "INSTRUMENT_SIGN_IN_PER_ACCOUNT": "2"}
    )
    assert sign_in_limits(settings).per_address == 7
    assert sign_in_limits(settings).per_account == 2
    defaults = sign_in_limits(Settings.from_env({}))
    assert (defaults.per_address, defaults.per_account) == (30, 10)
    for bad in ("many", "0", "-1"):
        with pytest.raises(ConfigurationError) as error:
            Settings.from_env({"INSTRUMENT_SIGN_IN_PER_ACCOUNT": bad})
        assert error.value.where == "INSTRUMENT_SIGN_IN_PER_ACCOUNT"


def test_req34_forms_work_under_no_referrer_and_cross_site_posts_are_refused(web: Web) -> None:
    """Under `no-referrer` a browser sends `Origin: null`; `Sec-Fetch-Site` tells the truth."""
    app = _limited_app(web, Limits())
    same = [(b"sec-fetch-site", b"same-origin")]
    status, _, cookies = _post_with(app, _form(web), origin="null", extra=same)
    assert status == 303
    _cookie(cookies, SESSION_COOKIE)
    cross = [(b"sec-fetch-site", b"cross-site")]
    status, _, cookies = _post_with(app, _form(web), origin=ORIGIN, extra=cross)
    assert status == 403
    assert not cookies


def _post_with(
    app: Starlette, form: dict[str, str], *, origin: str, extra: list[tuple[bytes, bytes]]
) -> tuple[int, dict[str, str], list[str]]:
    scope, body = _post_scope(form)
    headers = [h for h in scope["headers"] if h[0] != b"origin"]  # type: ignore[attr-defined]
    scope["headers"] = [*headers, (b"origin", origin.encode()), *extra]
    sent: list[dict[str, object]] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, object]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()  # type: ignore[arg-type]
    raw = sent[0]["headers"]
    assert isinstance(raw, list)
    pairs = [(k.decode(), v.decode()) for k, v in raw]
    status = sent[0]["status"]
    assert isinstance(status, int)
    return status, dict(pairs), [v for k, v in pairs if k == "set-cookie"]
