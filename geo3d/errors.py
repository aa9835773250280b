"""One exception root for geo3d.

Every error geo3d raises on purpose is a :class:`Geo3DError`. Each subclass is also the
matching builtin, so ``except ValueError`` keeps working for code that does not know geo3d.
Messages say what is wrong *and* how to fix it, in the words of the interface the user is in:
an error may carry a second, command-line form of its message (``cli=``), which the ``geo3d``
command prints instead of the Python one (:func:`cli_text`). :func:`two_forms` writes both
from one template, so the two never drift apart.

Examples
--------
>>> from geo3d.errors import Geo3DError, SchemaError
>>> try:
...     raise SchemaError("column 'utility' is missing; add it or pass column_map={...}")
... except ValueError as e:
...     isinstance(e, Geo3DError)
True

One error, two interfaces:

>>> py, cli = two_forms("the pipes are in feet; pass {crs}",
...                     crs=("crs='EPSG:32616'", "--crs EPSG:32616"))
>>> exc = CRSError(py, cli=cli)
>>> str(exc)
"the pipes are in feet; pass crs='EPSG:32616'"
>>> cli_text(exc)
'the pipes are in feet; pass --crs EPSG:32616'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self

__all__ = [
    "CRSError",
    "EmptyResultError",
    "FileFormatError",
    "Geo3DError",
    "InputError",
    "MissingDependencyError",
    "MissingFileError",
    "OptionError",
    "OutputExistsError",
    "SchemaError",
    "cli_text",
    "two_forms",
]


class Geo3DError(Exception):
    """Root of every error raised by geo3d.

    Parameters
    ----------
    *args
        As for :class:`Exception`; the first is the message in Python words (arguments such as
        ``crs=``).
    cli : str, optional
        The same message in command-line words (options such as ``--crs``). The ``geo3d``
        command prints it instead of ``str(exc)``; see :func:`cli_text`.
    """

    def __init__(self, *args: Any, cli: str | None = None) -> None:
        super().__init__(*args)
        self.cli_message = cli

    def with_cli(self, cli: str) -> Self:
        """Set the command-line form of the message and return the error (``raise e.with_cli(...)``)."""
        self.cli_message = cli
        return self


class InputError(Geo3DError, ValueError):
    """An argument or input value is wrong (bad number, unknown name, empty geometry...)."""


class SchemaError(Geo3DError, ValueError):
    """A table or layer does not have the columns, codes or values it needs.

    Holds every problem found at once in :attr:`problems`.
    """

    def __init__(self, message: str, problems: Iterable[str] = (), *, cli: str | None = None,
                 cli_problems: Iterable[str] | None = None) -> None:
        self.problems = list(problems)
        listed = list(cli_problems) if cli_problems is not None else self.problems
        super().__init__(_with_list(message, self.problems),
                         cli=None if cli is None and cli_problems is None
                         else _with_list(cli if cli is not None else message, listed))


def _with_list(message: str, items: list[str]) -> str:
    return message + "\n" + "\n".join(f"  - {p}" for p in items) if items else message


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


class MissingDependencyError(Geo3DError, ImportError):
    """An optional dependency is not installed; the message names the pip extra."""


def cli_text(exc: BaseException) -> str:
    """The message of ``exc`` for the command line: its ``cli`` form when it has one.

    Examples
    --------
    >>> cli_text(InputError("pass overwrite=True", cli="pass --overwrite"))
    'pass --overwrite'
    >>> cli_text(ValueError("plain"))
    'plain'
    """
    cli = getattr(exc, "cli_message", None)
    return cli if cli is not None else str(exc)


def two_forms(template: str, **slots: tuple[str, str]) -> tuple[str, str]:
    """A message in Python words and in command-line words, from one ``str.format`` template.

    Each slot is ``(python_form, cli_form)``, e.g. ``crs=("crs='EPSG:5186'", "--crs EPSG:5186")``.

    Examples
    --------
    >>> two_forms("{s} says how to read each layer", s=("schema=", "--schema MAP.toml"))
    ('schema= says how to read each layer', '--schema MAP.toml says how to read each layer')
    """
    py = template.format(**{k: v[0] for k, v in slots.items()})
    cli = template.format(**{k: v[1] for k, v in slots.items()})
    return py, cli
