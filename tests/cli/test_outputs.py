"""The run guarantees of every command (issue 12): outputs checked before the work, one writer
per output, interrupted runs that leave nothing behind, help that never becomes a file name,
and stderr whose first line is the error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import laspy
import numpy as np
import pytest
from click.testing import CliRunner

from geo3d import datasets
from geo3d.cli import commands  # noqa: F401  (registers the commands)
from geo3d.cli.main import cli, verbosity_options
from geo3d.errors import SchemaError
from geo3d.io.atomic import temporary_name

REPO = Path(__file__).resolve().parents[2]
UG = REPO / "sample_data" / "underground"


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _geo3d(*args: str | Path, **kw) -> subprocess.Popen:
    code = "import sys; from geo3d.cli import main; sys.argv[0] = 'geo3d'; main()"
    return subprocess.Popen([sys.executable, "-c", code, *map(str, args)], env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _stats_args(out: Path, *extra: str) -> list[str]:
    return ["stats", "--pipes", str(UG / "utilities.gpkg"), "--areas", str(UG / "neighbourhoods.geojson"),
            "--area-id", "adm_cd2", "--year", "2025", "--out", str(out), *extra]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ------------------------------------------------------------------------------------------
# outputs checked before any work: exit 2
# ------------------------------------------------------------------------------------------
def test_output_that_is_a_folder_fails_before_the_work(runner, tmp_path):
    (tmp_path / "st.csv").mkdir()
    missing = tmp_path / "no-pipes.gpkg"  # read later: the output's message must come first
    res = runner.invoke(cli, ["stats", "--pipes", str(missing), "--areas", str(missing), "--area-id", "x",
                              "--out", str(tmp_path / "st.csv")])
    assert res.exit_code == 2, res.output
    assert "--out" in res.output and "is a folder" in res.output


def test_parent_that_is_a_file_fails_before_the_work(runner, tmp_path):
    (tmp_path / "file").write_text("x")
    res = runner.invoke(cli, ["excavate", "--pipes", str(tmp_path / "none"), "--pit", str(tmp_path / "none"),
                              "--depth", "2", "--out", str(tmp_path / "file" / "c.csv")])
    assert res.exit_code == 2 and "is a file, not a folder" in res.output
    res = runner.invoke(cli, ["segment", str(tmp_path / "none.las"), "--out", str(tmp_path / "file")])
    assert res.exit_code == 2 and "is a file; give a folder" in res.output


def test_folder_one_cannot_write_in_fails_before_the_work(runner, tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: simulate the read-only folder
        real = os.access
        monkeypatch.setattr("geo3d.io.atomic.os.access", lambda p, m: False if Path(p) == ro else real(p, m))
    else:
        ro.chmod(0o555)
    res = runner.invoke(cli, ["segment", str(tmp_path / "none.las"), "--out", str(ro / "out")])
    ro.chmod(0o755)
    assert res.exit_code == 2 and "no permission to write in the folder" in res.output


def test_unsupported_map_format_fails_before_the_work(runner, tmp_path):
    res = runner.invoke(cli, _stats_args(tmp_path / "st.csv", "--map", str(tmp_path / "map.bmp")))
    assert res.exit_code == 2 and "unsupported map format '.bmp'" in res.output
    assert list(tmp_path.iterdir()) == []


def test_missing_parent_folders_are_made_and_removed_on_failure(runner, tmp_path):
    res = runner.invoke(cli, ["segment", str(tmp_path / "none.las"), "--out", str(tmp_path / "a" / "b" / "out")])
    assert res.exit_code == 2
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------
# --help is never a value
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_out_then_help_shows_help_and_writes_nothing(runner, tmp_path, monkeypatch, flag):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(cli, ["stats", "--out", flag])
    assert res.exit_code == 0 and "Usage:" in res.output
    assert list(tmp_path.iterdir()) == []


def test_option_given_as_a_value_is_a_usage_error(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(cli, ["segment", "scan.las", "--out", "--overwrite"])
    assert res.exit_code == 2 and "--out needs a value" in res.output
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------
# one writer per output
# ------------------------------------------------------------------------------------------
def test_second_run_on_a_locked_output_exits_2(tmp_path):
    out = tmp_path / "st.csv"
    code = ("import sys; from geo3d.io.atomic import lock_output\n"
            f"with lock_output({str(out)!r}):\n    print('locked', flush=True); sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", code], env=_env(), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        res = CliRunner().invoke(cli, _stats_args(out))
        assert res.exit_code == 2, res.output
        assert "being written by another geo3d run" in res.output and f"process {holder.pid}" in res.output
        assert not out.exists()
    finally:
        holder.communicate("")
    assert _leftovers(tmp_path) == []  # the holder removed its lock file
    assert CliRunner().invoke(cli, _stats_args(out)).exit_code == 0


def test_two_concurrent_runs_leave_complete_outputs(tmp_path):
    """Two `geo3d stats` on one --out: each run that says it wrote its files did, completely."""
    out = tmp_path / "st.csv"
    runs = [_geo3d(*_stats_args(out, "--overwrite")) for _ in range(2)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in runs]
    codes = sorted(r[0] for r in results)
    assert codes in ([0, 0], [0, 2]), results
    for code, stdout, stderr in results:
        if code == 2:
            assert "being written by another geo3d run" in stderr
        else:
            assert "st.csv, " in stdout
    import pandas as pd

    table = pd.read_csv(out)
    assert len(table) > 0 and pd.read_csv(tmp_path / "st_aged.csv").shape[0] > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["st.csv", "st_aged.csv"]


# ------------------------------------------------------------------------------------------
# interrupted runs
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_scan(tmp_path_factory) -> Path:
    """A tenth of the sample market's points (the same scene, a faster run)."""
    src = datasets.get_path("market")
    las = laspy.read(src)
    path = tmp_path_factory.mktemp("scan") / "tenth.laz"
    las.points = las.points[np.arange(0, len(las.points), 10)]
    las.write(path)
    return path


def _signal_when_writing(procs: dict[Path, subprocess.Popen], signals: dict[Path, int],
                         timeout: float = 120) -> None:
    """Send each run its signal as soon as its temporary output appears beside its --out."""
    waiting = dict(procs)
    end = time.monotonic() + timeout
    while waiting and time.monotonic() < end:
        for folder, proc in list(waiting.items()):
            if any(".geo3d-" in p.name and ".tmp" in p.name for p in folder.iterdir()):
                proc.send_signal(signals[folder])
                del waiting[folder]
            elif proc.poll() is not None:
                pytest.fail(f"the run ended before writing: {proc.communicate()}")
        time.sleep(0.002)
    assert not waiting, "no temporary output appeared"


def test_sigterm_cleans_up_sigkill_leaves_what_the_next_run_removes(small_scan, tmp_path):
    """Both runs at once (one process each): SIGTERM during the writing, SIGKILL during the writing."""
    term, kill = tmp_path / "term", tmp_path / "kill"
    term.mkdir()
    kill.mkdir()
    procs = {d: _geo3d("segment", small_scan, "--out", d / "out") for d in (term, kill)}
    _signal_when_writing(procs, {term: signal.SIGTERM, kill: signal.SIGKILL})
    codes = {d: p.wait(timeout=60) for d, p in procs.items()}
    stderr = procs[term].communicate()[1]
    procs[kill].communicate()

    assert codes[term] == 143, stderr
    assert "Interrupted (SIGTERM)" in stderr and "Internal error" not in stderr
    assert list(term.iterdir()) == []  # no output, no temporary, no lock file

    assert codes[kill] == -signal.SIGKILL
    assert any(".tmp" in name for name in _leftovers(kill)) and not (kill / "out").exists()
    # the next run on the same output (here one that then fails on its input) removes them
    res = CliRunner().invoke(cli, ["segment", str(tmp_path / "none.las"), "--out", str(kill / "out")])
    assert res.exit_code == 2 and "does not exist" in res.output
    assert list(kill.iterdir()) == []


def test_a_live_runs_temporary_is_kept(runner, tmp_path):
    out = tmp_path / "out"
    mine = temporary_name(out)  # this (live) process
    mine.mkdir()
    dead = Path(str(mine).replace(f"-{os.getpid()}-", "-999999999-"))
    dead.mkdir()
    other = tmp_path / ".unrelated.geo3d-x-1-abc.tmp"
    other.write_text("not ours")
    res = runner.invoke(cli, ["segment", str(tmp_path / "none.las"), "--out", str(out)])
    assert res.exit_code == 2
    assert mine.exists() and not dead.exists() and other.exists()


# ------------------------------------------------------------------------------------------
# stderr: the error first, warnings one line each
# ------------------------------------------------------------------------------------------
@pytest.fixture
def warning_then_failure():
    import logging

    @cli.command("warn-fail")
    @verbosity_options
    def warn_fail() -> None:
        warnings.warn("Measured (M) geometry types are not supported.\nConverting to XY",
                      UserWarning, stacklevel=1)
        logging.getLogger("geo3d.test").warning("a logged warning")
        raise SchemaError("the layer lacks 'utility'", ["add a utility column"])

    yield
    cli.commands.pop("warn-fail")


def test_error_is_the_first_line_of_stderr(warning_then_failure):
    res = CliRunner().invoke(cli, ["warn-fail"])
    assert res.exit_code == 2
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert lines[0] == "Error: the layer lacks 'utility'"
    warned = [line for line in lines if "Measured (M)" in line]
    assert len(warned) == 1 and warned[0].startswith("Warning: ")
    assert "Converting to XY (UserWarning" in warned[0]  # one line, no file path or source line
    assert any("a logged warning" in line for line in lines[1:])
    assert not any(line.lstrip().startswith("warnings.warn(") for line in lines)
