"""E57 scans (ASTM E2807) read through the LAS reader, so they give the same cloud as a LAS file.

:func:`e57_to_las` converts every scan of an E57 file (pye57: Cartesian or spherical points,
each scan moved by its pose into the file's common frame, invalid points dropped) into one
LAS 1.4 file: point format 7 with colour or 6 without, coordinates on a 1 mm grid (the scale
of survey LAS files; an E57 scanner's ranging noise is several mm), colour as 16-bit (8-bit
× 257), intensity rescaled from the file's intensity limits to 0–65535, and the file's
``coordinateMetadata`` as the CRS when pyproj can read it. :func:`geo3d.io.las.open_las` and
:func:`~geo3d.io.las.read_las` open ``.e57`` paths through that LAS, so cleaning, fields, CRS
checks and :func:`~geo3d.io.las.write_las` (which copies it, with geo3d's extra dimensions)
behave exactly as for a LAS of the same points. Conversions are cached per file for the life
of the process in a temporary folder.

Examples
--------
>>> from geo3d.io.las import read_las
>>> cloud = read_las("scan.e57", crs="EPSG:5186")  # doctest: +SKIP
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import laspy
import numpy as np
from numpy.typing import NDArray

from .._compat import import_optional
from ..errors import FileFormatError, MissingFileError

__all__ = ["E57_SCALE", "e57_to_las", "las_of_e57", "original_path"]

log = logging.getLogger(__name__)

#: Coordinate resolution of the LAS made from an E57 (m)
E57_SCALE = 0.001

_CACHE: dict[tuple[str, int, int], Path] = {}
_TMP: list[str] = []


def e57_to_las(path: str | os.PathLike[str], out: str | os.PathLike[str], *, scale: float = E57_SCALE) -> Path:
    """Write the points of every scan of an E57 file into one LAS file.

    Parameters
    ----------
    path : path
        The ``.e57`` file.
    out : path
        The ``.las`` (or ``.laz``) to write.
    scale : float
        Coordinate resolution (m).

    Returns
    -------
    Path : ``out``.

    Raises
    ------
    MissingFileError, FileFormatError
    """
    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"{path} does not exist; pass an existing .e57 file")
    pye57 = import_optional("pye57", extra="pointcloud")
    try:
        e57 = pye57.E57(str(path))
    except Exception as exc:  # libE57's own exception types
        raise FileFormatError(f"{path.name} is not a readable E57 file ({exc})") from exc
    try:
        parts = [_scan(e57, i) for i in range(e57.scan_count)]
        crs = _crs(e57)
    finally:
        e57.close()
    if not parts or sum(len(p["xyz"]) for p in parts) == 0:
        raise FileFormatError(f"{path.name} holds no valid point; nothing to read")
    xyz = np.concatenate([p["xyz"] for p in parts])
    colour = all("rgb" in p for p in parts)
    header = laspy.LasHeader(point_format=7 if colour else 6, version="1.4")
    header.scales = np.full(3, scale)
    header.offsets = np.floor(xyz.min(axis=0))
    if crs is not None:
        header.add_crs(crs)
    las = laspy.LasData(header)
    las.x, las.y, las.z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    las.return_number = np.ones(len(xyz), dtype=np.uint8)
    las.number_of_returns = np.ones(len(xyz), dtype=np.uint8)
    if all("intensity" in p for p in parts):
        las.intensity = np.concatenate([p["intensity"] for p in parts])
    if colour:
        rgb = np.concatenate([p["rgb"] for p in parts])
        las.red, las.green, las.blue = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    out = Path(out)
    las.write(str(out))
    log.info("e57_to_las: %s points from %d scans of %s -> %s", f"{len(xyz):,}", len(parts), path.name, out.name)
    return out


def las_of_e57(path: str | os.PathLike[str]) -> Path:
    """The LAS made from an E57 file, converted once per process (what ``open_las`` reads).

    Raises
    ------
    MissingFileError, FileFormatError
    """
    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"{path} does not exist; pass an existing .e57 file")
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    hit = _CACHE.get(key)
    if hit is not None and hit.exists():
        return hit
    if not _TMP:
        _TMP.append(tempfile.mkdtemp(prefix="geo3d-e57-"))
        atexit.register(shutil.rmtree, _TMP[0], True)
    out = e57_to_las(path, Path(_TMP[0]) / f"{len(_CACHE)}-{path.stem}.las")
    _CACHE[key] = out
    return out


def original_path(path: str | os.PathLike[str]) -> Path:
    """The E57 file a LAS made by :func:`las_of_e57` came from; any other path unchanged.

    Examples
    --------
    >>> original_path("scan.laz").name
    'scan.laz'
    """
    path = Path(path)
    for (source, *_), las in _CACHE.items():
        if las == path:
            return Path(source)
    return path


def _scan(e57: Any, index: int) -> dict[str, NDArray[Any]]:
    """Points of one scan in the file's frame, with 16-bit intensity and colour when present."""
    data = e57.read_scan(index, intensity=True, colors=True, transform=True, ignore_missing_fields=True)
    xyz = np.column_stack([data["cartesianX"], data["cartesianY"], data["cartesianZ"]]).astype(np.float64)
    ok = np.isfinite(xyz).all(axis=1)
    out: dict[str, NDArray[Any]] = {"xyz": xyz[ok]}
    header = e57.get_header(index)
    if "intensity" in data:
        val = np.asarray(data["intensity"], dtype=np.float64)[ok]
        lo, hi = _limits(header, "intensity", val)
        out["intensity"] = np.round((val - lo) / max(hi - lo, 1e-12) * 65535).clip(0, 65535).astype(np.uint16)
    if all(c in data for c in ("colorRed", "colorGreen", "colorBlue")):
        rgb = np.column_stack([data["colorRed"], data["colorGreen"], data["colorBlue"]]).astype(np.float64)[ok]
        lo, hi = _limits(header, "color", rgb)
        scaled = (rgb - lo) / max(hi - lo, 1e-12)
        # 8-bit colour as LAS writers store it (value × 257); 16-bit colour kept as is
        out["rgb"] = (np.round(scaled * 255) * 257 if hi <= 255 else np.round(scaled * 65535)).astype(np.uint16)
    return out


def _limits(header: Any, kind: str, values: NDArray[np.float64]) -> tuple[float, float]:
    """Value range of ``kind``: the file's intensity limits; colour as 8-bit unless it exceeds 255."""
    if kind == "intensity":
        try:
            return float(header.intensityMinimum), float(header.intensityMaximum)
        except Exception:  # intensityLimits are optional in E57: the data's own range
            return float(values.min(initial=0)), float(values.max(initial=1))
    top = float(values.max(initial=0))
    return 0.0, 255.0 if top <= 255 else (65535.0 if top <= 65535 else top)


def _crs(e57: Any) -> Any:
    """The CRS named by the file's ``coordinateMetadata`` (WKT, EPSG code), or None."""
    from pyproj import CRS

    try:
        text = e57.root()["coordinateMetadata"].value()
    except Exception:  # optional in E57
        return None
    try:
        return CRS.from_user_input(text) if text else None
    except Exception:
        log.warning("e57: coordinateMetadata %r is not a CRS pyproj can read; ignored", text[:80])
        return None
