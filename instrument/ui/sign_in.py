"""Sign-in and sign-out: the HTTP routes that set and clear the session cookie, and the forms.

Why routes and not widgets: a Streamlit script talks to the browser over a websocket and cannot
set a cookie, and `st.session_state` does not survive a reload or a second tab. So the sign-in
page is a plain HTML form that POSTs to `/auth/sign-in`; the route checks the password through
the service, which writes a server-side session (a random 256-bit id), and answers with a signed
`HttpOnly; SameSite=Strict` cookie holding that id and a redirect back. Every run of the app
reads the cookie (`st.context.cookies`) and asks the service who it belongs to, so sign-out,
idle expiry and an administrator's deactivation end the session in every tab at once.

Forms carry a signed token, and the routes refuse a POST whose `Origin` is another site (no
cross-site sign-in or sign-out). A failed sign-in comes back as a short-lived signed notice
cookie holding the service's one failure message, shown above the form. The sign-in page that
shows the form is `ui/pages/sign_in_page.py`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
from typing import Final

from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from instrument.config import Settings
from instrument.errors import AuthenticationError, InstrumentError
from instrument.service import Service
from instrument.ui.settings import cookie_secret, current_settings

SESSION_COOKIE: Final = "ifi_session"
NOTICE_COOKIE: Final = "ifi_notice"
SIGN_IN_PATH: Final = "/auth/sign-in"
SIGN_OUT_PATH: Final = "/auth/sign-out"

SESSION_MAX_AGE: Final = dt.timedelta(hours=10)
"""The absolute limit; the service enforces it (and the 15-minute idle limit) server-side too."""

FORM_MAX_AGE: Final = dt.timedelta(hours=12)
NOTICE_MAX_AGE: Final = dt.timedelta(seconds=30)
MAX_FIELD: Final = 1024
"""Longest username or password accepted by the route (a pasted 64-character one is fine)."""

SIGNED_OUT: Final = "You have signed out."


# --- signing ---------------------------------------------------------------------------------


class CookieSigner:
    """Signs and checks the session cookie, the form tokens and the notice cookie."""

    def __init__(self, secret: bytes) -> None:
        self._session = URLSafeTimedSerializer(secret, salt="ifi.session")
        self._form = URLSafeTimedSerializer(secret, salt="ifi.form")
        self._notice = URLSafeTimedSerializer(secret, salt="ifi.notice")

    def session_cookie(self, session_id: str) -> str:
        """Return the cookie value carrying `session_id`."""
        return self._session.dumps(session_id)

    def session_id(self, cookie: str | None) -> str | None:
        """Return the session id in a cookie, or None when absent, tampered or too old."""
        if not cookie:
            return None
        try:
            value = self._session.loads(cookie, max_age=int(SESSION_MAX_AGE.total_seconds()))
        except BadData:
            return None
        return value if isinstance(value, str) and value else None

    def form_token(self, purpose: str, session_id: str = "") -> str:
        """Return a token for a form; a sign-out token is bound to the session it ends."""
        return self._form.dumps([purpose, _fingerprint(session_id)])

    def check_form_token(self, token: str, purpose: str, session_id: str = "") -> bool:
        """Return True when `token` was made here for `purpose` (and session) recently."""
        try:
            value = self._form.loads(token, max_age=int(FORM_MAX_AGE.total_seconds()))
        except BadData:
            return False
        return bool(value == [purpose, _fingerprint(session_id)])

    def notice(self, message: str, *, kind: str = "error", username: str = "") -> str:
        """Return a notice cookie value: a message to show once on the sign-in page."""
        return self._notice.dumps([kind, message, username[:MAX_FIELD]])

    def read_notice(self, cookie: str | None) -> tuple[str, str, str] | None:
        """Return (kind, message, username) from a fresh notice cookie, or None."""
        if not cookie:
            return None
        try:
            value = self._notice.loads(cookie, max_age=int(NOTICE_MAX_AGE.total_seconds()))
        except BadData:
            return None
        if isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) for v in value):
            return value[0], value[1], value[2]
        return None


def _fingerprint(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()[:32] if session_id else ""


def signer_for(settings: Settings) -> CookieSigner:
    """Return the signer using the cookie key of `settings` (created on first use)."""
    return CookieSigner(cookie_secret(settings.cookie_key_path))


# --- the routes ------------------------------------------------------------------------------


def safe_next(value: object) -> str:
    """Return a same-site path to go back to after signing in; anything else becomes `/`."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return "/"
    if "\\" in value or any(ord(c) < 32 for c in value) or value.startswith("/auth/"):
        return "/"
    return value[:2000]


def _same_origin(request: Request) -> bool:
    """Return True when the POST comes from a page of this server (or sends no Origin at all)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        # Browsers send Origin on every form POST; its absence means a non-browser client,
        # which still needs a valid signed form token.
        return origin is None
    host = request.headers.get("host", "")
    return origin.split("://", 1)[-1] == host


def _set_cookie(
    response: Response,
    request: Request,
    name: str,
    value: str,
    *,
    max_age: int | None = None,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _redirect(to: str) -> RedirectResponse:
    response = RedirectResponse(to, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    return response


def _open_service(settings: Settings) -> Service:
    return Service.open(
        settings.db, key_path=settings.audit_key_path, definitions=settings.definitions
    )


def _sign_in(settings: Settings, username: str, password: str) -> str:
    service = _open_service(settings)
    try:
        session_id = service.sign_in(username, password)
    finally:
        service.close()
    return session_id


def _sign_out(settings: Settings, session_id: str) -> None:
    service = _open_service(settings)
    try:
        service.sign_out(session_id)
    finally:
        service.close()


def routes(settings: Settings | None = None) -> list[BaseRoute]:
    """Return the sign-in and sign-out routes for `st.App(..., routes=...)`."""
    conf = settings or current_settings()
    signer = signer_for(conf)

    async def sign_in(request: Request) -> Response:
        if not _same_origin(request):
            return PlainTextResponse("Refused: the form came from another site.", status_code=403)
        form = await request.form()
        token, username, password = (
            str(form.get(k) or "") for k in ("token", "username", "password")
        )
        back = safe_next(form.get("next"))
        if not signer.check_form_token(token, "sign-in"):
            response = _redirect(back)
            message = "The sign-in form had expired. Please sign in again."
            _set_cookie(response, request, NOTICE_COOKIE, signer.notice(message, username=username))
            return response
        if len(username) > MAX_FIELD or len(password) > MAX_FIELD:
            username, password = username[:MAX_FIELD], ""
        try:
            session_id = await run_in_threadpool(_sign_in, conf, username.strip(), password)
        except AuthenticationError as error:
            response = _redirect(back)
            _set_cookie(
                response, request, NOTICE_COOKIE, signer.notice(error.message, username=username)
            )
            return response
        except InstrumentError as error:
            response = _redirect(back)
            _set_cookie(response, request, NOTICE_COOKIE, signer.notice(error.message))
            return response
        response = _redirect(back)
        _set_cookie(response, request, SESSION_COOKIE, signer.session_cookie(session_id))
        response.delete_cookie(NOTICE_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    async def sign_out(request: Request) -> Response:
        if not _same_origin(request):
            return PlainTextResponse("Refused: the form came from another site.", status_code=403)
        form = await request.form()
        session_id = signer.session_id(request.cookies.get(SESSION_COOKIE))
        response = _redirect("/")
        if session_id and signer.check_form_token(
            str(form.get("token") or ""), "sign-out", session_id
        ):
            await run_in_threadpool(_sign_out, conf, session_id)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        _set_cookie(response, request, NOTICE_COOKIE, signer.notice(SIGNED_OUT, kind="info"))
        return response

    return [
        Route(SIGN_IN_PATH, sign_in, methods=["POST"]),
        Route(SIGN_OUT_PATH, sign_out, methods=["POST"]),
    ]


# --- the page --------------------------------------------------------------------------------

_FORM_STYLE = """
<style>
.ifi-form { display: flex; flex-direction: column; gap: 0.35rem; max-width: 26rem; }
.ifi-form label { font-size: 1rem; font-weight: 600; margin-top: 0.6rem; }
.ifi-form input[type=text], .ifi-form input[type=password] {
  font-size: 1.05rem; padding: 0.55rem 0.7rem; border: 1px solid #8a94a6; border-radius: 0.45rem;
  background: #ffffff; color: #1f2937;
}
.ifi-form input:focus-visible { outline: 3px solid #1d4ed8; outline-offset: 1px; }
.ifi-form button, .ifi-sign-out button {
  font-size: 1rem; font-weight: 600; padding: 0.55rem 1.3rem; border-radius: 0.45rem;
  border: 1px solid #1d4ed8; background: #1d4ed8; color: #ffffff; cursor: pointer;
}
.ifi-form button { margin-top: 1rem; align-self: flex-start; }
.ifi-form button:focus-visible, .ifi-sign-out button:focus-visible {
  outline: 3px solid #f59e0b; outline-offset: 2px;
}
.ifi-sign-out button { background: #ffffff; color: #1d4ed8; padding: 0.4rem 1rem; }
</style>
"""


def sign_in_form(token: str, *, next_path: str = "/", username: str = "") -> str:
    """Return the sign-in form's HTML; every value in it is escaped."""
    esc = html.escape
    return (
        _FORM_STYLE
        + f'<form class="ifi-form" method="post" action="{SIGN_IN_PATH}">'
        + '<label for="ifi-username">Username</label>'
        + '<input id="ifi-username" name="username" type="text" autocomplete="username"'
        + f' required maxlength="{MAX_FIELD}" value="{esc(username, quote=True)}">'
        + '<label for="ifi-password">Password</label>'
        + '<input id="ifi-password" name="password" type="password"'
        + f' autocomplete="current-password" required maxlength="{MAX_FIELD}">'
        + f'<input type="hidden" name="token" value="{esc(token, quote=True)}">'
        + f'<input type="hidden" name="next" value="{esc(next_path, quote=True)}">'
        + '<button type="submit">Sign in</button>'
        + "</form>"
    )


def sign_out_form(token: str) -> str:
    """Return the sign-out button's HTML (a POST, so that it stays in this tab)."""
    return (
        _FORM_STYLE
        + f'<form class="ifi-sign-out" method="post" action="{SIGN_OUT_PATH}">'
        + f'<input type="hidden" name="token" value="{html.escape(token, quote=True)}">'
        + '<button type="submit">Sign out</button>'
        + "</form>"
    )
