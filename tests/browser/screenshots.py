"""`make screenshots`: the main pages at 375 and 1440 px, as PNG files in screenshots/ (git-ignored).

The same set-up as the browser tests: the sample config on the simulator, a throw-away SQLite database, a few
reports so the pages have something to show, Playwright driving Debian's Chromium.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from playwright.async_api import async_playwright

from bot.app import GridBot
from bot.config import SendBudget, load_config
from bot.transport.simulator import SimulatorTransport
from bot.web.accounts import hash_password, new_token
from bot.web.app import build_web_app, start_web
from storage.session import Database
from storage.web_repository import WebRepository
from tests.browser.test_console_browser import CHROMIUM, free_port
from tests.fakes import WORKDAY_MORNING, ShiftedClock

ROOT = Path(__file__).resolve().parents[2]
SIZES = {"375": {"width": 375, "height": 812}, "1440": {"width": 1440, "height": 900}}
PAGES = (("overview", "/console"), ("tree", "/console/tree"), ("tickets", "/console/tickets"),
         ("review", "/console/review"), ("audit", "/console/audit"))
PASSWORD = "screenshots 1"
REPORTS = (("江桥花苑3号楼微网格", "sim:3-201 王芳", "3号楼楼道灯坏了好几天了"),
           ("老村东片微网格", "sim:东头12号 陈老板", "东头的垃圾堆了好几天没人清，都臭了"),
           ("江桥花苑3号楼微网格", "sim:3-502 陈晨", "楼下好像有股煤气味，赶紧来人看看"))


async def shoot(out: Path) -> list[Path]:
    """Start a bot, fill it a little, and photograph every page at every size; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    config = load_config(ROOT / "config.yaml", cache=False)
    config = dataclasses.replace(config, transport=dataclasses.replace(
        config.transport, send_budget=SendBudget(per_minute=600, jitter=0.0)))
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/screenshots.db")
        await db.upgrade()
        clock = ShiftedClock(WORKDAY_MORNING)  # not the hour the test runs at
        sim = SimulatorTransport.from_config(config, clock)
        bot = GridBot(config, sim, clock=clock, database=db, scheduler=False)
        await bot.start()
        await db.run(lambda s: WebRepository(s).add_user(
            username="shuji", password_hash=hash_password(PASSWORD), role="secretary", person_key="li_hongmei",
            node_code=None, token_hash=new_token()[1], disabled=False, created_at=datetime.now(timezone.utc)))
        for topic, sender, text in REPORTS:
            await sim.post(sim.room_by_topic(topic).id, sender, text)
        await bot.idle()
        port = free_port()
        runner = await start_web(build_web_app(bot), "127.0.0.1", port)
        base = f"http://127.0.0.1:{port}"
        try:
            async with async_playwright() as p:
                chromium = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
                for label, size in SIZES.items():
                    written += await _pages(chromium, base, label, size, out, sim.room_by_topic(REPORTS[0][0]).id)
                await chromium.close()
        finally:
            await runner.cleanup()
            await bot.stop()
            await db.dispose()
    return written


async def _pages(chromium, base: str, label: str, size: dict[str, int], out: Path,  # type: ignore[no-untyped-def]
                 room_id: str) -> list[Path]:
    context = await chromium.new_context(viewport=size, locale="zh-CN")
    page = await context.new_page()
    files = []

    async def snap(name: str) -> None:
        path = out / f"{name}-{label}.png"
        await page.screenshot(path=str(path), full_page=True)
        files.append(path)

    await page.goto(f"{base}/login")
    await snap("login")
    await page.fill("input[name=username]", "shuji")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button:has-text('登录')")
    await page.wait_for_url(f"{base}/console")
    for name, path in PAGES:
        await page.goto(base + path)
        await snap(name)
    await page.goto(f"{base}/simulator#room={room_id}")  # a group with the reports and the bot's replies
    await page.locator(".msg.bot").first.wait_for()
    await snap("simulator")
    await context.close()
    return files


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "screenshots")
    for path in asyncio.run(shoot(out)):
        print(path)


if __name__ == "__main__":
    main()
