"""The console in a real browser (Playwright driving Debian's Chromium), as a secretary and a leader would use it.

The bot runs for real on a free port (simulator transport, system clock, SQLite and PostgreSQL); a failing step
leaves a screenshot in tests/browser/artifacts/.
"""

from __future__ import annotations

import dataclasses
import socket
from datetime import datetime, timezone
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from bot.app import GridBot
from bot.config import SendBudget
from bot.transport.simulator import SimulatorTransport
from bot.web.accounts import hash_password, new_token
from bot.web.app import build_web_app, start_web
from storage.web_repository import WebRepository
from tests.fakes import WORKDAY_MORNING, ShiftedClock

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parent / "artifacts"
PASSWORD = "browser pass 7"
GRID1, GRID2 = "江桥花苑3号楼微网格", "老村东片微网格"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def site(sample_config, db):
    config = dataclasses.replace(sample_config, transport=dataclasses.replace(
        sample_config.transport, send_budget=SendBudget(per_minute=600, jitter=0.0)))
    clock = ShiftedClock(WORKDAY_MORNING)  # not the hour the test runs at
    sim = SimulatorTransport.from_config(config, clock)
    bot = GridBot(config, sim, clock=clock, database=db, scheduler=False)
    await bot.start()

    async def accounts(session):  # type: ignore[no-untyped-def]
        for name, role, person in (("shuji", "secretary", "li_hongmei"), ("chenli", "leader", "chen_li")):
            await WebRepository(session).add_user(username=name, password_hash=hash_password(PASSWORD), role=role,
                                                  person_key=person, node_code=None, token_hash=new_token()[1],
                                                  disabled=False, created_at=datetime.now(timezone.utc))

    await db.run(accounts)
    port = free_port()
    runner = await start_web(build_web_app(bot), "127.0.0.1", port)
    yield bot, sim, f"http://127.0.0.1:{port}"
    await runner.cleanup()
    await bot.stop()


@pytest.fixture
async def browser():
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield chromium
        await chromium.close()


async def step(page, name: str):  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def login(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    await page.goto(f"{base}/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button:has-text('登录')")
    await page.wait_for_url(f"{base}/console")


async def report(bot, sim, topic: str, sender: str, text: str):  # type: ignore[no-untyped-def]
    room = sim.room_by_topic(topic)
    await sim.post(room.id, sender, text)
    await bot.idle()
    return room


async def test_a_secretary_filters_resolves_posts_a_notice_and_exports(site, browser, tmp_path, request):
    bot, sim, base = site
    room = await report(bot, sim, GRID1, "sim:3-201 王芳", "3号楼楼道灯坏了好几天了")
    await report(bot, sim, GRID2, "sim:东头12号 陈老板", "东头的垃圾堆了好几天没人清，都臭了")
    page = await browser.new_page(accept_downloads=True)
    try:
        await login(page, base, "shuji")
        await page.goto(f"{base}/console/tickets")
        await page.select_option("select[name=category]", "repair")
        await page.click("button:has-text('筛选')")
        rows = page.locator("table.tickets tr")
        await expect(rows).to_have_count(2)  # header + the one repair ticket
        await expect(rows.nth(1)).to_contain_text("楼道灯坏了")
        await rows.nth(1).locator("a").click()
        await page.click("button[value=accept]")
        await expect(page.locator(".flash")).to_contain_text("已受理")
        await page.fill("input[name=note]", "已更换灯泡")
        await page.click("button[value=resolve]")
        await expect(page.locator(".flash")).to_contain_text("已办结")

        await page.goto(f"{base}/simulator")  # the status message reaches the group
        await page.fill("#filter", GRID1)
        await page.locator(f"[data-room='{room.id}']").click()
        await expect(page.locator("#messages")).to_contain_text("已更换灯泡", timeout=10_000)

        await page.goto(f"{base}/console/notices")
        await page.select_option("select[name=node]", "JQS-01")
        await page.fill("textarea[name=text]", "周六上午消防演练，请大家配合")
        await page.click("button:has-text('确认发送范围')")
        await expect(page.locator("p.notice-plan")).to_contain_text("11")  # shown first, not sent yet
        await page.click("button:has-text('确认发送')")
        await expect(page.locator(".flash")).to_contain_text("已安排发送")
        cell = page.locator("td.progress").first
        for _ in range(40):  # delivered at 600/min; the page refreshes itself every 10 s, we reload sooner
            if "已送达 11/11" in (await cell.inner_text()):
                break
            await page.wait_for_timeout(500)
            await page.reload()
        await expect(cell).to_contain_text("已送达 11/11")

        await page.goto(f"{base}/console/tickets")
        async with page.expect_download() as caught:
            await page.click("text=导出 CSV")
        download = await caught.value
        saved = tmp_path / "tickets.csv"
        await download.save_as(saved)
        text = saved.read_text(encoding="utf-8-sig")
        assert "楼道灯坏了" in text and "垃圾堆" in text
    except Exception:
        await step(page, f"secretary-{request.node.callspec.id}")
        raise


async def test_a_leader_cannot_reach_another_subtree(site, browser, request):
    bot, sim, base = site
    await report(bot, sim, GRID2, "sim:东头12号 陈老板", "东头的垃圾堆了好几天没人清，都臭了")
    page = await browser.new_page()
    try:
        await login(page, base, "chenli")
        answer = await page.goto(f"{base}/console/tickets/1001")
        assert answer.status == 403
        await expect(page.locator("body")).to_contain_text("不在您负责的范围内")
        await page.goto(f"{base}/console/tickets")
        await expect(page.locator("table.tickets")).not_to_contain_text("垃圾堆")
    except Exception:
        await step(page, f"leader-{request.node.callspec.id}")
        raise
