import os
import subprocess
import sys
from pathlib import Path

import pytest

from geo3d.errors import InputError, OutputBusyError, OutputExistsError
from geo3d.io.atomic import (
    atomic_dir,
    atomic_path,
    check_output,
    claim_output,
    lock_output,
    remove_stale_temporaries,
    temporary_name,
)


def test_failure_leaves_no_file(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_overwrite_is_explicit(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(OutputExistsError, match="overwrite=True") as err, atomic_path(target):
        pass
    from geo3d.errors import cli_text

    assert "--overwrite" in cli_text(err.value) and "overwrite=True" not in cli_text(err.value)
    with atomic_path(target, overwrite=True) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"


def test_tmp_keeps_suffix(tmp_path):
    with atomic_path(tmp_path / "a.gpkg") as tmp:
        assert tmp.suffix == ".gpkg"
        tmp.write_bytes(b"x")


def test_atomic_dir_swaps_whole_folder(tmp_path):
    target = tmp_path / "run"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("1")
    assert (target / "a.txt").read_text() == "1"
    with pytest.raises(ValueError), atomic_dir(target, overwrite=True) as tmp:
        (tmp / "b.txt").write_text("2")
        raise ValueError
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


# ------------------------------------------------------------------------------------------
# issue 12: overwrite keeps other files, temporaries named by their process, one writer
# ------------------------------------------------------------------------------------------

def test_overwrite_into_a_folder_replaces_only_what_is_written(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    (target / "sub").mkdir()
    (target / "points.laz").write_text("old")
    with atomic_dir(target, overwrite=True) as tmp:
        (tmp / "points.laz").write_text("new")
        (tmp / "report.json").write_text("{}")
    assert (target / "points.laz").read_text() == "new" and (target / "report.json").exists()
    assert (target / "notes.txt").read_text() == "mine" and (target / "sub").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_temporaries_name_their_process_and_stale_ones_are_removed(tmp_path):
    target = tmp_path / "out.csv"
    with atomic_path(target) as tmp:
        assert f"-{os.getpid()}-" in tmp.name and tmp.name.startswith(".out.csv.geo3d-")
        assert tmp.suffix == ".csv"
        tmp.write_text("x")
    dead = Path(str(temporary_name(target)).replace(f"-{os.getpid()}-", "-999999999-"))
    dead.write_text("left by a killed run")
    live = temporary_name(target)
    live.write_text("a live run's")
    assert remove_stale_temporaries(target) == [dead]
    assert live.exists() and target.exists()


def test_a_failed_run_removes_only_its_own_temporary(tmp_path):
    target = tmp_path / "out.csv"
    other = Path(str(temporary_name(target)).replace(f"-{os.getpid()}-", f"-{os.getppid()}-"))
    other.write_text("another live run's")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == [other.name]


def test_lock_is_reentrant_here_and_exclusive_across_processes(tmp_path):
    target = tmp_path / "out.csv"
    with lock_output(target), lock_output(target):
        code = (f"from geo3d.io.atomic import lock_output\nwith lock_output({str(target)!r}): pass")
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
        assert res.returncode == 1 and "OutputBusyError" in res.stderr and f"process {os.getpid()}" in res.stderr
    assert list(tmp_path.iterdir()) == []  # the lock file went with the lock
    with lock_output(target):
        pass


def test_busy_error_is_a_geo3d_error():
    assert issubclass(OutputBusyError, BlockingIOError)


@pytest.mark.parametrize(("make", "folder", "match"), [
    (lambda p: p.mkdir(), False, "is a folder; give a file path"),
    (lambda p: p.write_text("x"), True, "is a file; give a folder path"),
    (lambda p: (p.parent.rmdir(), p.parent.write_text("x")), False,
     "is a file, not a folder"),
])
def test_check_output_refuses_what_cannot_be_written(tmp_path, make, folder, match):
    target = tmp_path / "d" / "out.csv"
    target.parent.mkdir()
    make(target)
    with pytest.raises(InputError, match=match):
        check_output(target, overwrite=True, folder=folder, what="--out")


def test_claim_makes_parents_and_removes_them_when_the_run_fails(tmp_path):
    target = tmp_path / "a" / "b" / "out.csv"
    with pytest.raises(ValueError), claim_output(target):
        assert target.parent.is_dir()
        raise ValueError
    assert list(tmp_path.iterdir()) == []
