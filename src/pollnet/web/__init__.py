"""Web views for the election office: the live readiness map (:mod:`pollnet.web.dashboard`)."""

from pollnet.web.dashboard import DashboardSettings, create_app, readiness_map, render_page

__all__ = ["DashboardSettings", "create_app", "readiness_map", "render_page"]
