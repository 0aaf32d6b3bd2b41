"""Streamlit's page gets one line saying where the server is (`ui/index_page.py`)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from instrument.ui.index_page import HINT, MARKER, IndexHint, with_hint
from instrument.ui.web_security import content_security_policy, streamlit_index
from tests.ui.asgi_support import asgi_get

SCRIPT = "console.log('x'.repeat(2000))"


def _app() -> Starlette:
    def page(_request: Request) -> Response:
        return HTMLResponse(streamlit_index())  # Streamlit answers every page address with it

    def script(_request: Request) -> Response:
        return PlainTextResponse(SCRIPT, media_type="application/javascript")

    return Starlette(
        routes=[Route("/conference", page), Route("/static/app.js", script)],
        middleware=[Middleware(IndexHint), Middleware(GZipMiddleware, minimum_size=10)],
    )


def test_the_hint_goes_once_before_streamlits_own_script() -> None:
    page = with_hint(streamlit_index())
    tag = f"<script>{HINT}</script>"
    assert page.count(tag) == 1
    assert page.index(tag) < page.index(MARKER)
    assert with_hint(page) == page
    assert with_hint("<p>not Streamlit's page</p>") == "<p>not Streamlit's page</p>"


def test_the_content_security_policy_allows_the_hint_by_its_hash() -> None:
    digest = base64.b64encode(hashlib.sha256(HINT.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in content_security_policy()


def test_a_page_asked_for_by_a_browser_comes_with_the_hint() -> None:
    answer = asgi_get(
        _app(), "/conference?case=C-1", {"accept": "text/html", "accept-encoding": "gzip"}
    )
    assert answer.status == 200
    assert "content-encoding" not in answer.headers  # asked for plainly, to be read
    assert answer.text.count(HINT) == 1
    assert int(answer.headers["content-length"]) == len(answer.content)
    assert answer.text == with_hint(streamlit_index())


def test_everything_else_passes_unchanged() -> None:
    script = asgi_get(_app(), "/static/app.js", {"accept": "*/*", "accept-encoding": "gzip"})
    assert script.headers["content-encoding"] == "gzip"  # still compressed, still streamed
    assert script.text == SCRIPT
    fetched = asgi_get(_app(), "/conference", {"accept": "application/json"})
    assert HINT not in fetched.text


def test_the_server_adds_it_inside_the_security_headers() -> None:
    source = (Path(__file__).resolve().parents[2] / "server.py").read_text(encoding="utf-8")
    assert "middleware=[Middleware(SecurityHeaders), Middleware(IndexHint)]" in source
