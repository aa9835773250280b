"""geo3d.io.lasheader and a fuzz of the LAS/LAZ header through read_las (issue 12).

The fuzz runs in a child process with its address space limited to what it uses plus 1 GB and
a 5 s alarm per example, so a header that makes the reader allocate gigabytes or loop for
ever fails the test instead of the machine: every example must read, or raise a Geo3DError.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import laspy
import numpy as np
import pytest

from geo3d.errors import FileFormatError
from geo3d.io.lasheader import check_las_header, laz_point_count_range, records_in_file

REPO = Path(__file__).resolve().parents[2]
FUZZ_EXAMPLES = int(os.environ.get("GEO3D_FUZZ_EXAMPLES", "200"))


def _las(path: Path, n: int = 50, *, version: str = "1.2", point_format: int = 3) -> Path:
    header = laspy.LasHeader(point_format=point_format, version=version)
    header.scales = np.array([0.01, 0.01, 0.01])
    header.offsets = np.array([200_000.0, 550_000.0, 0.0])
    las = laspy.LasData(header)
    rng = np.random.default_rng(0)
    las.x = 200_000 + rng.uniform(0, 50, n)
    las.y = 550_000 + rng.uniform(0, 30, n)
    las.z = rng.uniform(0, 8, n)
    las.return_number = np.ones(n, np.uint8)
    las.number_of_returns = np.ones(n, np.uint8)
    las.write(path)
    return path


def test_facts_of_a_good_file(tmp_path):
    facts = check_las_header(_las(tmp_path / "a.las", 7))
    assert facts.point_count == 7 == records_in_file(facts)
    assert facts.version == (1, 2) and not facts.compressed and facts.scales == (0.01, 0.01, 0.01)
    facts = check_las_header(_las(tmp_path / "a.laz", 7, version="1.4", point_format=6))
    assert facts.compressed and facts.point_format == 6 and facts.point_count == 7


def test_laz_chunk_table_range(tmp_path):
    path = _las(tmp_path / "a.laz", 120_000)
    facts = check_las_header(path)
    vlr = next(v for v in laspy.open(path).header.vlrs if v.user_id == "laszip encoded")
    assert laz_point_count_range(facts, bytes(vlr.record_data)) == (100_001, 150_000)


def test_chunk_table_that_cannot_fit_is_refused(tmp_path):
    path = _las(tmp_path / "a.laz", 100)
    facts = check_las_header(path)
    vlr = next(v for v in laspy.open(path).header.vlrs if v.user_id == "laszip encoded")
    data = bytearray(path.read_bytes())
    table_at = struct.unpack_from("<q", data, facts.offset_to_point_data)[0]
    struct.pack_into("<I", data, table_at + 4, 4_000_000_000)  # number of chunks
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match="chunk table"):
        laz_point_count_range(facts, bytes(vlr.record_data))


# ------------------------------------------------------------------------------------------
# the fuzz (a child process; see the module docstring)
# ------------------------------------------------------------------------------------------
#: (offset, struct format) of the header fields the fuzz rewrites; 1.4-only ones last
_FIELDS = {
    "header_size": (94, "<H"), "offset_to_points": (96, "<I"), "n_vlrs": (100, "<I"),
    "point_format": (104, "<B"), "record_length": (105, "<H"), "legacy_count": (107, "<I"),
    "scale": (131, "<d"), "offset": (155, "<d"), "max_x": (179, "<d"), "min_x": (187, "<d"),
    "start_of_evlrs": (235, "<Q"), "n_evlrs": (243, "<I"), "count": (247, "<Q"),
}


def _fuzz_child(n_examples: int) -> None:  # pragma: no cover - runs in the child process
    import resource
    import signal
    import tempfile

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from geo3d.errors import Geo3DError
    from geo3d.io.las import open_las, read_las

    work = Path(tempfile.mkdtemp())
    seeds = [_las(work / "s12.las"), _las(work / "s12.laz"),
             _las(work / "s14.laz", version="1.4", point_format=6),
             _las(work / "s14.las", version="1.4", point_format=7)]
    read_las(seeds[0])  # warm up, then cap the memory at what is used now plus 1 GB
    with open("/proc/self/status") as fh:
        vm = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmSize"))
    resource.setrlimit(resource.RLIMIT_AS, (vm + 2**30, resource.RLIM_INFINITY))

    timed_out = []

    def alarm(signum, frame):
        timed_out.append(True)
        signal.alarm(1)  # again, should this one be swallowed
        raise TimeoutError("a header made the reader run over 5 s")

    signal.signal(signal.SIGALRM, alarm)
    counts = st.one_of(st.sampled_from([0, 1, 49, 51, 2**31, 4_000_000_000, 10_000_000, 2**32 - 1]),
                       st.integers(0, 2**32 - 1))
    floats = st.one_of(st.sampled_from([0.0, -0.0, float("nan"), float("inf"), 1e-300, 1e300]),
                       st.floats(allow_nan=True, allow_infinity=True))
    values = {"header_size": st.integers(0, 2**16 - 1), "offset_to_points": counts, "n_vlrs": counts,
              "point_format": st.integers(0, 255), "record_length": st.integers(0, 2**16 - 1),
              "legacy_count": counts, "scale": floats, "offset": floats, "max_x": floats, "min_x": floats,
              "start_of_evlrs": st.one_of(counts, st.integers(0, 2**64 - 1)), "n_evlrs": counts,
              "count": st.one_of(counts, st.integers(0, 2**64 - 1))}
    edits = st.lists(st.sampled_from(sorted(_FIELDS)).flatmap(lambda k: st.tuples(st.just(k), values[k])),
                     min_size=1, max_size=4)
    vlr_lengths = st.lists(st.tuples(st.integers(0, 400), st.integers(0, 2**16 - 1)), max_size=2)

    @settings(max_examples=n_examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(seed=st.sampled_from(seeds), edits=edits, vlr_lengths=vlr_lengths, cut=st.integers(0, 400))
    def fuzz(seed, edits, vlr_lengths, cut):
        data = bytearray(seed.read_bytes())
        for name, value in edits:
            at, fmt = _FIELDS[name]
            if at + struct.calcsize(fmt) <= min(len(data), 375 if seed.name.startswith("s14") else 227):
                struct.pack_into(fmt, data, at, value)
        for at, length in vlr_lengths:  # a VLR's record length (or any two bytes near the VLRs)
            where = 227 + at
            if where + 2 <= len(data):
                struct.pack_into("<H", data, where, length)
        if cut % 7 == 0:
            data = data[: max(4, len(data) - cut)]
        path = work / f"f{seed.suffix}"
        path.write_bytes(bytes(data))
        signal.alarm(5)
        try:
            cloud = read_las(path)
            with open_las(path) as reader:
                for _ in reader.chunks(20):
                    pass
            assert np.isfinite(cloud.xyz).all()
        except Geo3DError as exc:  # also when it wraps a timeout or a MemoryError: that fails
            cause: BaseException | None = exc
            while cause is not None:
                if isinstance(cause, TimeoutError | MemoryError):
                    raise AssertionError(f"{type(cause).__name__} behind {exc}") from exc
                cause = cause.__cause__ or cause.__context__
        finally:
            signal.alarm(0)
        assert not timed_out, "a header made the reader run over 5 s"

    fuzz()
    print("fuzz ok")


def test_fuzz_las_header_only_raises_geo3d_errors():
    """Counts, scales, offsets, VLR lengths: read, or a Geo3DError; no hang, no 1 GB growth."""
    pytest.importorskip("hypothesis")
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    code = (f"import runpy; ns = runpy.run_path({__file__!r}, run_name='fuzz'); "
            f"ns['_fuzz_child']({FUZZ_EXAMPLES})")
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0 and "fuzz ok" in res.stdout, res.stdout[-3000:] + res.stderr[-6000:]


def test_huge_laz_chunk_size_is_refused(tmp_path):
    """lazrs allocates a whole chunk up front: 758 M points x 34 bytes = 25.8 GB (found by the fuzz)."""
    path = _las(tmp_path / "a.laz", 50)
    header = laspy.open(path).header
    vlr = next(v for v in header.vlrs if v.user_id == "laszip encoded")
    record = bytearray(vlr.record_data)
    struct.pack_into("<I", record, 12, 758_973_264)
    with pytest.raises(FileFormatError, match="chunk size of 758,973,264 points"):
        laz_point_count_range(check_las_header(path), bytes(record))
