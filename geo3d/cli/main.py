"""Command group, logging flags and the error → exit-code mapping."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from .. import __version__
from ..errors import Geo3DError, cli_text

__all__ = ["cli", "main"]


def _configure_logging(verbose: int, quiet: int) -> None:
    level = logging.WARNING - 10 * verbose + 10 * quiet
    level = min(max(level, logging.DEBUG), logging.CRITICAL)
    logger = logging.getLogger("geo3d")
    logger.setLevel(level)
    if not any(getattr(h, "_geo3d_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._geo3d_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    for existing in logger.handlers:
        if getattr(existing, "_geo3d_cli", False):
            existing.setLevel(level)


def verbosity_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``-v/--verbose`` and ``-q/--quiet`` (countable) to a command."""

    def callback(ctx: click.Context, param: click.Parameter, value: int) -> int:
        store = ctx.ensure_object(dict)
        store[param.name] = store.get(param.name, 0) + value
        _configure_logging(store.get("verbose", 0), store.get("quiet", 0))
        return value

    func = click.option("-q", "--quiet", count=True, expose_value=False, callback=callback,
                        is_eager=True, help="Less output (repeat for even less).")(func)
    func = click.option("-v", "--verbose", count=True, expose_value=False, callback=callback,
                        is_eager=True, help="More output (-v info, -vv debug).")(func)
    return func


class _Geo3DGroup(click.Group):
    """Maps geo3d errors to exit code 2 with a one-line message; anything else to 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Geo3DError as exc:
            first, *rest = cli_text(exc).splitlines() or [type(exc).__name__]
            click.echo(f"Error: {first}", err=True)
            for line in rest:
                click.echo(line, err=True)
            ctx.exit(2)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:  # output piped into `head`: stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(0)
        except Exception as exc:  # an internal error: say so, exit 1
            logging.getLogger("geo3d").debug("internal error", exc_info=True)
            click.echo(f"Internal error ({type(exc).__name__}): {exc}. "
                       "Re-run with -vv for the traceback and report it.", err=True)
            ctx.exit(1)


@click.group(cls=_Geo3DGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="geo3d")
@verbosity_options
def cli() -> None:
    """geo3d: indoor 3D addresses from LiDAR scans, and underground utility networks."""


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``geo3d`` console script."""
    from . import commands  # noqa: F401  (registers the commands)

    cli.main(args=argv, prog_name="geo3d")
