"""The log's settings: table ``[tlog]`` of the settings file, with their defaults."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pollnet.errors import ConfigError
from pollnet.settings import Settings
from pollnet.tlog.publisher import MAX_INTERVAL_S


@dataclass(frozen=True)
class TlogSettings:
    """Where the log's keys live, its public port, how often it signs, which witnesses."""

    key_dir: Path = Path("pollnet-data/tlog")
    origin: str | None = None
    """The checkpoint origin and log key name (default ``pollnet.local/<election>``)."""
    public_host: str = "127.0.0.1"
    public_port: int = 8444
    interval_s: float = 5.0
    policy: Path | None = None
    """A tlog-policy file naming the witnesses (with URLs) the log asks to cosign."""
    observer_dir: Path = Path("pollnet-data/observer")


def tlog_settings(settings: Settings) -> TlogSettings:
    """The ``[tlog]`` table of ``settings`` with its defaults."""
    section = dict(settings.section("tlog"))
    try:
        policy = section.get("policy")
        config = TlogSettings(
            key_dir=Path(section.get("key_dir", "pollnet-data/tlog")),
            origin=str(section["origin"]) if "origin" in section else None,
            public_host=str(section.get("public_host", "127.0.0.1")),
            public_port=int(section.get("public_port", 8444)),
            interval_s=float(section.get("checkpoint_interval_s", 5.0)),
            policy=Path(policy) if policy else None,
            observer_dir=Path(section.get("observer_dir", "pollnet-data/observer")),
        )
        if not 0 < config.interval_s <= MAX_INTERVAL_S:
            raise ValueError(f"checkpoint_interval_s must be in (0, {MAX_INTERVAL_S:g}]")
    except (TypeError, ValueError) as exc:
        raise ConfigError.of("bad [tlog] settings: {reason}", reason=str(exc)) from None
    return config


def default_origin(election: str) -> str:
    """The origin of a log nobody named: ``pollnet.local/<election>``."""
    return f"pollnet.local/{election}".replace(" ", "-").replace("+", "-")
