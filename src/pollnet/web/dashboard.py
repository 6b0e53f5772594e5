"""The live readiness map of election day: every station coloured by its devices' heartbeats.

A small read-only web app for the election office's operations room, apart from the check-in
service (which only devices with certificates can reach): it reads the heartbeat board the
service writes to the database once a second, so watching it adds no load to check-ins.

- ``GET /``: one self-contained page (no external files or tiles) in Persian (right to left,
  Persian digits, Jalali date) or English: the counts by state, a canvas map of the stations
  coloured ready / degraded / offline, a table by district, and a hover card per station. It
  asks ``api/readiness`` again every ``refresh_s`` seconds and says so when the answers stop.
- ``GET /api/readiness``: the same as JSON (:func:`readiness_map`, with ``updated_label``: the
  date, Jalali in Persian, and time of the answer in the server's time zone).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from pollnet import _html
from pollnet.i18n import format_date, format_moment, gettext
from pollnet.link.heartbeat import STATES, readiness, states_by_district
from pollnet.registry import list_stations

STATE_COLOURS = {"ready": "#1a9850", "degraded": "#f39c12", "offline": "#d73027"}
STATE_LABELS = {"ready": "ready", "degraded": "degraded", "offline": "offline"}

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class DashboardSettings:
    """``interval_s``: the devices' heartbeat interval (offline after three missed);
    ``refresh_s``: how often the page asks again."""

    interval_s: float = 30.0
    refresh_s: float = 5.0


def readiness_map(engine: Engine, now: dt.datetime, interval_s: float) -> dict[str, Any]:
    """Every registered station with its position and state at ``now``, the counts by state
    and by district. Stations that report but are not registered have no position: they are
    counted, and listed with ``lat``/``lon`` null."""
    places = {s.code: s for s in list_stations(engine)}
    states = readiness(engine, now, interval_s)
    counts = Counter(r.state for r in states)
    stations = []
    for r in states:
        place = places.get(r.station)
        stations.append(
            {
                "code": r.station,
                "name": place.name if place else "",
                "district": r.district,
                "lat": place.lat if place else None,
                "lon": place.lon if place else None,
                "state": r.state,
                "devices_online": r.devices_online,
                "devices_expected": r.devices_expected,
                "on_lte": r.on_lte,
            }
        )
    return {
        "generated_at": now.astimezone(dt.UTC).isoformat(),
        "interval_s": interval_s,
        "counts": {state: counts[state] for state in STATES},
        "districts": [
            {"district": d, **{state: c[state] for state in STATES}}
            for d, c in states_by_district(states)
        ],
        "stations": stations,
    }


def create_app(
    engine: Engine,
    lang: str,
    settings: DashboardSettings | None = None,
    clock: Clock | None = None,
) -> Starlette:
    """The dashboard as an ASGI app (run it with uvicorn, or test it with a client)."""
    settings = settings or DashboardSettings()
    now = clock or (lambda: dt.datetime.now(dt.UTC))
    page = render_page(lang, settings)

    async def index(request: Request) -> Response:
        return HTMLResponse(page)

    async def api(request: Request) -> Response:
        moment = now()
        data = readiness_map(engine, moment, settings.interval_s)
        # the server's zone: Tehran's, in the election office
        data["updated_label"] = format_moment(moment, lang, seconds=True)
        return JSONResponse(data, headers={"Cache-Control": "no-store"})

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204)

    return Starlette(
        routes=[
            Route("/", index),
            Route("/api/readiness", api),
            Route("/favicon.ico", no_icon),
        ]
    )


def render_page(lang: str, settings: DashboardSettings) -> str:
    """The dashboard's page: its words in ``lang``, its data fetched by its script."""
    texts = {
        "title": gettext("Election-day readiness", lang),
        "updated": gettext("updated", lang),
        "stale": gettext("no answer from the server: the map shows the last state received", lang),
        "district": gettext("District", lang),
        "unregistered": gettext("unregistered", lang),
        "devices": gettext("devices online", lang),
        "on_lte": gettext("on LTE", lang),
        "stations": gettext("Stations", lang),
        "states": {state: gettext(STATE_LABELS[state], lang) for state in STATES},
    }
    template = _html.template("pollnet.web", "readiness.html.j2")
    return template.render(
        lang=lang,
        rtl=lang == "fa",
        texts=texts,
        texts_json=_html.script_json(texts),
        colours=STATE_COLOURS,
        colours_json=_html.script_json(STATE_COLOURS),
        states=STATES,
        refresh_ms=int(settings.refresh_s * 1000),
        today=format_date(dt.date.today(), lang),
    )
