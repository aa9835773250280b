import pytest

from geo3d.errors import OutputExistsError
from geo3d.io.atomic import atomic_dir, atomic_path


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
