"""The operations web's settings (table ``[web]``) with their defaults."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from pollnet.errors import ConfigError
from pollnet.settings import Settings, reject_unknown

_KEYS = (
    "host",
    "port",
    "session_minutes",
    "secret_file",
    "tile_url",
    "poll_seconds",
    "login_attempts",
    "login_window_seconds",
)


@dataclass(frozen=True)
class WebSettings:
    """``session_minutes``: a session's lifetime from sign-in; ``secret_file``: the key that
    signs session cookies (made on first start, 0600); ``tile_url``: the office's own tile
    server (``https://tiles.example/{z}/{x}/{y}.png``), '' to draw pollnet's own basemap;
    ``poll_seconds``: how often the readiness is read for the live pages;
    ``login_attempts`` per ``login_window_seconds`` from one address, then 429;
    ``street_cache``: the streets the basemap draws (None: none)."""

    host: str = "127.0.0.1"
    port: int = 8445
    session_minutes: float = 480.0
    secret_file: Path = Path("pollnet-data/web/session.key")
    tile_url: str = ""
    poll_seconds: float = 0.5
    login_attempts: int = 10
    login_window_seconds: float = 300.0
    heartbeat_seconds: float = 30.0
    pki_dir: Path = Path("pollnet-data/pki")
    street_cache: Path | None = None
    base: Settings = field(default_factory=Settings)
    """The whole settings (the pages read ``[rollout]``, ``[coverage]``, the election date)."""


def web_settings(settings: Settings) -> WebSettings:
    """The web's settings from ``settings`` (``[web]``, and ``[link]``'s heartbeat interval
    and PKI folder, whose server certificate the web serves)."""
    from pollnet.link.service import link_settings
    from pollnet.streets.config import default_cache_path

    section = dict(settings.section("web"))
    reject_unknown(section, _KEYS, "web", settings.source)
    link = link_settings(settings)
    default = WebSettings()
    try:
        return WebSettings(
            host=str(section.get("host", default.host)),
            port=int(section.get("port", default.port)),
            session_minutes=float(section.get("session_minutes", default.session_minutes)),
            secret_file=Path(section.get("secret_file", default.secret_file)),
            tile_url=str(section.get("tile_url", default.tile_url)),
            poll_seconds=float(section.get("poll_seconds", default.poll_seconds)),
            login_attempts=int(section.get("login_attempts", default.login_attempts)),
            login_window_seconds=float(
                section.get("login_window_seconds", default.login_window_seconds)
            ),
            heartbeat_seconds=link.heartbeat_seconds,
            pki_dir=link.pki_dir,
            street_cache=default_cache_path(settings),
            base=settings,
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError.of("bad [web] settings: {reason}", reason=str(exc)) from None


def session_secret(path: Path) -> str:
    """The key that signs session cookies: read from ``path``, or made there (0600) at first."""
    if path.is_file():
        return path.read_text("utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(key + "\n", "utf-8")
    return key
