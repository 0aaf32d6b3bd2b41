"""HTTP hardening of the web server: security headers, sign-in throttles and the hashing cap.

SECURITY.md 34. Everything here is plain ASGI/Starlette and data, no Streamlit, so that a unit
test can drive it without a browser:

* `SecurityHeaders` adds a Content-Security-Policy as strict as Streamlit allows (its one inline
  script allowed by hash, no `unsafe-eval`: Streamlit draws Vega charts with its CSP-safe
  interpreter), `frame-ancestors 'none'`, `X-Content-Type-Options: nosniff`,
  `Referrer-Policy: no-referrer`, and HSTS when the request came over TLS (directly, or through a
  reverse proxy on this machine whose `X-Forwarded-Proto` uvicorn trusts) to every HTTP answer.
* `Throttle` counts sign-in attempts per address and per typed username in a sliding window.
* `HashingSlots` caps how many password checks (argon2id, 64 MiB each) run at once, so that a
  password spray waits in line instead of starving the server.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from instrument.ui.index_page import with_hint

LOG = logging.getLogger("instrument.web")

HSTS: Final = "max-age=31536000; includeSubDomains"
UNAVAILABLE: Final = (
    "The service is not available right now. An administrator can see why in the server's log."
)
"""What a signed-out visitor is told of any store or configuration error: never a file path."""

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL)


@cache
def streamlit_index() -> str:
    """Return the text of the page Streamlit serves (its inline scripts need a CSP hash)."""
    import streamlit

    return (Path(streamlit.__file__).parent / "static" / "index.html").read_text(encoding="utf-8")


def script_hashes(page: str) -> list[str]:
    """Return the CSP source (`'sha256-…'`) of every inline script of an HTML page."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(page)
    ]


def content_security_policy(page: str | None = None) -> str:
    """Return the Content-Security-Policy for Streamlit's page (`page`: its HTML, for tests).

    Streamlit needs inline styles (its components are styled at run time), `data:`/`blob:`
    images and fonts, its websocket (`'self'`), workers from `blob:` and WebAssembly
    (`'wasm-unsafe-eval'` compiles WebAssembly; it does not allow `eval` of JavaScript); nothing
    else, and nothing from another site (Streamlit's Material-icon favicons come from Google:
    the app uses an emoji icon, which Streamlit draws as a `data:` image). Scripts from `blob:`
    are allowed because a custom component v2 (the assessment form's item control) is loaded by
    `import()` of a `blob:` URL that Streamlit's own script makes from the component's JS; only
    a script already running on the page can make such a URL.
    """
    page_scripts = script_hashes(with_hint(streamlit_index()) if page is None else page)
    scripts = " ".join(["'self'", "blob:", "'wasm-unsafe-eval'", *page_scripts])
    directives = [
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "frame-src 'self'",
        "media-src 'self' data: blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
    return "; ".join(directives)


def security_headers(*, https: bool, csp: str) -> list[tuple[str, str]]:
    """Return the headers every answer carries (HSTS only over TLS, as browsers require)."""
    headers = [
        ("Content-Security-Policy", csp),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
    ]
    if https:
        headers.append(("Strict-Transport-Security", HSTS))
    return headers


class SecurityHeaders:
    """ASGI middleware: add `security_headers` to every HTTP response (not to the websocket)."""

    def __init__(self, app: ASGIApp, csp: str | None = None) -> None:
        """Wrap `app`; `csp` replaces the computed policy (tests)."""
        self.app = app
        self.csp = csp if csp is not None else content_security_policy()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; set the headers on the response's start message."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(https=scope.get("scheme") == "https", csp=self.csp)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


# --- sign-in throttles -----------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """How many sign-in attempts a window allows per address and per typed username."""

    per_address: int = 30
    per_account: int = 10
    window_seconds: float = 600.0


class Throttle:
    """A sliding-window counter of attempts per key; thread-safe, bounded in memory."""

    MAX_KEYS: Final = 100_000

    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Allow `limit` attempts per key in any `window_seconds`."""
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> float | None:
        """Return the seconds until `key` may try again, or None when it may try now."""
        now = self.clock()
        with self._lock:
            times = self._fresh(key, now)
            if times is not None and len(times) >= self.limit:
                return max(1.0, times[0] + self.window - now)
        return None

    def record(self, key: str) -> None:
        """Count one attempt for `key`."""
        now = self.clock()
        with self._lock:
            if len(self._seen) >= self.MAX_KEYS:
                self._prune(now)
            times = self._fresh(key, now)
            if times is None:
                times = self._seen[key] = deque()
            times.append(now)

    def forget(self, key: str) -> None:
        """Forget `key`'s attempts (after a successful sign-in of that account)."""
        with self._lock:
            self._seen.pop(key, None)

    def _fresh(self, key: str, now: float) -> deque[float] | None:
        times = self._seen.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def _prune(self, now: float) -> None:
        for key in [k for k, t in self._seen.items() if not t or t[-1] <= now - self.window]:
            del self._seen[key]
        while len(self._seen) >= self.MAX_KEYS:  # still full: drop the oldest keys
            del self._seen[next(iter(self._seen))]


def account_key(username: str) -> str:
    """Return the throttle key of a typed username: trimmed, case-folded, bounded."""
    return username.strip().casefold()[:200]


def wait_text(seconds: float) -> str:
    """Return `seconds` as a person reads a wait: `1 minute`, `7 minutes`."""
    minutes = max(1, round(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


class SignInGuard:
    """The throttles of the sign-in route: per address and per typed username."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        """Make both throttles from `limits`."""
        self.per_address = Throttle(limits.per_address, limits.window_seconds, clock)
        self.per_account = Throttle(limits.per_account, limits.window_seconds, clock)

    def admit(self, address: str, username: str) -> float | None:
        """Count an attempt and return None, or the seconds to wait when over a limit."""
        account = account_key(username)
        wait = self.per_address.retry_after(address) or self.per_account.retry_after(account)
        if wait is None:
            self.per_address.record(address)
            self.per_account.record(account)
        return wait

    def succeeded(self, username: str) -> None:
        """Forget the account's attempts once its password was right."""
        self.per_account.forget(account_key(username))


# --- the hashing cap -------------------------------------------------------------------------


class HashingSlots:
    """At most `size` password checks at once; a request waits up to `wait_seconds` for a slot."""

    def __init__(self, size: int = 2, wait_seconds: float = 20.0) -> None:
        """Make `size` slots (2: the number of cores this service is sized for)."""
        self.size = size
        self.wait_seconds = wait_seconds
        self._semaphores: dict[int, asyncio.Semaphore] = {}
        self._lock = threading.Lock()
        self.running = 0
        self.most_running = 0

    def _semaphore(self) -> asyncio.Semaphore:
        loop = id(asyncio.get_running_loop())
        with self._lock:
            if loop not in self._semaphores:
                self._semaphores[loop] = asyncio.Semaphore(self.size)
            return self._semaphores[loop]

    async def acquire(self) -> bool:
        """Wait for a slot; False when none came free in time (the server is too busy)."""
        try:
            await asyncio.wait_for(self._semaphore().acquire(), timeout=self.wait_seconds)
        except TimeoutError:
            return False
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        return True

    def release(self) -> None:
        """Give the slot back."""
        self.running -= 1
        self._semaphore().release()


def log_hidden_error(where: str, details: Iterable[str]) -> None:
    """Write an error a signed-out visitor is not shown to the server's log, for the admin."""
    LOG.error("%s: %s", where, " | ".join(details))
