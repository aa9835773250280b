"""The Python blocks of docs/agency-data.md run, in order, on the sample data (fresh folder)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_agency_data_page_code_runs(tmp_path):
    text = (ROOT / "docs" / "agency-data.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 3
    script = tmp_path / "page.py"
    script.write_text("\n".join(blocks), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, check=False,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-4000:]
    assert "19.3 km in EPSG:5186" in done.stdout      # the survey = the UIS water mains
    assert "zero-length line" in done.stdout
    assert not re.search(r"\.\./shared/|\b(?:CONTRACTS|UNDERGROUND)\.md", text)
