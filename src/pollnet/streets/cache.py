"""The street graph on disk: one uncompressed ``.npz`` file that loads in about a second.

The arrays are stored as they are; the names, class names, CRS and import report travel as one
JSON document inside the same file (``meta``). Loading maps nothing lazily and needs no pickle.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from pollnet.errors import UserError
from pollnet.streets.graph import ARRAY_FIELDS, StreetGraph
from pollnet.streets.report import ImportReport

FORMAT = "pollnet-streets"
VERSION = 1


def save(graph: StreetGraph, path: str | Path) -> Path:
    """Write ``graph`` to ``path`` (``.npz`` is added when missing); returns the path written."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "crs": graph.crs,
        "class_names": list(graph.class_names),
        "names": list(graph.names),
        "report": graph.report.to_dict(),
    }
    arrays: dict[str, Any] = {name: np.asarray(getattr(graph, name)) for name in ARRAY_FIELDS}
    arrays["edge_segment"] = np.asarray(graph.edge_segment)
    arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), dtype=np.uint8)
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as fh:
        np.savez(fh, **arrays)
    partial.replace(path)
    return path


def load(path: str | Path) -> StreetGraph:
    """Read a graph written by :func:`save`.

    Raises :class:`~pollnet.errors.UserError` naming the file when it is missing, is not a
    pollnet street cache, or is damaged.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError.of("file not found", file=str(path))
    try:
        # Our own file object: numpy leaves the file open when it cannot read the archive.
        with path.open("rb") as file, np.load(file, allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            if meta.get("format") != FORMAT:
                raise KeyError("format")
            if meta.get("version") != VERSION:
                raise UserError.of(
                    "street cache version {version} is not supported; import the streets again",
                    file=str(path),
                    version=meta.get("version"),
                )
            arrays = {name: data[name] for name in ARRAY_FIELDS}
            if "edge_segment" in data.files:  # caches written before it existed have none
                arrays["edge_segment"] = data["edge_segment"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError, UnicodeDecodeError):
        raise UserError.of(
            "not a pollnet street cache, or a damaged one; import the streets again",
            file=str(path),
        ) from None
    try:
        return StreetGraph(
            crs=int(meta["crs"]),
            class_names=tuple(meta["class_names"]),
            names=tuple(meta["names"]),
            report=ImportReport.from_dict(meta["report"]),
            **arrays,
        )
    except (ValueError, KeyError, TypeError):
        raise UserError.of(
            "not a pollnet street cache, or a damaged one; import the streets again",
            file=str(path),
        ) from None
