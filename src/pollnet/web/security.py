"""What keeps the operations web's sessions safe: CSRF tokens, the sign-in rate limit and the
response headers (a strict Content-Security-Policy: every file from the app itself)."""

from __future__ import annotations

import collections
import hmac
import secrets
import time

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_FIELD = "csrf"
"""The form field (or ``X-CSRF-Token`` header) that carries the session's CSRF token."""


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


async def csrf_ok(request: Request) -> bool:
    """Whether a state-changing request carries the session's CSRF token (form field or
    header), compared in constant time."""
    expected = request.session.get(CSRF_FIELD)
    given = request.headers.get("x-csrf-token")
    if given is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    return isinstance(expected, str) and given is not None and hmac.compare_digest(expected, given)


class LoginLimiter:
    """At most ``attempts`` sign-ins per ``window_s`` seconds from one address (in memory: a
    restart forgets, the account lockout in the database does not)."""

    def __init__(self, attempts: int, window_s: float) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._seen: dict[str, collections.deque[float]] = {}

    def allow(self, address: str, now: float | None = None) -> bool:
        """Count an attempt from ``address``; False when it is one too many."""
        moment = time.monotonic() if now is None else now
        seen = self._seen.setdefault(address, collections.deque())
        while seen and seen[0] <= moment - self.window_s:
            seen.popleft()
        if len(seen) >= self.attempts:
            return False
        seen.append(moment)
        if len(self._seen) > 10_000:  # forget quiet addresses rather than grow without end
            self._seen = {a: d for a, d in self._seen.items() if d}
        return True


def content_policy(tile_origin: str = "") -> str:
    """The Content-Security-Policy: scripts, styles, fonts, data from the app only (images also
    from the office's tile server when one is set)."""
    images = f"'self' data: {tile_origin}".strip()
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; font-src 'self'; "
        f"img-src {images}; connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; "
        "form-action 'self'; object-src 'none'"
    )


class SecurityHeaders:
    """ASGI middleware: the policy and hardening headers on every answer (an answer that sets
    its own Content-Security-Policy keeps it); HSTS when served over HTTPS."""

    def __init__(self, app: ASGIApp, policy: str, https: bool) -> None:
        self.app = app
        self.headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"SAMEORIGIN"),
            (b"referrer-policy", b"same-origin"),
        ]
        if https:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))
        self.policy = policy.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", self.policy))
                headers.extend(self.headers)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
