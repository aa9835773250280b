"""Command group, logging flags, the error → exit-code mapping, and the run's guarantees.

Every command run through the group gets (docs/guarantees.md):

* exit 0 on success, 2 on bad input (``Geo3DError``), 1 on an internal error, 130 on Ctrl-C
  and 143 on SIGTERM (129 on SIGHUP), with the outputs' temporaries removed;
* stderr's first line is the error when there is one: warnings (geo3d's logged ones and the
  libraries' Python warnings, one line each) are held until the command ends and printed after
  the error or at the end;
* outputs claimed up front by :func:`claim_outputs` (checked, locked, stale temporaries
  removed) before any work;
* ``--help`` / ``-h`` anywhere on a command's line shows its help (never taken as a value).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import click

from .. import __version__
from ..errors import Geo3DError, cli_text

__all__ = ["Interrupted", "claim_outputs", "cli", "echo_warning", "main"]

#: exit codes of interrupted runs: 128 + the signal's number (shells report Ctrl-C as 130)
_SIGNALS = {signal.SIGINT: 130, signal.SIGTERM: 143, getattr(signal, "SIGHUP", signal.SIGTERM): 129}


class Interrupted(BaseException):
    """Raised in the main thread when the run receives SIGTERM or SIGHUP (cleans up like Ctrl-C)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


class _HeldLines:
    """stderr lines held while a command runs (so that an error can come first)."""

    def __init__(self) -> None:
        self.lines: list[str] | None = None  # None: not holding, print at once
        self.seen: set[str] = set()

    def add(self, line: str, key: str | None = None) -> None:
        """Hold ``line`` (once per ``key``: the same message logged and warned shows once)."""
        key = " ".join((key or line).split())
        if self.lines is None:
            click.echo(line, err=True)
        elif key not in self.seen:
            self.seen.add(key)
            self.lines.append(line)

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        self.lines, self.seen = [], set()
        try:
            yield
        finally:
            self.flush()

    def flush(self) -> None:
        lines, self.lines = self.lines or [], None
        for line in lines:
            click.echo(line, err=True)


_HELD = _HeldLines()


def echo_warning(text: str, *, key: str | None = None) -> None:
    """Print ``Warning: text`` on stderr as one line (held until the command ends, after any error)."""
    if logging.getLogger("geo3d").getEffectiveLevel() > logging.WARNING:
        return
    _HELD.add("Warning: " + " ".join(str(text).split()), key=key)


class _HeldHandler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """Log records on stderr: warnings and errors held with :func:`echo_warning`'s lines."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING and _HELD.lines is not None:
            try:
                _HELD.add(" ".join(self.format(record).split()), key=record.getMessage())
            except Exception:  # pragma: no cover - logging must never raise
                self.handleError(record)
            return
        super().emit(record)


def _showwarning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: Any = None, line: str | None = None) -> None:
    """Python warnings (ours and the libraries') as one ``Warning:`` line each, no source line."""
    module = Path(filename).stem if filename else "?"
    echo_warning(f"{message} ({category.__name__} in {module})", key=str(message))


def _configure_logging(verbose: int, quiet: int) -> None:
    level = logging.WARNING - 10 * verbose + 10 * quiet
    level = min(max(level, logging.DEBUG), logging.CRITICAL)
    logger = logging.getLogger("geo3d")
    logger.setLevel(level)
    if not any(getattr(h, "_geo3d_cli", False) for h in logger.handlers):
        handler = _HeldHandler(sys.stderr)
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


def claim_outputs(*paths: Path | str | None, overwrite: bool = False, folder: bool = False,
                  option: str = "--out") -> list[Path]:
    """Claim a command's outputs before any work: check, lock, clean stale temporaries.

    Each path is checked (:func:`geo3d.io.atomic.check_output`: bad input exits 2 now, not
    after the computation), its missing parent folders are made (and removed if the run
    fails), its advisory lock is held until the command ends (a concurrent run on the same
    output exits 2), and temporaries left there by killed runs are removed. ``None`` paths are
    skipped. Call it first in a command, e.g. ``claim_outputs(out, overwrite=overwrite)``.
    """
    from ..io.atomic import claim_output

    stack = click.get_current_context().find_root().meta.get("geo3d.claims")
    claimed = []
    for path in sorted({Path(p) for p in paths if p is not None}, key=str):
        cm = claim_output(path, overwrite=overwrite, folder=folder, what=option)
        claimed.append(stack.enter_context(cm) if stack is not None else _check_only(cm))
    return claimed


def _check_only(cm: contextlib.AbstractContextManager[Path]) -> Path:
    with cm as path:  # outside the group (a bare click invocation): check only
        return path


@contextlib.contextmanager
def _signals_as_exceptions() -> Iterator[None]:
    """SIGTERM/SIGHUP raise :class:`Interrupted` so that clean-ups run as for Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        for sig in _SIGNALS:  # once: a second signal during the clean-up is ignored
            if sig != signal.SIGINT:
                signal.signal(sig, signal.SIG_IGN)
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, handler) for sig in _SIGNALS if sig != signal.SIGINT}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class _Geo3DCommand(click.Command):
    """``--help`` anywhere shows the help; an option's value may not be another option."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        head = args[: args.index("--")] if "--" in args else args
        if any(a in ctx.help_option_names for a in head):
            click.echo(self.get_help(ctx), color=ctx.color)
            ctx.exit(0)
        rest = super().parse_args(ctx, args)
        names = {n for p in self.params for n in (*p.opts, *p.secondary_opts)}
        for param in self.params:
            value = ctx.params.get(param.name or "")
            if isinstance(param, click.Option) and isinstance(value, str | Path) and str(value) in names:
                msg = f"{param.opts[-1]} needs a value, got the option {str(value)!r}"
                raise click.UsageError(msg, ctx)
        return rest


class _Geo3DGroup(click.Group):
    """Maps geo3d errors to exit code 2 with a one-line message; anything else to 1."""

    command_class = _Geo3DCommand

    def invoke(self, ctx: click.Context) -> Any:
        with contextlib.ExitStack() as claims, _HELD.holding(), _signals_as_exceptions(), \
                warnings.catch_warnings():
            warnings.showwarning = _showwarning
            ctx.meta["geo3d.claims"] = claims
            return self._invoke_reporting(ctx)

    def _invoke_reporting(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Geo3DError as exc:
            first, *rest = cli_text(exc).splitlines() or [type(exc).__name__]
            click.echo(f"Error: {first}", err=True)
            for line in rest:
                click.echo(line, err=True)
            ctx.exit(2)
        except (KeyboardInterrupt, Interrupted) as exc:
            signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
            click.echo(f"Interrupted ({signal.Signals(signum).name}): stopped; unfinished "
                       "outputs and their temporaries were removed", err=True)
            ctx.exit(_SIGNALS.get(signal.Signals(signum), 130))
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
