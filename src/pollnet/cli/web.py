"""``pollnet web``: the signed-in operations web (HTTPS; plain HTTP only on 127.0.0.1)."""

from __future__ import annotations

import sys
from dataclasses import replace

import click

from pollnet.cli._common import App, Verbatim, pass_app, stdout
from pollnet.i18n import tr


@click.command("web")
@click.option("--host", help="Address to listen on (default: settings [web] host, 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default: settings [web] port, 8445).")
@click.option(
    "--http",
    "plain_http",
    is_flag=True,
    help="Plain HTTP, without TLS: only on 127.0.0.1, for development.",
)
@pass_app
def web(app: App, host: str | None, port: int | None, plain_http: bool) -> None:
    """Serve the operations web: readiness, stations, work orders, plan, reports, audit."""
    from pollnet.web.config import web_settings
    from pollnet.web.serve import serve

    settings = web_settings(app.settings)
    settings = replace(settings, host=host or settings.host, port=port or settings.port)

    def ready(url: str, tls: bool) -> None:
        if tls:
            line = tr("Operations web on {url} (stop with Ctrl+C)", url=Verbatim(url))
        else:
            line = tr(
                "Operations web on {url}: plain HTTP, for development on this machine only "
                "(stop with Ctrl+C)",
                url=Verbatim(url),
            )
        stdout().print(line)
        sys.stdout.flush()

    serve(app.engine, settings, lang=app.settings.lang, http=plain_http, ready=ready)


COMMANDS = [web]
