"""Streets from OpenStreetMap files (``.osm.pbf``, ``.osm`` XML, compressed XML) via pyosmium.

Only ways with a ``highway`` tag are looked at; each is kept when its class is chosen (see
:mod:`pollnet.streets.classes`) and it is not an area (``area=yes``). Names: the native name is
``name:fa`` when tagged, else ``name``; the English name is ``name:en``. Ways that reference
nodes missing from the file (cut off at an extract's border) are cut there and their located
runs kept. Everything left out is counted in the graph's :class:`ImportReport`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from pathlib import Path

import osmium

from pollnet.errors import UserError
from pollnet.streets._ways import NoStreets, WayLists, split
from pollnet.streets.classes import DEFAULT_CLASSES, HIGHWAY_CLASSES
from pollnet.streets.graph import StreetGraph
from pollnet.streets.report import ImportReport


def read_osm(path: str | Path, *, classes: Collection[str] = DEFAULT_CLASSES) -> StreetGraph:
    """The street graph of an OpenStreetMap file, keeping ways whose ``highway`` is in
    ``classes``; districts are left 0 (see :func:`pollnet.streets.assign_districts`).

    Raises :class:`~pollnet.errors.UserError` naming the file when it is missing, cannot be
    read, or holds no street of the chosen classes.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError.of("file not found", file=str(path))
    if path.stat().st_size == 0:
        raise UserError.of("the file is empty", file=str(path))
    code = {name: i for i, name in enumerate(HIGHWAY_CLASSES)}
    dropped: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    acc = WayLists()
    indptr, lon, lat, ref = acc.indptr, acc.lon, acc.lat, acc.ref  # the per-node hot loop
    read = 0
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.KeyFilter("highway"))
    )
    try:
        for way in processor:
            read += 1
            tags = way.tags
            highway = tags.get("highway") or ""
            if highway not in classes:
                dropped[highway] += 1
                continue
            if tags.get("area") == "yes":
                counts["area"] += 1
                continue
            native = tags.get("name:fa") or tags.get("name") or ""
            english = tags.get("name:en") or ""
            assert isinstance(way, osmium.osm.Way)
            name_id = acc.name_id(native)
            name_en_id = acc.name_id(english)
            runs = 0
            missing = 0
            run_length = 0
            for node in way.nodes:
                location = node.location
                if not location.valid():
                    missing += 1
                    if run_length:
                        indptr.append(len(lon))
                        runs += 1
                        run_length = 0
                    continue
                lon.append(location.x)
                lat.append(location.y)
                ref.append(node.ref)
                run_length += 1
            if run_length:
                indptr.append(len(lon))
                runs += 1
            if missing:
                counts["missing_nodes" if runs == 0 else "cut_at_missing_nodes"] += 1
            acc.way_class.extend([code[highway]] * runs)
            acc.way_name.extend([name_id] * runs)
            acc.way_name_en.extend([name_en_id] * runs)
            acc.way_source.extend([read] * runs)
    except (RuntimeError, ValueError, OSError) as exc:
        raise UserError.of(
            "cannot read this OpenStreetMap file: {reason}", file=str(path), reason=str(exc)
        ) from None

    report = ImportReport(
        source=path.name,
        ways_read=read,
        counts={"non_street_class": sum(dropped.values()), **counts},
        dropped_classes=dict(dropped),
    )
    if len(indptr) == 1:
        raise UserError.of(
            "no streets of the chosen classes in this file ({count} highway ways read)",
            file=str(path),
            count=read,
        )
    try:
        return split(acc.ways(), class_names=HIGHWAY_CLASSES, names=tuple(acc.names), report=report)
    except NoStreets:
        raise UserError.of(
            "no streets of the chosen classes in this file ({count} highway ways read)",
            file=str(path),
            count=read,
        ) from None
