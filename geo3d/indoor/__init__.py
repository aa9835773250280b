"""Indoor structure from point clouds: levels (floor slabs) and aisles."""

from .levels import floor_label, levels_from_cloud, levels_of_points

__all__ = ["floor_label", "levels_from_cloud", "levels_of_points"]
