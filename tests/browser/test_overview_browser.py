"""The overview on a phone (375 px, cards) and a wide screen (1440 px), in a real Chromium: urgent first, the
chart drawn from the page's own SVG, the 待确认 and notice cards, no sideways scroll, no error, no CSP violation."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.test_console_browser import GRID1, GRID2, browser, report, site, step  # noqa: F401 (fixtures)
from tests.browser.test_layout_browser import PHONE, SIZES, open_page, sign_in


@SIZES
async def test_the_overview_reads_at_a_glance_on_a_phone_and_a_wide_screen(site, browser, size, request):
    bot, sim, base = site
    await report(bot, sim, GRID2, "sim:东头12号 陈老板", "东头的垃圾堆了好几天没人清，都臭了")
    await report(bot, sim, GRID1, "sim:3-201 王芳", "3号楼燃气味很重 快来人")
    await report(bot, sim, "江桥社区工作群", "wxid_lihongmei", "#通知 周六上午消防演练，请大家配合")
    await report(bot, sim, GRID1, "sim:3-302 李强", "收到")
    w = await open_page(browser, size)
    page = w.page
    try:
        await sign_in(w, base, "shuji")
        await expect(page.locator("h1")).to_have_text("概览")
        first = page.locator("table.ov-tickets tr[data-number]")
        await expect(first).to_have_count(2)
        await expect(first.nth(0)).to_contain_text("燃气味很重")  # the urgent one first, though the older is listed
        await expect(first.nth(0).locator(".badge.urgent")).to_be_visible()
        urgent_tile = page.locator("[data-tile=urgent] b")
        await expect(urgent_tile).to_have_text("1")
        days = page.locator("svg.day-chart g.day")
        await expect(days).to_have_count(14)
        today = days.last
        assert await today.get_attribute("data-new") == "2"
        chart = await page.locator("svg.day-chart").bounding_box()
        assert chart is not None and chart["width"] > 250 and chart["height"] > 100  # drawn, and at a readable size
        bar = await today.locator("rect.bar-new").bounding_box()
        assert bar is not None and bar["height"] > 10
        notice = page.locator(".ov-notices li[data-notice='1']")
        await expect(notice).to_contain_text("回执")
        await expect(notice.locator("a")).to_have_attribute("href", "/console/notices/1")
        await expect(page.locator(".ov-review")).to_contain_text("没有待确认的消息")
        tiles = page.locator(".ov-tile")
        boxes = [await tiles.nth(i).bounding_box() for i in range(4)]
        row = await first.nth(0).evaluate("r => getComputedStyle(r).display")
        if size is PHONE:
            assert boxes[0]["y"] == boxes[1]["y"] < boxes[2]["y"]  # two tiles a row
            assert row == "block"  # ticket rows are cards
            assert chart["width"] <= size["width"]
        else:
            assert len({b["y"] for b in boxes}) == 1  # the four tiles in one row
            assert row == "table-row"
            periods = page.locator(".ov-period")
            day_box, week_box = await periods.nth(0).bounding_box(), await periods.nth(1).bounding_box()
            assert day_box["y"] == week_box["y"] and chart["x"] > week_box["x"]  # side by side, chart beside
        await w.no_sideways_scroll()
        await page.locator(".ov-notices li[data-notice='1'] a").click()
        await expect(page.locator("h1")).to_contain_text("通知 #1")
        await w.clean()
    except Exception:
        await step(page, f"overview-{request.node.callspec.id}")
        raise
    finally:
        await w.context.close()
