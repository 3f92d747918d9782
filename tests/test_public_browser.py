"""The ward's public page in a real browser (issue 13, item 4; P10): Debian's chromium through
Playwright, on a phone-sized screen, with axe-core finding no serious or critical accessibility
violation. Skips locally without chromium; fails under ``CI=true`` (tests/test_web_browser.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from tests.test_public_record import (
    PUBLIC_MAP_A,
    PUBLIC_PLACE_A,
    Published,
    assert_nothing_identifying,
    published,
    served,
)
from tests.test_web_browser import page

__all__ = ["page", "published"]  # fixtures


async def test_p10_the_public_page_reads_well_on_a_phone_and_passes_axe(
    page: Any, published: Published, engine: Engine
) -> None:
    from axe_playwright_python.async_playwright import Axe
    from playwright.async_api import expect

    async with served(engine) as base:
        await page.goto(f"{base}/congkhai/")
        await page.get_by_role("link", name="Phường Bến Thành").click()
        await expect(page.get_by_role("heading", level=1)).to_contain_text("Phường Bến Thành")
        main = page.locator("main")
        await expect(main).to_contain_text(published.answered)
        await expect(main).to_contain_text("Phòng đã nạo vét cống đường Lê Lợi")
        await expect(main).not_to_contain_text(published.hidden)
        # Where (issue 13): the street and the ward, and a map of the point rounded to ~100 m.
        await expect(main).to_contain_text(PUBLIC_PLACE_A)
        maps = page.get_by_role("link", name="Xem trên bản đồ (vị trí làm tròn khoảng 100 m)")
        await expect(maps).to_have_count(1)
        href = await maps.get_attribute("href")
        assert href == PUBLIC_MAP_A.replace("&amp;", "&")
        # The first Tab reaches the skip link, which leads to the content.
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("link", name="Tới nội dung chính")).to_be_focused()
        # Readable on a phone: nothing wider than the 390 px screen.
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        results = await Axe().run(page)
        serious = [
            violation
            for violation in results.response["violations"]
            if violation.get("impact") in {"serious", "critical"}
        ]
        assert serious == [], results.generate_report()
        assert_nothing_identifying(await page.content())
