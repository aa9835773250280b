#!/usr/bin/env python
"""Make a big LAZ scan for the scale benchmark by tiling the sample market scan in plan.

    python scripts/make_big_scan.py --points 100_000_000 --out /tmp/market_100M.laz

Copies of ``sample_data/market/market.laz`` are laid side by side on a grid (a gap of
``--gap`` metres between halls), every copy shifted by a whole number of metres so the integer
coordinates shift exactly. The last copy is a seeded random subset (in file order) so the file
holds exactly ``--points`` points. Points are streamed into the output with laspy's writer, one
copy at a time: memory stays at about two copies of the sample (~60 MB) whatever the size.
The output is written atomically (a failed run leaves no file).
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from pathlib import Path

import laspy
import numpy as np

from geo3d.datasets import get_path
from geo3d.io.atomic import atomic_path

log = logging.getLogger("make_big_scan")


def make_big_scan(
    out: str | Path,
    n_points: int,
    *,
    source: str | Path | None = None,
    gap: float = 5.0,
    seed: int = 0,
    overwrite: bool = False,
) -> Path:
    """Write ``n_points`` points made of side-by-side copies of ``source`` to ``out``.

    Parameters
    ----------
    out : str or Path
        Output ``.laz`` (or ``.las``).
    n_points : int
        Exact number of points to write.
    source : str or Path, optional
        The scan to copy (default: the sample market scan).
    gap : float
        Metres between neighbouring copies.
    seed : int
        Seed of the subset taken from the last, partial copy.
    overwrite : bool
        Replace an existing output.

    Returns
    -------
    Path
        The written file.
    """
    src = Path(source) if source is not None else get_path("market")
    las = laspy.read(src)
    record = las.points.array
    n_src = len(record)
    header = las.header
    scales = np.asarray(header.scales, dtype=float)
    lo, hi = np.asarray(header.mins, dtype=float), np.asarray(header.maxs, dtype=float)
    step = np.ceil(hi[:2] - lo[:2] + gap)  # whole metres: an exact integer shift
    copies = max(1, math.ceil(n_points / n_src))
    ncols = math.ceil(math.sqrt(copies))
    rng = np.random.default_rng(seed)
    out = Path(out)
    new_header = laspy.LasHeader(point_format=header.point_format, version=header.version)
    new_header.scales = header.scales
    new_header.offsets = header.offsets
    new_header.vlrs = header.vlrs
    written = 0
    t0 = time.perf_counter()
    with (
        atomic_path(out, overwrite=overwrite) as tmp,
        laspy.open(
            tmp, mode="w", header=new_header, do_compress=out.suffix.lower() == ".laz"
        ) as writer,
    ):
        for k in range(copies):
            take = min(n_src, n_points - written)
            if take < n_src:
                chosen = np.sort(rng.choice(n_src, size=take, replace=False))
                arr = record[chosen].copy()
            else:
                arr = record.copy()
            row, col = divmod(k, ncols)
            arr["X"] += np.int32(round(col * step[0] / scales[0]))
            arr["Y"] += np.int32(round(row * step[1] / scales[1]))
            points = laspy.ScaleAwarePointRecord(
                arr, header.point_format, header.scales, header.offsets
            )
            writer.write_points(points)
            written += take
            if (k + 1) % 10 == 0:
                log.info(
                    "%d/%d copies, %s points, %.0f s",
                    k + 1,
                    copies,
                    f"{written:,}",
                    time.perf_counter() - t0,
                )
    log.info(
        "make_big_scan: %s points (%d copies of %s) -> %s in %.0f s",
        f"{written:,}",
        copies,
        src.name,
        out,
        time.perf_counter() - t0,
    )
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=lambda s: int(float(s.replace("_", ""))), required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--source", type=Path, default=None)
    parser.add_argument("--gap", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    make_big_scan(
        args.out,
        args.points,
        source=args.source,
        gap=args.gap,
        seed=args.seed,
        overwrite=args.overwrite,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
