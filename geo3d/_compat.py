"""Optional heavy dependencies, imported lazily with an error that names the pip extra."""

from __future__ import annotations

import ctypes
import importlib
import logging
from types import ModuleType

from .errors import MissingDependencyError

__all__ = ["import_open3d", "import_optional"]

log = logging.getLogger(__name__)

# module name -> (pip extra, conda-forge / pip package name)
_EXTRAS: dict[str, tuple[str, str]] = {
    "open3d": ("pointcloud", "open3d-cpu"),
    "pye57": ("pointcloud", "pye57"),
    "matplotlib": ("viz", "matplotlib"),
    "pydeck": ("viz", "pydeck"),
    "koreanize_matplotlib": ("viz", "koreanize-matplotlib"),
    "mapbox_vector_tile": ("tiles", "mapbox-vector-tile"),
    "pmtiles": ("tiles", "pmtiles"),
    "dask": ("parallel", "dask"),
    "dask_geopandas": ("parallel", "dask-geopandas"),
    "distributed": ("parallel", "distributed"),
    "openpyxl": ("excel", "openpyxl"),
    "pyarrow": ("parquet", "pyarrow"),
}


def import_optional(name: str, *, extra: str | None = None) -> ModuleType:
    """Import an optional dependency or raise an error that says how to install it.

    Parameters
    ----------
    name : str
        Module name, e.g. ``"pydeck"``.
    extra : str, optional
        The geo3d pip extra that provides it; looked up when not given.

    Returns
    -------
    module

    Raises
    ------
    MissingDependencyError
        When the module cannot be imported.

    Examples
    --------
    >>> import_optional("json").__name__
    'json'
    >>> import_optional("no_such_module_xyz", extra="viz")
    Traceback (most recent call last):
    ...
    geo3d.errors.MissingDependencyError: ... pip install 'geo3d[viz]' ...
    """
    if name.split(".")[0] == "open3d":
        _preload_libusb()
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        extra = extra or _EXTRAS.get(name.split(".")[0], ("all", name))[0]
        package = _EXTRAS.get(name.split(".")[0], ("", name))[1]
        msg = (
            f"{name!r} is needed for this and could not be imported ({exc}). "
            f"Install it with: pip install 'geo3d[{extra}]' (or pip install {package})."
        )
        raise MissingDependencyError(msg) from exc


def import_open3d() -> ModuleType:
    """Import open3d, providing ``libusb-1.0.so.0`` from the ``libusb-package`` wheel if needed.

    open3d's Linux wheels link libusb-1.0, which a fresh Debian machine lacks. When the system
    library is missing, the copy shipped by ``libusb-package`` is loaded first (RTLD_GLOBAL), so
    the dynamic linker finds it when open3d loads.
    """
    return import_optional("open3d", extra="pointcloud")


_libusb_done = False


def _preload_libusb() -> None:
    global _libusb_done
    if _libusb_done:
        return
    _libusb_done = True
    try:
        ctypes.CDLL("libusb-1.0.so.0", mode=ctypes.RTLD_GLOBAL)
        return
    except OSError:
        pass
    try:
        import libusb_package
    except ImportError:
        log.debug("libusb-package not installed; relying on the system libusb-1.0")
        return
    path = libusb_package.get_library_path()
    if path is None:
        return
    try:
        ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
        log.debug("preloaded %s for open3d", path)
    except OSError as exc:  # pragma: no cover - a broken wheel
        log.warning("could not preload libusb from %s: %s", path, exc)
