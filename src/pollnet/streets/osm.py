"""Streets from OpenStreetMap files (``.osm.pbf``, ``.osm`` XML, compressed XML) via pyosmium.

Only ways with a ``highway`` tag are looked at; each is kept when its class is chosen (see
:mod:`pollnet.streets.classes`) and it is not an area (``area=yes``). Names: the native name is
``name:fa`` when tagged, else ``name``; the English name is ``name:en``. Ways that reference
nodes missing from the file (cut off at an extract's border) are cut there and their located
runs kept. Everything left out is counted in the graph's :class:`ImportReport`.

Speed: a city-size file has millions of way nodes, and a Python step per node is most of the
time. So each way's positions come from libosmium in one call (its WKB line, decoded for all
ways at once with numpy) and only the node ids are taken one by one; the slow walk node by
node is kept for the rare way with a missing node.
"""

from __future__ import annotations

import os
import struct
from array import array
from collections import Counter
from collections.abc import Callable, Collection
from pathlib import Path

import numpy as np
import osmium
from numpy.typing import NDArray

from pollnet.errors import UserError
from pollnet.streets._ways import SCALE, NoStreets, WayLists, split
from pollnet.streets.classes import DEFAULT_CLASSES, HIGHWAY_CLASSES
from pollnet.streets.graph import StreetGraph
from pollnet.streets.report import ImportReport

IntArray = NDArray[np.int64]

Progress = Callable[[int, int], None]
"""Told ``(bytes of the file read so far, size of the file in bytes)`` as an import reads."""

PROGRESS_EVERY = 1_024
"""Ways between two calls of a progress callback."""

_BATCH = 65_536
"""Lines whose hex WKB is decoded to bytes together (bounds the memory of the text)."""

_WKB_HEADER = 9
"""Bytes before the points of a WKB line: byte order (1), geometry type (4), point count (4)."""


def read_osm(
    path: str | Path,
    *,
    classes: Collection[str] = DEFAULT_CLASSES,
    progress: Progress | None = None,
) -> StreetGraph:
    """The street graph of an OpenStreetMap file, keeping ways whose ``highway`` is in
    ``classes``; districts are left 0 (see :func:`pollnet.streets.assign_districts`).

    ``progress``, when given, is called every thousand ways with the bytes of the file read so
    far and the file's size (where the operating system tells the read position: Linux), and
    once with both equal when every way has been read (only then).

    Raises :class:`~pollnet.errors.UserError` naming the file when it is missing, cannot be
    read, or holds no street of the chosen classes.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError.of("file not found", file=str(path))
    size = path.stat().st_size
    if size == 0:
        raise UserError.of("the file is empty", file=str(path))
    code = {name: i for i, name in enumerate(HIGHWAY_CLASSES)}
    dropped: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    acc = WayLists()
    lines = _Lines()
    position = _read_position(path) if progress is not None else None
    factory = osmium.geom.WKBFactory()
    every_node = osmium.geom.ALL  # keep repeated points: split() counts and drops them
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
            if position is not None and progress is not None and read % PROGRESS_EVERY == 0:
                done = position()
                if done is not None:  # read ahead to the end is not done: ways remain
                    progress(min(done, size - 1), size)
            tags = way.tags
            highway = tags.get("highway") or ""
            if highway not in classes:
                dropped[highway] += 1
                continue
            if tags.get("area") == "yes":
                counts["area"] += 1
                continue
            assert isinstance(way, osmium.osm.Way)
            nodes = way.nodes
            try:
                wkb = factory.create_linestring(nodes, every_node)
            except (osmium.InvalidLocationError, RuntimeError):
                runs, missing = lines.add_located_runs(nodes)
                if missing:
                    counts["missing_nodes" if runs == 0 else "cut_at_missing_nodes"] += 1
            else:
                runs = 1
                count = len(nodes)
                lines.add(wkb, count, [nodes[i].ref for i in range(count)])
            if runs:
                name_id = acc.name_id(tags.get("name:fa") or tags.get("name") or "")
                name_en_id = acc.name_id(tags.get("name:en") or "")
                acc.way_class.extend([code[highway]] * runs)
                acc.way_name.extend([name_id] * runs)
                acc.way_name_en.extend([name_en_id] * runs)
                acc.way_source.extend([read] * runs)
        lon_e7, lat_e7 = lines.points()
    except (RuntimeError, ValueError, OSError) as exc:
        raise UserError.of(
            "cannot read this OpenStreetMap file: {reason}", file=str(path), reason=str(exc)
        ) from None
    if progress is not None:
        progress(size, size)

    report = ImportReport(
        source=path.name,
        ways_read=read,
        counts={"non_street_class": sum(dropped.values()), **counts},
        dropped_classes=dict(dropped),
    )
    if not lines.sizes:
        raise UserError.of(
            "no streets of the chosen classes in this file ({count} highway ways read)",
            file=str(path),
            count=read,
        )
    acc.indptr = [0, *np.cumsum(np.frombuffer(lines.sizes, dtype=np.int64)).tolist()]
    ways = acc.ways(lon_e7=lon_e7, lat_e7=lat_e7, ref=np.frombuffer(lines.refs, dtype=np.int64))
    try:
        return split(ways, class_names=HIGHWAY_CLASSES, names=tuple(acc.names), report=report)
    except NoStreets:
        raise UserError.of(
            "no streets of the chosen classes in this file ({count} highway ways read)",
            file=str(path),
            count=read,
        ) from None


class _Lines:
    """The lines read so far: points as little-endian WKB (hex text from libosmium, turned into
    bytes batch by batch), the number of points and the OSM node id of every point."""

    def __init__(self) -> None:
        self.sizes = array("q")
        self.refs = array("q")
        self._hex: list[str] = []
        self._blobs: list[bytes] = []

    def add(self, wkb_hex: str, count: int, refs: list[int]) -> None:
        """One line of ``count`` points, its WKB as hex text."""
        self._hex.append(wkb_hex)
        self.sizes.append(count)
        self.refs.extend(refs)
        if len(self._hex) == _BATCH:
            self._flush()

    def add_located_runs(self, nodes: osmium.osm.WayNodeList) -> tuple[int, int]:
        """The runs of located nodes of a way, one line each; returns (runs, missing nodes)."""
        runs = missing = 0
        run: list[tuple[int, int, int]] = []
        for node in [*nodes, None]:
            location = node.location if node is not None else None
            if location is not None and location.valid():
                run.append((location.x, location.y, node.ref))
                continue
            if node is not None:
                missing += 1
            if run:
                xy = np.array([(x, y) for x, y, _ in run], dtype="<f8") / SCALE
                header = struct.pack("<BII", 1, 2, len(run))
                self.add((header + xy.tobytes()).hex(), len(run), [r for _, _, r in run])
                runs += 1
                run = []
        return runs, missing

    def _flush(self) -> None:
        self._blobs.append(bytes.fromhex("".join(self._hex)))
        self._hex.clear()

    def points(self) -> tuple[IntArray, IntArray]:
        """Every point's longitude and latitude in 1e-7 degree, line after line."""
        self._flush()
        data = np.frombuffer(b"".join(self._blobs), dtype=np.uint8)
        self._blobs.clear()
        sizes = np.frombuffer(self.sizes, dtype=np.int64)
        record = _WKB_HEADER + 16 * sizes
        starts = np.cumsum(record) - record
        if data.size != int(record.sum()) or np.any(data[starts] != 1):
            raise ValueError("unexpected geometry from libosmium")
        keep = np.ones(data.size, dtype=bool)
        keep[(starts[:, None] + np.arange(_WKB_HEADER)).ravel()] = False
        xy = data[keep].view("<f8").reshape(-1, 2)
        return np.rint(xy[:, 0] * SCALE).astype(np.int64), np.rint(xy[:, 1] * SCALE).astype(
            np.int64
        )


def _read_position(path: Path) -> Callable[[], int | None]:
    """How far the reader has got into ``path``: the offset of this process's open file
    descriptor on it (Linux ``/proc``); the function answers None where that is not known."""
    fd_dir = Path("/proc/self/fd")
    target = os.path.realpath(path)
    found: list[str] = []

    def position() -> int | None:
        try:
            if not found or os.path.realpath(fd_dir / found[0]) != target:
                found[:] = [fd for fd in os.listdir(fd_dir) if _points_at(fd_dir / fd, target)][:1]
            if not found:
                return None
            with open(f"/proc/self/fdinfo/{found[0]}", encoding="ascii") as info:
                for line in info:
                    if line.startswith("pos:"):
                        return int(line.split()[1])
        except (OSError, ValueError):
            found.clear()
        return None

    return position


def _points_at(link: Path, target: str) -> bool:
    try:
        return os.path.realpath(link) == target
    except OSError:  # the descriptor closed while we looked
        return False
