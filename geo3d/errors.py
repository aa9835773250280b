"""One exception root for geo3d.

Every error geo3d raises on purpose is a :class:`Geo3DError`. Each subclass is also the
matching builtin, so ``except ValueError`` keeps working for code that does not know geo3d.
Messages say what is wrong *and* how to fix it.

Examples
--------
>>> from geo3d.errors import Geo3DError, SchemaError
>>> try:
...     raise SchemaError("column 'utility' is missing; add it or pass column_map={...}")
... except ValueError as e:
...     isinstance(e, Geo3DError)
True
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "CRSError",
    "EmptyResultError",
    "FileFormatError",
    "Geo3DError",
    "InputError",
    "MissingDependencyError",
    "MissingFileError",
    "OptionError",
    "OutputBusyError",
    "OutputExistsError",
    "SchemaError",
]


class Geo3DError(Exception):
    """Root of every error raised by geo3d."""


class InputError(Geo3DError, ValueError):
    """An argument or input value is wrong (bad number, unknown name, empty geometry...)."""


class SchemaError(Geo3DError, ValueError):
    """A table or layer does not have the columns, codes or values it needs.

    Holds every problem found at once in :attr:`problems`.
    """

    def __init__(self, message: str, problems: Iterable[str] = ()) -> None:
        self.problems = list(problems)
        if self.problems:
            message = message + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)


class CRSError(Geo3DError, ValueError):
    """A coordinate reference system is missing, wrong, or mixed."""


class FileFormatError(Geo3DError, OSError):
    """A file is corrupt, truncated, or not of the format it claims."""


class EmptyResultError(Geo3DError, ValueError):
    """An operation produced nothing where something was required."""


class OptionError(Geo3DError, ValueError):
    """An unknown option name or an invalid option value."""


class MissingFileError(Geo3DError, FileNotFoundError):
    """An input file or folder does not exist."""


class OutputExistsError(Geo3DError, FileExistsError):
    """An output exists and ``overwrite`` was not given."""


class OutputBusyError(Geo3DError, BlockingIOError):
    """Another process is writing the same output (it holds the output's lock)."""


class MissingDependencyError(Geo3DError, ImportError):
    """An optional dependency is not installed; the message names the pip extra."""
