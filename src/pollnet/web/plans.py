"""The plan and coverage on the map (routes by method, stations flagged for review, stations
without LTE backup and the temporary cells that would cover them) and the schedule's forecast
with the weekly report, for every role."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from pollnet.areas import AreaKind
from pollnet.coverage.backup import Located, RadioSettings, StationBackup, lte_backup
from pollnet.coverage.cells import CellSettings, plan_cells
from pollnet.coverage.store import read_towers
from pollnet.errors import UserError
from pollnet.model import Tower
from pollnet.plan.model import Plan
from pollnet.plan.store import latest_plan_id, load_plan
from pollnet.registry import list_stations
from pollnet.rollout import store as rollout_store
from pollnet.rollout.report import render_html, weekly
from pollnet.rollout.templates import load_config
from pollnet.users import Account, Role
from pollnet.web.guard import Web
from pollnet.web.render import page

CELL_SECONDS = 2.0
"""The exact set cover's budget per operator for the map's temporary cells (then greedy)."""

REPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"
)
"""The weekly report is a document of its own with its styles inline and no script."""


def latest_plan(web: Web) -> Plan | None:
    """The latest stored plan (kept until a newer one is stored)."""
    plan_id = latest_plan_id(web.engine)
    if plan_id is None:
        return None
    kept = web.state.get("plan")
    if isinstance(kept, Plan) and web.state.get("plan_id") == plan_id:
        return kept
    plan = load_plan(web.engine, plan_id)
    web.state.update(plan=plan, plan_id=plan_id)
    return plan


def plan_layers(web: Web) -> dict[str, Any]:
    """The latest plan's trenches by method, its stations flagged for review, the registered
    stations without LTE backup and the temporary cells covering them (``pollnet coverage
    plan-cells`` with its default cell), as GeoJSON for the map."""
    plan = latest_plan(web)
    trenches = [
        {"type": "Feature", "properties": {"method": t.method, "id": t.id},
         "geometry": {"type": "LineString", "coordinates": [list(c) for c in t.coords]}}
        for t in (plan.trenches if plan else ())
    ]  # fmt: skip
    review = [
        {"code": s.code, "lat": s.lat, "lon": s.lon, "status": s.status,
         "flags": [f.code for f in s.flags]}
        for s in (plan.for_review if plan else ())
    ]  # fmt: skip
    stations = list_stations(web.engine)
    towers = read_towers(web.engine)
    radio = RadioSettings.from_mapping(web.settings.base.section("coverage"))
    cell = CellSettings.from_mapping(web.settings.base.section("cells"))
    backups = lte_backup(stations, towers, radio) if towers else ()
    places = {s.code: s for s in stations}
    no_lte = [
        {"code": b.station, "lat": places[b.station].lat, "lon": places[b.station].lon,
         "critical": b.critical}
        for b in backups
        if b.status == "none"
    ]  # fmt: skip
    return {
        "plan_id": plan.id if plan else None,
        "trenches": {"type": "FeatureCollection", "features": trenches},
        "review": review,
        "no_lte": no_lte,
        "towers": bool(towers),
        "cells": temporary_cells(web.state, stations, backups, towers, radio, cell),
    }


def temporary_cells(
    state: MutableMapping[str, Any],
    stations: Sequence[Located],
    backups: Sequence[StationBackup],
    towers: Sequence[Tower],
    radio: RadioSettings,
    cell: CellSettings,
) -> list[dict[str, Any]]:
    """Each operator's fewest temporary cell sites (of the ``cell`` configured in ``[cells]``)
    for the stations without backup, each with the stations it covers (positions in WGS84
    degrees); kept until the stations without backup or the towers change (in ``state``, the
    web's shared state)."""
    needing = tuple(b.station for b in backups if b.status == "none")
    if not needing:
        return []
    places = {s.code: s for s in stations}
    key = (needing, tuple(places[c] for c in needing), tuple(towers), radio, cell)
    kept = state.get("cells")
    if isinstance(kept, tuple) and kept[0] == key:
        return list(kept[1])
    found = [
        {
            "operator": plan.operator,
            "method": plan.method,
            "code": site.code,
            "kind": site.kind,
            "lat": site.lat,
            "lon": site.lon,
            "stations": [
                {"code": c, "lat": places[c].lat, "lon": places[c].lon} for c in site.stations
            ],
        }
        for plan in plan_cells(stations, backups, towers, radio, cell, seconds=CELL_SECONDS)
        for site in plan.sites
    ]
    state["cells"] = (key, tuple(found))
    return found


async def plan_page(web: Web, request: Request, account: Account) -> Response:
    return page(web, request, account, "plan.html.j2", "Plan and coverage",
                tile_url=web.settings.tile_url)  # fmt: skip


async def plan_data(web: Web, request: Request, account: Account) -> Response:
    body = await asyncio.to_thread(plan_layers, web)
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _scope(account: Account) -> dict[str, str]:
    """The area a scoped account's reports cover (area kind -> code)."""
    if account.role == Role.MUNICIPALITY:
        return {AreaKind.MUNICIPALITY.value: account.scope}
    if account.role == Role.EDUCATION:
        return {AreaKind.EDUCATION_DISTRICT.value: account.scope}
    return {}


async def reports_page(web: Web, request: Request, account: Account) -> Response:
    """The schedule's forecast and the weekly report (embedded as it is written)."""
    return page(web, request, account, "reports.html.j2", "Schedule and weekly report",
                scope=account.scope)  # fmt: skip


async def weekly_report(web: Web, request: Request, account: Account) -> Response:
    """This week's coordination report (``pollnet report weekly``'s HTML), of the account's
    area for a municipality or an education district."""
    lang = web.language(request)
    base = web.settings.base
    today = web.clock().astimezone().date()

    def build() -> str:
        config = load_config(base.section("rollout"))
        orders, states, result = rollout_store.forecast_from_store(
            web.engine, config, today, base.election_date, areas=_scope(account)
        )
        return render_html(weekly(orders, states, result, config.calendar, today), lang)

    try:
        html = await asyncio.to_thread(build)
    except UserError as exc:
        return page(web, request, account, "message.html.j2", "Schedule and weekly report",
                    status_code=404, message=exc.render(lang)[0])  # fmt: skip
    headers = {"Content-Security-Policy": REPORT_POLICY, "Cache-Control": "no-store"}
    return HTMLResponse(html, headers=headers)
