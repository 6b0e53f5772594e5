"""Data sets: a deterministic synthetic city (``synth``), its files, and loading it into a store.

Real data (an OSM extract, a station spreadsheet) is imported by :mod:`pollnet.streets` and
:mod:`pollnet.registry`; this package makes a believable stand-in of any size for demos, tests
and benchmarks.
"""

from pollnet.datasets._city import CRS, SyntheticCity
from pollnet.datasets._store import load_into
from pollnet.datasets._streets import HIGHWAY_CLASSES
from pollnet.datasets.synth import STAGES, generate, read, summary, write

__all__ = [
    "CRS",
    "HIGHWAY_CLASSES",
    "STAGES",
    "SyntheticCity",
    "generate",
    "load_into",
    "read",
    "summary",
    "write",
]
