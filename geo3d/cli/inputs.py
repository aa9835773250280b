"""Options shared by every command that reads ``--pipes``: ``--schema`` and ``--crs``.

One decorator adds both, with one help text, so every command describes agency data the same
way (docs/contracts.md and docs/agency-data.md); :func:`read_pipes_from_options`
reads the pipes with them (validated once, at the boundary, by :func:`geo3d.read_pipes`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

__all__ = ["pipe_input_options", "read_pipes_from_options"]


def pipe_input_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--schema MAP.toml`` and ``--crs CRS`` (passed as ``schema`` and ``crs``)."""
    func = click.option(
        "--crs", "crs", default=None, metavar="CRS",
        help="CRS of the input coordinates (e.g. EPSG:5186), when a file states none or a wrong "
             "one. Non-metric CRSs (feet, degrees) and Bessel datums are reprojected to metres.",
    )(func)
    func = click.option(
        "--schema", "schema", default=None, type=click.Path(path_type=Path), metavar="MAP.toml",
        help="Schema map: how to read layers that are not UIS or canonical (fields, units, "
             "value maps, CRS per layer). See docs/agency-data.md.",
    )(func)
    return func


def read_pipes_from_options(pipes: Any, *, schema: Path | None, crs: str | None) -> Any:
    """:func:`geo3d.read_pipes` with the command's ``--pipes``, ``--schema`` and ``--crs``."""
    from ..errors import InputError
    from ..underground import read_pipes

    if isinstance(pipes, str | Path) and not Path(pipes).exists():
        msg = f"--pipes {pipes} does not exist"
        raise InputError(msg)
    return read_pipes(pipes, schema=schema, source_crs=crs)
