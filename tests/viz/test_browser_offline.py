"""The browser fixture itself: offline (requests that leave the machine are blocked and
recorded) and WebGL drawn in software."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_offline_page_blocks_and_records_remote_requests(offline_page, tmp_path):
    page = tmp_path / "p.html"
    page.write_text("<html><body><img src='https://example.org/x.png'>"
                    "<script src='http://cdn.example.com/a.js'></script>ok</body></html>")
    offline_page.goto(page.as_uri())
    offline_page.wait_for_load_state("load")
    assert sorted(offline_page.blocked_requests) == ["http://cdn.example.com/a.js",
                                                     "https://example.org/x.png"]


def test_offline_page_has_webgl2(offline_page):
    offline_page.set_content("<canvas id='c'></canvas>")
    ok = offline_page.evaluate("() => !!document.getElementById('c').getContext('webgl2')")
    assert ok, "headless Chromium gave no WebGL2 context (SwiftShader flags?)"
    assert offline_page.blocked_requests == []
