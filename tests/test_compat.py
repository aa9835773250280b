import subprocess
import sys

import pytest

from geo3d._compat import import_optional
from geo3d.errors import MissingDependencyError


def test_missing_module_names_the_extra():
    with pytest.raises(MissingDependencyError, match=r"pip install 'geo3d\[tiles\]'"):
        import_optional("pmtiles_not_here", extra="tiles")


def test_known_module_extra_is_looked_up():
    with pytest.raises(MissingDependencyError, match="pip install"):
        import_optional("no_such_mod_abc")


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_open3d_imports_in_this_environment():
    """open3d's wheel links libusb-1.0.so.0; geo3d provides it from the libusb-package wheel."""
    res = _run(
        "from geo3d._compat import import_open3d; o3d = import_open3d(); "
        "import numpy as np; pc = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(np.zeros((3, 3)))); "
        "print(o3d.__version__, len(pc.points))"
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.split()[1] == "3"


def test_plain_import_open3d_works_after_geo3d():
    res = _run("import geo3d._compat as c; c.import_open3d(); import open3d; print('ok')")
    assert res.returncode == 0, res.stderr


def test_reading_data_does_not_import_heavy_extras():
    res = _run(
        "import sys, geo3d, geo3d.datasets, geo3d.io.atomic; "
        "print(sorted(m for m in ('open3d', 'matplotlib', 'pydeck') if m in sys.modules))"
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"
