"""The console's 待确认 page: a held message is registered or dismissed from the browser as from chat."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from bot.config import ReviewConfig
from storage.models import AuditRow, ReviewRow, TicketRow
from tests.web.test_console import GRID1, TENANT, csrf_of


@pytest.fixture
def sample_config(sample_config):  # every likely report is held for review in these tests
    return dataclasses.replace(sample_config, review=ReviewConfig(ticket=0.999, review=0.05))


async def test_a_leader_registers_a_held_message_and_the_group_hears_it(web):
    room = await web.say(GRID1, TENANT, "楼道的灯坏了 <b>好几天</b>")
    assert not [m for m in room.history if m.from_bot]
    await web.login("chenli")
    html = await (await web.client.get("/console/review")).text()
    assert "&lt;b&gt;好几天&lt;/b&gt;" in html and "<b>好几天" not in html
    async with web.bot.db.unit_of_work() as s:
        [item] = list(await s.scalars(select(ReviewRow)))
    no_csrf = await web.client.post(f"/console/review/{item.id}", data={"decision": "register"},
                                    allow_redirects=False)
    assert no_csrf.status == 403
    done = await web.client.post(f"/console/review/{item.id}", allow_redirects=False,
                                 data={"csrf": csrf_of(html), "decision": "register"})
    assert done.status == 302
    await web.bot.settle(web.clock)
    said = [m.text for m in room.history if m.from_bot]
    assert any("已登记为工单 #1001" in t for t in said)
    async with web.bot.db.unit_of_work() as s:
        assert (await s.scalar(select(ReviewRow.state))) == "registered"
        assert (await s.scalar(select(TicketRow.number))) == 1001
        audit = list(await s.scalars(select(AuditRow).where(AuditRow.action == "review_register")))
    assert audit and audit[0].allowed
    overview = await (await web.client.get("/console")).text()
    assert "没有待确认的消息" in overview


async def test_dismissing_says_nothing_and_a_viewer_cannot_act(web):
    room = await web.say(GRID1, TENANT, "楼下垃圾桶满了两天没人收")
    await web.login("kan")  # a viewer of 第二网格: sees nothing of 第一网格 and has no buttons
    html = await (await web.client.get("/console/review")).text()
    assert "垃圾桶" not in html and "登记为工单</button>" not in html
    await web.login("shuji")
    html = await (await web.client.get("/console/review")).text()
    assert "垃圾桶" in html and "登记为工单</button>" in html
    async with web.bot.db.unit_of_work() as s:
        item_id = await s.scalar(select(ReviewRow.id))
    done = await web.client.post(f"/console/review/{item_id}", allow_redirects=False,
                                 data={"csrf": csrf_of(html), "decision": "dismiss"})
    assert done.status == 302
    await web.bot.settle(web.clock)
    assert not [m for m in room.history if m.from_bot]
    async with web.bot.db.unit_of_work() as s:
        assert (await s.scalar(select(ReviewRow.state))) == "dismissed"
        assert (await s.scalar(select(TicketRow.id))) is None
