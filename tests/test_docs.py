"""The documentation site in docs/ builds without a warning (mkdocs --strict), and its pages
cite only files that a clone has."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip("mkdocs", reason="the docs tools come with the dev extra")
    pytest.importorskip("mkdocstrings")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site"),
         "--config-file", str(ROOT / "mkdocs.yml")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "WARNING" not in done.stderr, done.stderr[-4000:]
    site = tmp_path / "site"
    assert (site / "contracts" / "index.html").exists()
    api = (site / "api" / "underground" / "index.html").read_text(encoding="utf-8")
    assert "exposed_length_m" in api and "cross_section" in api   # built from the docstrings


def test_pages_cite_no_file_outside_the_repository():
    pages = sorted((ROOT / "docs").rglob("*.md"))
    assert pages
    for page in [*pages, ROOT / "README.md"]:
        text = page.read_text(encoding="utf-8")
        bad = re.findall(r"\.\./shared/(?:design|mission)|\b(?:ADDRESS|CONTRACTS|UNDERGROUND|"
                         r"ARCHITECTURE|SEED)\.md", text)
        assert not bad, f"{page.name} cites {bad}: cite a page of docs/ instead"


@pytest.mark.parametrize("page", ["guide-underground.md", "guide-statistics.md"])
def test_guide_code_runs(page, tmp_path):
    """The Python blocks of a guide run, in order, on the sample data (in a fresh folder)."""
    pytest.importorskip("matplotlib")
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / page).read_text(encoding="utf-8"),
                        re.S)
    assert blocks
    script = tmp_path / "guide.py"
    script.write_text("import matplotlib\nmatplotlib.use('Agg')\n" + "\n".join(blocks),
                      encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-4000:]
