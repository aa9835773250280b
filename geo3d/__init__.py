"""geo3d: 3D city data for GIS analysts.

Two jobs from Seoul's digital-twin programme:

* **Indoor 3D addresses** — a LiDAR scan of a market becomes levels, stores and safety
  facilities, each with a legal-style Korean 3D address (입체주소).
* **Underground utilities** — six pipe layers become one validated 3D network for virtual
  excavation, cross-section sheets and aging statistics.

Conventions
-----------
x = easting, y = northing, z = up, in metres of a projected CRS (Korean data: usually
EPSG:5186). bbox = (left, bottom, right, top). Transformations use ``always_xy=True``.
Mixing CRSs is an error, never a guess. Every depth says what it refers to (top, centre,
invert, bottom) and whether it is a cover depth or an elevation; unknown is not 0. Outputs are
written atomically. Randomised steps take a seed.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from . import datasets, errors
from ._config import options
from .errors import Geo3DError

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

# everyday entry points, imported on first use so that `import geo3d` stays light
_LAZY: dict[str, str] = {
    "read_las": "geo3d.io.las",
    "open_las": "geo3d.io.las",
    "write_las": "geo3d.io.las",
    "PointCloud": "geo3d.pointcloud.cloud",
    "levels_from_cloud": "geo3d.indoor.levels",
    "segment_points": "geo3d.pointcloud.segment",
    "objects_from_segments": "geo3d.pointcloud.objects",
    "classify_objects": "geo3d.pointcloud.classify",
    "segment_scan": "geo3d.indoor.scan",
    "score_segmentation": "geo3d.pointcloud.evaluate",
    "read_pipes": "geo3d.underground.pipes",
    "read_schema_map": "geo3d.underground.schema_map",
    "read_structures": "geo3d.underground.structures",
    "validate_pipes": "geo3d.underground.pipes",
    "pipes_to_3d": "geo3d.underground.vertical",
    "read_dem": "geo3d.io.raster",
    "assign_addresses": "geo3d.address.assign",
    "scan_to_addresses": "geo3d.address.pipeline",
    "to_imdf": "geo3d.address.imdf",
    "excavate": "geo3d.underground.excavation",
    "cross_section": "geo3d.underground.section",
    "plot_section": "geo3d.sheets.section_sheet",
    "section_to_pdf": "geo3d.sheets.section_sheet",
    "section_atlas": "geo3d.sheets.section_sheet",
    "aging_statistics": "geo3d.stats.aging",
    "write_tiles": "geo3d.tiles.mvt",
}

__all__ = ["Geo3DError", "__version__", "datasets", "errors", "options", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'geo3d' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
