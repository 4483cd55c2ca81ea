#!/usr/bin/env python3
"""Render the add-on's icon and logo from their SVG sources (camauth_addon/art/*.svg).

The PNGs are committed: nothing renders them at build time. After editing an SVG, run

    .venv/bin/python script/render_art.py

which draws each SVG at its own width and height in Debian's Chromium (driven by Playwright,
as the browser tests do), on a transparent background, into camauth_addon/<name>.png.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parents[1]
ART = ROOT / "camauth_addon" / "art"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--force-device-scale-factor=1"]


def size(svg: str) -> tuple[int, int]:
    """The width and height the SVG's root element declares, in pixels."""
    root = re.search(r"<svg\b[^>]*>", svg)
    if root is None:
        raise ValueError("no <svg> element")
    found = dict(re.findall(r'\b(width|height)="(\d+)"', root[0]))
    return int(found["width"]), int(found["height"])


async def render(sources: list[Path]) -> None:
    """Write <name>.png next to the add-on's config.yaml for each SVG."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            for source in sources:
                width, height = size(source.read_text(encoding="utf-8"))
                page = await browser.new_page(viewport={"width": width, "height": height})
                await page.goto(source.as_uri())
                target = ART.parent / f"{source.stem}.png"
                await page.screenshot(path=str(target), omit_background=True)
                await page.close()
                print(f"{target.relative_to(ROOT)}: {width}x{height}")
        finally:
            await browser.close()


if __name__ == "__main__":
    asyncio.run(render(sorted(ART.glob("*.svg"))))
    sys.exit(0)
