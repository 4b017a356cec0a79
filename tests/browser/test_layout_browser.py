"""The simulator and the console on a phone (375×812) and a wide screen (1440×900), in a real Chromium.

Each journey checks what a user would see — the drawer opens, the send button is on screen, nothing scrolls
sideways, times are Beijing time in a browser set to New York — and that the page logged no error and broke no
rule of its Content Security Policy.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from tests.browser.test_console_browser import GRID1, PASSWORD, browser, report, site, step  # noqa: F401 (fixtures)

PHONE, WIDE = {"width": 375, "height": 812}, {"width": 1440, "height": 900}
SIZES = pytest.mark.parametrize("size", [PHONE, WIDE], ids=["375", "1440"])
BEIJING = ZoneInfo("Asia/Shanghai")
WATCH_CSP = """window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"""


class Watched:
    """A page in a New York browser, with every console error, page error and CSP violation it meets."""

    def __init__(self, context, page) -> None:  # type: ignore[no-untyped-def]
        self.context, self.page, self.errors = context, page, []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("response", lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    async def clean(self) -> None:
        """No errors and no CSP violations on the page as it is now."""
        violations = await self.page.evaluate("window.__csp || []")
        assert violations == [] and self.errors == [], (violations, self.errors)

    async def no_sideways_scroll(self) -> None:
        wide = await self.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert wide[0] <= wide[1], f"page is {wide[0]} px wide in a {wide[1]} px window"


async def open_page(browser, size) -> Watched:  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport=size, timezone_id="America/New_York", locale="zh-CN")
    await context.add_init_script(WATCH_CSP)
    return Watched(context, await context.new_page())


async def sign_in(w: Watched, base: str, username: str) -> None:
    await w.page.goto(f"{base}/login")
    await w.page.fill("input[name=username]", username)
    await w.page.fill("input[name=password]", PASSWORD)
    await w.page.click("button:has-text('登录')")
    await w.page.wait_for_url(f"{base}/console")


def on_screen(box, size) -> bool:  # type: ignore[no-untyped-def]
    return box is not None and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= size["width"] \
        and box["y"] + box["height"] <= size["height"]


@SIZES
async def test_sending_in_the_simulator_gets_the_bots_reply_in_beijing_time(site, browser, size, request):
    bot, sim, base = site
    room = sim.room_by_topic(GRID1)
    w = await open_page(browser, size)
    page = w.page
    try:
        await page.goto(f"{base}/simulator")
        sidebar, toggle = page.locator("#sidebar"), page.locator("#drawer-toggle")
        await expect(page.locator(".room").first).to_be_attached()
        if size is PHONE:
            await expect(toggle).to_be_visible()
            await expect(sidebar).not_to_be_in_viewport()  # the group list waits in its drawer
            await toggle.click()
            await expect(sidebar).to_be_in_viewport(ratio=0.9)
            assert await toggle.get_attribute("aria-expanded") == "true"
        else:
            await expect(toggle).to_be_hidden()
            await expect(sidebar).to_be_in_viewport(ratio=0.9)
        await page.fill("#filter", GRID1)
        await page.locator(f"[data-room='{room.id}']").click()
        await expect(page.locator("#room-title")).to_have_text(GRID1)
        if size is PHONE:
            await expect(sidebar).not_to_be_in_viewport()  # picking a group closes the drawer
        send = page.locator("#send")
        assert on_screen(await send.bounding_box(), size)
        await page.fill("#text", "3号楼楼道灯坏了好几天了")
        await send.click()
        reply = page.locator(".msg.bot").last
        await expect(reply).to_contain_text("#1001", timeout=10_000)
        now = bot.services.clock.now().astimezone(BEIJING)  # the bot's time, which the page shows
        shown = await reply.locator(".time").inner_text()
        # HH:MM, with MM-DD before it when the bot's day is not the browser's (the bot runs on a fixed morning)
        assert shown[-5:] in {(now - timedelta(minutes=m)).strftime("%H:%M") for m in (0, 1)}, shown
        assert len(shown) == 5 or shown[:5] == now.strftime("%m-%d"), shown
        await w.no_sideways_scroll()
        await w.clean()
    except Exception:
        await step(page, f"simulator-{request.node.callspec.id}")
        raise
    finally:
        await w.context.close()


@SIZES
async def test_the_login_page_and_the_console_fit_the_screen(site, browser, size, request):
    bot, sim, base = site
    w = await open_page(browser, size)
    page = w.page
    try:
        await page.goto(f"{base}/login")
        card = page.locator(".login-card")
        await expect(card).to_contain_text("微格助手")
        await expect(card).to_contain_text("gridbot")
        await expect(card).to_contain_text(bot.config.name)
        assert on_screen(await page.locator("button:has-text('登录')").bounding_box(), size)
        await w.no_sideways_scroll()
        await sign_in(w, base, "shuji")
        links = page.locator(".nav-links")
        if size is PHONE:
            await expect(links).to_be_hidden()  # the menu is folded until asked for
            await page.click("label.nav-button")
        await expect(links.locator("a", has_text="网格树")).to_be_visible()
        await links.locator("a", has_text="网格树").click()
        await expect(page.locator("h1")).to_have_text("网格树")
        for path in ("/console", "/console/tree", "/console/review", "/console/digest", "/console/audit",
                     "/console/tickets"):
            await page.goto(base + path)
            await w.no_sideways_scroll()
        await w.clean()
    except Exception:
        await step(page, f"login-{request.node.callspec.id}")
        raise
    finally:
        await w.context.close()


@SIZES
async def test_the_audit_log_shows_a_refused_accept_as_refused(site, browser, size, request):
    bot, sim, base = site
    await report(bot, sim, GRID1, "sim:3-201 王芳", "3号楼楼道灯坏了好几天了")
    w = await open_page(browser, size)
    page = w.page
    try:
        await sign_in(w, base, "chenli")
        stale = await w.context.new_page()  # the same ticket open in a second tab, left as it was
        await stale.goto(f"{base}/console/tickets/1001")
        await page.goto(f"{base}/console/tickets/1001")
        await page.click("button[value=accept]")
        await page.wait_for_url(f"{base}/console/tickets/1001*")
        await stale.click("button[value=accept]")  # accepted already in the first tab: the desk refuses
        await stale.wait_for_url(f"{base}/console/tickets/1001*")
        await stale.close()
        await w.context.clear_cookies()
        await sign_in(w, base, "shuji")
        await page.goto(f"{base}/console/audit")
        rows = page.locator("table.audit tr").filter(has=page.locator("td.action", has_text="受理"))
        await expect(rows).to_have_count(2)
        await expect(rows.nth(0).locator("td.outcome")).to_have_text("拒绝")  # newest first
        await expect(rows.nth(1).locator("td.outcome")).to_have_text("允许")
        await expect(rows.nth(0)).to_contain_text("工单 #1001")
        await expect(rows.nth(0).locator("td.outcome")).to_be_visible()
        await w.no_sideways_scroll()
        await w.clean()
    except Exception:
        await step(page, f"audit-{request.node.callspec.id}")
        raise
    finally:
        await w.context.close()


@SIZES
async def test_a_secretary_follows_a_notice_from_sending_to_the_first_reply(site, browser, size, request):
    """Post from the console (the plan first), see it delivered, a resident's "收到" counted, on a phone and a desk."""
    bot, sim, base = site
    w = await open_page(browser, size)
    page = w.page
    try:
        await sign_in(w, base, "shuji")
        await page.goto(f"{base}/console/notices")
        await page.select_option("select[name=node]", "JQS-01")
        await page.fill("textarea[name=text]", "周六上午消防演练，请大家配合")
        await page.click("button:has-text('确认发送范围')")
        await expect(page.locator("p.notice-plan")).to_contain_text("11")  # shown first, not sent yet
        await page.click("button:has-text('确认发送')")
        await expect(page.locator(".flash")).to_contain_text("已安排发送")
        for _ in range(40):  # delivered at the simulator's pace
            await page.goto(f"{base}/console/notices/1")
            if (await page.locator("b.delivered").inner_text()) == "11":
                break
            await page.wait_for_timeout(500)
        await expect(page.locator("b.delivered")).to_have_text("11")
        await report(bot, sim, GRID1, "sim:3-201 王芳", "收到，周六在家")
        await page.reload()
        await expect(page.locator("b.households")).to_contain_text("1/")
        await expect(page.locator("table.households tr.replied")).to_have_count(1)
        await expect(page.locator("table.households tr.replied")).to_contain_text("3-201")
        await w.no_sideways_scroll()
        await w.clean()
    except Exception:
        await step(page, f"follow-notice-{request.node.callspec.id}")
        raise
    finally:
        await w.context.close()
