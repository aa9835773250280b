import pytest

from geo3d import errors


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (errors.InputError, ValueError),
        (errors.SchemaError, ValueError),
        (errors.CRSError, ValueError),
        (errors.FileFormatError, OSError),
        (errors.EmptyResultError, ValueError),
        (errors.OptionError, ValueError),
        (errors.OutputExistsError, FileExistsError),
        (errors.MissingDependencyError, ImportError),
    ],
)
def test_every_error_is_geo3d_and_builtin(cls, builtin):
    exc = cls("what is wrong; how to fix it")
    assert isinstance(exc, errors.Geo3DError)
    assert isinstance(exc, builtin)


def test_schema_error_lists_every_problem():
    exc = errors.SchemaError("layer WTL_PIPE_LM has 2 problems", ["no 'pip_dip'", "3 empty geometries"])
    assert exc.problems == ["no 'pip_dip'", "3 empty geometries"]
    text = str(exc)
    assert "no 'pip_dip'" in text and "3 empty geometries" in text
    assert text.splitlines()[0] == "layer WTL_PIPE_LM has 2 problems"


def test_an_error_carries_a_cli_form_and_the_command_prints_it():
    py, cli = errors.two_forms("no CRS; pass {crs}", crs=("crs='EPSG:5186'", "--crs EPSG:5186"))
    exc = errors.CRSError(py, cli=cli)
    assert str(exc) == "no CRS; pass crs='EPSG:5186'"
    assert errors.cli_text(exc) == "no CRS; pass --crs EPSG:5186"
    assert errors.cli_text(errors.InputError("only python")) == "only python"
    assert errors.cli_text(errors.InputError("x").with_cli("y")) == "y"


def test_schema_error_cli_form_keeps_the_problem_list():
    exc = errors.SchemaError("bad map", ["unknown key 'foo'"], cli="bad --schema map")
    assert str(exc).splitlines() == ["bad map", "  - unknown key 'foo'"]
    assert errors.cli_text(exc).splitlines() == ["bad --schema map", "  - unknown key 'foo'"]
    assert errors.cli_text(errors.SchemaError("m", ["p"])) == "m\n  - p"


def test_the_command_line_prints_the_cli_form(tmp_path):
    import click
    from click.testing import CliRunner

    from geo3d.cli.main import cli

    @cli.command("_two_forms_probe", hidden=True)
    def probe() -> None:
        raise errors.InputError("pass overwrite=True", cli="pass --overwrite")

    try:
        res = CliRunner().invoke(cli, ["_two_forms_probe"])
    finally:
        cli.commands.pop("_two_forms_probe", None)
    assert res.exit_code == 2
    assert "pass --overwrite" in res.output and "overwrite=True" not in res.output
    assert isinstance(probe, click.Command)
