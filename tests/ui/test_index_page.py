"""Streamlit's page gets one line saying where the server is (`ui/index_page.py`)."""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from instrument.ui.index_page import HINT, MARKER, IndexHint, with_hint
from instrument.ui.web_security import content_security_policy, streamlit_index

SCRIPT = "console.log('x'.repeat(2000))"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    content: bytes

    @property
    def text(self) -> str:
        body = self.content
        if self.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        return body.decode()


def _get(app: Starlette, path: str, headers: dict[str, str]) -> Answer:
    """Send one GET through the ASGI app and collect the answer."""
    raw_path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": raw_path,
        "raw_path": raw_path.encode(),
        "query_string": query.encode(),
        "headers": [(b"host", b"127.0.0.1:8501")]
        + [(k.encode(), v.encode()) for k, v in headers.items()],
        "server": ("127.0.0.1", 8501),
        "client": ("127.0.0.1", 5000),
        "root_path": "",
    }
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    # A thread of its own: another test in this process (Playwright's sync API) may have left
    # an event loop running in the main thread, where asyncio.run refuses to start.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()  # type: ignore[arg-type]
    raw = sent[0]["headers"]
    assert isinstance(raw, list)
    body = b"".join(bytes(m.get("body", b"")) for m in sent[1:])  # type: ignore[arg-type]
    return Answer(
        int(sent[0]["status"]),  # type: ignore[call-overload]
        {k.decode().lower(): v.decode() for k, v in raw},
        body,
    )


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
    answer = _get(
        _app(), "/conference?case=C-1", {"accept": "text/html", "accept-encoding": "gzip"}
    )
    assert answer.status == 200
    assert "content-encoding" not in answer.headers  # asked for plainly, to be read
    assert answer.text.count(HINT) == 1
    assert int(answer.headers["content-length"]) == len(answer.content)
    assert answer.text == with_hint(streamlit_index())


def test_everything_else_passes_unchanged() -> None:
    script = _get(_app(), "/static/app.js", {"accept": "*/*", "accept-encoding": "gzip"})
    assert script.headers["content-encoding"] == "gzip"  # still compressed, still streamed
    assert script.text == SCRIPT
    fetched = _get(_app(), "/conference", {"accept": "application/json"})
    assert HINT not in fetched.text


def test_the_server_adds_it_inside_the_security_headers() -> None:
    source = (Path(__file__).resolve().parents[2] / "server.py").read_text(encoding="utf-8")
    assert "middleware=[Middleware(SecurityHeaders), Middleware(IndexHint)]" in source
