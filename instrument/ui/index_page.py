"""Streamlit's page, served with one line added: where the server is.

Streamlit's browser client does not know at which path the server answers, so when a page is
opened by its address (`/conference?case=…`, a reload, a bookmark) it first asks
`/conference/_stcore/health`, gets 404, waits 100 ms and asks `/_stcore/health`. The app is
always served at the root of its site (the sign-in and sign-out routes send people to `/`, the
session cookie's path is `/`), so `IndexHint` adds one inline script before Streamlit's own that
says so (`window.__streamlit.BACKEND_BASE_URL`, the setting Streamlit reads for this); the
content security policy allows it by its hash (`web_security.content_security_policy`).

Plain ASGI and text, no Streamlit, so that a unit test can drive it.
"""

from __future__ import annotations

import contextlib
from typing import Final

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HINT: Final = (
    "window.__streamlit = Object.assign({}, window.__streamlit, "
    "{ BACKEND_BASE_URL: window.location.origin + '/' });"
)
"""The added script: the server answers at the root of this site."""

MARKER: Final = '<script type="module"'
"""Where the hint goes: just before Streamlit's own script, which reads it once."""


def with_hint(page: str) -> str:
    """Return Streamlit's page with the hint before its first module script (once)."""
    tag = f"<script>{HINT}</script>"
    if tag in page or MARKER not in page:
        return page
    return page.replace(MARKER, f"{tag}\n    {MARKER}", 1)


class IndexHint:
    """ASGI middleware: add the hint to Streamlit's page wherever it is served.

    Only GET requests that ask for HTML are touched: they are passed on without
    `Accept-Encoding` (the page is 8 kB; it must be readable to be changed), and an HTML answer
    holding Streamlit's module script gets the hint and a corrected `Content-Length`. Every other
    request and answer passes through unchanged, streamed as before.
    """

    def __init__(self, app: ASGIApp) -> None:
        """Wrap `app`."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; rewrite Streamlit's page on its way out."""
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or "text/html" not in Headers(scope=scope).get("accept", "")
        ):
            await self.app(scope, receive, send)
            return
        scope = dict(scope)
        scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"accept-encoding"]
        start: Message | None = None
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = Headers(raw=message.get("headers", []))
                html = headers.get("content-type", "").startswith("text/html")
                if not html or headers.get("content-encoding"):
                    await send(message)
                    return
                start = message
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            with contextlib.suppress(UnicodeDecodeError):  # not Streamlit's page: as it came
                body = with_hint(body.decode("utf-8")).encode("utf-8")
            out = MutableHeaders(scope=start)
            out["content-length"] = str(len(body))
            await send(start)
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, rewrite)
