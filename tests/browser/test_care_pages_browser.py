"""The 住户 page (with an import: dry run, then confirmation) and the 关爱台账 / 走访记录 pages in a real Chromium,
on a phone (375) and a wide screen (1440): what a grid leader sees, no sideways scroll, no console error and no
broken rule of the Content Security Policy."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.browser.test_console_browser import browser, site  # noqa: F401 (fixtures)
from tests.browser.test_layout_browser import PHONE, SIZES, open_page, sign_in
from tests.browser.test_console_browser import step
from tests.households.test_messy_import import messy_workbook


@pytest.fixture
def sample_config(care_config):  # the sample as shipped, with its care ledger
    return care_config


@SIZES
async def test_a_leader_imports_households_and_reads_the_care_ledger(site, browser, size, request, tmp_path):
    bot, sim, base = site
    w = await open_page(browser, size)
    page = w.page
    try:
        await sign_in(w, base, "chenli")
        if size is PHONE:
            await page.click("label.nav-button")
        await expect(page.locator(".nav-links a", has_text="关爱台账")).to_be_visible()
        await page.goto(f"{base}/console/households?node=JQS-01-03")
        await expect(page.locator(".households-summary")).to_contain_text("登记 0 户")
        await page.set_input_files("input[name=file]", str(messy_workbook(tmp_path)))
        await page.click("button:has-text('试导入')")
        await expect(page.locator(".import-problems-list li")).to_have_count(3)
        await expect(page.locator(".import-problems-list")).to_contain_text("第 10 行：缺少姓名")
        await expect(page.locator(".import-households-list li")).to_have_count(3)
        await w.no_sideways_scroll()
        await page.click("button:has-text('确认导入')")
        await page.wait_for_url(f"{base}/console/households?node=JQS-01-03")
        await expect(page.locator(".said")).to_contain_text("已导入")
        await expect(page.locator("tr.unreached")).to_have_count(2)
        first = page.locator("table.households tr[data-key]").first
        await expect(first).to_contain_text("无人在群")
        await expect(page.locator("table.households")).to_contain_text("138****0201")
        await w.no_sideways_scroll()
        await page.goto(f"{base}/console/care")
        await expect(page.locator(".care-count")).to_have_text("2")
        await expect(page.locator("tr[data-key=wu_nainai] .care-overdue")).to_have_text("走访超期")
        await expect(page.locator("tr[data-key=wu_nainai]")).to_contain_text("张阿姨")
        await expect(page.locator("tr[data-key=wu_nainai] .care-kind").first).to_be_visible()
        await w.no_sideways_scroll()
        await page.click("a:has-text('走访记录')")
        await expect(page.locator(".care-coverage")).to_contain_text("本月应访 2 户，已访 0 户")
        await w.no_sideways_scroll()
        await w.clean()
    except Exception:
        await step(page, f"care-{request.node.callspec.id}")
        raise
    finally:
        await w.context.close()
