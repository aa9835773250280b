#!/usr/bin/env python
"""Screenshots of the demo's 3D maps for docs/img (headless Chromium, offline).

    python scripts/demo.py --out out && python scripts/map_screenshots.py --out out --img docs/img

Needs Debian's chromium (``make test`` installs it) and the ``playwright`` package (dev extra);
every request that would leave the machine is refused, as in tests/viz.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import CHROMIUM_FLAGS, chromium_path, request_is_local

SHOTS = [  # (page, image, JavaScript run once the map is drawn)
    ("underground/map3d.html", "map3d_underground.png", None),
    ("underground/map3d.html", "map3d_street.png",
     "GEO3D.flyTo(GEO3D.scene.search[0].position, 110, {pitch: 45, bearing: -25, duration: 0})"),
    ("underground/map3d.html", "map3d_pit.png",
     "GEO3D.flyTo(GEO3D.scene.search[0].position, 28, {pitch: 60, bearing: -30, duration: 0})"),
    ("market/map.html", "map3d_market.png", None),
    ("market/map.html", "map3d_market_search.png",
     "(() => { const i = document.getElementById('g3-search-input'); i.value = GEO3D.scene.search[40].text;"
     " document.getElementById('g3-search-go').click(); })()"),
    ("market/map.html", "map3d_market_routes.png",
     "(() => { GEO3D.setLevel(1); GEO3D.setHidden(['store', 'facilities', 'network-room'], true);"
     " const v = GEO3D.scene.tables.evacuation.values, b = GEO3D.scene.bounds; let f = 0;"
     " v.distance_m.forEach((d, i) => { if (v.floor[i] === 1 && d > v.distance_m[f]) f = i; });"
     " GEO3D.flyTo([(b[0] + b[3]) / 2, (b[1] + b[4]) / 2, 0], 110, {pitch: 35, bearing: -20, duration: 0});"
     " GEO3D.select('evacuation', f); })()"),
]


def main() -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("out"), help="the demo's output folder")
    parser.add_argument("--img", type=Path, default=Path("docs/img"))
    parser.add_argument("--only", help="take only the image of this name")
    args = parser.parse_args()
    args.img.mkdir(parents=True, exist_ok=True)
    blocked: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.route("**/*", lambda r: r.continue_() if request_is_local(r.request.url)
                   else (blocked.append(r.request.url), r.abort())[1])
        for html, png, js in SHOTS:
            if args.only and png != args.only:
                continue
            page.goto((args.out / html).resolve().as_uri())
            page.wait_for_function("window.GEO3D && window.GEO3D.ready === true", timeout=120_000)
            if js:
                page.evaluate(js)
            page.wait_for_timeout(2500)
            page.screenshot(path=str(args.img / png))
            print(args.img / png)
        browser.close()
    if blocked:
        print(f"requests that would have left the machine: {blocked}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
