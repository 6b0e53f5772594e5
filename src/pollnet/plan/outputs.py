"""Every output of a plan in one folder: map layers, work lists and the HTML report.

>>> files = write_all(plan, graph, Path("plan-out"), "fa")  # doctest: +SKIP
>>> files["report"]                                         # doctest: +SKIP
PosixPath('plan-out/report-fa.html')

Layout of ``out_dir``::

    plan.gpkg                   every layer in one GeoPackage (EPSG:4326)
    geojson/<layer>.geojson     one FeatureCollection per layer
    municipality-<lang>.xlsx    street works by district and street
    telecom-<lang>.xlsx         cable runs, bill of materials, cost totals
    education-<lang>.xlsx       schools and what is installed in each
    report-<lang>.html          totals, costs, flagged stations and the map
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pollnet.model import Station
from pollnet.plan.export import attribution_for, write_geojson, write_geopackage
from pollnet.plan.model import Plan
from pollnet.plan.report import write_report
from pollnet.plan.worklists import write_worklists
from pollnet.streets import StreetGraph

__all__ = ["output_label", "write_all"]

OUTPUT_LABELS: dict[str, str] = {
    "gpkg": "GeoPackage",
    "municipality": "work list of the municipality",
    "telecom": "work list of the telecom company",
    "education": "work list of the education department",
    "report": "report",
}
"""English msgids naming the files :func:`write_all` returns, by key."""


def output_label(name: str, lang: str | None = None) -> str:
    """The key of a file :func:`write_all` wrote (``gpkg``, ``geojson:stations``, ...) as a
    label in ``lang``; a GeoJSON layer keeps its layer name (the file's own name)."""
    from pollnet.i18n import gettext, tr

    kind, _, layer = name.partition(":")
    if kind == "geojson" and layer:
        return tr("GeoJSON layer {layer}", lang, layer=layer)
    return gettext(OUTPUT_LABELS.get(name, name), lang)


def write_all(
    plan: Plan,
    graph: StreetGraph | None,
    out_dir: Path,
    lang: str = "fa",
    *,
    stations: Iterable[Station] = (),
) -> dict[str, Path]:
    """Write every output of ``plan`` into ``out_dir`` (created if missing); returns the files.

    ``graph`` (optional) draws the streets on the report's map and tells whether the street
    data needs OpenStreetMap's attribution. ``lang`` (``fa`` or ``en``) is the language of the
    work lists, the report and the flag texts in the layers. ``stations`` (the registry's,
    optional) adds devices and addresses to the education department's list.

    Keys of the result: ``gpkg``, ``geojson:<layer>``, ``municipality``, ``telecom``,
    ``education``, ``report``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    attribution = attribution_for(graph)
    files: dict[str, Path] = {
        "gpkg": write_geopackage(plan, out_dir / "plan.gpkg", lang=lang, attribution=attribution)
    }
    geojson = write_geojson(plan, out_dir / "geojson", lang=lang, attribution=attribution)
    files.update({f"geojson:{layer}": path for layer, path in geojson.items()})
    files.update(write_worklists(plan, out_dir, lang, stations, attribution=attribution))
    files["report"] = write_report(plan, out_dir / f"report-{lang}.html", graph, lang)
    return files
