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
