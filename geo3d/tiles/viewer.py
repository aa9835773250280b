"""A MapLibre GL style and an offline HTML viewer for a geo3d PMTiles archive.

The style (MapLibre style spec v8) draws one line layer per utility in the chosen palette (the
Korean one by default: water blue, sewer green, gas yellow, power orange, telecom purple, heat
crimson), a hairline at city zooms widening with zoom and pipe diameter (never narrower than
the pipe's true width), over the ``areas`` polygons when the
archive has them. Its source is ``pmtiles://NAME.pmtiles`` (the archive beside it), which
MapLibre reads through the PMTiles protocol.

The viewer is one HTML file with MapLibre GL JS, the PMTiles protocol (both vendored from npm
under ``geo3d/tiles/static``, see its README), the style, a title, a legend, a scale bar, a
compass and an attribute panel (click a pipe or area). It loads nothing from the network:

* served over HTTP from the archive's folder (``python -m http.server``; any server, with or
  without Range support), it opens the archive beside it;
* opened as a file (``file://``, where browsers forbid reading other files), it asks for the
  archive: drop it on the page or pick it (read locally with ``pmtiles.FileSource``).

Examples
--------
>>> style = tiles_style(["gas", "water", "areas"], archive="pipes.pmtiles")
>>> [layer["id"] for layer in style["layers"]]
['background', 'areas-fill', 'areas-line', 'water', 'gas']
>>> style["layers"][3]["paint"]["line-color"]
'#005adc'
"""

from __future__ import annotations

import html as html_lib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from .._compat import import_optional
from ..errors import FileFormatError, InputError, MissingFileError
from ..io.atomic import atomic_path, check_can_write

__all__ = ["MAPLIBRE_FILE", "PMTILES_FILE", "tiles_style", "write_viewer"]

logger = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
#: The vendored MapLibre GL JS bundle (npm ``maplibre-gl`` ``dist/maplibre-gl.js``, BSD-3-Clause).
MAPLIBRE_FILE = "maplibre-gl-5.24.1"
#: The vendored PMTiles bundle (npm ``pmtiles`` ``dist/pmtiles.js``, BSD-3-Clause).
PMTILES_FILE = "pmtiles-4.5.0.js"
SOURCE = "geo3d"
#: Drawing order, bottom to top: big gravity mains first, thin cables last.
_ORDER = ("sewer", "water", "heat", "gas", "power", "telecom")
_FIELD_ORDER = ("utility", "source_id", "agency", "diameter_mm", "material", "install_year",
                "depth_m")


@cache
def _static(name: str) -> str:
    text = (STATIC / name).read_text(encoding="utf-8")
    # no source map lookups (devtools would try to fetch them) and no early </script>
    lines = [ln for ln in text.splitlines() if not ln.startswith("//# sourceMappingURL=")]
    return "\n".join(lines).replace("</script", "<\\/script")


def _hex(rgb: Sequence[int]) -> str:
    return "#" + "".join(f"{int(v):02x}" for v in rgb[:3])


def _colours(palette: str | Mapping[str, Sequence[int]]) -> dict[str, str]:
    from ..viz.pipes3d import PALETTES

    if isinstance(palette, str):
        if palette not in PALETTES:
            msg = f"unknown palette {palette!r}; valid: {', '.join(PALETTES)} or a dict utility -> RGB"
            raise InputError(msg)
        table: Mapping[str, Sequence[int]] = PALETTES[palette]
    else:
        table = {**PALETTES["korean"], **palette}
    return {str(k): _hex(v) for k, v in table.items()}


def _utility_layers(layers: Sequence[str]) -> list[str]:
    rank = {u: i for i, u in enumerate(_ORDER)}
    return sorted((layer for layer in layers if layer != "areas"),
                  key=lambda u: (rank.get(u, len(rank)), u))


def tiles_style(layers: Sequence[str], *, archive: str = "pipes.pmtiles",
                palette: str | Mapping[str, Sequence[int]] = "korean",
                name: str = "geo3d underground utilities") -> dict[str, Any]:
    """A MapLibre GL style (v8) for the layers of a geo3d tiles archive.

    Parameters
    ----------
    layers : sequence of str
        Layer ids of the archive (utilities, and ``areas``).
    archive : str
        The archive's URL or file name, relative to the page that loads the style.
    palette : {"korean", "apwa"} or mapping
        Utility colours (:data:`geo3d.viz.pipes3d.PALETTES`); a mapping utility → RGB is laid
        over the Korean palette.
    name : str
        Style name.

    Returns
    -------
    dict
        JSON-ready style: ``background``, ``areas-fill`` and ``areas-line`` (when present), then
        one line layer per utility named after it.

    Examples
    --------
    >>> tiles_style(["water"])["sources"]["geo3d"]["url"]
    'pmtiles://pipes.pmtiles'
    """
    colours = _colours(palette)
    out: list[dict[str, Any]] = [{"id": "background", "type": "background",
                                  "paint": {"background-color": "#f4f2ee"}}]
    if "areas" in layers:
        out += [{"id": "areas-fill", "type": "fill", "source": SOURCE, "source-layer": "areas",
                 "paint": {"fill-color": "#d9d4c7", "fill-opacity": 0.35}},
                {"id": "areas-line", "type": "line", "source": SOURCE, "source-layer": "areas",
                 "paint": {"line-color": "#8a8578", "line-width": 1.0}}]
    # width in pixels: a hairline at city zooms, wider for big pipes in the street, and never
    # less than the pipe's true width (metres per pixel ~ 124,000 / 2**zoom at Seoul's latitude;
    # at zoom 22 a pixel is about 3 cm)
    d = ["coalesce", ["get", "diameter_mm"], ["get", "width_mm"], 200]
    width = ["interpolate", ["exponential", 2], ["zoom"], 12, 1.0, 16, ["+", 1.5, ["/", d, 400]],
             22, ["max", ["+", 2.0, ["/", d, 200]], ["/", d, 29.6]]]
    for utility in _utility_layers(layers):
        out.append({"id": utility, "type": "line", "source": SOURCE, "source-layer": utility,
                    "layout": {"line-cap": "round", "line-join": "round"},
                    "paint": {"line-color": colours.get(utility, "#787878"),
                              "line-width": width}})
    return {"version": 8, "name": name,
            "sources": {SOURCE: {"type": "vector", "url": f"pmtiles://{archive}",
                                 "attribution": "geo3d"}},
            "layers": out}


def _archive_layers(archive: Path) -> tuple[list[str], dict[str, Any]]:
    reader_mod = import_optional("pmtiles.reader", extra="tiles")
    if not archive.is_file():
        msg = f"tiles archive {archive} does not exist"
        raise MissingFileError(msg)
    try:
        with open(archive, "rb") as fh:
            meta = reader_mod.Reader(reader_mod.MmapSource(fh)).metadata()
    except Exception as exc:
        msg = f"cannot read {archive} as a PMTiles archive: {exc}"
        raise FileFormatError(msg) from exc
    return [str(layer["id"]) for layer in meta.get("vector_layers", [])], meta


def write_viewer(archive: str | os.PathLike[str], *, title: str | None = None,
                 palette: str | Mapping[str, Sequence[int]] = "korean",
                 overwrite: bool = False) -> tuple[Path, Path]:
    """Write ``NAME.style.json`` and the offline viewer ``NAME.html`` beside ``NAME.pmtiles``.

    Parameters
    ----------
    archive : str or Path
        A PMTiles archive from :func:`geo3d.tiles.write_tiles`.
    title : str, optional
        Page title (default: the archive's name in its metadata).
    palette : {"korean", "apwa"} or mapping
        Utility colours, as in :func:`tiles_style`.
    overwrite : bool
        Replace existing files.

    Returns
    -------
    (Path, Path)
        The style and the HTML page.

    Examples
    --------
    >>> import geopandas as gpd, shapely, tempfile, pathlib
    >>> from geo3d.tiles import write_tiles
    >>> pipes = gpd.GeoDataFrame({"utility": ["gas"], "source_id": ["G1"]},
    ...     geometry=[shapely.LineString([(203400, 553300), (203500, 553320)])], crs="EPSG:5186")
    >>> out = write_tiles(pipes, pathlib.Path(tempfile.mkdtemp()) / "t.pmtiles", minzoom=12, maxzoom=14)
    >>> [p.name for p in write_viewer(out)]
    ['t.style.json', 't.html']
    """
    from ..sheets.palettes import UTILITY_NAMES

    archive = Path(archive)
    style_path = archive.with_name(f"{archive.stem}.style.json")
    html_path = archive.with_name(f"{archive.stem}.html")
    for path in (style_path, html_path):
        check_can_write(path, overwrite=overwrite)
    layers, meta = _archive_layers(archive)
    title = title or str(meta.get("name") or archive.stem)
    style = tiles_style(layers, archive=archive.name, palette=palette, name=title)
    colours = _colours(palette)
    legend = [{"layer": u, "kind": "line", "color": colours.get(u, "#787878"),
               "label": " ".join(UTILITY_NAMES.get(u, (u, "")))}
              for u in _utility_layers(layers)]
    if "areas" in layers:
        legend.append({"layer": "areas", "kind": "area", "label": "행정동 Areas"})
    clickable = list(_utility_layers(layers)) + (["areas-fill"] if "areas" in layers else [])
    config = {"title": title, "subtitle": str(meta.get("description", "")),
              "archive": archive.name, "source": SOURCE, "style": style, "legend": legend,
              "legend_title": "범례 Legend", "clickable": clickable,
              "labels": {u: " ".join(UTILITY_NAMES.get(u, (u, ""))) for u in layers},
              "field_order": list(_FIELD_ORDER),
              "open_text": f"Drop {archive.name} here, or choose it: browsers do not let a page "
                           "opened from a file read the files beside it (or serve this folder: "
                           "python -m http.server)."}
    data = json.dumps(config, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    parts = {"TITLE": html_lib.escape(title), "MAPLIBRE_CSS": _static(f"{MAPLIBRE_FILE}.css"),
             "CSS": _static("viewer.css"), "MAPLIBRE": _static(f"{MAPLIBRE_FILE}.js"),
             "PMTILES": _static(PMTILES_FILE), "DATA": data, "VIEWER": _static("viewer.js")}
    pieces = _PAGE.split("@@")  # odd pieces are the names of what goes there
    page = "".join(parts[p] if i % 2 else p for i, p in enumerate(pieces))
    written: list[Path] = []
    try:
        with atomic_path(style_path, overwrite=overwrite) as tmp:
            tmp.write_text(json.dumps(style, ensure_ascii=False, indent=1), encoding="utf-8")
        written.append(style_path)
        with atomic_path(html_path, overwrite=overwrite) as tmp:
            tmp.write_text(page, encoding="utf-8")
        written.append(html_path)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    logger.info("viewer: %s, %s", style_path, html_path)
    return style_path, html_path


_PAGE = """<!DOCTYPE html>
<html lang="ko">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<meta name="generator" content="geo3d"/>
<title>@@TITLE@@</title>
<style>
@@MAPLIBRE_CSS@@
</style>
<style>
@@CSS@@
</style>
</head>
<body>
<div id="map"></div>
<div id="head" class="g3-panel"><h1 id="head-title"></h1><div id="subtitle"></div></div>
<div id="legend" class="g3-panel"></div>
<div id="info" class="g3-panel"><button id="info-close" class="close" title="close">×</button><div id="info-body"></div></div>
<div id="open" class="g3-panel"><p id="open-msg"></p><input type="file" id="file" accept=".pmtiles"/></div>
<script>
@@MAPLIBRE@@
</script>
<script>
@@PMTILES@@
</script>
<script>
window.GEO3D_TILES = @@DATA@@;
</script>
<script>
@@VIEWER@@
</script>
</body>
</html>
"""
