"""Pages from templates: the layout every page shares (language and direction, the menu the
account's role may use, the CSRF token for its forms) and the page's own part."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from pollnet import _html
from pollnet.i18n import format_date, format_moment, format_number, gettext, localise_text
from pollnet.users import ROLE_LABELS, Account, Role
from pollnet.web.guard import ADMIN, Web
from pollnet.web.security import csrf_token

MENU: tuple[tuple[str, str, frozenset[Role] | None], ...] = (
    ("/readiness", "Readiness", None),
    ("/work", "Work orders", None),
    ("/plan", "Plan and coverage", None),
    ("/reports", "Schedule and weekly report", None),
    ("/admin/audit", "Audit", ADMIN),
    ("/admin/users", "Users", ADMIN),
)
"""(path, English label, roles that see it; None: every role)."""


def page(
    web: Web,
    request: Request,
    account: Account | None,
    template: str,
    title: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """``template`` inside the layout, in the request's language."""
    lang = web.language(request)

    def _(message: str) -> str:
        return gettext(message, lang)

    menu = [
        (path, _(label), path == request.url.path)
        for path, label, roles in MENU
        if account is not None and (roles is None or account.role in roles)
    ]
    html = _html.template("pollnet.web", template).render(
        _=_,
        lang=lang,
        other_lang="en" if lang == "fa" else "fa",
        rtl=lang == "fa",
        title=_(title),
        account=account,
        role_label=_(ROLE_LABELS[account.role]) if account else "",
        menu=menu,
        csrf=csrf_token(request),
        digits=lambda text: localise_text(str(text), lang),
        number=lambda value: format_number(value, lang),
        date=lambda day: format_date(day, lang) if day else "",
        moment=lambda at: format_moment(at, lang) if at else "",
        today=format_date(web.clock().astimezone().date(), lang),
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
