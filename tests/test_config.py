import logging

import pytest

import geo3d
from geo3d import _progress
from geo3d.errors import OptionError


def test_defaults_and_context_restore():
    assert geo3d.options.n_jobs == 1
    with geo3d.options.context(n_jobs=2, progress=False):
        assert geo3d.options.n_jobs == 2
        assert geo3d.options.progress is False
    assert geo3d.options.n_jobs == 1
    assert geo3d.options.progress == "auto"


@pytest.mark.parametrize(
    ("key", "value"),
    [("n_jobs", 0), ("n_jobs", "2"), ("n_jobs", True), ("progress", "yes"), ("log_level", "LOUD")],
)
def test_invalid_values_raise(key, value):
    with pytest.raises(OptionError, match=key):
        setattr(geo3d.options, key, value)


def test_unknown_key_lists_valid_ones():
    with pytest.raises(OptionError, match="valid options: cache_dir, log_level, n_jobs, progress"):
        geo3d.options.colour = "red"
    with pytest.raises(OptionError):
        _ = geo3d.options.colour


def test_log_level_sets_logger():
    with geo3d.options.context(log_level="debug"):
        assert logging.getLogger("geo3d").level == logging.DEBUG
    assert logging.getLogger("geo3d").level == logging.WARNING


def test_package_logger_has_null_handler():
    assert any(isinstance(h, logging.NullHandler) for h in logging.getLogger("geo3d").handlers)


def test_progress_follows_option():
    with geo3d.options.context(progress=False):
        assert not _progress.progress_enabled()
        assert list(_progress.progress(range(3))) == [0, 1, 2]
    with geo3d.options.context(progress=True):
        assert _progress.progress_enabled()
        assert list(_progress.progress(range(3), total=3, desc="t")) == [0, 1, 2]
