"""Group nicknames (群昵称) over Wechaty: members are named by them, households come from them, and what the bot
tells people names groups by their topic, never by a raw room id."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from sqlalchemy import select

from bot.app import GridBot
from bot.notices import NoticeDesk
from bot.config import SendBudget, load_config
from bot.messages import IncomingMessage
from bot.transport.wechaty import WechatyTransport, member_display_name
from storage.models import MemberRow, NoticeRow
from tests.wechaty.harness import Contact, EventLog, MockWeChat, resident_id, until, world_from_config
from wechaty_grpc.wechaty.puppet import RoomMemberPayloadResponse
from tests.fakes import WORKDAY_MORNING, ShiftedClock

ROOM = "jqs-04-12@chatroom"
SAMPLE = Path(__file__).resolve().parents[2] / "config.yaml"


def _field(number: int, value: str) -> bytes:
    data = value.encode()
    return bytes([number << 3 | 2, len(data)]) + data


def test_a_room_member_payload_is_named_by_its_group_nickname() -> None:
    # RoomMemberPayloadResponse as the Node servers encode it: id = 1, room_alias = 2, avatar = 4, name = 5
    wire = _field(1, "wxid_zhang") + _field(2, "5-1-201 张伟") + _field(4, "https://a/1.png") + _field(5, "张伟")
    payload = RoomMemberPayloadResponse().parse(wire)
    assert member_display_name(payload) == "5-1-201 张伟"
    assert member_display_name(RoomMemberPayloadResponse().parse(_field(1, "wxid_zhang") + _field(5, "张伟"))) == "张伟"
    assert member_display_name(RoomMemberPayloadResponse(id="x", room_alias="  ", name="张伟")) == "张伟"
    assert member_display_name(RoomMemberPayloadResponse(id="x")) == ""
    assert member_display_name(None) == ""


async def test_senders_and_room_listings_use_the_group_nickname_as_it_is_now(
        transport: WechatyTransport, mock_wechat: MockWeChat, events: EventLog) -> None:
    await mock_wechat.say("wxid_zhang", ROOM, "改昵称前")
    before = await events.wait_for(lambda e: isinstance(e, IncomingMessage) and e.text == "改昵称前")
    assert before.sender_name == "张阿姨"

    # WeChat announces no nickname change: the next message and the next listing still see it
    await mock_wechat.alias(ROOM, "wxid_zhang", "5-1-201 张阿姨")
    await mock_wechat.say("wxid_zhang", ROOM, "改昵称后")
    after = await events.wait_for(lambda e: isinstance(e, IncomingMessage) and e.text == "改昵称后")
    assert (after.sender_id, after.sender_name) == ("wxid_zhang", "5-1-201 张阿姨")

    room = next(r for r in await transport.rooms() if r.id == ROOM)
    names = dict(zip(room.member_ids, room.member_names))
    assert names["wxid_zhang"] == "5-1-201 张阿姨" and names["wxid_wang"] == "王师傅"
    other = next(r for r in await transport.rooms() if r.id != ROOM)
    assert dict(zip(other.member_ids, other.member_names))["wxid_li"] == "李网格长"  # a nickname is per room


def _config_with_room_ids(tmp_path: Path):
    """The sample config with building 1's groups configured by WeChat id (ids unlike their topics)."""
    text = SAMPLE.read_text(encoding="utf-8")
    for topic, room_id in (("江桥花苑1号楼微网格", "7001@chatroom"), ("1号楼1单元楼道群", "7002@chatroom"),
                           ("1号楼2单元楼道群", "7003@chatroom")):
        text = text.replace(f"- topic: {topic}\n", f"- id: '{room_id}'\n                    topic: {topic}\n"
                            if topic != "江桥花苑1号楼微网格" else f"- id: '{room_id}'\n                topic: {topic}\n")
    path = tmp_path / "ids.yaml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path, cache=False)
    assert config.tree.room(room_id="7002@chatroom").topic == "1号楼1单元楼道群"
    return dataclasses.replace(config, transport=dataclasses.replace(
        config.transport, send_budget=SendBudget(per_minute=600, jitter=0.0)))


async def _sent(server: MockWeChat, room_id: str, needle: str, timeout: float = 20) -> list[dict]:
    async with asyncio.timeout(timeout):
        while not (hits := [m for m in await server.sent() if m["conversation"] == room_id and needle in m["text"]]):
            await asyncio.sleep(0.2)
    return hits


async def test_households_come_from_nicknames_and_receipts_name_groups(node_path, db, tmp_path) -> None:
    config = _config_with_room_ids(tmp_path)
    world = world_from_config(config)
    stairs = world.room("7002@chatroom")
    # 王芳's husband is in the group too; his WeChat name says nothing, his group nickname names the flat
    husband = Contact("wxid_lijun", "李军")
    world = dataclasses.replace(world, contacts=world.contacts + (husband,), rooms=tuple(
        dataclasses.replace(r, members=r.members + (husband.id,), aliases=r.aliases + ((husband.id, "1-1-101 李军"),))
        if r is stairs else r for r in world.rooms))
    assert next(c for c in world.contacts if c.id == resident_id("1-1-101 王芳")).name == "王芳"
    server = MockWeChat(world, tmp_path, node=node_path)
    await server.start()
    transport = WechatyTransport(server.endpoint, server.token, reconnect_initial=0.1, reconnect_max=0.5)
    bot = GridBot(config, transport, clock=ShiftedClock(WORKDAY_MORNING), database=db, scheduler=False)
    try:
        await bot.start()
        await until(lambda: transport.logged_in, timeout=10)
        await bot.refresh_rooms()
        async with db.unit_of_work() as s:
            stored = {m.member_id: (m.display_name, m.household) for m in await s.scalars(
                select(MemberRow).where(MemberRow.room_key == "7002@chatroom"))}
        assert stored[resident_id("1-1-101 王芳")] == ("1-1-101 王芳", "1-1-101")
        assert stored[husband.id] == ("1-1-101 李军", "1-1-101")

        # the building's micro-grid leader posts a notice; the stairwell groups get it
        await server.say("wxid_zhangayi", "7001@chatroom", "#通知 本周六上午电梯年检，请留意")
        await _sent(server, "7002@chatroom", "电梯年检")
        await _sent(server, "7003@chatroom", "电梯年检")
        await server.say(resident_id("1-1-101 王芳"), "7002@chatroom", "收到")
        async with asyncio.timeout(15):
            while True:
                async with db.unit_of_work() as s:
                    notice = await s.scalar(select(NoticeRow))
                    desk = NoticeDesk(s, config, bot.directory, bot.clock.now(), transport.self_id)
                    [room] = [r for r in await desk.room_acks(notice) if r.room_key == "7002@chatroom"]
                    missing = room.missing
                if resident_id("1-1-101 王芳") not in {m for m, _ in missing}:
                    break
                await asyncio.sleep(0.2)
        # her household answered: her husband is not among those still to be reminded (nor is the unit's
        # 楼道长: staff are not audience, issue 15)
        assert {name for _, name in missing} == {"1-1-201 周杰", "1-1-601 吴奶奶"}

        await server.say("wxid_zhangayi", "7001@chatroom", "#回执 1")
        [receipt] = await _sent(server, "7001@chatroom", "回执（")
        assert "@chatroom" not in receipt["text"], receipt["text"]
        assert "1号楼1单元楼道群：1/3 户（1/4 人）" in receipt["text"], receipt["text"]
        assert "1号楼2单元楼道群：0/" in receipt["text"]
    finally:
        await bot.stop()
        await server.stop()
