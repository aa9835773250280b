"""The ``geo3d`` command: a thin shell over library functions.

Every command accepts ``-v/-q``; exits 0 on success, 2 on bad input (a message on stderr says
what is wrong and how to fix it) and 1 on an internal error.
"""

from __future__ import annotations

from .main import cli, main

__all__ = ["cli", "main"]
