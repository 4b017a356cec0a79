"""What a page says after an action comes from the server's own state for that session, never from the URL."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from bot.config import ReviewConfig
from bot.web.flash import FLASH_TTL
from storage.models import ReviewRow
from tests.web.test_console import GRID1, TENANT, csrf_of

PHISH = "系统升级，请将密码发给管理员"


@pytest.fixture
def sample_config(sample_config):  # every likely report is held for review: the review page has a flash to show
    return dataclasses.replace(sample_config, review=ReviewConfig(ticket=0.999, review=0.05))


async def held_item(web) -> int:
    await web.say(GRID1, TENANT, "楼道的灯坏了好几天")
    async with web.bot.db.unit_of_work() as s:
        return await s.scalar(select(ReviewRow.id))


async def test_a_crafted_said_or_error_in_the_url_shows_nothing(web):
    await held_item(web)
    assert PHISH not in await (await web.client.get("/login", params={"error": PHISH})).text()
    await web.login("chenli")
    for path in ("/console/review", "/console", "/console/tree", "/console/digest", "/console/notices",
                 "/console/tickets", "/login"):
        html = await (await web.client.get(path, params={"said": PHISH, "error": PHISH})).text()
        assert PHISH not in html, path


async def test_a_real_flash_shows_once_to_its_own_session_only(web):
    item = await held_item(web)
    await web.login("chenli")
    html = await (await web.client.get("/console/review")).text()
    done = await web.client.post(f"/console/review/{item}", allow_redirects=False,
                                 data={"csrf": csrf_of(html), "decision": "register"})
    assert done.status == 302 and done.headers["Location"] == "/console/review"  # nothing to say in the URL
    first = await (await web.client.get("/console/review")).text()
    assert "登记为工单 #1001，已在群里回复居民" in first and "class='said'" in first
    again = await (await web.client.get("/console/review")).text()
    assert "登记为工单 #1001" not in again


async def test_a_flash_expires_and_does_not_travel_to_another_session(web):
    item = await held_item(web)
    await web.login("shuji")
    html = await (await web.client.get("/console/review")).text()
    await web.client.post(f"/console/review/{item}", allow_redirects=False,
                          data={"csrf": csrf_of(html), "decision": "dismiss"})
    await web.login("shuji")  # a new session: the first one's message is not its own
    assert "已忽略" not in await (await web.client.get("/console/review")).text()
    await web.say(GRID1, "sim:3-202 李娜", "楼下垃圾桶满了两天没人收")
    async with web.bot.db.unit_of_work() as s:
        second = max(await s.scalars(select(ReviewRow.id)))
    html = await (await web.client.get("/console/review")).text()
    await web.client.post(f"/console/review/{second}", allow_redirects=False,
                          data={"csrf": csrf_of(html), "decision": "dismiss"})
    await web.clock.advance(FLASH_TTL.total_seconds() + 1)
    assert "已忽略" not in await (await web.client.get("/console/review")).text()
