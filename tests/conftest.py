"""Shared fixtures: the real data folder beside the project (../shared/data)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ../shared/data; skips the test when the folder is absent (a user's clone)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (a clone has no ../shared/data: the tests on real files are skipped)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


# --------------------------------------------------------------------------------------------
# ``geo3d scan`` of the committed sample market, once per session (tests/indoor, tests/viz)
# --------------------------------------------------------------------------------------------
STAIRS = ('\nstructure = "general"\n\n[[connectors]]\nkind = "stairs"\nfloors = [1, 2]\nxy = [203489.0, 553350.0]\n'
          'name = "중앙계단"\n\n[[connectors]]\nkind = "lift"\nfloors = [1, 2]\nxy = [203500.0, 553372.0]\n'
          'name = "승강기1"\n')


def market_with_stairs(tmp: Path, toml_text: str) -> Path:
    head, sep, rest = toml_text.partition("\n[[aisles]]\n")
    p = tmp / "market.toml"
    p.write_text(head + STAIRS + sep + rest, encoding="utf-8")
    return p


@pytest.fixture(scope="session")
def sample_scan(tmp_path_factory) -> Path:
    """``geo3d scan`` of the committed sample, with a stair and a lift given in MARKET.toml."""
    import geo3d
    from geo3d.address.pipeline import scan_to_addresses

    sample = geo3d.datasets.get_path("market").parent
    tmp = tmp_path_factory.mktemp("sample_scan")
    toml = market_with_stairs(tmp, (sample / "market.toml").read_text(encoding="utf-8"))
    with geo3d.options.context(progress=False):
        scan_to_addresses(sample / "market.laz", toml, tmp / "out")
    return tmp / "out"


# --------------------------------------------------------------------------------------------
# a real browser, offline: headless Debian Chromium driven by Playwright (tests/viz)
# --------------------------------------------------------------------------------------------
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/bin/chromium-browser")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--metrics-recording-only",
    # software WebGL (SwiftShader through ANGLE) so deck.gl draws without a GPU
    "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist",
    # belt and braces: no host name resolves except the machine itself
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def request_is_local(url: str) -> bool:
    """True for a URL that stays on this machine (file:, data:, blob:, about:, loopback)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme in ("file", "data", "blob", "about", "chrome-error"):
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname in _LOCAL_HOSTS


def chromium_path() -> str | None:
    import os
    import shutil

    env = os.environ.get("GEO3D_CHROMIUM")
    for cand in ((env,) if env else ()) + CHROMIUM_CANDIDATES:
        if cand and Path(cand).is_file():
            return cand
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def _chromium(tmp_path_factory: pytest.TempPathFactory):
    """One headless Chromium for the session (skips when Chromium or Playwright is absent)."""
    exe = chromium_path()
    if exe is None:
        pytest.skip("headless Chromium is absent (Debian: apt-get install chromium; `make test` "
                    "installs it as root)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is absent (pip install -e '.[dev]')")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch_persistent_context(
            str(profile), executable_path=exe, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 800}, device_scale_factor=1,
            service_workers="block", locale="ko-KR")
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def offline_page(_chromium):
    """A fresh Playwright page in headless Chromium that cannot reach the network.

    Every request that would leave the machine (anything but ``file:``, ``data:``, ``blob:``
    or 127.0.0.1/localhost) is aborted and its URL appended to ``page.blocked_requests``, so a
    test asserts ``page.blocked_requests == []``. Console errors and uncaught page errors are
    collected in ``page.console_errors``.
    """
    context = _chromium
    blocked: list[str] = []
    errors: list[str] = []

    def route(r) -> None:  # every request of the page, its frames and workers
        url = r.request.url
        if request_is_local(url):
            r.continue_()
        else:
            blocked.append(url)
            r.abort("internetdisconnected")

    def ws_route(ws) -> None:
        if request_is_local(ws.url):
            ws.connect_to_server()
        else:
            blocked.append(ws.url)
            ws.close()

    context.route("**/*", route)
    context.route_web_socket("**/*", ws_route)
    page = context.new_page()
    page.blocked_requests = blocked
    page.console_errors = errors
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield page
    finally:
        page.close()
        context.unroute_all(behavior="ignoreErrors")
