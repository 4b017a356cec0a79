"""The ticket pages in a real browser (Playwright, Debian's Chromium) on a phone (375 px) and a desk (1440 px):
a node typed by name, a photo's thumbnail, an action reaching the group, the Chinese timeline, a bulk 受理 —
with no console error and no CSP violation on any page. SQLite and PostgreSQL, like the rest of tests/browser."""

from __future__ import annotations

import dataclasses

import pytest
from playwright.async_api import expect
from sqlalchemy import select

from bot.messages import MessageType
from storage.models import MessageRow, TicketRow
from tests.browser.test_console_browser import browser, login, report, site, step  # noqa: F401 (fixtures)
from tests.web.test_ticket_pages import png

GRID1, GRID2 = "江桥花苑3号楼微网格", "老村东片微网格"
VIEWPORTS = {"phone": {"width": 375, "height": 800}, "desk": {"width": 1440, "height": 900}}
# Chromium reports a CSP violation on the console too; the listener makes sure none goes unseen
WATCH_CSP = ("document.addEventListener('securitypolicyviolation', "
             "e => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));")


@pytest.fixture
def sample_config(sample_config, tmp_path):
    """Photos saved under this test's own folder, not the checkout's data/."""
    return dataclasses.replace(sample_config, tickets=dataclasses.replace(
        sample_config.tickets, attachments_dir=str(tmp_path / "attachments")))


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request):
    return request.param


async def watched_page(browser, viewport: str):  # type: ignore[no-untyped-def]
    """A page whose console errors, page errors and CSP violations are collected in `page.problems`."""
    page = await browser.new_page(viewport=VIEWPORTS[viewport])
    problems: list[str] = []
    def console(message) -> None:  # type: ignore[no-untyped-def]
        where = message.location.get("url", "")
        if message.type == "error" and not where.endswith("/favicon.ico"):  # the site has no icon (layout's)
            problems.append(f"{message.text} at {where}")

    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    await page.add_init_script(WATCH_CSP)
    page.problems = problems  # type: ignore[attr-defined]
    return page


async def check_layout(page, viewport: str) -> None:  # type: ignore[no-untyped-def]
    """A phone gets cards (no header row, each cell labelled); a desk gets the table."""
    header = page.locator("table.ticket-list thead")
    cell = page.locator("table.ticket-list tbody td[data-label='负责人']").first
    label = await cell.evaluate("td => getComputedStyle(td, '::before').content")
    if viewport == "phone":
        await expect(header).to_be_hidden()
        assert label == '"负责人"'
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the page is {width} px wide on a 375 px phone"
    else:
        await expect(header).to_be_visible()
        assert label in ("none", "normal", "")


async def test_a_ticket_with_a_photo_found_by_node_name_and_acted_on(site, browser, viewport, request):
    bot, sim, base = site
    room = await report(bot, sim, GRID2, "sim:东头12号 陈老板", "东头的垃圾堆了好几天没人清，都臭了")
    await sim.post(room.id, "sim:东头12号 陈老板", "", type=MessageType.IMAGE, payload=png(40, 30))
    await bot.idle()
    await report(bot, sim, GRID1, "sim:3-201 王芳", "3号楼楼道灯坏了好几天了")
    async with bot.db.unit_of_work() as s:
        number = await s.scalar(select(TicketRow.number).where(TicketRow.node_code == "JQS-02-01"))
        image = await s.scalar(select(MessageRow.id).where(MessageRow.msg_type == "image"))
    photo_url = f"{base}/console/tickets/{number}/photos/{image}"
    page = await watched_page(browser, viewport)
    try:
        await login(page, base, "shuji")
        await page.goto(f"{base}/console/tickets")
        await page.fill("input[name=node]", "老村东片自建房")  # a name, as a secretary types it
        await page.click("button:has-text('筛选')")
        rows = page.locator("table.ticket-list tbody tr")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text("垃圾堆")
        await check_layout(page, viewport)
        await rows.first.locator("a").click()

        thumb = page.locator("img.thumb")
        await thumb.scroll_into_view_if_needed()  # loading='lazy': drawn once it is near the screen
        await expect(thumb).to_be_visible()
        await thumb.evaluate("img => img.decode()")  # rejects if the picture cannot be drawn
        assert await thumb.evaluate("img => img.naturalWidth") == 40
        assert await thumb.get_attribute("src") == f"/console/tickets/{number}/photos/{image}"
        await page.click("button[value=accept]")
        await expect(page.locator(".flash")).to_contain_text("已受理")
        await expect(page.locator("button[value=accept]")).to_have_count(0)
        timeline = page.locator("ol.timeline")
        await expect(timeline.locator("li.by-resident").first).to_contain_text("反映问题，立为工单")
        await expect(timeline.locator("li.by-resident").first).to_contain_text("居民")
        await expect(timeline.locator("li.by-handler")).to_contain_text("负责人 李红梅 受理")
        await expect(timeline).not_to_contain_text("accept")

        await page.goto(f"{base}/simulator")  # the status message reaches the group
        await page.locator(".room").first.wait_for(state="attached")
        if await page.locator("#drawer-toggle").is_visible():  # on a phone the group list is a drawer
            await page.click("#drawer-toggle")
        await page.fill("#filter", GRID2)
        await page.locator(f"[data-room='{room.id}']").click()
        await expect(page.locator("#messages")).to_contain_text(f"#{number}", timeout=10_000)
        await expect(page.locator("#messages")).to_contain_text("已受理", timeout=10_000)
        assert page.problems == []  # type: ignore[attr-defined]

        other = await browser.new_page(viewport=VIEWPORTS[viewport])  # a leader of 第一网格 only
        await login(other, base, "chenli")
        answer = await other.goto(photo_url)
        assert answer is not None and answer.status == 403
        await other.close()
    except Exception:
        await step(page, f"ticket-photo-{viewport}-{request.node.callspec.id}")
        raise


async def test_a_leader_accepts_three_tickets_one_of_them_closed(site, browser, viewport, request):
    bot, sim, base = site
    texts = ("3号楼楼道灯坏了好几天了", "3号楼电梯停了", "3号楼门口垃圾没人清")
    for n, text in enumerate(texts):
        await report(bot, sim, GRID1, f"sim:3-{n}01 住户{n}", text)
    async with bot.db.unit_of_work() as s:
        numbers = {t.text: t.number for t in await s.scalars(select(TicketRow))}
    light, lift, litter = (numbers[t] for t in texts)
    page = await watched_page(browser, viewport)
    try:
        await login(page, base, "chenli")
        await page.goto(f"{base}/console/tickets/{lift}")
        await page.fill("input[name=note]", "重复反映")
        await page.click("button[value=close]")
        await expect(page.locator(".flash")).to_contain_text("已关闭")
        await expect(page.locator("button[value=accept]")).to_have_count(0)  # no 受理 on a closed ticket
        await expect(page.locator("button[value=reopen]")).to_have_count(1)

        await page.goto(f"{base}/console/tickets")
        await check_layout(page, viewport)
        for number in (light, lift, litter):
            await page.check(f"input[name=number][value='{number}']")
        await page.select_option("select[name=action]", "accept")
        await page.click("button:has-text('批量执行')")
        await expect(page.locator(".bulk-done")).to_have_text("2")
        await expect(page.locator(".bulk-refused")).to_have_text("1")
        refused = page.locator(f".bulk-summary li.refused[data-number='{lift}']")
        await expect(refused).to_contain_text("已关闭")
        await expect(refused).to_contain_text("不能受理")
        for number in (light, litter):
            await expect(page.locator(f".bulk-summary li.done[data-number='{number}']")).to_have_count(1)
        assert page.problems == []  # type: ignore[attr-defined]
    except Exception:
        await step(page, f"ticket-bulk-{viewport}-{request.node.callspec.id}")
        raise
    async with bot.db.unit_of_work() as s:
        states = {t.number: t.state for t in await s.scalars(select(TicketRow))}
    assert [states[n] for n in (light, lift, litter)] == ["accepted", "closed", "accepted"]
