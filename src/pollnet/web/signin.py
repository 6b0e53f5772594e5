"""Signing in and out: the form, the rate limit per address, the lockout per account (in
:func:`pollnet.users.sign_in`), a fresh session on success, and an audit row for every try."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pollnet.i18n import gettext
from pollnet.users import sign_in
from pollnet.web.guard import Web, forbidden
from pollnet.web.render import page
from pollnet.web.security import csrf_ok, csrf_token


def _next(value: object) -> str:
    """Where to go after signing in: a path of this site only (never another host)."""
    text = value if isinstance(value, str) else ""
    if not text.startswith("/") or text.startswith("//") or "\\" in text:
        return "/readiness"
    return text


async def login_form(web: Web, request: Request) -> Response:
    """The sign-in form (a signed-in visitor goes straight on)."""
    if web.account(request) is not None:
        return RedirectResponse(_next(request.query_params.get("next")), status_code=303)
    return page(
        web, request, None, "login.html.j2", "Sign in",
        next=_next(request.query_params.get("next")), name="", message="",
    )  # fmt: skip


async def login(web: Web, request: Request) -> Response:
    """Check the form; on success a new session (new CSRF token) and on to ``next``."""
    if not await csrf_ok(request):
        return forbidden(web, request, None, "sign-in without the form's CSRF token")
    form = await request.form()
    name = str(form.get("name", "")).strip().lower()[:64]
    address = request.client.host if request.client else ""
    lang = web.language(request)
    if not web.limiter.allow(address):
        web.audit(request, "", "sign-in", "", "denied", "too many attempts from this address")
        return page(
            web, request, None, "login.html.j2", "Sign in", status_code=429,
            next=_next(form.get("next")), name=name,
            message=gettext("Too many attempts: wait a few minutes and try again.", lang),
        )  # fmt: skip
    result = await asyncio.to_thread(  # Argon2id takes a while: not on the event loop
        sign_in,
        web.engine,
        name,
        str(form.get("password", "")),
        str(form.get("code", "")),
        address,
        now=web.clock(),
    )
    if result.account is None:
        return page(
            web, request, None, "login.html.j2", "Sign in", status_code=401,
            next=_next(form.get("next")), name=name,
            message=gettext("Wrong name, password or code, or the account is locked.", lang),
        )  # fmt: skip
    request.session.clear()
    request.session.update(user=result.account.name, since=web.clock().timestamp(), lang=lang)
    csrf_token(request)
    return RedirectResponse(_next(form.get("next")), status_code=303)


async def logout(web: Web, request: Request) -> Response:
    """End the session (a write: it needs the CSRF token)."""
    account = web.account(request)
    if not await csrf_ok(request):
        return forbidden(web, request, account, "sign-out without the CSRF token")
    if account is not None:
        web.audit(request, account.name, "sign-out", "", "ok")
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
