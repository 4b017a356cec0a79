"""Outages lose nothing: while WeChat is unreachable the sender waits, counts no attempts, and sends in order after.

All on the simulator and a virtual clock: a day-long outage takes the bot's clock 25 hours and the test a second.
"""

from __future__ import annotations

import re
from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import GridBot
from bot.config import parse_config
from bot.transport.simulator import SimulatorTransport
from bot.web.app import build_web_app
from storage.models import OutboxRow
from tests.conftest import SAMPLE_CONFIG

COMMUNITY = "江桥社区工作群"
SECRETARY = "wxid_lihongmei"


async def outbox(db):
    async with db.unit_of_work() as s:
        return list(await s.scalars(select(OutboxRow).order_by(OutboxRow.id)))


async def test_a_long_outage_costs_no_attempts_and_everything_goes_out_in_order_after(sim_bot, db, clock):
    bot, sim = sim_bot
    sim.set_connected(False)
    start = clock.now()
    await sim.post(sim.room_by_topic(COMMUNITY).id, SECRETARY, "#通知 周六上午停水检修，请提前储水")
    for i in range(3):
        await sim.post(sim.room_by_topic("江桥花苑3号楼微网格").id, "sim:3-201 王芳", f"#帮助{i}")
    await bot.settle(clock, until=start + timedelta(hours=23))  # a day of virtual time, less an hour

    assert sim.sent == []
    rows = await outbox(db)
    assert len([r for r in rows if r.kind == "notice"]) == 29 and len(rows) > 29 + 3  # and replies
    assert {r.status for r in rows} == {"pending"} and {r.attempts for r in rows} == {0}
    assert bot.sender.failed_count == 0 and bot.sender.offline_waits < 100  # it slept, it did not spin

    sim.set_connected(True)
    await bot.settle(clock)
    rows = await outbox(db)
    assert {r.status for r in rows} == {"sent"} and {r.attempts for r in rows} == {1}
    expected = [r.transport_message_id for r in sorted(rows, key=lambda r: (r.priority, r.id))]
    assert [m.id for m in sim.sent] == expected  # priority, then the order they were queued in
    assert bot.sender.failed_count == 0 and bot.sender.sent_count == len(rows)


async def test_what_outlives_the_outage_is_reported_in_chinese_by_group_name(sim_bot, db, clock):
    bot, sim = sim_bot
    room = sim.room_by_topic(COMMUNITY)
    sim.set_connected(False)
    await sim.post(room.id, SECRETARY, "#通知 只发 JQS-03 通仙路占道经营整治")
    await bot.settle(clock, until=clock.now() + timedelta(hours=25))
    rows = [r for r in await outbox(db) if r.kind == "notice"]
    assert len(rows) == 7 and {r.status for r in rows} == {"failed"} and {r.attempts for r in rows} == {0}
    assert {r.last_error for r in rows} == {"微信连接中断超过 24 小时"}

    sim.set_connected(True)
    await bot.settle(clock)
    [report] = [m.text for m in room.history if m.from_bot and "没能发出" in m.text]
    assert "微信连接中断超过 24 小时，以下消息未能发出" in report and "7 个群没能发出" in report
    assert "通仙路18号租客群" in report and "江桥小学周边微网格" in report
    assert not re.search(r"[A-Za-z]", report), report  # no room ids, no English error text


async def test_a_dissolved_group_is_named_by_its_topic_with_the_real_cause(db, clock):
    text = SAMPLE_CONFIG.read_text(encoding="utf-8").replace(
        "                  - topic: 通仙路18号租客群\n",
        "                  - topic: 通仙路18号租客群\n                    id: 18hao-zuke@chatroom\n")
    config = parse_config(text, SAMPLE_CONFIG)
    sim = SimulatorTransport.from_config(config, clock)
    del sim._rooms["18hao-zuke@chatroom"]  # the group was dissolved: WeChat no longer knows it
    bot = GridBot(config, sim, clock=clock, database=db, scheduler=False)
    await bot.start()
    try:
        room = sim.room_by_topic(COMMUNITY)
        await sim.post(room.id, SECRETARY, "#通知 只发 JQS-03 通仙路占道经营整治")
        await bot.settle(clock, until=clock.now() + timedelta(hours=1))
    finally:
        await bot.stop()
    [report] = [m.text for m in room.history if m.from_bot and "没能发出" in m.text]
    assert "通仙路18号租客群：群已解散或机器人不在群里（已重试 1 次）" in report
    assert "@chatroom" not in report and not re.search(r"[A-Za-z]", report), report


async def test_readyz_is_503_while_disconnected(sim_bot):
    bot, sim = sim_bot
    client = TestClient(TestServer(build_web_app(bot)))
    await client.start_server()
    try:
        assert (await client.get("/readyz")).status == 200
        sim.set_connected(False)
        down = await client.get("/readyz")
        body = await down.json()
        assert down.status == 503 and body["ready"] is False and "transport disconnected" in body["problems"]
        sim.set_connected(True)
        assert (await client.get("/readyz")).status == 200
    finally:
        await client.close()


def test_offline_max_age_is_configurable_and_validated():
    base = SAMPLE_CONFIG.read_text(encoding="utf-8")
    assert parse_config(base, SAMPLE_CONFIG).transport.offline_max_age == timedelta(hours=24)
    two_hours = base.replace("offline_max_age: 24h", "offline_max_age: 2h")
    assert parse_config(two_hours, SAMPLE_CONFIG).transport.offline_max_age == timedelta(hours=2)
    import pytest

    from bot.config import ConfigError

    for bad in ("0s", "40d", "soon"):
        with pytest.raises(ConfigError, match="offline_max_age"):
            parse_config(base.replace("offline_max_age: 24h", f"offline_max_age: {bad}"), SAMPLE_CONFIG)
