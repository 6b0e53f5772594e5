"""The domain model: plain, typed values for what pollnet reasons about.

Coordinates are WGS84 degrees (``lat``, ``lon``); lengths are metres; money is rials. Plans,
work orders and election-day records live in their own packages (``plan``, ``rollout``,
``link``) and refer to these by code.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""The one alphabet of the codes people read out and certificates carry (stations, devices):
Latin letters and digits, then also ``.``, ``_`` and ``-``. No look-alike letters (a Cyrillic
``Т``), no invisible or bidi characters, nothing a certificate's URI cannot hold."""

MAX_CODE_LENGTH = 64
"""The most characters of a code (the database's column)."""


def is_code(text: str) -> bool:
    """Whether ``text`` is a code of the one alphabet (:data:`CODE`), at most 64 characters."""
    return len(text) <= MAX_CODE_LENGTH and CODE.fullmatch(text) is not None


def code_fault(text: str) -> str | None:
    """The first character of ``text`` that keeps it from being a code, as ``U+XXXX``
    (``None`` when every character is of the alphabet)."""
    for i, char in enumerate(text):
        if not (char.isascii() and (char.isalnum() or (i and char in "._-"))):
            return f"U+{ord(char):04X}"
    return None


class Agency(enum.StrEnum):
    """The four agencies that share the work."""

    ELECTION_OFFICE = "election_office"
    TELECOM = "telecom"
    MUNICIPALITY = "municipality"
    EDUCATION = "education"


class DistrictKind(enum.StrEnum):
    """Tehran is divided twice: 22 municipal districts and the education department's own."""

    MUNICIPAL = "municipal"
    EDUCATION = "education"


class RadioType(enum.StrEnum):
    """A tower's radio access technology."""

    GSM = "gsm"
    UMTS = "umts"
    LTE = "lte"
    NR = "nr"


@dataclass(frozen=True)
class District:
    """A municipal or education district, numbered as the city numbers them."""

    kind: DistrictKind
    number: int
    name: str = ""


@dataclass(frozen=True)
class Site:
    """The building that hosts one or more polling stations, usually a school."""

    name: str
    address: str
    lat: float
    lon: float
    district: int
    education_district: int | None = None


@dataclass(frozen=True)
class Station:
    """A polling station: where voters are verified by the station's devices.

    ``code`` is the election office's station code; ``devices`` is the number of
    identity-verification devices; ``critical`` stations get a redundant fiber route.
    """

    code: str
    name: str
    site: str
    address: str
    district: int
    lat: float
    lon: float
    voters: int
    devices: int
    critical: bool = False


@dataclass(frozen=True)
class Exchange:
    """A telecom exchange with an OLT; ``pon_ports`` (free ones) bounds the splitters it feeds."""

    code: str
    name: str
    lat: float
    lon: float
    pon_ports: int
    operator: str = ""
    county: str | None = None


@dataclass(frozen=True)
class ExistingFiber:
    """A fiber line already built; ``coords`` is a (lon, lat) polyline.

    ``kind`` is ``duct``, ``aerial`` or ``direct-buried``; ``spare_fibres`` and ``free_ducts``
    are None when unknown. The planner reuses a line unless it is known to have no spare fibre.
    """

    code: str
    coords: tuple[tuple[float, float], ...]
    owner: str = "telecom"
    kind: str = "duct"
    spare_fibres: int | None = None
    free_ducts: int | None = None

    @property
    def reusable(self) -> bool:
        """Whether the plan may use spare cores of this line (unknown counts as yes)."""
        return self.spare_fibres is None or self.spare_fibres > 0


@dataclass(frozen=True)
class Tower:
    """A mobile operator's tower, the source of a station's LTE backup."""

    code: str
    operator: str
    radio: RadioType
    lat: float
    lon: float
    height_m: float


@dataclass(frozen=True)
class Device:
    """An identity-verification device (card and fingerprint reader) at a station."""

    serial: str
    station: str
