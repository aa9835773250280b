"""Meshes for 3D Tiles: tubes and boxes built with numpy, written as glTF 2.0 binary (pygltflib).

:func:`tube_mesh` makes every pipe segment a prism of ``sides`` faces around its centreline
(round pipes: a circle of the diameter; ducts: the width × height rectangle), all segments at
once; :func:`box_mesh` extrudes quadrilaterals (store footprints, facility markers) between two
heights. :func:`glb_bytes` writes one mesh primitive (or a point cloud) with per-vertex colours
and, per vertex, the feature it belongs to (``EXT_mesh_features``), whose attributes are a
property table of ``EXT_structural_metadata``: strings as UTF-8 with UINT32 offsets, numbers
with a ``noData`` value for missing ones. pygltflib assembles the glTF JSON and the binary
chunk; this module only lays out the arrays.

Examples
--------
>>> import numpy as np
>>> mesh = tube_mesh(np.array([[0.0, 0, 0]]), np.array([[10.0, 0, 0]]),
...                  np.array([0.2]), np.array([0.2]), np.array([False]), sides=8)
>>> mesh.positions.shape, mesh.indices.shape, sorted(set(mesh.feature.tolist()))
((16, 3), (16, 3), [0])
>>> round(float(np.abs(mesh.positions[:, 1:]).max()), 3)  # radius 0.1 m
0.1
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .._compat import import_optional

__all__ = ["Mesh", "box_mesh", "glb_bytes", "property_table", "tube_mesh"]

_FLOAT, _UINT, _UBYTE = 5126, 5125, 5121
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
#: noData of numeric properties (a value no real attribute takes).
NO_DATA = {"FLOAT32": -9999.0, "FLOAT64": -9999.0, "INT32": -2147483648, "INT16": -32768}


@dataclass
class Mesh:
    """Triangles (``indices`` into ``positions``; empty for a point cloud) and per-vertex data."""

    positions: NDArray[np.float64]
    normals: NDArray[np.float32] | None
    indices: NDArray[np.uint32]
    feature: NDArray[np.int64]
    colours: NDArray[np.uint8]


def _unit(v: NDArray[np.float64]) -> NDArray[np.float64]:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, n, out=np.zeros_like(v), where=n > 0)


def _profile(width: NDArray[np.float64], height: NDArray[np.float64], box: NDArray[np.bool_],
             sides: int) -> NDArray[np.float64]:
    """(n, sides, 2) section outline offsets: a circle, or the rectangle for ducts."""
    theta = np.arange(sides) * (2 * np.pi / sides)
    circle = np.stack([np.cos(theta), np.sin(theta)], axis=-1)  # (sides, 2)
    # the rectangle along the same directions: scale each ray to the box's boundary
    with np.errstate(divide="ignore"):
        reach = 1.0 / np.maximum(np.abs(circle[:, 0]) / 0.5, np.abs(circle[:, 1]) / 0.5)
    square = circle * reach[:, None]  # unit square outline (half size 0.5)
    sx = np.where(box, width, width * 0.5)[:, None]
    sy = np.where(box, height, height * 0.5)[:, None]
    shape = np.where(box[:, None, None], square[None], circle[None])
    return np.stack([shape[..., 0] * sx, shape[..., 1] * sy], axis=-1)


def tube_mesh(a: NDArray[np.float64], b: NDArray[np.float64], width: NDArray[np.float64],
              height: NDArray[np.float64], box: NDArray[np.bool_], *, sides: int = 8,
              feature: NDArray[np.int64] | None = None,
              colours: NDArray[np.uint8] | None = None) -> Mesh:
    """A prism per segment ``a[i] → b[i]`` (metres, z up), open at its ends.

    Parameters
    ----------
    a, b : (n, 3) arrays
        Segment ends.
    width, height : (n,) arrays
        Outer size in metres: the diameter twice for round pipes; width (horizontal) and
        height (vertical) of a duct.
    box : (n,) bool array
        Rectangular section (``True``) or round.
    sides : int
        Faces around a round pipe (a duct's rectangle is drawn through the same number of
        points).
    feature : (n,) int array, optional
        Feature of each segment (default: the segment index).
    colours : (n, 4) uint8 array, optional
        RGBA of each segment (default: grey).

    Returns
    -------
    Mesh
        ``2 * sides`` vertices and triangles per segment; normals point outwards from the
        centreline.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    n = len(a)
    axis = _unit(b - a)
    up = np.broadcast_to([0.0, 0.0, 1.0], axis.shape)
    u = np.cross(axis, up)  # horizontal, across the pipe
    vertical = np.linalg.norm(u, axis=1) < 1e-9
    u[vertical] = [1.0, 0.0, 0.0]
    u = _unit(u)
    v = np.cross(u, axis)  # the section's "up"
    prof = _profile(np.asarray(width, float), np.asarray(height, float), np.asarray(box, bool),
                    sides)  # (n, sides, 2)
    offset = prof[..., :1] * u[:, None, :] + prof[..., 1:] * v[:, None, :]  # (n, sides, 3)
    ring_a = a[:, None, :] + offset
    ring_b = b[:, None, :] + offset
    positions = np.concatenate([ring_a, ring_b], axis=1).reshape(-1, 3)
    normals = _unit(np.concatenate([offset, offset], axis=1)).reshape(-1, 3).astype(np.float32)
    k = np.arange(sides)
    k1 = (k + 1) % sides
    # two triangles per face, counter-clockwise seen from outside
    quad = np.stack([np.stack([k, k1, sides + k1], -1), np.stack([k, sides + k1, sides + k], -1)],
                    axis=1).reshape(-1, 3)  # (2 * sides, 3) within one segment
    base = (np.arange(n) * 2 * sides)[:, None, None]
    indices = (quad[None] + base).reshape(-1, 3).astype(np.uint32)
    seg_feature = np.arange(n) if feature is None else np.asarray(feature)
    seg_colour = (np.full((n, 4), 160, np.uint8) if colours is None
                  else np.asarray(colours, dtype=np.uint8))
    return Mesh(positions, normals, indices, np.repeat(seg_feature, 2 * sides),
                np.repeat(seg_colour, 2 * sides, axis=0))


def box_mesh(corners: NDArray[np.float64], z0: NDArray[np.float64], z1: NDArray[np.float64], *,
             feature: NDArray[np.int64] | None = None,
             colours: NDArray[np.uint8] | None = None) -> Mesh:
    """Closed prisms over quadrilaterals ``corners`` (n, 4, 2) from ``z0`` to ``z1`` (flat shaded).

    Examples
    --------
    >>> m = box_mesh(np.array([[[0, 0], [2, 0], [2, 1], [0, 1]]], float), np.array([0.0]),
    ...              np.array([3.0]))
    >>> m.positions.shape, m.indices.shape, m.positions[:, 2].max()
    ((24, 3), (12, 3), np.float64(3.0))
    """
    c = np.asarray(corners, dtype=np.float64)
    n = len(c)
    ccw = _signed_area(c) >= 0
    c = np.where(ccw[:, None, None], c, c[:, ::-1])
    lo = np.asarray(z0, float)[:, None, None] * np.ones((1, 4, 1))
    hi = np.asarray(z1, float)[:, None, None] * np.ones((1, 4, 1))
    bottom = np.concatenate([c, lo], axis=-1)  # (n, 4, 3)
    top = np.concatenate([c, hi], axis=-1)
    nxt = np.roll(np.arange(4), -1)
    walls = np.stack([bottom, bottom[:, nxt], top[:, nxt], top], axis=2)  # (n, 4 walls, 4, 3)
    faces = np.concatenate([walls, bottom[:, None, ::-1], top[:, None]], axis=1)  # (n, 6, 4, 3)
    positions = faces.reshape(-1, 3)
    edge1 = faces[:, :, 1] - faces[:, :, 0]
    edge2 = faces[:, :, 2] - faces[:, :, 0]
    normal = _unit(np.cross(edge1, edge2))  # (n, 6, 3)
    normals = np.repeat(normal.reshape(-1, 3), 4, axis=0).astype(np.float32)
    quad = np.array([[0, 1, 2], [0, 2, 3]])
    base = (np.arange(n * 6) * 4)[:, None, None]
    indices = (quad[None] + base).reshape(-1, 3).astype(np.uint32)
    feat = np.arange(n) if feature is None else np.asarray(feature)
    col = np.full((n, 4), 160, np.uint8) if colours is None else np.asarray(colours, np.uint8)
    return Mesh(positions, normals, indices, np.repeat(feat, 24), np.repeat(col, 24, axis=0))


def _signed_area(c: NDArray[np.float64]) -> NDArray[np.float64]:
    x, y = c[..., 0], c[..., 1]
    return 0.5 * (x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y).sum(axis=1)


def property_table(frame: pd.DataFrame, types: Mapping[str, str]
                   ) -> tuple[dict[str, Any], dict[str, NDArray[Any] | tuple[bytes, NDArray[Any]]]]:
    """Class properties and column arrays for ``EXT_structural_metadata``.

    ``types`` maps a column to ``STRING`` or a scalar component type (``FLOAT32``, ``INT32``,
    ``INT16``); missing numbers become :data:`NO_DATA`, missing strings ``""``.

    Examples
    --------
    >>> props, cols = property_table(pd.DataFrame({"id": ["a", None], "d": [1.5, None]}),
    ...                              {"id": "STRING", "d": "FLOAT32"})
    >>> props["d"], cols["d"].tolist(), cols["id"][0]
    ({'type': 'SCALAR', 'componentType': 'FLOAT32', 'noData': -9999.0}, [1.5, -9999.0], b'a')
    """
    props: dict[str, Any] = {}
    cols: dict[str, Any] = {}
    np_types = {"FLOAT32": "<f4", "FLOAT64": "<f8", "INT32": "<i4", "INT16": "<i2"}
    for name, kind in types.items():
        values = frame[name] if name in frame else pd.Series([None] * len(frame), dtype=object)
        if kind == "STRING":
            text = values.astype(object).where(values.notna(), "").astype(str).to_numpy()
            encoded = [s.encode("utf-8") for s in text]
            offsets = np.zeros(len(encoded) + 1, dtype="<u4")
            offsets[1:] = np.cumsum([len(e) for e in encoded], dtype=np.uint64)
            props[name] = {"type": "STRING"}
            cols[name] = (b"".join(encoded), offsets)
        else:
            num = pd.to_numeric(values, errors="coerce").astype("Float64")
            filled = num.fillna(NO_DATA[kind]).to_numpy(dtype=np.float64)
            props[name] = {"type": "SCALAR", "componentType": kind, "noData": NO_DATA[kind]}
            cols[name] = filled.astype(np_types[kind])
    return props, cols


class _Blob:
    """The binary chunk being laid out: 8-byte aligned buffer views (property tables need it)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.views: list[Any] = []

    def view(self, data: bytes, target: int | None = None, stride: int | None = None) -> int:
        gl = import_optional("pygltflib", extra="tiles")
        self.views.append(gl.BufferView(buffer=0, byteOffset=self.size, byteLength=len(data),
                                        target=target, byteStride=stride))
        pad = (-len(data)) % 8
        self.parts += [data, b"\0" * pad]
        self.size += len(data) + pad
        return len(self.views) - 1


def glb_bytes(mesh: Mesh, *, class_name: str, table: pd.DataFrame, types: Mapping[str, str],
              schema_id: str = "geo3d", description: str = "") -> bytes:
    """One glTF binary holding ``mesh`` with its features' attributes from ``table``.

    Parameters
    ----------
    mesh : Mesh
        Positions in glTF axes (y up), metres; no ``indices`` for a point cloud.
    class_name : str
        Metadata class of the features (e.g. ``"pipe"``).
    table : pandas.DataFrame
        One row per feature, in feature-id order (``mesh.feature`` indexes it).
    types : mapping
        Column → ``STRING`` or component type, as in :func:`property_table`.
    schema_id, description : str
        The metadata schema's id and the class description.

    Returns
    -------
    bytes
        A ``.glb`` with ``EXT_mesh_features`` (feature ids in ``_FEATURE_ID_0``) and
        ``EXT_structural_metadata`` (one property table).
    """
    gl = import_optional("pygltflib", extra="tiles")
    blob = _Blob()
    accessors: list[Any] = []

    def accessor(array: NDArray[Any], ctype: int, kind: str, *, target: int | None,
                 normalized: bool = False, bounds: bool = False) -> int:
        data = np.ascontiguousarray(array)
        view = blob.view(data.tobytes(), target)
        extra: dict[str, Any] = {}
        if bounds:
            extra = {"min": data.min(axis=0).tolist(), "max": data.max(axis=0).tolist()}
        accessors.append(gl.Accessor(bufferView=view, componentType=ctype, count=len(data),
                                     type=kind, normalized=normalized or None, **extra))
        return len(accessors) - 1

    attrs: dict[str, int] = {
        "POSITION": accessor(mesh.positions.astype("<f4"), _FLOAT, "VEC3", target=_ARRAY_BUFFER,
                             bounds=True),
        "COLOR_0": accessor(mesh.colours.astype(np.uint8), _UBYTE, "VEC4", target=_ARRAY_BUFFER,
                            normalized=True),
        "_FEATURE_ID_0": accessor(mesh.feature.astype("<f4"), _FLOAT, "SCALAR",
                                  target=_ARRAY_BUFFER),
    }
    if mesh.normals is not None:
        attrs["NORMAL"] = accessor(mesh.normals.astype("<f4"), _FLOAT, "VEC3",
                                   target=_ARRAY_BUFFER)
    triangles = len(mesh.indices) > 0
    indices = (accessor(mesh.indices.reshape(-1).astype("<u4"), _UINT, "SCALAR",
                        target=_ELEMENT_ARRAY_BUFFER) if triangles else None)
    props, cols = property_table(table, types)
    table_props: dict[str, Any] = {}
    for name, col in cols.items():
        if isinstance(col, tuple):
            table_props[name] = {"values": blob.view(col[0]), "stringOffsets": blob.view(
                col[1].tobytes()), "stringOffsetType": "UINT32"}
        else:
            table_props[name] = {"values": blob.view(col.tobytes())}
    primitive = gl.Primitive(attributes=gl.Attributes(**attrs), indices=indices, material=0,
                             mode=4 if triangles else 0, extensions={"EXT_mesh_features": {
                                 "featureIds": [{"featureCount": len(table), "attribute": 0,
                                                 "propertyTable": 0}]}})
    material = gl.Material(pbrMetallicRoughness=gl.PbrMetallicRoughness(
        baseColorFactor=[1.0, 1.0, 1.0, 1.0], metallicFactor=0.0, roughnessFactor=0.8),
        doubleSided=not triangles)
    schema = {"id": schema_id, "classes": {class_name: {"description": description,
                                                        "properties": props}}}
    doc = gl.GLTF2(
        asset=gl.Asset(version="2.0", generator="geo3d (pygltflib)"), scene=0,
        scenes=[gl.Scene(nodes=[0])], nodes=[gl.Node(mesh=0)],
        meshes=[gl.Mesh(primitives=[primitive])], materials=[material], accessors=accessors,
        bufferViews=blob.views, buffers=[gl.Buffer(byteLength=blob.size)],
        extensionsUsed=["EXT_mesh_features", "EXT_structural_metadata"],
        extensions={"EXT_structural_metadata": {"schema": schema, "propertyTables": [
            {"class": class_name, "count": len(table), "properties": table_props}]}})
    doc.set_binary_blob(b"".join(blob.parts))
    return b"".join(doc.save_to_bytes())
