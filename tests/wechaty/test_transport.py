"""The Wechaty transport against the official stack: Node PuppetServer serving PuppetMock on loopback."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from bot.messages import Address, IncomingMessage, MemberEvent, MessageType
from bot.transport.base import TransportError
from bot.transport.wechaty import MENTION_SEPARATOR, WechatyTransport
from tests.wechaty.harness import EventLog, MockWeChat, free_port, until, world_from_config

ROOM = "jqs-04-12@chatroom"
OTHER_ROOM = "jqs-04-13@chatroom"
BOT = "wxid_gridbot"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def is_message(text: str):
    return lambda e: isinstance(e, IncomingMessage) and e.text == text


async def test_a_resident_message_reaches_the_sink(transport: WechatyTransport, mock_wechat: MockWeChat,
                                                   events: EventLog) -> None:
    message_id = await mock_wechat.say("wxid_zhang", ROOM, "@微格助手 3号楼楼道灯坏了", mentions=[BOT])

    message = await events.wait_for(is_message("@微格助手 3号楼楼道灯坏了"))
    assert message.conversation == Address.room(ROOM)
    assert (message.sender_id, message.sender_name) == ("wxid_zhang", "张阿姨")
    assert message.room_topic == "金桥4号网格12栋"
    assert message.mentions == (BOT,) and message.mentions_self
    assert message.type is MessageType.TEXT and message.message_id == message_id
    assert transport.self_id == BOT


async def test_an_image_is_sent_as_a_filebox(transport: WechatyTransport, mock_wechat: MockWeChat,
                                             tmp_path) -> None:
    chart = tmp_path / "week.png"
    chart.write_bytes(PNG_MAGIC + bytes(range(256)) * 40)
    message_id = await transport.send_image(Address.contact("wxid_li"), chart)
    sent = await mock_wechat.sent()
    assert sent[-1]["id"] == message_id and sent[-1]["conversation"] == "wxid_li"
    assert sent[-1]["file"] == {"name": "week.png", "size": chart.stat().st_size, "head": PNG_MAGIC.hex()}
    with pytest.raises(TransportError, match="missing") as caught:
        await transport.send_image(Address.contact("wxid_li"), tmp_path / "gone.png")
    assert not caught.value.retryable


async def test_mentions_without_a_mention_list_are_read_from_the_text(
        transport: WechatyTransport, mock_wechat: MockWeChat, events: EventLog) -> None:
    # Many puppets leave mentionIdList empty; "@name" in the text is what WeChat shows.
    await mock_wechat.say("wxid_li", ROOM, "@王师傅 @微格助手 请处理")

    message = await events.wait_for(is_message("@王师傅 @微格助手 请处理"))
    assert set(message.mentions) == {"wxid_wang", BOT} and message.mentions_self


async def test_send_with_a_mention_lands_in_the_room_and_its_echo_is_ignored(
        transport: WechatyTransport, mock_wechat: MockWeChat, events: EventLog) -> None:
    message_id = await transport.send(Address.room(ROOM), "已登记，工单 #12", ["wxid_zhang"])
    await transport.send(Address.room(OTHER_ROOM), "@李网格长 已通知", ["wxid_li"])
    await mock_wechat.say("wxid_wang", ROOM, "收到")  # the marker: everything sent before it has arrived

    await events.wait_for(is_message("收到"))
    assert [e.text for e in events.events if isinstance(e, IncomingMessage)] == ["收到"]  # no echoes
    sent = await mock_wechat.sent()
    assert message_id == sent[0]["id"]
    assert sent[0] == {"id": message_id, "conversation": ROOM, "text": f"@张阿姨{MENTION_SEPARATOR}已登记，工单 #12",
                       "mentions": ["wxid_zhang"]}
    assert sent[1]["text"] == "@李网格长 已通知"  # already named: not named twice
    assert sent[1]["mentions"] == ["wxid_li"]


async def test_members_joining_and_leaving_arrive_as_member_events(
        transport: WechatyTransport, mock_wechat: MockWeChat, events: EventLog) -> None:
    await mock_wechat.add(ROOM, "wxid_new")
    joined = await events.wait_for(lambda e: isinstance(e, MemberEvent) and e.joined)
    assert (joined.room_id, joined.member_id, joined.member_name) == (ROOM, "wxid_new", "新住户")
    assert "wxid_new" in next(r for r in await transport.rooms() if r.id == ROOM).member_ids

    await mock_wechat.remove(ROOM, "wxid_wang")
    left = await events.wait_for(lambda e: isinstance(e, MemberEvent) and not e.joined)
    assert (left.room_id, left.member_id, left.member_name) == (ROOM, "wxid_wang", "王师傅")
    assert "wxid_wang" not in next(r for r in await transport.rooms() if r.id == ROOM).member_ids


@pytest.mark.parametrize(("kind", "expected"), [
    ("image", MessageType.IMAGE),
    ("audio", MessageType.VOICE),
    ("video", MessageType.VIDEO),
    ("mini_program", MessageType.MINI_PROGRAM),
    ("url", MessageType.LINK),
    ("unknown", MessageType.UNKNOWN),
])
async def test_other_message_types_are_delivered_as_such(
        transport: WechatyTransport, mock_wechat: MockWeChat, events: EventLog, kind: str,
        expected: MessageType) -> None:
    message_id = await mock_wechat.say("wxid_zhang", ROOM, type=kind)
    await mock_wechat.say("wxid_zhang", ROOM, "还在吗")

    message = await events.wait_for(lambda e: isinstance(e, IncomingMessage) and e.message_id == message_id)
    assert message.type is expected and message.room_id == ROOM and message.sender_name == "张阿姨"
    if expected is MessageType.IMAGE:
        assert message.payload is not None and message.payload.startswith(PNG_MAGIC)
    await events.wait_for(is_message("还在吗"))  # the transport carried on


async def test_private_messages_address_the_bot(transport: WechatyTransport, mock_wechat: MockWeChat,
                                                events: EventLog) -> None:
    await mock_wechat.say("wxid_li", None, "#帮助", to=BOT)

    message = await events.wait_for(is_message("#帮助"))
    assert message.conversation == Address.contact("wxid_li") and message.mentions_self
    assert message.sender_name == "李网格长" and message.room_topic is None


async def test_rooms_lists_the_world(transport: WechatyTransport, world) -> None:
    rooms = {room.id: room for room in await transport.rooms()}

    assert set(rooms) == {r.id for r in world.rooms}
    for expected in world.rooms:
        room = rooms[expected.id]
        assert room.topic == expected.topic
        assert set(room.member_ids) == {BOT, *expected.members}
        assert len(room.member_names) == len(room.member_ids) and "微格助手" in room.member_names


async def test_a_restarted_service_is_reconnected_and_nothing_after_is_lost(
        transport: WechatyTransport, mock_wechat: MockWeChat, events: EventLog,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.transport.wechaty")
    await mock_wechat.say("wxid_zhang", ROOM, "重启前")
    await events.wait_for(is_message("重启前"))

    await mock_wechat.kill()
    await until(lambda: not transport.connected, timeout=10)
    with pytest.raises(TransportError) as down:
        await transport.send(Address.room(ROOM), "断线时")
    assert down.value.retryable
    await mock_wechat.start()  # same port, same world, same ids
    listening = time.monotonic()
    await until(lambda: transport.reconnects == 1 and transport.logged_in, timeout=15)
    reconnect_seconds = time.monotonic() - listening
    assert reconnect_seconds < 2  # backoff is capped at 0.5 s in these tests

    after = len(events.events)
    texts = [f"重启后 {i}" for i in range(5)]
    for text in texts:
        await mock_wechat.say("wxid_wang", ROOM, text)
    await events.wait_for(is_message(texts[-1]), after=after)
    assert [e.text for e in events.events[after:] if isinstance(e, IncomingMessage)] == texts
    assert await transport.send(Address.room(ROOM), "恢复了", ["wxid_wang"])
    assert (await mock_wechat.sent())[0]["text"].endswith("恢复了")

    attempts = [r for r in caplog.records if "reconnecting to" in r.getMessage()]
    assert attempts and all("attempt" in r.getMessage() for r in attempts)
    print(f"\nreconnect: {reconnect_seconds:.2f}s after the service listened again, "
          f"{transport.last_reconnect_seconds:.2f}s from loss to reconnect, {len(attempts)} attempts logged")


async def test_logout_and_login_again_are_followed(transport: WechatyTransport, mock_wechat: MockWeChat,
                                                   events: EventLog, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.transport.wechaty")
    await mock_wechat.command("logout")
    await until(lambda: not transport.logged_in, timeout=10)
    assert any("logged out" in r.getMessage() for r in caplog.records)

    await mock_wechat.command("login")
    await until(lambda: transport.logged_in, timeout=10)
    await mock_wechat.say("wxid_zhang", ROOM, "又登录了")
    await events.wait_for(is_message("又登录了"))
    assert transport.self_id == BOT


async def test_a_wrong_token_is_one_clear_error(mock_wechat: MockWeChat) -> None:
    wechat = WechatyTransport(mock_wechat.endpoint, "not-the-token")

    with pytest.raises(TransportError) as rejected:
        await asyncio.wait_for(wechat.start(EventLog()), 10)

    assert not rejected.value.retryable
    assert "rejected the token" in str(rejected.value) and "not-the-token" not in str(rejected.value)
    assert _transport_tasks() == []


async def test_an_unreachable_service_is_one_clear_error() -> None:
    wechat = WechatyTransport(f"127.0.0.1:{free_port()}", "token")

    with pytest.raises(TransportError, match="cannot reach the WeChat puppet service"):
        await wechat.start(EventLog())
    assert _transport_tasks() == []


async def test_stop_is_clean(mock_wechat: MockWeChat, events: EventLog) -> None:
    wechat = WechatyTransport(mock_wechat.endpoint, mock_wechat.token)
    await wechat.start(events)
    await until(lambda: wechat.logged_in)

    await wechat.stop()

    assert _transport_tasks() == []
    with pytest.raises(TransportError):
        await wechat.send(Address.room(ROOM), "停了")


def test_from_env_needs_an_explicit_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WECHATY_PUPPET_SERVICE_ENDPOINT", raising=False)
    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_TOKEN", "puppet_token")
    with pytest.raises(ValueError, match="endpoint"):
        WechatyTransport.from_env()

    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_ENDPOINT", "10.0.0.2:8788")
    wechat = WechatyTransport.from_env()
    assert wechat.endpoint == "10.0.0.2:8788"
    assert WechatyTransport.from_env("127.0.0.1:9", "other").endpoint == "127.0.0.1:9"

    monkeypatch.delenv("WECHATY_PUPPET_SERVICE_TOKEN")
    with pytest.raises(ValueError, match="token"):
        WechatyTransport.from_env("127.0.0.1:9")


def _transport_tasks() -> list[asyncio.Task]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("wechaty") and not t.done()]


async def test_a_world_built_from_the_sample_config(sample_config, node_path: str, tmp_path) -> None:
    world = world_from_config(sample_config)
    assert world.rooms, "the sample config has rooms"
    server = MockWeChat(world, tmp_path, node=node_path)
    await server.start()
    wechat = WechatyTransport(server.endpoint, server.token)
    try:
        await wechat.start(EventLog())
        rooms = {room.id: room for room in await wechat.rooms()}
        configured = [room for node in sample_config.tree for room in node.rooms]
        assert {room.topic for room in rooms.values()} == {room.topic or room.id for room in configured}
        assert all(BOT in room.member_ids for room in rooms.values())
    finally:
        await wechat.stop()
        await server.stop()


def test_reconnect_backoff_is_capped_at_30_seconds() -> None:
    assert WechatyTransport("127.0.0.1:9", "token").reconnect_max == 30.0  # the default
    patient = WechatyTransport("127.0.0.1:9", "token", reconnect_initial=45.0, reconnect_max=600.0)
    assert patient.reconnect_max == 30.0 and patient.reconnect_initial == 30.0


async def test_connected_listeners_hear_the_link_drop_and_come_back(
        transport: WechatyTransport, mock_wechat: MockWeChat) -> None:
    heard: list[bool] = []
    transport.watch_connection(heard.append)
    await mock_wechat.kill()
    await until(lambda: heard == [False], timeout=10)
    await mock_wechat.start()
    await until(lambda: heard == [False, True], timeout=15)
    assert transport.connected
