"""Every endpoint's access rule, checked on the server: who is signed in, whether their role may
read or write here, the CSRF token of every write; a refusal is a 403 and an audit row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from pollnet.i18n import gettext
from pollnet.settings import LANGUAGES
from pollnet.users import ROLES, Account, AuditEntry, Role, get_account, record
from pollnet.web.config import WebSettings
from pollnet.web.security import LoginLimiter, csrf_ok

Clock = Callable[[], dt.datetime]
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Rule:
    """The roles that may read (GET) and write (POST) an endpoint."""

    read: frozenset[Role]
    write: frozenset[Role] = frozenset()


EVERYONE = frozenset(ROLES)
OFFICE = frozenset({Role.ADMIN, Role.OPERATOR})
ADMIN = frozenset({Role.ADMIN})
AGENCIES = EVERYONE - {Role.OBSERVER}
"""Roles whose agency has work orders to update."""


@dataclass
class Web:
    """What every handler needs: the database, the settings, the clock and the default
    language; ``https`` says whether cookies may be sent only over TLS."""

    engine: Engine
    settings: WebSettings
    lang: str = "fa"
    https: bool = True
    clock: Clock = field(default=lambda: dt.datetime.now(dt.UTC))
    limiter: LoginLimiter = field(default_factory=lambda: LoginLimiter(10, 300.0))
    state: dict[str, Any] = field(default_factory=dict)

    def language(self, request: Request) -> str:
        """The page's language: ``?lang=`` (remembered in the session), else the session's,
        else the default."""
        asked = request.query_params.get("lang")
        if asked in LANGUAGES:
            request.session["lang"] = asked
        chosen = request.session.get("lang")
        return chosen if chosen in LANGUAGES else self.lang

    def audit(
        self, request: Request, who: str, action: str, target: str, outcome: str, detail: str = ""
    ) -> None:
        """Record an event of this request (the client's address is the peer's)."""
        address = request.client.host if request.client else ""
        record(self.engine, AuditEntry(self.clock(), who, action, target, outcome, address, detail))

    def account(self, request: Request) -> Account | None:
        """The signed-in account: a session that has not expired, of an active account."""
        name = request.session.get("user")
        since = request.session.get("since")
        if not isinstance(name, str) or not isinstance(since, (int, float)):
            return None
        age = self.clock().timestamp() - since
        if not 0 <= age <= self.settings.session_minutes * 60:
            request.session.pop("user", None)
            return None
        found = get_account(self.engine, name)
        return found if found is not None and found.active else None


class Forbidden(Exception):
    """Raised by a handler when the account may not see or change this object."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Handler = Callable[[Web, Request, Account], Awaitable[Response]]


def forbidden(web: Web, request: Request, account: Account | None, reason: str) -> Response:
    """403 with one translated line and nothing else, and an audit row of the refusal."""
    who = account.name if account else ""
    target = f"{request.method} {request.url.path}"
    web.audit(request, who, "refused", target, "denied", reason)
    text = gettext("You may not do this.", web.language(request))
    return PlainTextResponse(text, status_code=403, headers={"Cache-Control": "no-store"})


def guarded(
    web: Web, rule: Rule, read: Handler | None, write: Handler | None = None
) -> Callable[[Request], Awaitable[Response]]:
    """``read`` (GET) and ``write`` (POST) behind the sign-in, the role check of ``rule`` and,
    on writes, the CSRF check. Nobody signed in: a read goes to the sign-in page, a write is
    refused."""

    async def endpoint(request: Request) -> Response:
        account = web.account(request)
        writing = request.method in WRITES
        if account is None and not writing:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        if account is None:
            return forbidden(web, request, None, "not signed in")
        if writing and not await csrf_ok(request):
            return forbidden(web, request, account, "missing or wrong CSRF token")
        allowed = rule.write if writing else rule.read
        if account.role not in allowed:
            return forbidden(web, request, account, f"role {account.role.value}")
        handler = write if writing else read
        if handler is None:  # the route's methods keep this from happening
            return PlainTextResponse("", status_code=405)
        try:
            return await handler(web, request, account)
        except Forbidden as exc:
            return forbidden(web, request, account, exc.reason)

    endpoint.__name__ = getattr(read or write, "__name__", "endpoint")
    return endpoint


def methods(rule: Rule) -> Iterable[str]:
    """The HTTP methods a route with ``rule`` answers."""
    return [*(["GET"] if rule.read else []), *(["POST"] if rule.write else [])]
