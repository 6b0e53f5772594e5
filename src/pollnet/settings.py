"""One settings object, built from defaults, a TOML file and ``POLLNET_*`` environment variables.

Precedence, lowest first: the defaults below, the TOML file (``--config``, ``POLLNET_CONFIG`` or
``./pollnet.toml`` when it exists), environment variables, command-line options. Later issues add
their own tables to the TOML file (``[plan]``, ``[link]``, ...); :meth:`Settings.section` hands
them to the module that owns them.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pollnet.errors import ConfigError, UserError
from pollnet.values import parse_date

LANGUAGES = ("fa", "en")


@dataclass(frozen=True)
class BoundingBox:
    """A WGS84 box in degrees: stations must lie inside it."""

    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float

    def check(self, source: str) -> BoundingBox:
        """This box, refused when a minimum is not below its maximum or a degree is off the
        globe (``source`` names the file or variable it came from)."""
        inside = -90 <= self.min_lat <= 90 and -90 <= self.max_lat <= 90
        inside = inside and -180 <= self.min_lon <= 180 and -180 <= self.max_lon <= 180
        if not inside or self.min_lat >= self.max_lat or self.min_lon >= self.max_lon:
            raise ConfigError.of(
                "bbox {box} is not a box: it must be [min_lat, min_lon, max_lat, max_lon] in "
                "degrees, each minimum below its maximum",
                file=source,
                column="bbox",
                box=f"[{self.min_lat}, {self.min_lon}, {self.max_lat}, {self.max_lon}]",
            )
        return self

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon

    @classmethod
    def around(cls, lats: Iterable[float], lons: Iterable[float]) -> BoundingBox:
        """The smallest box holding the points, rounded outwards to 0.001 degree."""
        lat, lon = list(lats), list(lons)
        return cls(
            math.floor(min(lat) * 1000) / 1000,
            math.floor(min(lon) * 1000) / 1000,
            math.ceil(max(lat) * 1000) / 1000,
            math.ceil(max(lon) * 1000) / 1000,
        )

    def toml(self) -> str:
        """The ``[pollnet] bbox`` setting that selects this box."""
        return f"bbox = [{self.min_lat}, {self.min_lon}, {self.max_lat}, {self.max_lon}]"


# The union of the five counties of the Tehran electoral district (Tehran, Rey, Shemiranat,
# Eslamshahr, Pardis), from OpenStreetMap admin_level 5 boundaries (ODbL), rounded outwards.
TEHRAN_BBOX = BoundingBox(min_lat=35.0932, min_lon=50.8431, max_lat=36.1017, max_lon=51.8990)


@dataclass(frozen=True)
class Settings:
    """Everything pollnet can be configured with."""

    db_url: str = "sqlite:///pollnet-data/pollnet.db"
    lang: str = "fa"
    bbox: BoundingBox = TEHRAN_BBOX
    election_date: dt.date = dt.date(2028, 2, 25)
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str | None = None
    """The settings file read, if any (named in configuration errors)."""

    def section(self, name: str) -> Mapping[str, Any]:
        """The raw TOML table ``[name]`` (empty when absent), for the module that owns it."""
        return self.sections.get(name, {})

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with the given fields replaced, skipping ``None`` values."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def load(config: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from the defaults, a TOML file and the environment."""
    env = os.environ if env is None else env
    if config is None and env.get("POLLNET_CONFIG"):
        config = Path(env["POLLNET_CONFIG"])
    if config is None and Path("pollnet.toml").is_file():
        config = Path("pollnet.toml")
    values: dict[str, Any] = {}
    if config is not None:
        values = _read_toml(config)
    settings = _from_mapping(values, str(config) if config else "defaults")
    return settings.with_overrides(
        db_url=env.get("POLLNET_DB") or None,
        lang=_check_lang(env["POLLNET_LANG"], "POLLNET_LANG") if env.get("POLLNET_LANG") else None,
        election_date=(
            _parse_date(env["POLLNET_ELECTION_DATE"], "POLLNET_ELECTION_DATE")
            if env.get("POLLNET_ELECTION_DATE")
            else None
        ),
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError.of("settings file not found", file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError.of(
            "not a valid TOML file: {reason}", file=str(path), reason=str(exc)
        ) from None


def _from_mapping(values: Mapping[str, Any], source: str) -> Settings:
    base = Settings()
    general = dict(values.get("pollnet", {}))
    bbox = base.bbox
    if "bbox" in general:
        box = general.pop("bbox")
        try:
            bbox = BoundingBox(*(float(x) for x in box))
        except (TypeError, ValueError):
            raise ConfigError.of(
                "bbox must be [min_lat, min_lon, max_lat, max_lon]", file=source, column="bbox"
            ) from None
        bbox.check(source)
    election = base.election_date
    if "election_date" in general:
        election = _parse_date(str(general.pop("election_date")), source)
    lang = _check_lang(str(general.pop("lang", base.lang)), source)
    db_url = str(general.pop("db", base.db_url))
    reject_unknown(general, (), "pollnet", source)
    sections = {k: v for k, v in values.items() if k != "pollnet" and isinstance(v, Mapping)}
    known = None if source == "defaults" else source
    return Settings(db_url, lang, bbox, election, sections, known)


_POLLNET_KEYS = ("bbox", "db", "election_date", "lang")


def reject_unknown(
    values: Mapping[str, Any], known: Iterable[str], table: str, file: str | None = None
) -> None:
    """Refuse the keys of a settings ``table`` (e.g. ``plan.optics``) that its owner does not
    know, naming them all, the settings ``file`` they came from and the keys that are valid."""
    valid = sorted(_POLLNET_KEYS if table == "pollnet" else set(known))
    unknown = sorted(set(values) - set(valid))
    if unknown:
        raise ConfigError.of(
            "unknown settings in [{table}]: {names} (valid: {valid})",
            file=file,
            table=table,
            names=", ".join(unknown),
            valid=", ".join(valid),
        )


def _check_lang(lang: str, source: str) -> str:
    if lang not in LANGUAGES:
        raise ConfigError.of("language must be fa or en, not {value}", file=source, value=lang)
    return lang


def _parse_date(text: str, source: str) -> dt.date:

    try:
        return parse_date(text, source=source)
    except UserError as exc:
        raise ConfigError(exc.problems) from None
