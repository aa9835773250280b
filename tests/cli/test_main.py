import logging

import click
import pytest
from click.testing import CliRunner

import geo3d
from geo3d.cli import main as cli_main
from geo3d.cli.main import cli, verbosity_options
from geo3d.errors import SchemaError


@pytest.fixture
def runner():
    return CliRunner()


def invoke(runner, args):
    from geo3d.cli import commands  # noqa: F401

    return runner.invoke(cli, args)


def test_version(runner):
    res = invoke(runner, ["--version"])
    assert res.exit_code == 0
    assert geo3d.__version__ in res.output


def test_datasets_lists_every_name(runner):
    res = invoke(runner, ["datasets"])
    assert res.exit_code == 0
    for name in geo3d.datasets.available():
        assert name in res.output


def test_datasets_paths(runner):
    res = invoke(runner, ["-q", "datasets", "--paths"])
    assert res.exit_code == 0
    assert str(geo3d.datasets.get_path("market")) in res.output


def test_verbosity_sets_log_level(runner):
    invoke(runner, ["-vv", "datasets"])
    assert logging.getLogger("geo3d").level == logging.DEBUG
    invoke(runner, ["datasets", "-q"])
    assert logging.getLogger("geo3d").level == logging.ERROR
    logging.getLogger("geo3d").setLevel(logging.WARNING)


@pytest.fixture
def failing_commands():
    @cli.command("fail-input")
    @verbosity_options
    def fail_input() -> None:
        raise SchemaError("layer X lacks 'utility'", ["add a utility column"])

    @cli.command("fail-internal")
    def fail_internal() -> None:
        raise ZeroDivisionError("bug")

    yield
    cli.commands.pop("fail-input")
    cli.commands.pop("fail-internal")


def test_bad_input_exits_2_with_message(runner, failing_commands):
    res = invoke(runner, ["fail-input"])
    assert res.exit_code == 2
    assert "Error: layer X lacks 'utility'" in res.output
    assert "add a utility column" in res.output


def test_internal_error_exits_1(runner, failing_commands):
    res = invoke(runner, ["fail-internal"])
    assert res.exit_code == 1
    assert "Internal error (ZeroDivisionError)" in res.output


def test_console_script_entry(capsys):
    with pytest.raises(SystemExit) as info:
        cli_main(["--version"])
    assert info.value.code == 0
    assert geo3d.__version__ in capsys.readouterr().out


def test_unknown_command_is_usage_error(runner):
    res = invoke(runner, ["no-such-command"])
    assert res.exit_code == 2
    assert isinstance(cli, click.Group)


def test_console_script_has_every_contract_command():
    """The installed `geo3d` command (not only the click group) offers CONTRACTS.md's commands."""
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("geo3d")
    args = [str(exe), "--help"] if exe.exists() else [sys.executable, "-m", "geo3d.cli", "--help"]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    for command in ("datasets", "segment", "scan", "excavate", "section", "stats", "tiles"):
        assert f"\n  {command} " in out, command
