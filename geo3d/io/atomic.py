"""Atomic, locked output: build beside the target, then rename; one writer at a time.

The guarantees (docs/guarantees.md):

* **Atomic.** Every output is written to a temporary beside it and renamed into place when
  complete: a failed or interrupted run leaves no half-written file.
* **Temporaries say whose they are.** Their names carry the host and process id
  (``.NAME.geo3d-HOST-PID-XXXXXX.tmp``), so a later run removes the ones whose process is dead
  (killed by SIGKILL, a power cut …) and never touches a live run's.
* **One writer per output.** An advisory lock (``fcntl.flock`` on ``.NAME.geo3d-lock`` beside
  the output, removed when released) is held while an output is written; a second process
  asking for the same output gets :class:`~geo3d.errors.OutputBusyError` at once. Locks are
  re-entrant within a process.
* **Overwriting a folder replaces only what is written.** Files of the new output replace their
  namesakes one by one (each rename atomic); other files in the folder are kept.
* **Checked before the work.** :func:`check_output` says whether an output can be written (not
  a folder where a file is expected, parent a folder one can write in …) before any computing.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_path(d / "out.txt") as tmp:
...     _ = tmp.write_text("hello")
>>> (d / "out.txt").read_text()
'hello'
>>> with atomic_path(d / "out.txt") as tmp:
...     pass
Traceback (most recent call last):
...
geo3d.errors.OutputExistsError: ... exists; pass overwrite=True to replace it
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError, OutputBusyError, OutputExistsError

try:  # POSIX advisory locks; elsewhere outputs are not locked
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "atomic_dir",
    "atomic_path",
    "check_can_write",
    "check_output",
    "claim_output",
    "lock_output",
    "remove_stale_temporaries",
    "temporary_name",
]

log = logging.getLogger(__name__)

_TAG = "geo3d"
_HELD: dict[str, list[int]] = {}  # lock file -> [depth, fd] for the locks this process holds


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"


def temporary_name(path: str | os.PathLike[str], kind: str = "tmp") -> Path:
    """A hidden sibling of ``path`` naming this host and process: ``.NAME.geo3d-HOST-PID-XXXXXX.tmp``.

    The suffix of ``path`` is kept (drivers choose formats by suffix).
    """
    path = Path(path)
    return path.with_name(f".{path.name}.{_TAG}-{_host()}-{os.getpid()}-{secrets.token_hex(3)}.{kind}"
                          f"{path.suffix}")


def _lock_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{_TAG}-lock")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_temporaries(path: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporaries of ``path`` left by dead geo3d processes on this host.

    Only names made by :func:`temporary_name` for this very output are considered, and only
    those whose process id is not running; a live run's temporaries are never touched.

    Returns
    -------
    list of Path
        What was removed.
    """
    path = Path(path)
    pattern = re.compile(re.escape(f".{path.name}.{_TAG}-") + r"(?P<host>[A-Za-z0-9]+)-(?P<pid>\d+)-[0-9a-f]+\.(tmp|old)")
    removed: list[Path] = []
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        m = pattern.match(entry.name)
        if m is None or m["host"] != _host() or _alive(int(m["pid"])):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    if removed:
        log.warning("removed %d temporary file(s) of %s left by interrupted runs: %s", len(removed), path.name,
                    ", ".join(p.name for p in removed))
    return removed


def check_can_write(path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Raise :class:`OutputExistsError` when ``path`` exists and ``overwrite`` is false."""
    path = Path(path)
    if path.exists() and not overwrite:
        msg = f"{path} exists; pass overwrite=True to replace it"
        raise OutputExistsError(msg, cli=f"{path} exists; add --overwrite to replace it")
    return path


def check_output(path: str | os.PathLike[str], *, overwrite: bool = False, folder: bool = False,
                 what: str = "output") -> Path:
    """Check, before any work, that ``path`` can be written as a file (or a ``folder``).

    Parameters
    ----------
    path : str or path-like
    overwrite : bool
        Whether an existing output may be replaced.
    folder : bool
        The output is a folder of files (else one file).
    what : str
        How to name the output in messages (the CLI passes its option, e.g. ``"--out"``).

    Raises
    ------
    InputError
        A folder where a file is expected (or the reverse), a parent that is a file, or a
        folder one cannot write in.
    OutputExistsError
        ``path`` exists and ``overwrite`` is false.
    """
    path = Path(path)
    if path.is_dir() and not folder:
        msg = f"{what} {path} is a folder; give a file path (e.g. {path / 'out'}{'' if path.suffix else '.csv'})"
        raise InputError(msg)
    if path.exists() and folder and not path.is_dir():
        msg = f"{what} {path} is a file; give a folder path for the outputs"
        raise InputError(msg)
    check_can_write(path, overwrite=overwrite)
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        msg = f"{what} {path} cannot be created: {ancestor} is a file, not a folder"
        raise InputError(msg)
    for place in [ancestor] + ([path] if folder and path.is_dir() else []):
        if not os.access(place, os.W_OK | os.X_OK):
            msg = f"{what} {path} cannot be written: no permission to write in the folder {place}"
            raise InputError(msg)
    return path


@contextlib.contextmanager
def lock_output(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold the advisory lock of output ``path`` (re-entrant in this process).

    Raises
    ------
    OutputBusyError
        Another process holds it: another run is writing the same output.
    """
    lock = _lock_name(Path(path).absolute())
    key = str(lock)
    if fcntl is None or key in _HELD:
        if key in _HELD:
            _HELD[key][0] += 1
        try:
            yield
        finally:
            if key in _HELD:
                _HELD[key][0] -= 1
        return
    fd = _acquire(lock, Path(path))
    _HELD[key] = [1, fd]
    try:
        yield
    finally:
        _HELD[key][0] -= 1
        if _HELD[key][0] <= 0:
            del _HELD[key]
            _release(lock, fd)


def _acquire(lock: Path, path: Path) -> int:
    for _ in range(5):
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 64).decode(errors="replace").strip() or "?"
            os.close(fd)
            msg = (f"{path} is being written by another geo3d run (process {owner}); wait for it to "
                   "finish, or write to another output")
            raise OutputBusyError(msg) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:  # its previous holder removed it as we opened it
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()} on {_host()}".encode())
            return fd
        os.close(fd)
    msg = f"cannot take the lock {lock} of {path}: it keeps being replaced; retry"  # pragma: no cover
    raise OutputBusyError(msg)  # pragma: no cover


def _release(lock: Path, fd: int) -> None:
    try:
        if os.fstat(fd).st_ino == os.stat(lock).st_ino:
            lock.unlink()
    except FileNotFoundError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def claim_output(path: str | os.PathLike[str], *, overwrite: bool = False, folder: bool = False,
                 what: str = "output") -> Iterator[Path]:
    """Check, lock and clean beside an output for the duration of a run.

    :func:`check_output`, then the missing parent folders are made (and removed again if the
    block fails before writing the output), the output's lock is taken, and temporaries left
    by dead runs are removed. Commands enter it first, so bad outputs fail before any work
    and two runs never write the same output.
    """
    path = check_output(path, overwrite=overwrite, folder=folder, what=what)
    made = [p for p in [path.parent, *path.parent.parents] if not p.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with lock_output(path):
            remove_stale_temporaries(path)
            yield path
    except BaseException:
        if not path.exists():
            for p in made:  # innermost first
                with contextlib.suppress(OSError):
                    p.rmdir()
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``path`` on success.

    The temporary keeps the target's suffix (drivers pick formats by suffix) and is removed
    when the block raises (or by a later run when this process was killed). The output's lock
    is held meanwhile (:func:`lock_output`).
    """
    path = check_can_write(path, overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    with lock_output(path):
        remove_stale_temporaries(path)
        tmp = temporary_name(path)
        try:
            yield tmp
            if not tmp.exists():
                msg = f"nothing was written to {path}"
                raise OSError(msg)
            check_can_write(path, overwrite=overwrite)  # appeared meanwhile (an unlocked writer)
            os.replace(tmp, path)
        finally:
            _remove(tmp)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Like :func:`atomic_path` for a folder of outputs: build it aside, then move it in.

    A new folder is renamed into place whole. Into an existing folder (``overwrite=True``) each
    file built replaces its namesake by an atomic rename, and the folder's other files are kept.
    """
    path = check_can_write(path, overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    with lock_output(path):
        remove_stale_temporaries(path)
        tmp = temporary_name(path)
        tmp.mkdir()  # with the umask's mode, like any folder
        try:
            yield tmp
            check_can_write(path, overwrite=overwrite)
            if path.is_dir():
                _merge_into(tmp, path)
            else:
                if path.exists():
                    path.unlink()
                os.replace(tmp, path)
        finally:
            _remove(tmp)


def _merge_into(src: Path, dst: Path) -> None:
    """Move every entry of ``src`` onto its namesake in ``dst`` (atomic renames)."""
    for entry in sorted(src.iterdir()):
        target = dst / entry.name
        if target.is_dir() and not target.is_symlink():
            aside = temporary_name(target, "old")
            os.replace(target, aside)
            os.replace(entry, target)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(entry, target)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)
