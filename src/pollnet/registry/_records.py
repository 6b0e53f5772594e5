"""What the registry holds per station: one flat, immutable row.

A :class:`StationRecord` carries the fields of :class:`pollnet.model.Station` plus its site's
education district (which lives on the site but travels with the station in files). It is a
named tuple, not a dataclass, because imports build and compare 100,000 of them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from pollnet.model import Station


class StationRecord(NamedTuple):
    """One station of the registry, as imported, listed and exported (WGS84 degrees)."""

    code: str
    name: str
    site: str
    address: str
    district: int
    education_district: int | None
    lat: float
    lon: float
    voters: int
    devices: int
    critical: bool

    @property
    def site_key(self) -> tuple[str, str]:
        """The site's identity: its (name, address)."""
        return self.site, self.address

    @property
    def station(self) -> Station:
        """The domain value of this station."""
        return Station(
            self.code, self.name, self.site, self.address, self.district, self.lat, self.lon,
            self.voters, self.devices, self.critical,
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        """A mapping with the English column names, for JSON output."""
        return self._asdict()
