import pytest

from geo3d import datasets
from geo3d.errors import InputError


def test_every_registered_file_exists():
    for name in datasets.available():
        assert datasets.get_path(name).is_file(), name


def test_typo_lists_valid_names():
    with pytest.raises(InputError, match="did you mean 'market'") as info:
        datasets.get_path("markt")
    assert "utilities" in str(info.value)


def test_missing_file_says_how_to_regenerate(tmp_path, monkeypatch):
    monkeypatch.setenv("GEO3D_SAMPLE_DATA", str(tmp_path))
    with pytest.raises(InputError, match=r"make_sample_data\.py"):
        datasets.get_path("dem")
