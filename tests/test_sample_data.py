"""sample_data/ is exactly what scripts/make_sample_data.py makes (byte for byte)."""

import hashlib
import subprocess
import sys

import pytest


def _digests(folder):
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_generator_reproduces_committed_sample_data(repo, tmp_path):
    res = subprocess.run(
        [sys.executable, str(repo / "scripts" / "make_sample_data.py"), "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert res.returncode == 0, res.stderr
    committed = _digests(repo / "sample_data")
    fresh = _digests(tmp_path)
    assert fresh.keys() == committed.keys()
    differ = [name for name in fresh if fresh[name] != committed[name]]
    assert not differ, f"regenerated files differ from sample_data/: {differ}"


def test_checksum_file_lists_every_file(repo):
    folder = repo / "sample_data"
    listed = dict(
        reversed(line.split("  ", 1)) for line in (folder / "SHA256SUMS").read_text().splitlines()
    )
    actual = _digests(folder)
    actual.pop("SHA256SUMS")
    assert listed == actual


def test_sample_data_is_small(repo):
    total = sum(p.stat().st_size for p in (repo / "sample_data").rglob("*") if p.is_file())
    assert total <= 15e6
