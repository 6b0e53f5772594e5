"""The operations web (``pollnet web``): one signed-in application for the election office, the
three agencies and observers: readiness live, stations, work orders, plan, reports, audit.

:mod:`pollnet.web.dashboard` is the earlier read-only readiness map (``pollnet dashboard``).
"""

from pollnet.web.app import create_app as create_web_app
from pollnet.web.config import WebSettings, web_settings
from pollnet.web.dashboard import DashboardSettings, create_app, readiness_map, render_page

__all__ = [
    "DashboardSettings",
    "WebSettings",
    "create_app",
    "create_web_app",
    "readiness_map",
    "render_page",
    "web_settings",
]
