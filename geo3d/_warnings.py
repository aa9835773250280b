"""Warnings that point at the user's line, however deep inside geo3d they are raised.

A hand-counted ``stacklevel`` is wrong as soon as the call depth changes (a helper added, a
public function calling another); :func:`warn_at_caller` instead attributes the warning to
the first frame outside the geo3d package, the way ``warnings.warn(...,
skip_file_prefixes=...)`` does on Python ≥ 3.12.
"""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["PACKAGE_DIR", "warn_at_caller"]

#: Directory of the geo3d package (with a trailing separator): frames in files below it are
#: geo3d's own.
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_at_caller(message: str, category: type[Warning] = UserWarning) -> None:
    """Issue ``message`` attributed to the first calling frame outside geo3d.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_at_caller("check the input")
    >>> caught[0].filename.startswith(PACKAGE_DIR), str(caught[0].message)
    (False, 'check the input')
    """
    if sys.version_info >= (3, 12):
        warnings.warn(message, category, skip_file_prefixes=(PACKAGE_DIR,))
        return
    level = 2   # 1 is this function's own line; 2 its caller
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
