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

import logging

from . import datasets, errors
from ._config import options
from .errors import Geo3DError

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["Geo3DError", "__version__", "datasets", "errors", "options"]
