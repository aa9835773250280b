"""Point clouds as numpy arrays: :class:`PointCloud`, thinning and outlier removal.

open3d is used only inside this package, through :meth:`PointCloud.to_open3d`, and imported
lazily; importing :mod:`geo3d.pointcloud` does not import open3d.
"""

from __future__ import annotations

from .cloud import PointCloud, SourceInfo
from .filter import remove_outliers, voxel_thin

__all__ = ["PointCloud", "SourceInfo", "remove_outliers", "voxel_thin"]
