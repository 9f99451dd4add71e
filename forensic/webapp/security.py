"""The checks every request passes before any route runs (docs/decisions, the app record).

A page of this app shows intimate evidence, so: only the browser that opened the one-time
address gets in (token in the URL once, then an HttpOnly SameSite=Strict cookie), only under
the loopback names (a rebinding DNS name is refused), no state change from another origin
(Origin and Fetch-Metadata checked, and a CSRF token on every POST), and nothing cacheable.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from forensic.i18n import message

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "forensic_app"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
HEADERS = (
    (b"cache-control", b"no-store"),
    (b"pragma", b"no-cache"),
    (b"content-security-policy", CSP.encode("ascii")),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),  # no-referrer makes a form post Origin: null
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
)


@dataclass
class Secrets:
    """The per-start token (who may look) and CSRF token (what may change), never persisted."""

    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    port: int = 0
    """The bound port (known once the socket is bound)."""

    def allowed_hosts(self) -> tuple[bytes, ...]:
        return (f"127.0.0.1:{self.port}".encode(), f"localhost:{self.port}".encode())

    def allowed_origins(self) -> tuple[bytes, ...]:
        return tuple(b"http://" + host for host in self.allowed_hosts())

    def token_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def csrf_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.csrf.encode())


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def _cookie_token(scope: Scope) -> str | None:
    raw = _header(scope, b"cookie")
    if raw is None:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw.decode("latin-1"))
    except Exception:  # a malformed cookie header is no token
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else None


async def _refuse(send: Send, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), *HEADERS],
        }
    )
    await send({"type": "http.response.body", "body": text.encode("utf-8")})


def refusal(scope: Scope, guard: Secrets, lang: str) -> tuple[int, str] | None:
    """Why this request is refused (status, text), or ``None``: the checks in order."""
    host = _header(scope, b"host")
    if host not in guard.allowed_hosts():
        return 421, message("app.security.bad_host", lang)
    if scope.get("method", "GET") not in ("GET", "HEAD"):
        origin = _header(scope, b"origin")
        if origin is not None and origin not in guard.allowed_origins():
            return 403, message("app.security.cross_site", lang)
        site = _header(scope, b"sec-fetch-site")
        if site is not None and site not in (b"same-origin", b"none"):
            return 403, message("app.security.cross_site", lang)
    if not guard.token_ok(_cookie_token(scope)):
        return 403, message("app.security.no_token", lang)
    return None


class SecurityMiddleware:
    """Host, origin and token checks, the one-time token exchange, and the headers."""

    def __init__(self, app: Asgi, guard: Secrets, lang: Callable[[], str]) -> None:
        self.app = app
        self.guard = guard
        self.lang = lang

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = query.get("token", [None])[0]
        host_ok = _header(scope, b"host") in self.guard.allowed_hosts()
        if host_ok and scope.get("method") == "GET" and self.guard.token_ok(given):
            await self._exchange(send)
            return
        refused = refusal(scope, self.guard, self.lang())
        if refused is not None:
            await _refuse(send, *refused)
            return

        async def with_headers(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                names = {name for name, _v in HEADERS}
                kept = [(k, v) for k, v in msg.get("headers", []) if k.lower() not in names]
                msg["headers"] = [*kept, *HEADERS]
            await send(msg)

        await self.app(scope, receive, with_headers)

    async def _exchange(self, send: Send) -> None:
        """The token from the URL becomes the cookie; the address bar loses it at once."""
        cookie = f"{COOKIE}={self.guard.token}; HttpOnly; SameSite=Strict; Path=/"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [(b"location", b"/"), (b"set-cookie", cookie.encode()), *HEADERS],
            }
        )
        await send({"type": "http.response.body", "body": b""})
