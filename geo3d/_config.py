"""One validated options object (progress bars, cache dir, n_jobs, logging).

Analysis parameters never live here: they are function arguments.

Examples
--------
>>> import geo3d
>>> geo3d.options.progress
'auto'
>>> with geo3d.options.context(progress=False):
...     geo3d.options.progress
False
>>> geo3d.options.colour = "red"
Traceback (most recent call last):
...
geo3d.errors.OptionError: unknown option 'colour'; valid options: cache_dir, log_level, n_jobs, progress
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .errors import OptionError

__all__ = ["Options", "options"]


def _check_progress(value: Any) -> bool | str:
    if value in (True, False, "auto"):
        return value  # type: ignore[no-any-return,unused-ignore]
    raise OptionError(f"progress must be True, False or 'auto', not {value!r}")


def _check_cache_dir(value: Any) -> Path:
    try:
        return Path(value).expanduser()
    except TypeError:
        raise OptionError(f"cache_dir must be a path, not {value!r}") from None


def _check_n_jobs(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value == 0 or value < -1:
        raise OptionError(f"n_jobs must be a positive integer or -1 (all cores), not {value!r}")
    return value


def _check_log_level(value: Any) -> str:
    name = logging.getLevelName(value) if isinstance(value, int) else str(value).upper()
    if name not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise OptionError(f"log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {value!r}")
    logging.getLogger("geo3d").setLevel(name)
    return name


_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "cache_dir": _check_cache_dir,
    "log_level": _check_log_level,
    "n_jobs": _check_n_jobs,
    "progress": _check_progress,
}


class Options:
    """Run-time settings of geo3d.

    Attributes
    ----------
    progress : bool or "auto"
        Show progress bars on long work. ``"auto"`` shows them in terminals and notebooks but
        not when stderr is not a terminal (batch jobs, CI).
    cache_dir : pathlib.Path
        Where geo3d may cache derived data (default ``~/.cache/geo3d`` or ``$GEO3D_CACHE_DIR``).
    n_jobs : int
        Worker processes for work that can use them; -1 means all cores.
    log_level : str
        Level of the ``geo3d`` logger.
    """

    __slots__ = ("_values",)

    def __init__(self) -> None:
        object.__setattr__(
            self,
            "_values",
            {
                "cache_dir": Path(os.environ.get("GEO3D_CACHE_DIR", "~/.cache/geo3d")).expanduser(),
                "log_level": "WARNING",
                "n_jobs": 1,
                "progress": "auto",
            },
        )

    def __getattr__(self, name: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        if name.startswith("__"):  # Python's protocols (copy, pickle, mock) probe dunders
            raise AttributeError(name)
        raise OptionError(self._unknown(name))

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _VALIDATORS:
            raise OptionError(self._unknown(name))
        self._values[name] = _VALIDATORS[name](value)

    def __dir__(self) -> list[str]:
        return sorted(_VALIDATORS)

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in sorted(self._values.items()))
        return f"Options({body})"

    @staticmethod
    def _unknown(name: str) -> str:
        return f"unknown option {name!r}; valid options: {', '.join(sorted(_VALIDATORS))}"

    @contextlib.contextmanager
    def context(self, **values: Any) -> Iterator[Options]:
        """Set options inside a ``with`` block and restore them afterwards."""
        old = dict(self._values)
        try:
            for key, value in values.items():
                setattr(self, key, value)
            yield self
        finally:
            self._values.clear()
            self._values.update(old)
            logging.getLogger("geo3d").setLevel(old["log_level"])


options = Options()
