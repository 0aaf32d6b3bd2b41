"""Sign-in, sessions and sign-out: the routes, the cookie, the gate in the router (SECURITY 10)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from starlette.applications import Starlette
from streamlit.testing.v1 import AppTest

from instrument.config import Settings
from instrument.ui import sign_in
from instrument.ui.sign_in import NOTICE_COOKIE, SESSION_COOKIE, CookieSigner, safe_next
from tests.ui.conftest import ACCOUNTS, APP, PASSWORD, Web, texts

# --- the cookie ----------------------------------------------------------------------------------


def test_a_session_cookie_round_trips_and_refuses_tampering() -> None:
    signer = CookieSigner(b"k" * 32)
    cookie = signer.session_cookie("abc")
    assert signer.session_id(cookie) == "abc"
    assert signer.session_id(cookie[:-2] + ("A" if cookie[-1] != "A" else "B") + "x") is None
    assert signer.session_id("abc") is None
    assert signer.session_id(None) is None
    assert CookieSigner(b"o" * 32).session_id(cookie) is None


def test_a_sign_out_token_is_bound_to_its_session() -> None:
    signer = CookieSigner(b"k" * 32)
    token = signer.form_token("sign-out", "session-a")
    assert signer.check_form_token(token, "sign-out", "session-a")
    assert not signer.check_form_token(token, "sign-out", "session-b")
    assert not signer.check_form_token(token, "sign-in")
    assert not signer.check_form_token("forged", "sign-out", "session-a")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/case?case=C-1&v=2", "/case?case=C-1&v=2"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/auth/sign-out", "/"),
        (None, "/"),
        ("cases", "/"),
    ],
)
def test_only_same_site_paths_are_followed_after_sign_in(value: object, expected: str) -> None:
    assert safe_next(value) == expected


def test_the_form_escapes_what_it_shows() -> None:
    html = sign_in.sign_in_form("t", next_path='/"><script>', username='<img src=x onerror="1">')
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;img src=x onerror=&quot;1&quot;&gt;" in html


# --- the routes ------------------------------------------------------------------------------


def _post(
    app: Starlette, path: str, form: dict[str, str], *, cookies: str = "", origin: str | None
) -> tuple[int, dict[str, str], list[str]]:
    """POST a form to the ASGI app; return status, headers and every Set-Cookie line."""
    body = urlencode(form).encode()
    headers = [
        (b"host", b"127.0.0.1:8501"),
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"content-length", str(len(body)).encode()),
    ]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if cookies:
        headers.append((b"cookie", cookies.encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "server": ("127.0.0.1", 8501),
        "client": ("127.0.0.1", 5000),
        "root_path": "",
    }
    sent: list[dict[str, object]] = []
    chunks = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, object]:
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    # A fresh loop in its own thread: a session-scoped Playwright browser from the browser tests
    # may keep an event loop running in the main thread, where asyncio.run() is refused.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()  # type: ignore[arg-type]
    start = sent[0]
    raw = start["headers"]
    assert isinstance(raw, list)
    pairs = [(k.decode(), v.decode()) for k, v in raw]
    status = start["status"]
    assert isinstance(status, int)
    return status, dict(pairs), [v for k, v in pairs if k == "set-cookie"]


def _cookie(lines: list[str], name: str) -> tuple[str, str]:
    """Return (value, the whole Set-Cookie line) for a cookie name."""
    for line in lines:
        jar: SimpleCookie = SimpleCookie()
        jar.load(line)
        if name in jar:
            return jar[name].value, line
    raise AssertionError(f"no Set-Cookie for {name}: {lines}")


@pytest.fixture
def routes_app(web: Web) -> Starlette:
    settings = Settings.from_env({}).with_db(web.db_path)
    return Starlette(routes=sign_in.routes(settings))


def _form(web: Web, who: str = "psychologist", password: str = PASSWORD) -> dict[str, str]:
    return {
        "username": ACCOUNTS[who][0],
        "password": password,
        "token": web.signer().form_token("sign-in"),
        "next": "/case?case=C-1",
    }


def test_signing_in_sets_a_signed_httponly_strict_cookie(web: Web, routes_app: Starlette) -> None:
    status, headers, cookies = _post(
        routes_app, sign_in.SIGN_IN_PATH, _form(web), origin="http://127.0.0.1:8501"
    )
    assert status == 303
    assert headers["location"] == "/case?case=C-1"
    assert headers["clear-site-data"] == '"storage"'  # nothing of the last person's typing
    value, line = _cookie(cookies, SESSION_COOKIE)
    assert "HttpOnly" in line
    assert "SameSite=strict" in line
    assert "Path=/" in line
    session_id = web.signer().session_id(value)
    assert session_id is not None
    with web.service() as service:
        actor = service.session_actor(session_id)
    assert actor is not None
    assert actor.username == "psy.north"


def test_a_wrong_password_comes_back_as_the_one_failure_message(
    web: Web, routes_app: Starlette
) -> None:
    status, _, cookies = _post(
        routes_app,
        sign_in.SIGN_IN_PATH,
        _form(web, password="not the password at all"),
        origin="http://127.0.0.1:8501",
    )
    assert status == 303
    assert all(not line.startswith(SESSION_COOKIE + "=") for line in cookies)
    value, _ = _cookie(cookies, NOTICE_COOKIE)
    notice = web.signer().read_notice(value)
    assert notice is not None
    kind, message = notice
    assert kind == "error"
    assert "username or password is not right" in message
    unknown = _form(web) | {"username": "nobody.here"}
    _, _, cookies = _post(routes_app, sign_in.SIGN_IN_PATH, unknown, origin="http://127.0.0.1:8501")
    other = web.signer().read_notice(_cookie(cookies, NOTICE_COOKIE)[0])
    assert other is not None
    assert other[1] == message


def test_a_post_from_another_site_or_without_a_token_is_refused(
    web: Web, routes_app: Starlette
) -> None:
    status, _, cookies = _post(
        routes_app, sign_in.SIGN_IN_PATH, _form(web), origin="https://evil.example"
    )
    assert status == 403
    assert not cookies
    no_token = _form(web) | {"token": "forged"}
    status, _, cookies = _post(
        routes_app, sign_in.SIGN_IN_PATH, no_token, origin="http://127.0.0.1:8501"
    )
    assert status == 303
    assert all(not line.startswith(SESSION_COOKIE + "=") for line in cookies)


def test_signing_out_ends_the_session_on_the_server(web: Web, routes_app: Starlette) -> None:
    session_id = web.sign_in("psychologist")
    token = web.signer().form_token("sign-out", session_id)
    status, headers, cookies = _post(
        routes_app,
        sign_in.SIGN_OUT_PATH,
        {"token": token},
        cookies=f"{SESSION_COOKIE}={web.cookies[SESSION_COOKIE]}",
        origin="http://127.0.0.1:8501",
    )
    assert status == 303
    assert headers["location"] == "/"
    # The browser forgets what the pages kept in its storage (typed text not yet confirmed).
    assert headers["clear-site-data"] == '"storage"'
    _, line = _cookie(cookies, SESSION_COOKIE)
    assert "Max-Age=0" in line or "expires=Thu, 01 Jan 1970" in line.lower()
    with web.service() as service:
        assert service.session_actor(session_id) is None


def test_a_sign_out_without_its_token_does_not_end_the_session(
    web: Web, routes_app: Starlette
) -> None:
    session_id = web.sign_in("psychologist")
    _post(
        routes_app,
        sign_in.SIGN_OUT_PATH,
        {"token": web.signer().form_token("sign-out", "another-session")},
        cookies=f"{SESSION_COOKIE}={web.cookies[SESSION_COOKIE]}",
        origin="http://127.0.0.1:8501",
    )
    with web.service() as service:
        assert service.session_actor(session_id) is not None


# --- the gate in the router --------------------------------------------------------------------


def _signed_out(at: AppTest) -> bool:
    shown = texts(at)
    return (
        not at.exception
        and [t.value for t in at.title] == ["Sign in"]
        and 'name="password"' in shown
        and "Signed in as" not in shown
    )


def test_signed_out_shows_only_the_sign_in_page(web: Web) -> None:
    at = web.app(None)
    assert _signed_out(at)
    assert not at.dataframe
    assert "Structured professional judgement aid" in texts(at)  # the banner on every page
    for page in ("cases", "case", "users", "audit"):
        assert _signed_out(web.app(None, page, case="C-1"))


def test_a_tampered_cookie_signs_nobody_in(web: Web) -> None:
    web.sign_in("psychologist")
    cookie = web.cookies[SESSION_COOKIE]
    web.cookies[SESSION_COOKIE] = cookie[:-3] + "abc"
    assert _signed_out(AppTest.from_file(str(APP), default_timeout=30).run())


def _sweeps_kept_text(at: AppTest) -> bool:
    """True when the page draws the sweep of text kept in the tab (`forget_unsaved`)."""
    return any(e.proto.id.endswith("ifi-forget-unsaved") for e in at.get("bidi_component"))


def test_idle_for_14_59_stays_signed_in_and_15_01_does_not(web: Web) -> None:
    at = web.app("psychologist")
    assert [t.value for t in at.title] == ["Cases"]
    assert not _sweeps_kept_text(at)
    web.clock.advance(minutes=14, seconds=59)
    at.run()
    assert [t.value for t in at.title] == ["Cases"]
    web.clock.advance(minutes=15, seconds=1)
    at.run()
    assert _signed_out(at)
    assert _sweeps_kept_text(at)  # the expired person's unconfirmed typing leaves the tab
    assert not at.dataframe


def test_ten_hours_is_the_absolute_limit(web: Web) -> None:
    at = web.app("psychologist")
    for _ in range(59):  # active every 10 minutes: 9 h 50 min
        web.clock.advance(minutes=10)
        at.run()
    assert [t.value for t in at.title] == ["Cases"]
    web.clock.advance(minutes=10, seconds=1)
    at.run()
    assert _signed_out(at)


def test_signing_out_elsewhere_ends_this_tab_too(web: Web) -> None:
    session_id = web.sign_in("psychologist")
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    second = AppTest.from_file(str(APP), default_timeout=30).run()
    assert [t.value for t in second.title] == ["Cases"]
    with web.service() as service:
        service.sign_out(session_id)
    assert _signed_out(at.run())
    assert _signed_out(second.run())


def test_deactivation_ends_the_users_sessions(web: Web) -> None:
    at = web.app("psychologist")
    assert [t.value for t in at.title] == ["Cases"]
    with web.service() as service:
        service.deactivate(web.actor("admin"), "psy.north")
    assert _signed_out(at.run())


def test_the_sign_in_page_shows_the_failure_notice(web: Web) -> None:
    web.cookies[NOTICE_COOKIE] = web.signer().notice("the username or password is not right")
    at = web.app(None)
    assert [e.value for e in at.error] == ["The username or password is not right"]
    assert 'value=""' in texts(at)


def test_a_stale_notice_is_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    import itsdangerous.timed

    signer = CookieSigner(b"k" * 32)
    fresh = signer.notice("just now")
    real = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real() - 60)
    stale = signer.notice("a minute ago")
    monkeypatch.undo()
    assert signer.read_notice(fresh) == ("error", "just now")
    assert signer.read_notice(stale) is None


def test_the_idle_warning_appears_before_expiry(web: Web) -> None:
    web.sign_in("psychologist")

    def script() -> None:
        from instrument.ui.components import _idle_watch

        _idle_watch()

    at = AppTest.from_function(script, default_timeout=30).run()
    assert not at.warning
    web.clock.advance(minutes=12, seconds=30)
    at.run()
    assert [w.value for w in at.warning] == [
        "You will be signed out in about 2 min without activity."
    ]
    assert [b.label for b in at.button] == ["Stay signed in"]
    at.button[0].click().run()  # counts as activity
    assert not at.warning


def test_every_page_shows_who_is_signed_in_and_a_sign_out_button(web: Web) -> None:
    at = web.app("supervisor")
    shown = texts(at)
    assert "Signed in as **sup\\.north**" in shown
    assert 'action="/auth/sign-out"' in shown
    assert "Sign out" in shown
