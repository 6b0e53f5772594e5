"""Work orders in the browser: one's own agency's list with filters, one order with its
history, and a status update that goes through the status sheet's own reading
(:func:`pollnet.rollout.sheets.parse_row`) and validation
(:func:`pollnet.rollout.store.update_status`): a bad value gets the sheet import's message next
to its field, and nothing changes."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from pollnet.errors import Problem, UserError
from pollnet.rollout import store as rollout_store
from pollnet.rollout.sheets import EDITABLE, kind_label, parse_row, status_label
from pollnet.rollout.status import SETTABLE, STATUSES, OrderState, StatusUpdate
from pollnet.rollout.workorders import WorkOrder, WorkOrderSet
from pollnet.users import Account, sees_order, updates_order
from pollnet.web.guard import Forbidden, Web
from pollnet.web.render import page

SHOWN = 300
"""Work orders listed on one page (the filters narrow them)."""
FORM_SOURCE = "web"
"""The ``file`` of a form's update, and the history's source."""


@dataclass
class Form:
    """What a work order's form shows: the values given and a message per field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _rows(
    account: Account, orders: WorkOrderSet, states: dict[str, OrderState], request: Request
) -> tuple[list[tuple[WorkOrder, OrderState, bool]], int]:
    q = request.query_params
    status, kind, district = q.get("status", ""), q.get("kind", ""), q.get("district", "")
    station, text = q.get("station", ""), q.get("q", "").strip().lower()
    rows = []
    for order in orders:
        state = states.get(order.id) or OrderState(order.id)
        if not sees_order(account, order) or (status and state.status != status):
            continue
        if (kind and order.kind != kind) or (district and str(order.district) != district):
            continue
        if (station and order.station != station) or (text and text not in order.id.lower()):
            continue
        rows.append((order, state, updates_order(account, order)))
    return rows[:SHOWN], len(rows)


async def list_page(web: Web, request: Request, account: Account) -> Response:
    """The work orders ``account`` may see, filtered by status, kind, district, station."""
    orders, states = rollout_store.load_work_orders(web.engine)
    rows, total = _rows(account, orders, states, request)
    return _render(web, request, account, "Work orders", rows, total, orders, {})


def _render(
    web: Web,
    request: Request,
    account: Account,
    title: str,
    rows: list[tuple[WorkOrder, OrderState, bool]],
    total: int,
    orders: WorkOrderSet,
    forms: dict[str, Form],
    status_code: int = 200,
    history: list[list[str]] | None = None,
) -> Response:
    lang = web.language(request)
    return page(
        web, request, account, "orders.html.j2", title, status_code=status_code,
        rows=rows, total=total, shown=len(rows), forms=forms, history=history,
        statuses=[(s, status_label(s, lang)) for s in STATUSES],
        settable=[(s, status_label(s, lang)) for s in SETTABLE],
        kinds=sorted({(o.kind, kind_label(o.kind, lang)) for o in orders}),
        kind_label=lambda k: kind_label(k, lang), status_label=lambda s: status_label(s, lang),
        query=dict(request.query_params), editable=EDITABLE,
    )  # fmt: skip


async def order_page(web: Web, request: Request, account: Account) -> Response:
    """One work order, its form and its history."""
    return _one(web, request, account, {})


def _one(
    web: Web, request: Request, account: Account, forms: dict[str, Form], status_code: int = 200
) -> Response:
    order_id = request.path_params["order_id"]
    orders, states = rollout_store.load_work_orders(web.engine)
    order = orders.by_id.get(order_id)
    if order is None:
        return page(web, request, account, "message.html.j2", "Work orders", status_code=404,
                    message=UserError.of("unknown work order: {id}", id=order_id).render(
                        web.language(request))[0])  # fmt: skip
    if not sees_order(account, order):
        raise Forbidden(f"work order {order_id} of another agency or area")
    state = states.get(order.id) or OrderState(order.id)
    lang = web.language(request)
    history = [e.render(lang).split("\t") for e in rollout_store.read_history(web.engine, order_id)]
    rows = [(order, state, updates_order(account, order))]
    return _render(web, request, account, "Work orders", rows, 1, orders, forms,
                   status_code, history)  # fmt: skip


async def update(web: Web, request: Request, account: Account) -> Response:
    """Change a work order's status from its form; on a problem the form again with the
    sheet import's message next to the field, and nothing changed."""
    order_id = request.path_params["order_id"]
    orders, _ = rollout_store.load_work_orders(web.engine)
    order = orders.by_id.get(order_id)
    if order is None or not updates_order(account, order):
        raise Forbidden(f"work order {order_id}: not one of {account.name}'s agency")
    form = await request.form()
    values = {key: str(form.get(key, "")) for key in EDITABLE}
    problems = _apply(web, account, order, {**values, "id": order_id})
    lang = web.language(request)
    if problems:
        errors: dict[str, str] = {}
        for p in problems:
            column = p.where.column if p.where.column in EDITABLE else "status"
            errors.setdefault(column, Problem(p.message, p.params).render(lang))
        web.audit(request, account.name, "work-order.update", order_id, "failed",
                  "; ".join(p.render("en") for p in problems))  # fmt: skip
        return _one(web, request, account, {order_id: Form(values, errors)}, status_code=422)
    web.audit(request, account.name, "work-order.update", order_id, "ok",
              ", ".join(f"{k}={v}" for k, v in values.items() if v))  # fmt: skip
    back = str(form.get("next", ""))
    target = back if back.startswith("/") and not back.startswith("//") else f"/work/{order_id}"
    return RedirectResponse(target, status_code=303)


def _apply(web: Web, account: Account, order: WorkOrder, cells: dict[str, str]) -> list[Problem]:
    """Read ``cells`` as a sheet row and apply it; the problems (none: applied)."""
    shown = {key: key for key in (*EDITABLE, "id")}
    found = parse_row(cells, file=FORM_SOURCE, row=None, shown=shown)
    if not isinstance(found, StatusUpdate):
        return found
    now = web.clock()
    try:
        rollout_store.update_status(
            web.engine, [found], by=account.name, agency=order.agency, source=FORM_SOURCE,
            today=now.astimezone().date(), now=now,
        )  # fmt: skip
    except UserError as exc:
        return list(exc.problems)
    return []
