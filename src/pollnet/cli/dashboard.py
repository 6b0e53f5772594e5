"""``pollnet dashboard``: the live readiness map for the election office's operations room."""

from __future__ import annotations

import click

from pollnet.cli._common import App, pass_app, stdout
from pollnet.errors import UserError
from pollnet.i18n import tr


@click.command("dashboard")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--refresh", default=5.0, show_default=True, type=float, help="Seconds between updates."
)
@pass_app
def dashboard(app: App, host: str, port: int, refresh: float) -> None:
    """Serve the live map of station readiness from the devices' heartbeats (read-only)."""
    import uvicorn

    from pollnet.link.service import link_settings
    from pollnet.web import DashboardSettings, create_app
    from pollnet.web.serve import loopback

    if not loopback(host):  # no sign-in: never on an address others reach
        raise UserError.of(
            "the dashboard has no sign-in and serves this machine only; for the operations"
            " room use pollnet web (accounts, roles, HTTPS)",
            column="--host",
        )

    interval = link_settings(app.settings).heartbeat_seconds
    web = create_app(app.engine, app.settings.lang, DashboardSettings(interval, refresh))
    stdout().print(tr("Readiness map on {url} (stop with Ctrl+C)", url=f"http://{host}:{port}/"))
    uvicorn.run(web, host=host, port=port, log_level="warning")


COMMANDS = [dashboard]
