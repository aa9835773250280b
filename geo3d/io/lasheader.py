"""Checks of a LAS/LAZ header's raw bytes before laspy reads it (bounded by the file's size).

A header is a promise about the rest of the file: how many variable-length records (VLRs) follow
it, how many points, how to scale them. laspy trusts it, so a hostile or broken header can make
it loop four billion times, allocate gigabytes, or scale every point to NaN. These functions read
the fixed header fields with :mod:`struct`, bound every count by the bytes the file really has,
and raise :class:`~geo3d.errors.FileFormatError` with the reason and the fix before any
allocation or loop depends on a count.

* :func:`check_las_header` — the fixed header: VLR and EVLR counts against the bytes they need,
  scale factors (finite, non-zero) and offsets (finite), the point-record length.
* :func:`records_in_file` — how many whole point records an uncompressed file holds.
* :func:`laz_point_count_range` — how many points a LAZ file's chunk table says it holds.

Examples
--------
>>> import tempfile, pathlib, laspy, numpy as np
>>> path = pathlib.Path(tempfile.mkdtemp()) / "a.las"
>>> las = laspy.create(point_format=3, file_version="1.2")
>>> las.x, las.y, las.z = np.zeros(3), np.zeros(3), np.zeros(3)
>>> las.write(path)
>>> facts = check_las_header(path)
>>> facts.point_count, records_in_file(facts)
(3, 3)
>>> data = bytearray(path.read_bytes())
>>> data[100:104] = (4_000_000_000).to_bytes(4, "little")   # the number of VLRs
>>> _ = path.write_bytes(bytes(data))
>>> check_las_header(path)
Traceback (most recent call last):
...
geo3d.errors.FileFormatError: a.las: the header declares 4,000,000,000 VLRs ...
"""

from __future__ import annotations

import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import FileFormatError

__all__ = ["MAX_CHUNK_BYTES", "HeaderFacts", "check_las_header", "laz_point_count_range", "records_in_file"]

_VLR_HEADER = 54  # bytes of a VLR's own header (LAS 1.0-1.4)
_EVLR_HEADER = 60  # bytes of an extended VLR's header (LAS 1.4)
_MAX_REACH = 2.0**31  # |X|, |Y|, |Z| of a stored point are int32
#: largest decompressed LAZ chunk accepted (laszip and PDAL write 50,000 points, a few MB)
MAX_CHUNK_BYTES = 512 * 2**20
_FIX = "the file is corrupt or was written by a broken tool; export it again (e.g. `pdal translate in.las out.laz`)"


@dataclass(frozen=True)
class HeaderFacts:
    """The fixed LAS header fields geo3d checks, as the file states them."""

    path: Path
    file_size: int
    version: tuple[int, int]
    header_size: int
    offset_to_point_data: int
    n_vlrs: int
    point_format: int  # without the compression bits
    compressed: bool
    record_length: int
    point_count: int
    scales: tuple[float, float, float]
    offsets: tuple[float, float, float]
    start_of_first_evlr: int
    n_evlrs: int


def check_las_header(path: str | os.PathLike[str]) -> HeaderFacts:
    """Read and check the fixed header of a LAS/LAZ file; every count bounded by the file size.

    Parameters
    ----------
    path : str or path-like
        A file that starts with ``LASF`` and is at least 227 bytes long.

    Returns
    -------
    HeaderFacts

    Raises
    ------
    FileFormatError
        A count the file cannot hold (VLRs, EVLRs), a scale factor that is 0, NaN or infinite,
        an offset that is NaN or infinite, or a point-record length of 0.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        raw = fh.read(375)
    facts = _parse(path, size, raw)
    problems = [*_count_problems(facts), *_scale_problems(facts)]
    if problems:
        msg = f"{path.name}: " + "; ".join(problems) + f". {_FIX}"
        raise FileFormatError(msg)
    return facts


def _parse(path: Path, size: int, raw: bytes) -> HeaderFacts:
    if len(raw) < 227:
        msg = f"{path.name} is truncated: {len(raw)} bytes is smaller than a LAS header (227 bytes)"
        raise FileFormatError(msg)
    major, minor = raw[24], raw[25]
    header_size, offset, n_vlrs = struct.unpack_from("<HII", raw, 94)
    pf_raw, record_length, legacy_count = struct.unpack_from("<BHI", raw, 104)
    scales = struct.unpack_from("<3d", raw, 131)
    offsets = struct.unpack_from("<3d", raw, 155)
    start_evlr, n_evlrs, count = 0, 0, legacy_count
    if (major, minor) >= (1, 4) and len(raw) >= 255 and header_size >= 255:
        start_evlr, n_evlrs, count = struct.unpack_from("<QIQ", raw, 235)
    return HeaderFacts(path, size, (major, minor), header_size, offset, n_vlrs, pf_raw & 0x3F,
                       bool(pf_raw & 0xC0), record_length, count, scales, offsets, start_evlr,
                       n_evlrs)


def _count_problems(f: HeaderFacts) -> list[str]:
    problems = []
    if f.offset_to_point_data > f.file_size:
        problems.append(f"the header says the points start at byte {f.offset_to_point_data:,}, beyond "
                        f"the end of the file ({f.file_size:,} bytes)")
    elif f.offset_to_point_data < f.header_size:
        problems.append(f"the header says the points start at byte {f.offset_to_point_data:,}, inside "
                        f"the header itself ({f.header_size:,} bytes)")
    vlr_room = max(0, min(f.offset_to_point_data, f.file_size) - f.header_size)
    if f.n_vlrs * _VLR_HEADER > vlr_room:
        problems.append(
            f"the header declares {f.n_vlrs:,} VLRs (variable-length records of at least "
            f"{_VLR_HEADER} bytes each), but the {vlr_room:,} bytes between the header and the "
            f"points can hold at most {vlr_room // _VLR_HEADER:,}")
    if f.n_evlrs:
        evlr_room = max(0, f.file_size - f.start_of_first_evlr)
        if f.start_of_first_evlr < f.offset_to_point_data or f.n_evlrs * _EVLR_HEADER > evlr_room:
            problems.append(
                f"the header declares {f.n_evlrs:,} extended VLRs from byte "
                f"{f.start_of_first_evlr:,}, but the file ({f.file_size:,} bytes) has room for "
                f"{evlr_room // _EVLR_HEADER:,} there")
    if f.record_length == 0:
        problems.append("the point-record length is 0 bytes")
    return problems


def _scale_problems(f: HeaderFacts) -> list[str]:
    problems = []
    for axis, scale, offset in zip("xyz", f.scales, f.offsets, strict=True):
        if not math.isfinite(scale) or scale == 0:
            problems.append(f"the {axis} scale factor is {scale!r} (it must be a finite non-zero "
                            "number such as 0.001: stored integers are multiplied by it)")
        elif not math.isfinite(offset):
            problems.append(f"the {axis} offset is {offset!r} (it must be a finite number)")
        elif not math.isfinite(abs(scale) * _MAX_REACH + abs(offset)):
            problems.append(f"the {axis} scale factor {scale!r} and offset {offset!r} overflow a "
                            "64-bit float for large stored integers")
    return problems


def records_in_file(facts: HeaderFacts) -> int:
    """Whole point records between the start of the points and their end (EVLRs or end of file).

    Meaningful for uncompressed files only (a LAZ file's points are compressed).
    """
    end = facts.file_size
    if facts.n_evlrs and facts.offset_to_point_data <= facts.start_of_first_evlr < end:
        end = facts.start_of_first_evlr
    if facts.record_length == 0:
        return 0
    return max(0, end - facts.offset_to_point_data) // facts.record_length


def laz_point_count_range(facts: HeaderFacts, laszip_record: bytes) -> tuple[int, int] | None:
    """``(fewest, most)`` points the chunk table of a LAZ file allows, or None when it has none.

    Variable-size chunks (COPC and others) store each chunk's point count, so fewest = most.
    Fixed-size chunks of ``C`` points: ``K`` chunks hold more than ``(K - 1) C`` and at most
    ``K C`` points. The table's size is checked against the file before it is read.

    Raises
    ------
    FileFormatError
        The chunk table points outside the file or declares more chunks than the file can hold.
    """
    if len(laszip_record) < 16:
        return None
    compressor, _, _, _, _, _, chunk_size = struct.unpack_from("<HHBBHIi", laszip_record, 0)
    if compressor not in (2, 3):  # 1 = point-wise (no chunks), 0 = none
        return None
    if chunk_size > 0 and chunk_size * max(1, facts.record_length) > MAX_CHUNK_BYTES:
        msg = (f"{facts.path.name}: the LAZ chunk size of {chunk_size:,} points needs "
               f"{chunk_size * facts.record_length / 2**20:,.0f} MB per chunk to decompress (writers use "
               f"50,000 points); {_FIX}")
        raise FileFormatError(msg)
    start = facts.offset_to_point_data
    with open(facts.path, "rb") as fh:
        table_at = _read_int(fh, start, "<q")
        if table_at == -1:  # written to a stream: the offset is in the last 8 bytes
            table_at = _read_int(fh, facts.file_size - 8, "<q")
        bad = table_at is None or not start + 8 <= table_at <= facts.file_size - 8
        n_chunks = None if bad else _read_int(fh, int(table_at) + 4, "<I")  # type: ignore[arg-type]
        most_chunks = max(0, (table_at or 0) - start - 8) // max(1, facts.record_length)
        if n_chunks is None or n_chunks > most_chunks:
            msg = (f"{facts.path.name}: the LAZ chunk table is missing or declares more chunks than "
                   f"the file can hold (at byte {table_at}); {_FIX}")
            raise FileFormatError(msg)
        if n_chunks == 0:
            return (0, 0)
        return _chunk_counts(fh, facts, laszip_record, n_chunks, chunk_size)


def _chunk_counts(fh: BinaryIO, facts: HeaderFacts, laszip_record: bytes, n_chunks: int,
                  chunk_size: int) -> tuple[int, int]:
    layered = struct.unpack_from("<H", laszip_record, 0)[0] == 3
    fixed = chunk_size != -1 and chunk_size > 0
    if fixed and not layered:
        return ((n_chunks - 1) * chunk_size + 1, n_chunks * chunk_size)
    import lazrs

    fh.seek(facts.offset_to_point_data)
    try:
        table = lazrs.read_chunk_table(fh, lazrs.LazVlr(laszip_record))
    except Exception as exc:
        msg = f"{facts.path.name}: cannot read the LAZ chunk table ({exc}); {_FIX}"
        raise FileFormatError(msg) from exc
    if layered:  # each layered chunk states its point count: the total is exact
        total = _check_layers(fh, facts, laszip_record, [(int(n), int(b)) for n, b in table])
        return (total, total)
    if fixed:
        return ((n_chunks - 1) * chunk_size + 1, n_chunks * chunk_size)
    total = sum(int(points) for points, _ in table)
    return (total, total)


#: layers of each LAS 1.4 LAZ item type (Byte14, the extra bytes, has one per byte)
_LAYERS = {10: 9, 11: 1, 12: 2, 13: 1}


def _check_layers(fh: BinaryIO, facts: HeaderFacts, laszip_record: bytes, chunks: list[tuple[int, int]]) -> int:
    """The points of a layered LAZ file; each chunk's layer sizes must fit in the chunk.

    A layered chunk (LAS 1.4 point formats 6-10) is: the first point raw, its point count
    (uint32), the byte size of each layer (uint32 each), the layers. lazrs allocates what the
    sizes say, so they are checked against the chunk's size from the chunk table.
    """
    n_items = struct.unpack_from("<H", laszip_record, 32)[0] if len(laszip_record) >= 34 else 0
    items = [struct.unpack_from("<HHH", laszip_record, 34 + 6 * i) for i in range(n_items)
             if 34 + 6 * i + 6 <= len(laszip_record)]
    raw = sum(size for _, size, _ in items)
    n_layers = sum(size if kind == 14 else _LAYERS.get(kind, 0) for kind, size, _ in items)
    at = facts.offset_to_point_data + 8
    total = 0
    for i, (most, size) in enumerate(chunks):  # most: the chunk size, or the chunk's own count
        if size <= raw + 4:  # a chunk of one point has no layers
            total += 1
            at += size
            continue
        count = _read_int(fh, at + raw, "<I") or 0
        if count > most:
            msg = f"{facts.path.name}: LAZ chunk {i:,} declares {count:,} points, more than its {most:,}; {_FIX}"
            raise FileFormatError(msg)
        total += count
        data = fh.read(4 * n_layers)
        layers = struct.unpack(f"<{len(data) // 4}I", data[: len(data) // 4 * 4])
        if len(layers) < n_layers or raw + 4 + 4 * n_layers + sum(layers) > size:
            msg = (f"{facts.path.name}: LAZ chunk {i:,} declares layers of {sum(layers):,} bytes in a "
                   f"chunk of {size:,}; {_FIX}")
            raise FileFormatError(msg)
        at += size
    return total


def _read_int(fh: BinaryIO, at: int, fmt: str) -> int | None:
    width = struct.calcsize(fmt)
    if at < 0:
        return None
    fh.seek(at)
    data = fh.read(width)
    return int(struct.unpack(fmt, data)[0]) if len(data) == width else None
