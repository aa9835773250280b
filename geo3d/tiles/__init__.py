"""Vector tiles for web maps: pipes per utility and area statistics, MVT in PMTiles.

mapbox-vector-tile and pmtiles are optional (``pip install 'geo3d[tiles]'``), imported only
when tiles are written or read.
"""

from __future__ import annotations

from .mvt import PIPE_ATTRIBUTES, lonlat_to_tile, read_tile, write_tiles

__all__ = ["PIPE_ATTRIBUTES", "lonlat_to_tile", "read_tile", "write_tiles"]
