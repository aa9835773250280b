"""Underground utilities: the canonical pipe schema, reading and validation, the vertical model.

Pipes from six utilities (water, sewer, power, telecom, gas, district heating) become one
GeoDataFrame in the canonical schema (docs/underground.md): :func:`read_pipes` reads Korean UIS layers
or any line layer through a ``column_map``; :func:`validate_pipes` reports every problem at once;
:func:`pipes_to_3d` turns cover depths into 3D centrelines over a DEM. Code tables and layer
mappings are plain data in :mod:`geo3d.underground.schema`.
"""

from __future__ import annotations

from .pipes import PipeValidation, read_pipes, validate_pipes
from .schema_map import SchemaMap, read_schema_map
from .structures import read_structures
from .vertical import pipes_to_3d

__all__ = ["PipeValidation", "SchemaMap", "pipes_to_3d", "read_pipes", "read_schema_map",
           "read_structures", "validate_pipes"]
