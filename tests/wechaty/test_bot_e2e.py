"""The whole bot on real Wechaty plumbing: the official PuppetServer + PuppetMock built from the sample config."""

from __future__ import annotations

import asyncio
import dataclasses

from sqlalchemy import select

from bot.app import GridBot
from bot.config import SendBudget
from bot.transport.wechaty import WechatyTransport
from storage.models import MemberRow, TicketRow
from tests.wechaty.harness import Contact, MockWeChat, resident_id, until, world_from_config
from tests.fakes import WORKDAY_MORNING, ShiftedClock


async def sent_to(server, room_id, needle, timeout=20):
    async def found():
        return [m for m in await server.sent() if m["conversation"] == room_id and needle in m["text"]]

    async with asyncio.timeout(timeout):
        while not (hits := await found()):
            await asyncio.sleep(0.2)
    return hits


async def test_tickets_notices_members_and_a_restart_over_wechaty(node_path, sample_config, db, tmp_path):
    config = dataclasses.replace(sample_config, transport=dataclasses.replace(
        sample_config.transport, send_budget=SendBudget(per_minute=600, jitter=0.0)))
    world = world_from_config(config)
    rooms = {room.topic: room.id for room in world.rooms}
    server = MockWeChat(world, tmp_path, node=node_path)
    await server.start()
    transport = WechatyTransport(server.endpoint, server.token, reconnect_initial=0.1, reconnect_max=0.5)
    bot = GridBot(config, transport, clock=ShiftedClock(WORKDAY_MORNING), database=db, scheduler=False)
    try:
        await bot.start()
        await until(lambda: transport.logged_in, timeout=10)
        await bot.refresh_rooms()

        # a tenant's report becomes a ticket; the reply @s the reporter and the landlord in that room
        tenants = rooms["东头12号房东租客群"]
        await server.say(resident_id("201 小刘"), tenants, "3楼楼道的灯坏了好几天了")
        [reply] = await sent_to(server, tenants, "#1001")
        assert "wxid_chenlaoban" in reply["mentions"] and resident_id("201 小刘") in reply["mentions"]

        # a grid leader's notice reaches every group below
        await server.say("wxid_zhouqiang", rooms["江桥社区第二网格群"], "#通知 周日上午清理楼道杂物")
        below = [n.rooms[0].topic for n in config.tree.descendants("JQS-02", include_self=False)]
        assert len(below) == 10
        for topic in below:
            await sent_to(server, rooms[topic], "清理楼道杂物")

        # a member joining is seen and stored
        await server.add(tenants, resident_id("101 老韦"))

        async def member_stored():
            async with db.unit_of_work() as s:
                return await s.scalar(select(MemberRow).where(MemberRow.member_id == resident_id("101 老韦"),
                                                              MemberRow.room_key == "东头12号房东租客群"))

        async with asyncio.timeout(15):
            while await member_stored() is None:
                await asyncio.sleep(0.2)

        # the service dies and comes back: the bot reconnects by itself and carries on
        await server.restart()
        async with asyncio.timeout(30):
            while True:
                await server.say(resident_id("202 小何"), tenants, "#帮助")
                try:
                    await sent_to(server, tenants, "微格助手使用说明", timeout=3)
                    break
                except TimeoutError:
                    continue
    finally:
        await bot.stop()
        await server.stop()


def test_gridbot_run_with_a_wrong_token_exits_with_one_clear_error(node_path, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]

    async def main():
        from bot.config import load_config

        world = world_from_config(load_config(root / "config.yaml", cache=False))
        server = MockWeChat(world, tmp_path, node=node_path)
        await server.start()
        try:
            config = tmp_path / "wechaty.yaml"
            text = (root / "config.yaml").read_text(encoding="utf-8")
            text = text.replace("kind: simulator", "kind: wechaty").replace(
                "  # endpoint: 127.0.0.1:8788", f"  endpoint: {server.endpoint}")
            config.write_text(text, encoding="utf-8")
            env = {**os.environ, "WECHATY_PUPPET_SERVICE_TOKEN": "not-the-token",
                   "GRIDBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/w.db"}
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--config", str(config), "--no-web", env=env, cwd=root,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = await asyncio.wait_for(proc.communicate(), 60)
            return proc.returncode, out.decode() + err.decode()
        finally:
            await server.stop()

    code, output = asyncio.run(main())
    assert code == 1
    assert output.count("rejected the token") == 1 and "not-the-token" not in output
    assert "Traceback" not in output


async def test_a_stranger_named_like_the_secretary_is_refused_over_wechaty(node_path, sample_config, db, tmp_path):
    """Over real Wechaty plumbing the talker id is what identifies: a look-alike nickname grants nothing."""
    config = dataclasses.replace(sample_config, transport=dataclasses.replace(
        sample_config.transport, send_budget=SendBudget(per_minute=600, jitter=0.0)))
    world = world_from_config(config)
    community = next(r for r in world.rooms if r.topic == "江桥社区工作群")
    stranger = Contact("wxid_fake_lihongmei", "李红梅")
    world = dataclasses.replace(
        world, contacts=world.contacts + (stranger,),
        rooms=tuple(dataclasses.replace(r, members=r.members + (stranger.id,)) if r is community else r
                    for r in world.rooms))
    server = MockWeChat(world, tmp_path, node=node_path)
    await server.start()
    transport = WechatyTransport(server.endpoint, server.token, reconnect_initial=0.1, reconnect_max=0.5)
    bot = GridBot(config, transport, clock=ShiftedClock(WORKDAY_MORNING), database=db, scheduler=False)
    try:
        await bot.start()
        await until(lambda: transport.logged_in, timeout=10)
        await bot.refresh_rooms()
        tenants = next(r.id for r in world.rooms if r.topic == "东头12号房东租客群")
        await server.say(resident_id("201 小刘"), tenants, "3楼楼道的灯坏了好几天了")
        await sent_to(server, tenants, "#1001")

        await server.say(stranger.id, community.id, "#通知 紧急 社区账户变更，请大家今天转账到 6222 0000")
        await server.say(stranger.id, community.id, "#关闭 1001")
        refusals = await sent_to(server, community.id, "只有网格负责人")
        assert stranger.id in refusals[0]["mentions"]
        await server.say(stranger.id, community.id, "#帮助")  # handled after both commands: they are done
        await sent_to(server, community.id, "微格助手使用说明")
        sent = await server.sent()
        assert not any("转账" in m["text"] or "【通知" in m["text"] for m in sent)
        assert not any("关闭" in m["text"] for m in sent if m["conversation"] != community.id)
        async with db.unit_of_work() as s:
            assert (await s.scalar(select(TicketRow).where(TicketRow.number == 1001))).state != "closed"
    finally:
        await bot.stop()
        await server.stop()
