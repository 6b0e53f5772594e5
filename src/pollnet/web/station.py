"""A station's page: where it is, its class now, its devices and their last heartbeats, its link
history, its LTE backup, its fiber route on the map, and its work orders with their forms."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response

from pollnet import _html
from pollnet.areas import links
from pollnet.coverage.backup import RadioSettings, lte_backup
from pollnet.coverage.store import read_towers
from pollnet.errors import NotFoundError
from pollnet.registry import get_station
from pollnet.rollout import store as rollout_store
from pollnet.rollout.sheets import EDITABLE, kind_label, status_label
from pollnet.rollout.status import SETTABLE, OrderState
from pollnet.store.schema.link import device_states, heartbeats, station_states
from pollnet.users import Account, sees_order, updates_order
from pollnet.web.guard import Web
from pollnet.web.live import classify
from pollnet.web.plans import latest_plan
from pollnet.web.readiness import CLASS_LABELS
from pollnet.web.render import page

HISTORY_ROWS = 50


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _link_data(web: Web, code: str) -> dict[str, Any]:
    with web.engine.connect() as conn:
        devices = conn.execute(
            sa.select(device_states).where(device_states.c.station == code)
            .order_by(device_states.c.device)
        ).mappings().all()  # fmt: skip
        beats = conn.execute(
            sa.select(heartbeats.c.device, heartbeats.c.link, heartbeats.c.received_at)
            .where(heartbeats.c.station == code)
            .order_by(heartbeats.c.id.desc()).limit(HISTORY_ROWS)
        ).all()  # fmt: skip
        states = conn.execute(
            sa.select(station_states.c.state, station_states.c.since)
            .where(station_states.c.station == code)
            .order_by(station_states.c.id.desc()).limit(HISTORY_ROWS)
        ).all()  # fmt: skip
    return {
        "devices": [dict(d) | {"last_seen": _utc(d["last_seen"])} for d in devices],
        "beats": [(b.device, b.link, _utc(b.received_at)) for b in beats],
        "states": [(s.state, _utc(s.since)) for s in states],
    }


def _route(web: Web, code: str) -> dict[str, Any] | None:
    """The station's fiber route in the latest plan as GeoJSON lines by method."""
    plan = latest_plan(web)
    if plan is None:
        return None
    station = next((s for s in plan.stations if s.code == code), None)
    if station is None:
        return None
    trenches = {t.id: t for t in plan.trenches}
    features = [
        {
            "type": "Feature",
            "properties": {"method": trenches[t].method},
            "geometry": {
                "type": "LineString",
                "coordinates": [list(c) for c in trenches[t].coords],
            },
        }
        for t in station.route_trench_ids
        if t in trenches
    ]
    return {"type": "FeatureCollection", "features": features, "status": station.status,
            "exchange": station.exchange, "length_m": station.route_length_m}  # fmt: skip


async def station_page(web: Web, request: Request, account: Account) -> Response:
    code = request.path_params["code"]
    lang = web.language(request)
    try:
        record = get_station(web.engine, code)
    except NotFoundError as exc:
        return page(web, request, account, "message.html.j2", "Station", status_code=404,
                    message=exc.render(lang)[0])  # fmt: skip
    data = await asyncio.to_thread(_link_data, web, record.code)
    now = web.clock()
    status = classify(
        [(d["link"], d["last_seen"]) for d in data["devices"]],
        record.devices, now, web.settings.heartbeat_seconds,
    )  # fmt: skip
    radio = RadioSettings.from_mapping(web.settings.base.section("coverage"))
    towers = read_towers(web.engine)
    backup = lte_backup([record], towers, radio)[0] if towers else None
    orders, states = rollout_store.load_work_orders(web.engine)
    mine = [
        (o, states.get(o.id) or OrderState(o.id), updates_order(account, o))
        for o in orders
        if o.station == record.code and sees_order(account, o)
    ]
    route = await asyncio.to_thread(_route, web, record.code)
    areas = links(web.engine).get(record.code, {})
    return page(
        web, request, account, "station.html.j2", "Station",
        station=record, status=status, class_label=CLASS_LABELS[status.cls], areas=areas,
        link=data, backup=backup, rows=mine, forms={}, settable=[(s, status_label(s, lang))
        for s in SETTABLE], kind_label=lambda k: kind_label(k, lang),
        status_label=lambda s: status_label(s, lang), editable=EDITABLE,
        next_url=f"/stations/{record.code}",
        map_json=_html.script_json({"station": [record.lat, record.lon], "route": route}),
        tile_url=web.settings.tile_url,
    )  # fmt: skip
