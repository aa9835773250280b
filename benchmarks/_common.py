"""Shared pieces of the benchmark scripts: machine facts and their section of RESULTS.md.

Each benchmark owns one section of ``benchmarks/RESULTS.md``, between ``<!-- NAME -->`` and
``<!-- /NAME -->``, and rewrites only that section.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import resource
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SHARED_DATA = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()


def machine(*packages: str) -> str:
    """One line: cores, CPU, Python, numpy and the given packages' versions, OS, date."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib import metadata

    dists = {"open3d": ("open3d-cpu", "open3d"), "lazrs": ("lazrs",), "cc3d": ("connected-components-3d",)}
    versions = []
    for name in packages:
        for dist in dists.get(name, (name.replace("_", "-"),)):
            try:
                versions.append(f"{name} {metadata.version(dist)}")
                break
            except metadata.PackageNotFoundError:
                continue
        else:
            versions.append(f"{name} (not installed)")
    extra = ", ".join(versions)
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, numpy {np.__version__}"
        f"{', ' + extra if extra else ''}, {platform.system()} {platform.release()}, "
        f"{_dt.date.today().isoformat()}"
    )


def peak_rss_mb(*, children: bool = False) -> float:
    """Peak resident memory of this process (or of its finished children), in MB.

    For this process, Linux's ``VmHWM`` (the high-water mark of this program's own memory):
    ``ru_maxrss`` survives ``exec``, so a child started from a big parent would report at least
    the parent's size.
    """
    if not children:
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
        except OSError:
            pass
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024.0


def reset_peak_rss() -> float | None:
    """Reset this process's ``VmHWM`` to its current size; return that size in MB.

    Linux resets the high-water mark when ``5`` is written to ``/proc/self/clear_refs``, so
    ``peak_rss_mb() - reset_peak_rss()`` taken around a call is the memory the call itself
    needed on top of what the process held before it (the input already loaded). None where
    this is not possible (not Linux, or /proc not writable).
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def write_section(name: str, text: str) -> None:
    """Replace (or append) the section ``name`` of RESULTS.md with ``text``."""
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    section = f"{start}\n{text.rstrip()}\n{end}\n"
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n\n"
    if start in old and end in old:
        head, rest = old.split(start, 1)
        _, tail = rest.split(end, 1)
        new = head + section + tail.lstrip("\n")
    else:
        new = old.rstrip("\n") + "\n\n" + section
    tmp = RESULTS.with_suffix(".md.tmp")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, RESULTS)
