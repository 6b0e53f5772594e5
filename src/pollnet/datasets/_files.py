"""Files of a synthetic city: what the importers read, and an ``.npz`` cache of the arrays.

``stations.csv`` (English headers, UTF-8) and ``stations-fa.csv`` (Persian headers, UTF-8 with
a BOM as Persian Excel writes it, Persian digits in the text columns) are in the registry's
import format. ``streets.geojson`` has one LineString per stretch of a street (consecutive edges
of one street, class and district; every vertex is a graph node) with ``highway``, ``name``,
``name:en`` and ``district``. ``existing_fiber.geojson``, ``exchanges.csv`` and ``towers.csv``
hold the rest; ``city.npz`` holds everything and :func:`read` loads it back unchanged.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from pollnet._cells import CsvWriter
from pollnet.datasets._city import SyntheticCity
from pollnet.datasets._streets import HIGHWAY_CLASSES
from pollnet.errors import UserError
from pollnet.i18n import to_persian_digits
from pollnet.model import (
    District,
    DistrictKind,
    Exchange,
    ExistingFiber,
    RadioType,
    Site,
    Station,
    Tower,
)

FILES = (
    "stations.csv",
    "stations-fa.csv",
    "streets.geojson",
    "exchanges.csv",
    "towers.csv",
    "existing_fiber.geojson",
    "city.npz",
)
STATION_HEADERS_EN = (
    "code",
    "name",
    "site",
    "address",
    "district",
    "lat",
    "lon",
    "voters",
    "devices",
    "critical",
)
STATION_HEADERS_FA = (
    "کد شعبه",
    "نام شعبه",
    "محل استقرار",
    "نشانی",
    "منطقه",
    "عرض جغرافیایی",
    "طول جغرافیایی",
    "تعداد واجدین",
    "تعداد دستگاه",
    "حساس",
)
_COORD_DECIMALS = 7  # GeoJSON street vertices: about 1 cm
_FORMAT_VERSION = 1


def write(city: SyntheticCity, folder: Path) -> dict[str, Path]:
    """Write every file of ``city`` into ``folder`` (created if missing); returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / name for name in FILES}
    _write_stations(city, paths["stations.csv"], persian=False)
    _write_stations(city, paths["stations-fa.csv"], persian=True)
    _write_streets(city, paths["streets.geojson"])
    _write_csv(
        paths["exchanges.csv"],
        ("code", "name", "lat", "lon", "pon_ports"),
        ([e.code, e.name, e.lat, e.lon, e.pon_ports] for e in city.exchanges),
    )
    _write_csv(
        paths["towers.csv"],
        ("code", "operator", "radio", "lat", "lon", "height_m"),
        ([t.code, t.operator, t.radio.value, t.lat, t.lon, t.height_m] for t in city.towers),
    )
    _write_fiber(city, paths["existing_fiber.geojson"])
    _write_npz(city, paths["city.npz"])
    return paths


def _write_csv(path: Path, header: tuple[str, ...], rows: Any, encoding: str = "utf-8") -> None:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = CsvWriter(fh)
        writer.writerow(header)
        writer.writerows(rows)


def _write_stations(city: SyntheticCity, path: Path, *, persian: bool) -> None:
    def text(value: str) -> str:
        return to_persian_digits(value) if persian else value

    yes, no = ("بله", "خیر") if persian else ("yes", "no")
    rows = (
        [
            s.code,
            text(s.name),
            text(s.site),
            text(s.address),
            s.district,
            repr(s.lat),
            repr(s.lon),
            s.voters,
            s.devices,
            yes if s.critical else no,
        ]
        for s in city.stations
    )
    headers = STATION_HEADERS_FA if persian else STATION_HEADERS_EN
    _write_csv(path, headers, rows, encoding="utf-8-sig" if persian else "utf-8")


def _write_streets(city: SyntheticCity, path: Path) -> None:
    u, v = city.edge_u, city.edge_v
    name, cls, district = city.edge_name, city.edge_class, city.edge_district
    start = np.ones(u.size, dtype=bool)
    start[1:] = (
        (u[1:] != v[:-1])
        | (name[1:] != name[:-1])
        | (cls[1:] != cls[:-1])
        | (district[1:] != district[:-1])
    )
    bounds = np.append(np.flatnonzero(start), u.size).tolist()
    lon = np.round(city.node_lon, _COORD_DECIMALS).tolist()
    lat = np.round(city.node_lat, _COORD_DECIMALS).tolist()
    point = [f"[{a!r},{b!r}]" for a, b in zip(lon, lat, strict=True)]
    uu, vv = u.tolist(), v.tolist()
    names, classes, districts = name.tolist(), cls.tolist(), district.tolist()
    with path.open("w", encoding="utf-8") as fh:
        fh.write('{"type":"FeatureCollection","features":[\n')
        for k in range(len(bounds) - 1):
            a, b = bounds[k], bounds[k + 1]
            coords = ",".join([point[uu[a]], *(point[n] for n in vv[a:b])])
            props = json.dumps(
                {
                    "highway": HIGHWAY_CLASSES[classes[a]],
                    "name": city.street_names_fa[names[a]],
                    "name:en": city.street_names_en[names[a]],
                    "district": districts[a],
                },
                ensure_ascii=False,
            )
            sep = ",\n" if k else ""
            fh.write(
                f'{sep}{{"type":"Feature","properties":{props},'
                f'"geometry":{{"type":"LineString","coordinates":[{coords}]}}}}'
            )
        fh.write("\n]}\n")


def _write_fiber(city: SyntheticCity, path: Path) -> None:
    features = [
        {
            "type": "Feature",
            "properties": {"code": f.code, "owner": f.owner},
            "geometry": {"type": "LineString", "coordinates": [list(c) for c in f.coords]},
        }
        for f in city.existing_fiber
    ]
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )


def _write_npz(city: SyntheticCity, path: Path) -> None:
    values = {
        "version": _FORMAT_VERSION,
        "seed": city.seed,
        "street_names_fa": list(city.street_names_fa),
        "street_names_en": list(city.street_names_en),
        "sites": [dataclasses.astuple(s) for s in city.sites],
        "stations": [dataclasses.astuple(s) for s in city.stations],
        "exchanges": [dataclasses.astuple(e) for e in city.exchanges],
        "towers": [
            [t.code, t.operator, t.radio.value, t.lat, t.lon, t.height_m] for t in city.towers
        ],
        "existing_fiber": [
            [f.code, [list(c) for c in f.coords], f.owner] for f in city.existing_fiber
        ],
        "districts": [[d.number, d.name] for d in city.districts],
    }
    text = json.dumps(values, ensure_ascii=False)
    with path.open("wb") as fh:
        arrays: dict[str, Any] = {"values": np.array(text), **city.arrays()}
        np.savez(fh, **arrays)


def read(path: Path) -> SyntheticCity:
    """The city cached in ``path`` (a ``city.npz``, or the folder :func:`write` wrote)."""
    if path.is_dir():
        path = path / "city.npz"
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError) as exc:
        raise UserError.of(
            "cannot read the city cache: {reason}", file=str(path), reason=str(exc)
        ) from None
    values = json.loads(str(arrays.pop("values")))
    if values.get("version") != _FORMAT_VERSION:
        raise UserError.of("the city cache was written by another version", file=str(path))
    return SyntheticCity(
        seed=values["seed"],
        street_names_fa=tuple(values["street_names_fa"]),
        street_names_en=tuple(values["street_names_en"]),
        sites=tuple(Site(*row) for row in values["sites"]),
        stations=tuple(Station(*row) for row in values["stations"]),
        exchanges=tuple(Exchange(*row) for row in values["exchanges"]),
        towers=tuple(
            Tower(code, op, RadioType(radio), lat, lon, h)
            for code, op, radio, lat, lon, h in values["towers"]
        ),
        existing_fiber=tuple(
            ExistingFiber(code, tuple((a, b) for a, b in coords), owner)
            for code, coords, owner in values["existing_fiber"]
        ),
        districts=tuple(
            District(DistrictKind.MUNICIPAL, n, name) for n, name in values["districts"]
        ),
        **arrays,
    )
