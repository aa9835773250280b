"""Write pipes back out: the canonical schema (GeoPackage / GeoJSON) or the Korean UIS layers.

``layout="uis"`` is the inverse of the layer mappings in :mod:`geo3d.underground.schema`: one
layer per utility (``WTL_PIPE_LM``, ``SWL_PIPE_LM``, ``UFL_BPIP_LM``, ``UFL_KPIP_LS``,
``UFL_GPIP_LM``, ``UFL_HPIP_LM``) with the UIS field names, sizes as UIS size strings
(``"500\\600"`` for boxes), unknown depths as 0 (the UIS convention), Korean pressure codes and
``kV`` voltage strings, so that :func:`~geo3d.underground.read_pipes` reads the file back to the
same canonical frame.

Examples
--------
>>> import tempfile, pathlib, geopandas as gpd, shapely
>>> from geo3d.underground import read_pipes
>>> pipes = gpd.GeoDataFrame(
...     {"utility": ["gas"], "source_id": ["7"], "diameter_mm": [150.0], "depth_m": [1.2],
...      "depth_reference": ["top"], "depth_kind": ["cover"], "pressure": ["medium"],
...      "install_year": [2004]},
...     geometry=[shapely.LineString([(0, 0), (10, 0)])], crs="EPSG:5186")
>>> path = pathlib.Path(tempfile.mkdtemp()) / "uis.gpkg"
>>> pipes_to_file(pipes, path, layout="uis")
['UFL_GPIP_LM']
>>> back = read_pipes(path)
>>> back[["utility", "source_layer", "source_id", "diameter_mm", "depth_m", "pressure", "install_year"]]
  utility source_layer source_id  diameter_mm  depth_m pressure  install_year
0     gas  UFL_GPIP_LM         7        150.0      1.2   medium          2004
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from .._numeric import float_series
from ..errors import InputError, SchemaError
from ..io.atomic import atomic_path
from . import schema
from .pipes import conform_pipes

__all__ = ["LAYOUTS", "pipes_to_file", "pipes_to_uis"]

logger = logging.getLogger(__name__)

#: Output layouts.
LAYOUTS: tuple[str, ...] = ("canonical", "uis")
_DRIVERS = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".fgb": "FlatGeobuf"}
_PRESSURE_KO = {"low": "저압", "medium": "중압", "high": "고압"}


_num = float_series  # the shared numeric helper (geo3d._numeric)


def _fmt(values: np.ndarray) -> np.ndarray:
    """Numbers as short strings (``300``, ``2.5``); NaN → empty."""
    out = np.array([f"{v:g}" for v in np.nan_to_num(values, nan=0.0)], dtype=object)
    out[np.isnan(values)] = ""
    return out


def _layer_for_utility() -> dict[str, str]:
    inv: dict[str, str] = {}
    for name, m in schema.LAYER_MAPPINGS.items():
        inv.setdefault(str(m["utility"]), name)
    return inv


def pipes_to_uis(pipes: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """Canonical pipes → ``{UIS layer name: GeoDataFrame with UIS fields}`` (no file written).

    Raises
    ------
    SchemaError
        A utility has no UIS layer, or rows with depths are not top-of-pipe cover depths
        (UIS depths are; convert first).
    """
    frame = conform_pipes(pipes, keep_extra=False)
    layer_of = _layer_for_utility()
    util = frame["utility"].astype(object)
    problems: list[str] = []
    unknown = sorted({str(u) for u in util.dropna().unique()} - set(layer_of))
    if unknown:
        problems.append(f"utilities without a UIS layer: {', '.join(unknown)}")
    has_depth = ~frame["depth_unknown"].to_numpy(dtype=bool)
    ref_ok = (frame["depth_reference"].astype(object).to_numpy() == "top") & (
        frame["depth_kind"].astype(object).to_numpy() == "cover")
    bad = has_depth & ~ref_ok
    if bad.any():
        problems.append(f"{int(bad.sum())} row(s) have depths that are not top-of-pipe cover "
                        "depths; UIS stores cover to the top: convert them first")
    if problems:
        raise SchemaError("pipes_to_file(layout='uis'): cannot write these pipes as UIS layers",
                          problems)
    out: dict[str, gpd.GeoDataFrame] = {}
    for utility, name in layer_of.items():  # six layers, not rows
        sub = frame[util.to_numpy() == utility]
        if not len(sub):
            continue
        m = schema.LAYER_MAPPINGS[name]
        fields: dict[str, str] = m["fields"]
        d = _num(sub["diameter_mm"])
        w = _num(sub["width_mm"])
        h = _num(sub["height_mm"])
        box = ~np.isnan(w) & ~np.isnan(h)
        dm = _num(sub["depth_m"])
        ds = _num(sub["depth_start_m"])
        de = _num(sub["depth_end_m"])
        mean_se = np.where(np.isnan(ds), de, np.where(np.isnan(de), ds, (ds + de) / 2.0))
        single = np.where(np.isnan(dm), mean_se, dm)
        cols: dict[str, Any] = {}
        for role, field in fields.items():
            if role == "source_id":
                cols[field] = sub["source_id"].astype(object).fillna("").to_numpy()
            elif role == "agency":
                cols[field] = sub["agency"].astype(object).fillna("").to_numpy()
            elif role == "install_date":
                y = sub["install_year"]
                cols[field] = np.where(y.isna().to_numpy(), "",
                                       y.astype("Float64").fillna(0).astype(int).astype(str).to_numpy())
            elif role == "size":
                if "width" in fields:
                    cols[field] = np.nan_to_num(np.where(box, np.nan, d), nan=0.0)
                else:
                    sizes = _fmt(d)
                    boxes = np.array([f"{a:g}\\{b:g}" for a, b in
                                      zip(np.nan_to_num(w), np.nan_to_num(h), strict=True)],
                                     dtype=object)
                    cols[field] = np.where(box, boxes, sizes)
            elif role == "width":
                cols[field] = np.where(box, w, 0.0)
            elif role == "height":
                cols[field] = np.where(box, h, 0.0)
            elif role == "material":
                raw = sub["material_raw"].astype(object)
                cols[field] = raw.where(raw.notna(), sub["material"].astype(object)).fillna("").to_numpy()
            elif role in ("depth_min", "depth_max"):
                lo = np.where(np.isnan(dm), np.fmin(ds, de), dm)
                hi = np.where(np.isnan(dm), np.fmax(ds, de), dm)
                cols[field] = np.nan_to_num(lo if role == "depth_min" else hi, nan=0.0)
            elif role == "depth_start_m":
                cols[field] = np.nan_to_num(np.where(np.isnan(ds), single, ds), nan=0.0)
            elif role == "depth_end_m":
                cols[field] = np.nan_to_num(np.where(np.isnan(de), single, de), nan=0.0)
            elif role == "depth_m":
                cols[field] = np.nan_to_num(single, nan=0.0)
            elif role == "pressure_code":
                cols[field] = sub["pressure"].astype(object).map(_PRESSURE_KO).fillna("").to_numpy()
            elif role == "voltage_code":
                v = _num(sub["voltage_kv"])
                txt = _fmt(v)
                cols[field] = np.where(np.isnan(v), "", np.char.add(txt.astype(str), "kV")).astype(object)
        df = pd.DataFrame(cols)
        for c in df.columns:
            if df[c].dtype == object:
                df[c] = df[c].astype(str)
        out[name] = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(sub.geometry.to_numpy(),
                                                                crs=frame.crs), crs=frame.crs)
    return out


def _for_file(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Nullable dtypes → plain ones that every OGR driver takes (NaN / None for unknown)."""
    out = frame.copy()
    for c in out.columns:
        if c == out.geometry.name:
            continue
        dt = out[c].dtype
        if isinstance(dt, pd.Float64Dtype):
            out[c] = out[c].to_numpy(dtype=np.float64, na_value=np.nan)
        elif isinstance(dt, pd.Int64Dtype):
            out[c] = out[c].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def pipes_to_file(
    pipes: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    layout: str = "canonical",
    layer: str = "pipes",
    overwrite: bool = False,
) -> list[str]:
    """Write pipes to a GeoPackage (or GeoJSON/FlatGeobuf for the canonical layout), atomically.

    Parameters
    ----------
    pipes : geopandas.GeoDataFrame
        Canonical pipes (missing canonical columns are written as unknown).
    path : path
        ``.gpkg`` (both layouts), ``.geojson``/``.fgb`` (canonical only).
    layout : {"canonical", "uis"}
        One ``layer`` in the canonical schema (install years are written as numbers), or one
        layer per utility with Korean UIS names and fields.
    layer : str
        Layer name of the canonical layout.
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    list of str
        The layers written.

    Raises
    ------
    InputError
        Unknown layout or file suffix.
    SchemaError
        (``uis``) a utility without a UIS layer, or non-cover depths.
    OutputExistsError
        ``path`` exists and ``overwrite`` is false.
    """
    if layout not in LAYOUTS:
        msg = f"unknown layout {layout!r}; valid: {', '.join(LAYOUTS)}"
        raise InputError(msg)
    p = Path(path)
    driver = _DRIVERS.get(p.suffix.lower())
    if driver is None or (layout == "uis" and driver != "GPKG"):
        valid = ".gpkg" if layout == "uis" else ", ".join(_DRIVERS)
        msg = f"cannot write {layout} pipes to {p.name}; use a file ending in {valid}"
        raise InputError(msg)
    if layout == "canonical":
        layers = {layer: conform_pipes(pipes, keep_extra=True)}
    else:
        layers = pipes_to_uis(pipes)
    if not layers:
        msg = "no pipes to write"
        raise InputError(msg)
    with atomic_path(p, overwrite=overwrite) as tmp:
        for name, g in layers.items():
            pyogrio.write_dataframe(_for_file(g), tmp, layer=name, driver=driver,
                                    append=tmp.exists() and driver == "GPKG")
    logger.info("pipes_to_file: %s pipes -> %s (%s: %s)", f"{len(pipes):,}", p.name, layout,
                ", ".join(layers))
    return list(layers)
