"""Running the operations web: HTTPS with the project's server certificate, or plain HTTP on
the loopback address only (for development on one machine)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine

from pollnet.errors import UserError
from pollnet.link.pki import pki_paths
from pollnet.web.app import create_app
from pollnet.web.config import WebSettings, session_secret


def loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def certificate(pki_dir: Path) -> tuple[Path, Path]:
    """The server certificate and key the web serves (those of ``pollnet pki server-cert``)."""
    paths = pki_paths(pki_dir)
    if not paths["server_crt"].is_file() or not paths["server_key"].is_file():
        raise UserError.of(
            "no server certificate in {folder} (run pollnet pki server-cert)", folder=str(pki_dir)
        )
    return paths["server_crt"], paths["server_key"]


def serve(
    engine: Engine,
    settings: WebSettings,
    *,
    lang: str,
    http: bool = False,
    ready: Callable[[str, bool], None] | None = None,
) -> None:
    """Serve until interrupted. ``http`` (plain HTTP) is refused unless the address is the
    loopback; ``ready(url, tls)`` is called before serving."""
    import uvicorn

    if http and not loopback(settings.host):
        raise UserError.of(
            "plain HTTP is only for 127.0.0.1 (development); {host} needs HTTPS",
            column="--http",
            host=settings.host,
        )
    tls: dict[str, str] = {}
    if not http:
        crt, key = certificate(settings.pki_dir)
        tls = {"ssl_certfile": str(crt), "ssl_keyfile": str(key)}
    app = create_app(
        engine, settings, session_secret(settings.secret_file), lang=lang, https=not http
    )
    scheme = "http" if http else "https"
    if ready is not None:
        ready(f"{scheme}://{settings.host}:{settings.port}/", not http)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", **tls)  # type: ignore[arg-type]
