"""The readiness page: the stations on the map by class, search, the problem list, district and
county summaries, kept live by server-sent events from the :class:`~pollnet.web.live.Hub`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from pollnet import _html
from pollnet.areas import AreaKind, links, load_areas
from pollnet.i18n import gettext
from pollnet.registry import list_stations
from pollnet.users import Account
from pollnet.web.guard import Web
from pollnet.web.live import CLASSES, Hub, counts
from pollnet.web.render import page

CLASS_LABELS = {
    "ready": "ready",
    "lte": "on LTE backup",
    "silent": "a device is silent",
    "offline": "offline",
    "not_installed": "not yet installed",
}
STREAM_SECONDS = 300.0
"""An event stream ends after this long; the browser reconnects (and gets the whole state)."""
KEEPALIVE_SECONDS = 15.0


def hub(web: Web) -> Hub:
    """The web's one readiness hub."""
    found = web.state.get("hub")
    if not isinstance(found, Hub):
        s = web.settings
        found = web.state["hub"] = Hub(web.engine, s.heartbeat_seconds, s.poll_seconds, web.clock)
    return found


def station_list(web: Web, lang: str) -> list[dict[str, Any]]:
    """Every registered station with what the page shows and searches (code, name, school,
    address, districts, county) and its position."""
    areas = links(web.engine)
    counties = {a.code: a.label(lang) for a in load_areas(web.engine, AreaKind.COUNTY)}
    out = []
    for s in list_stations(web.engine):
        mine = areas.get(s.code, {})
        county = mine.get(AreaKind.COUNTY.value, "")
        out.append(
            {
                "code": s.code,
                "name": s.name,
                "site": s.site,
                "address": s.address,
                "district": s.district,
                "county": counties.get(county, county),
                "lat": s.lat,
                "lon": s.lon,
            }
        )
    return out


REGISTRY_SECONDS = 60.0
"""How long the station list (positions, names, areas) is kept before it is read again."""


async def cached_stations(web: Web, lang: str) -> list[dict[str, Any]]:
    """:func:`station_list`, read at most every :data:`REGISTRY_SECONDS` per language."""
    key = f"stations:{lang}"
    kept = web.state.get(key)
    now = web.clock().timestamp()
    if isinstance(kept, tuple) and now - kept[0] < REGISTRY_SECONDS:
        stations: list[dict[str, Any]] = kept[1]
        return stations
    stations = await asyncio.to_thread(station_list, web, lang)
    web.state[key] = (now, stations)
    return stations


async def page_view(web: Web, request: Request, account: Account) -> Response:
    lang = web.language(request)
    texts = {
        "classes": {cls: gettext(label, lang) for cls, label in CLASS_LABELS.items()},
        "district": gettext("District", lang),
        "devices": gettext("devices heard", lang),
        "since": gettext("for", lang),
        "unknown": gettext("unknown", lang),
        "minutes": gettext("min", lang),
        "hours": gettext("h", lang),
    }
    return page(
        web, request, account, "live.html.j2", "Readiness",
        classes=CLASSES, class_labels=CLASS_LABELS, tile_url=web.settings.tile_url,
        texts_json=_html.script_json(texts),
    )  # fmt: skip


async def snapshot(web: Web, request: Request, account: Account) -> Response:
    """The stations, their statuses and the counts by class, as JSON (``states``: station code
    -> ``[class, online, expected, on LTE, trouble since]``)."""
    lang = web.language(request)
    states = await hub(web).fresh()
    stations = await cached_stations(web, lang)
    body = {
        "version": hub(web).version,
        "now": round(web.clock().timestamp()),
        "counts": counts(states),
        "stations": stations,
        "states": {code: s.as_list() for code, s in states.items()},
    }
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def events(web: Web, request: Request, account: Account) -> Response:
    """Server-sent events: first every station's status, then each change as it happens."""
    the_hub = hub(web)
    limit = min(float(request.query_params.get("seconds", STREAM_SECONDS) or 0), STREAM_SECONDS)
    queue = the_hub.subscribe()
    states = await the_hub.fresh()
    first = {code: s.as_list() for code, s in states.items()}

    async def stream() -> AsyncIterator[str]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(limit, 0.0)
        try:
            yield "retry: 1000\n"
            yield f"event: change\ndata: {json.dumps(first, separators=(',', ':'))}\n\n"
            while loop.time() < deadline and the_hub.listening(queue):
                try:
                    wait = min(KEEPALIVE_SECONDS, deadline - loop.time())
                    message = await asyncio.wait_for(queue.get(), max(wait, 0.01))
                except TimeoutError:
                    if web.account(request) is None:  # signed out or disabled meanwhile
                        break
                    yield ": keepalive\n\n"
                    continue
                yield f"event: change\ndata: {json.dumps(message, separators=(',', ':'))}\n\n"
        finally:
            the_hub.unsubscribe(queue)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
