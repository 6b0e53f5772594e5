"""The admin's pages: the audit of sign-ins and changes, and the accounts (disable one)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pollnet.errors import UserError
from pollnet.users import ROLE_LABELS, Account, Actor, disable_user, list_users, read_audit
from pollnet.web.guard import Forbidden, Web
from pollnet.web.render import page

AUDIT_ROWS = 500


async def audit_page(web: Web, request: Request, account: Account) -> Response:
    """The latest audit entries, newest first (``?who=`` one person's)."""
    who = request.query_params.get("who") or None
    entries = read_audit(web.engine, AUDIT_ROWS, who)
    return page(web, request, account, "audit.html.j2", "Audit", entries=entries, who=who or "")


async def users_page(web: Web, request: Request, account: Account) -> Response:
    """Every account with its role and area; the command line adds them."""
    return page(
        web, request, account, "users.html.j2", "Users",
        users=list_users(web.engine), labels=ROLE_LABELS,
    )  # fmt: skip


async def disable(web: Web, request: Request, account: Account) -> Response:
    """Disable an account (not one's own)."""
    name = request.path_params["name"]
    if name == account.name:
        raise Forbidden("an admin cannot disable their own account")
    address = request.client.host if request.client else ""
    try:
        disable_user(web.engine, name, Actor(account.name, address), now=web.clock())
    except UserError as exc:
        return page(
            web, request, account, "message.html.j2", "Users", status_code=404,
            message=exc.render(web.language(request))[0],
        )  # fmt: skip
    return RedirectResponse("/admin/users", status_code=303)
