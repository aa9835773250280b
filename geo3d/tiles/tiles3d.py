"""3D Tiles 1.1 of pipes and of a scanned market: ``tileset.json`` + glTF content with metadata.

:func:`pipes_to_tiles3d` writes the pipes as true-size tubes (ducts as boxes) at their modelled
depth (:func:`geo3d.viz.underground3d.pipes_in_3d`: 3D input as is, otherwise the depths over
the DEM, or over flat ground at 0 m without one), in the Korean palette, one glTF per 500 m cell.
:func:`scan_to_tiles3d` writes a ``geo3d scan`` folder's stores (their footprints' minimum
rotated rectangles extruded from ``z_min`` to ``z_max``) and facilities (0.4 m boxes over their
points), coloured by class, and optionally the scan points.

Every feature (a pipe, a store, a facility) carries its attributes through
``EXT_mesh_features`` + ``EXT_structural_metadata`` (see :mod:`geo3d.tiles.gltf`), which CesiumJS
reads as ``feature.getProperty(name)`` and styles with ``Cesium3DTileStyle``.

Coordinates: the glTF holds metres in a local east-north-up frame (glTF's y up) around the
data's centre; the root tile's ``transform`` takes that frame to Earth-centred coordinates
(EPSG:4978), as CesiumJS expects. Vertices are converted exactly with pyproj (projected CRS →
ECEF → ENU), so the Earth's curvature and the grid's convergence are taken into account.
Heights are used as ellipsoidal heights: Korean elevations are orthometric (above the geoid,
which lies about 25 m above the GRS80 ellipsoid around Seoul), so pass ``geoid_height`` (the
geoid undulation, metres) to place the data on a globe with ellipsoidal terrain; the value used
is recorded in ``tileset.json`` (``asset.extras.geo3d``).

Examples
--------
>>> import geopandas as gpd, shapely, tempfile, pathlib, json
>>> pipes = gpd.GeoDataFrame(
...     {"utility": ["gas", "water"], "source_id": ["g1", "w1"], "diameter_mm": [100.0, 300.0]},
...     geometry=[shapely.LineString([(200000, 550000, 28.8), (200020, 550000, 28.8)]),
...               shapely.LineString([(200010, 549990, 28.5), (200010, 550010, 28.5)])],
...     crs="EPSG:5186")
>>> out = pipes_to_tiles3d(pipes, pathlib.Path(tempfile.mkdtemp()) / "t3d")
>>> tileset = json.loads((out / "tileset.json").read_text())
>>> tileset["asset"]["version"], [c["content"]["uri"] for c in tileset["root"]["children"]]
('1.1', ['pipes_0_0.glb'])
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from ..errors import CRSError, EmptyResultError, InputError
from ..io.atomic import atomic_dir
from .gltf import Mesh, box_mesh, glb_bytes, tube_mesh

__all__ = ["PIPE_PROPERTIES", "EnuFrame", "pipes_to_tiles3d", "scan_to_tiles3d", "write_tileset"]

logger = logging.getLogger(__name__)

#: Attributes of a pipe feature and their metadata types.
PIPE_PROPERTIES: dict[str, str] = {
    "source_layer": "STRING", "source_id": "STRING", "utility": "STRING", "agency": "STRING",
    "diameter_mm": "FLOAT32", "width_mm": "FLOAT32", "height_mm": "FLOAT32",
    "material": "STRING", "install_year": "INT16", "depth_m": "FLOAT32",
    "depth_source": "STRING", "centre_z_m": "FLOAT32",
}
#: Attributes of a market object feature.
OBJECT_PROPERTIES: dict[str, str] = {
    "object_id": "INT32", "kind": "STRING", "floor": "INT16", "level": "STRING",
    "aisle": "STRING", "number": "STRING", "address": "STRING", "z_min": "FLOAT32",
    "z_max": "FLOAT32",
}
_UNKNOWN_SIZE_M = 0.1  # drawn size of a pipe whose size the source does not give
_FACILITY_SIZE_M = 0.4  # drawn width of a facility (they are points in objects.gpkg)


@dataclass(frozen=True)
class EnuFrame:
    """A local east-north-up frame (metres) at a point of a projected CRS.

    Examples
    --------
    >>> f = EnuFrame.around("EPSG:5186", 200000.0, 550000.0, 30.0)
    >>> e, n, u = f.local(np.array([200010.0]), np.array([550000.0]), np.array([30.0]))
    >>> round(float(e[0]), 2), round(float(n[0]), 2), round(float(u[0]), 4)
    (10.0, 0.0, -0.0)
    >>> len(f.transform())
    16
    """

    crs: CRS
    lon: float
    lat: float
    height: float
    geoid_height: float = 0.0

    @classmethod
    def around(cls, crs: Any, x: float, y: float, z: float, *, geoid_height: float = 0.0
               ) -> EnuFrame:
        """The frame at ``(x, y, z)`` of ``crs`` (z an elevation in metres)."""
        c = CRS.from_user_input(crs)
        lon, lat = Transformer.from_crs(c, "EPSG:4326", always_xy=True).transform(x, y)
        return cls(c, float(lon), float(lat), float(z), float(geoid_height))

    def _axes(self) -> NDArray[np.float64]:
        lam, phi = np.radians(self.lon), np.radians(self.lat)
        return np.array([[-np.sin(lam), np.cos(lam), 0.0],
                         [-np.sin(phi) * np.cos(lam), -np.sin(phi) * np.sin(lam), np.cos(phi)],
                         [np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)]])

    def _ecef(self, x: NDArray[np.float64], y: NDArray[np.float64], z: NDArray[np.float64]
              ) -> NDArray[np.float64]:
        to_geo = Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)
        lon, lat = to_geo.transform(x, y)
        to_ecef = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
        return np.column_stack(to_ecef.transform(lon, lat, np.asarray(z) + self.geoid_height))

    def origin_ecef(self) -> NDArray[np.float64]:
        to_ecef = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
        return np.array(to_ecef.transform(self.lon, self.lat, self.height + self.geoid_height))

    def local(self, x: NDArray[np.float64], y: NDArray[np.float64], z: NDArray[np.float64]
              ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """East, north, up metres of points given in the CRS (z: elevation)."""
        enu = (self._ecef(x, y, z) - self.origin_ecef()) @ self._axes().T
        return enu[:, 0], enu[:, 1], enu[:, 2]

    def transform(self) -> list[float]:
        """The 4×4 ENU → ECEF matrix, column-major (3D Tiles ``transform``)."""
        m = np.eye(4)
        m[:3, :3] = self._axes().T  # columns: east, north, up
        m[:3, 3] = self.origin_ecef()
        return [float(v) for v in m.T.ravel()]

    def to_dict(self) -> dict[str, Any]:
        return {"crs": self.crs.to_string(), "origin_lon": self.lon, "origin_lat": self.lat,
                "origin_elevation_m": self.height, "geoid_height_m": self.geoid_height,
                "heights": "elevations + geoid_height_m taken as GRS80 ellipsoidal heights"}


@dataclass
class _Content:
    name: str
    mesh: Mesh  # positions in the data CRS (x, y, elevation)
    table: pd.DataFrame
    types: Mapping[str, str]
    class_name: str
    description: str


def _to_local(mesh: Mesh, frame: EnuFrame) -> Mesh:
    """The mesh in glTF axes (x east, y up, z south) of ``frame``; normals rotated alike."""
    p = mesh.positions
    e, n, u = frame.local(p[:, 0], p[:, 1], p[:, 2])
    normals = None
    if mesh.normals is not None:
        # the CRS's grid axes differ from east/north by the meridian convergence: rotate normals
        e1, n1, _ = frame.local(p[:1, 0] + np.array([0.0, 1.0]), p[:1, 1] + np.array([0.0, 0.0]),
                                p[:1, 2] + np.array([0.0, 0.0]))
        angle = np.arctan2(n1[1] - n1[0], e1[1] - e1[0])
        c, s = np.cos(angle), np.sin(angle)
        nx, ny, nz = (mesh.normals[:, k].astype(np.float64) for k in range(3))
        ne, nn = c * nx - s * ny, s * nx + c * ny
        normals = np.column_stack([ne, nz, -nn]).astype(np.float32)
    return Mesh(np.column_stack([e, u, -n]), normals, mesh.indices, mesh.feature, mesh.colours)


def _box_volume(positions: NDArray[np.float64]) -> list[float]:
    """A 3D Tiles ``box`` (centre + half axes) around glTF-axes points, in the tile's z-up frame."""
    enu = np.column_stack([positions[:, 0], -positions[:, 2], positions[:, 1]])
    lo, hi = enu.min(axis=0), enu.max(axis=0)
    centre, half = (lo + hi) / 2, np.maximum((hi - lo) / 2, 0.01)
    return [*centre.tolist(), half[0], 0.0, 0.0, 0.0, half[1], 0.0, 0.0, 0.0, half[2]]


def write_tileset(contents: Sequence[_Content], out_dir: str | os.PathLike[str], frame: EnuFrame,
                  *, overwrite: bool = False, generator: str = "geo3d") -> Path:
    """Write ``out_dir/tileset.json`` and one ``.glb`` per content (children of the root)."""
    contents = [c for c in contents if len(c.table) and len(c.mesh.positions)]
    if not contents:
        msg = "nothing to write: no feature has geometry"
        raise EmptyResultError(msg)
    children, boxes = [], []
    with atomic_dir(out_dir, overwrite=overwrite) as tmp:
        for content in contents:
            local = _to_local(content.mesh, frame)
            data = glb_bytes(local, class_name=content.class_name, table=content.table,
                             types=content.types, description=content.description)
            (tmp / f"{content.name}.glb").write_bytes(data)
            box = _box_volume(local.positions)
            boxes.append(box)
            children.append({"boundingVolume": {"box": box}, "geometricError": 0.0,
                             "content": {"uri": f"{content.name}.glb"}})
        all_pos = np.concatenate([_corners(b) for b in boxes])
        root_box = _box_volume(np.column_stack([all_pos[:, 0], all_pos[:, 2], -all_pos[:, 1]]))
        size = 2 * float(np.linalg.norm([root_box[3], root_box[7], root_box[11]]))
        tileset = {
            "asset": {"version": "1.1", "generator": generator,
                      "extras": {"geo3d": frame.to_dict()}},
            "geometricError": size,
            "root": {"transform": frame.transform(), "boundingVolume": {"box": root_box},
                     "geometricError": size / 2, "refine": "ADD", "children": children},
        }
        (tmp / "tileset.json").write_text(json.dumps(tileset, indent=1), encoding="utf-8")
    logger.info("3D Tiles: %d contents -> %s", len(contents), out_dir)
    return Path(out_dir)


def _corners(box: list[float]) -> NDArray[np.float64]:
    c = np.array(box[:3])
    half = np.array([box[3], box[7], box[11]])
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
    return c + signs * half


def _num(frame: pd.DataFrame, col: str) -> NDArray[np.float64]:
    if col not in frame:
        return np.full(len(frame), np.nan)
    return np.asarray(pd.to_numeric(frame[col], errors="coerce").astype("Float64").to_numpy(
        dtype=np.float64, na_value=np.nan), dtype=np.float64)


def _rgba(keys: NDArray[Any], table: Mapping[str, Sequence[int]], other: Sequence[int]
          ) -> NDArray[np.uint8]:
    names, inv = np.unique(keys.astype(str), return_inverse=True)
    rgb = np.array([list(table.get(str(k), other))[:3] for k in names], dtype=np.uint8)
    return np.column_stack([rgb.reshape(-1, 3)[inv], np.full(len(keys), 255, np.uint8)])


def _generator() -> str:
    from importlib import metadata

    try:
        return f"geo3d {metadata.version('geo3d')}"
    except metadata.PackageNotFoundError:
        return "geo3d"


def _pipe_segments(pipes3d: gpd.GeoDataFrame) -> dict[str, NDArray[Any]]:
    """Every centreline segment with an elevation at both ends: ends ``a``, ``b``, its row."""
    xyz, row = shapely.get_coordinates(pipes3d.geometry.to_numpy(), include_z=True,
                                       return_index=True)
    same = row[:-1] == row[1:]
    a, b, feat = xyz[:-1][same], xyz[1:][same], row[:-1][same]
    ok = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1) & (np.abs(b - a).sum(1) > 0)
    if (~ok).any():
        logger.warning("3D Tiles: %d pipe segments have no elevation (off the DEM?) or no "
                       "length and are left out", int((~ok).sum()))
    return {"a": a[ok], "b": b[ok], "row": feat[ok]}


def _pipe_table(pipes3d: gpd.GeoDataFrame) -> pd.DataFrame:
    table = pd.DataFrame({c: pipes3d[c] for c in PIPE_PROPERTIES if c in pipes3d.columns})
    assumed = (pipes3d["depth_assumed"].fillna(False).astype(bool).to_numpy()
               if "depth_assumed" in pipes3d else np.zeros(len(pipes3d), bool))
    table["depth_source"] = np.where(assumed, "assumed", "measured")
    z = shapely.get_coordinates(pipes3d.geometry.to_numpy(), include_z=True, return_index=True)
    table["centre_z_m"] = pd.Series(z[0][:, 2]).groupby(z[1]).mean().reindex(
        range(len(pipes3d))).to_numpy()
    return table.reset_index(drop=True)


def pipes_to_tiles3d(
    pipes: gpd.GeoDataFrame,
    out_dir: str | os.PathLike[str],
    *,
    dem: Any = None,
    palette: str | Mapping[str, Sequence[int]] = "korean",
    sides: int = 8,
    cell_m: float = 500.0,
    geoid_height: float = 0.0,
    overwrite: bool = False,
) -> Path:
    """Write pipes as 3D Tiles 1.1: tubes at depth, a glTF per grid cell, attributes per pipe.

    Parameters
    ----------
    pipes : geopandas.GeoDataFrame
        Canonical pipes (:func:`geo3d.read_pipes`) in a projected CRS; 3D centrelines are used
        as they are, 2D ones are placed with their depths over ``dem``.
    out_dir : str or Path
        Output folder (``tileset.json``, ``pipes_{i}_{j}.glb``), written atomically.
    dem : Dem or raster path, optional
        Ground elevation; without it (and 2D pipes) the ground is flat at 0 m.
    palette : {"korean", "apwa"} or mapping
        Utility colours (:data:`geo3d.viz.pipes3d.PALETTES`).
    sides : int
        Faces around a round pipe (4–32).
    cell_m : float
        Side of the square cells (m) the network is cut into, one child tile each, so that a
        client loads only the cells in view: segments go to the cell of their midpoint, a
        pipe's feature is in every cell holding one of its segments.
    geoid_height : float
        Geoid undulation (m) added to elevations to make ellipsoidal heights.
    overwrite : bool
        Replace an existing folder.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    CRSError
        Pipes without a projected CRS.
    InputError
        Bad ``sides`` or palette.
    EmptyResultError
        No pipe with geometry.
    """
    from ..viz.pipes3d import PALETTES
    from ..viz.underground3d import pipes_in_3d

    if not (isinstance(sides, int) and 4 <= sides <= 32):
        msg = f"sides must be an integer from 4 to 32, got {sides!r}"
        raise InputError(msg)
    if not (isinstance(cell_m, int | float) and cell_m > 0):
        msg = f"cell_m must be a positive number of metres, got {cell_m!r}"
        raise InputError(msg)
    if isinstance(palette, str) and palette not in PALETTES:
        msg = f"unknown palette {palette!r}; valid: {', '.join(PALETTES)} or a dict utility -> RGB"
        raise InputError(msg)
    colours = (PALETTES[palette] if isinstance(palette, str)
               else {**PALETTES["korean"], **palette})
    if dem is None and len(pipes) and not bool(shapely.has_z(pipes.geometry.to_numpy()).all()):
        logger.warning("3D Tiles: no DEM: the pipes are placed under flat ground at 0 m "
                       "(elevations are depths below the ground)")
    p3 = pipes_in_3d(pipes, dem=dem)
    seg = _pipe_segments(p3)
    if not len(seg["row"]):
        msg = "no pipe has a 3D centreline to draw (empty input, or everything off the DEM)"
        raise EmptyResultError(msg)
    table = _pipe_table(p3)
    d, w, h = _num(p3, "diameter_mm"), _num(p3, "width_mm"), _num(p3, "height_mm")
    box = np.isfinite(w) & np.isfinite(h) & ~np.isfinite(d)
    width = np.where(box, w, d) / 1000.0
    height = np.where(box, h, d) / 1000.0
    unknown = ~np.isfinite(width) | (width <= 0)
    if unknown.any():
        logger.warning("3D Tiles: %d pipes have no size and are drawn %.1f m wide",
                       int(unknown.sum()), _UNKNOWN_SIZE_M)
    width, height = np.where(unknown, _UNKNOWN_SIZE_M, width), np.where(unknown, _UNKNOWN_SIZE_M, height)
    utility = p3["utility"].astype(str).to_numpy()
    rgba = _rgba(utility, colours, (120, 120, 120))
    centre = np.concatenate([seg["a"], seg["b"]]).mean(axis=0)
    frame = EnuFrame.around(p3.crs, centre[0], centre[1], centre[2], geoid_height=geoid_height)
    mid = (seg["a"][:, :2] + seg["b"][:, :2]) / 2
    cell = np.floor((mid - mid.min(axis=0)) / cell_m).astype(np.int64)
    keys, inv = np.unique(cell, axis=0, return_inverse=True)
    inv = inv.ravel()
    contents = []
    for k, (ix, iy) in enumerate(keys):  # one content per grid cell (tiles, not objects)
        keep = inv == k
        r = seg["row"][keep]
        rows = np.unique(r)
        new_id = np.full(len(p3), -1)
        new_id[rows] = np.arange(len(rows))
        mesh = tube_mesh(seg["a"][keep], seg["b"][keep], width[r], height[r], box[r],
                         sides=sides, feature=new_id[r], colours=rgba[r])
        contents.append(_Content(f"pipes_{ix}_{iy}", mesh, table.iloc[rows].reset_index(drop=True),
                                 PIPE_PROPERTIES, "pipe", "an underground utility pipe"))
    return write_tileset(contents, out_dir, frame, overwrite=overwrite, generator=_generator())


def _read_scan(scan_dir: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    import pyogrio

    from ..errors import FileFormatError

    gpkg = scan_dir / "objects.gpkg"
    if not gpkg.is_file():
        msg = f"{scan_dir} is not a `geo3d scan` output folder (no objects.gpkg); run geo3d scan"
        raise InputError(msg)
    names = {str(n) for n, _ in pyogrio.list_layers(gpkg)}
    parts = [gpd.read_file(gpkg, layer=n) for n in ("stores", "facilities") if n in names]
    if not parts:
        msg = f"{gpkg} has no stores or facilities layer (layers: {sorted(names)})"
        raise FileFormatError(msg)
    objects = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry",
                               crs=parts[0].crs)
    if objects.crs is None or not objects.crs.is_projected:
        msg = f"{gpkg} has no projected CRS; geo3d scan writes the scan's CRS (e.g. EPSG:5186)"
        raise CRSError(msg)
    levels = gpd.read_file(gpkg, layer="levels") if "levels" in names else None
    return objects, levels


def _object_mesh(objects: gpd.GeoDataFrame) -> Mesh:
    from ..viz.market3d import STORE_COLOUR
    from ..viz.market_map import FACILITY_COLOURS

    geoms = shapely.force_2d(objects.geometry.to_numpy())
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6])
    half = _FACILITY_SIZE_M / 2
    x, y = shapely.get_x(shapely.centroid(geoms)), shapely.get_y(shapely.centroid(geoms))
    marker = shapely.box(x - half, y - half, x + half, y + half)
    rect = np.where(polygonal, shapely.oriented_envelope(geoms), marker)
    ring = shapely.get_coordinates(shapely.get_exterior_ring(rect)).reshape(len(rect), 5, 2)
    z0, z1 = _num(objects, "z_min"), _num(objects, "z_max")
    z1 = np.where(np.isfinite(z1) & (z1 - z0 >= 0.05), z1, z0 + 0.3)
    kind = objects["kind"].astype(str).to_numpy() if "kind" in objects else np.full(len(objects), "")
    rgba = _rgba(kind, {"store": STORE_COLOUR, **FACILITY_COLOURS}, (0, 0, 0))
    return box_mesh(ring[:, :4], z0, z1, colours=rgba)


def scan_to_tiles3d(
    scan_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    points: bool = False,
    max_points: int = 2_000_000,
    geoid_height: float = 0.0,
    overwrite: bool = False,
    seed: int = 0,
) -> Path:
    """Write a ``geo3d scan`` folder's stores, facilities (and points) as 3D Tiles 1.1.

    Parameters
    ----------
    scan_dir : str or Path
        A ``geo3d scan`` output folder (``objects.gpkg``; ``points.laz`` for ``points``).
    out_dir : str or Path
        Output folder (``tileset.json``, ``objects.glb``, ``points.glb``), written atomically.
    points : bool
        Also write the scan points (their colours, or grey), as a glTF point cloud whose
        features are the objects (``object_id``; points of no object are feature 0).
    max_points : int
        At most this many points (a seeded random subset of a larger scan).
    geoid_height : float
        Geoid undulation (m) added to elevations to make ellipsoidal heights.
    overwrite : bool
        Replace an existing folder.
    seed : int
        Seed of the point subset.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InputError
        Not a scan folder, or ``points`` without ``points.laz``.
    FileFormatError
        ``objects.gpkg`` without stores or facilities.
    """
    from ..address.format import floor_label

    folder = Path(scan_dir)
    objects, _levels = _read_scan(folder)
    objects = objects[~(objects.geometry.isna() | objects.geometry.is_empty)].reset_index(drop=True)
    if not len(objects):
        msg = f"{folder / 'objects.gpkg'} holds no object with a geometry"
        raise EmptyResultError(msg)
    table = pd.DataFrame({c: objects[c] for c in OBJECT_PROPERTIES if c in objects.columns})
    if "floor" in objects:
        floors = pd.to_numeric(objects["floor"], errors="coerce")
        table["level"] = [floor_label(int(f)) if pd.notna(f) and f != 0 else "" for f in floors]
    mesh = _object_mesh(objects)
    centre = mesh.positions.mean(axis=0)
    frame = EnuFrame.around(objects.crs, centre[0], centre[1], centre[2],
                            geoid_height=geoid_height)
    contents = [_Content("objects", mesh, table, OBJECT_PROPERTIES, "market_object",
                         "a store or facility of the market, with its 3D address")]
    if points:
        contents.append(_point_content(folder, objects, max_points=max_points, seed=seed))
    return write_tileset(contents, out_dir, frame, overwrite=overwrite, generator=_generator())


def _point_content(folder: Path, objects: gpd.GeoDataFrame, *, max_points: int, seed: int
                   ) -> _Content:
    import laspy

    path = folder / "points.laz"
    if not path.is_file():
        msg = f"{folder} has no points.laz to export the points from; run geo3d scan"
        raise InputError(msg)
    las = laspy.read(path)
    n = len(las.points)
    keep = np.arange(n)
    if n > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))
        logger.info("3D Tiles: %s of %s points kept (max_points)", f"{max_points:,}", f"{n:,}")
    xyz = np.column_stack([np.asarray(las.x)[keep], np.asarray(las.y)[keep],
                           np.asarray(las.z)[keep]])
    if {"red", "green", "blue"} <= set(las.point_format.dimension_names):
        rgb = np.column_stack([np.asarray(las[c])[keep] for c in ("red", "green", "blue")])
        rgb = (rgb >> 8 if rgb.max() > 255 else rgb).astype(np.uint8)
    else:
        rgb = np.full((len(keep), 3), 150, np.uint8)
    oid = (np.asarray(las["object_id"])[keep] if "object_id" in las.point_format.dimension_names
           else np.full(len(keep), -1))
    ids = pd.to_numeric(objects["object_id"], errors="coerce").to_numpy() if "object_id" in objects else np.array([])
    lookup = pd.Series(np.arange(1, len(ids) + 1), index=ids)
    feature = lookup.reindex(oid).fillna(0).to_numpy(dtype=np.int64)
    table = pd.concat([pd.DataFrame({"object_id": [-1], "kind": ["none"]}),
                       objects[["object_id", "kind"]]], ignore_index=True)
    mesh = Mesh(xyz, None, np.zeros((0, 3), np.uint32), feature,
                np.column_stack([rgb, np.full(len(keep), 255, np.uint8)]))
    return _Content("points", mesh, table, {"object_id": "INT32", "kind": "STRING"},
                    "scan_point_group", "the scan points of one object (or of none)")
