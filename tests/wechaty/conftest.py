"""Fixtures for the Wechaty transport: the Node harness installed once, a mock WeChat per test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.transport.wechaty import WechatyTransport
from tests.wechaty.harness import (Contact, EventLog, MockRoom, MockWeChat, World, contacts, ensure_node_modules,
                                   until)

BOT = Contact("wxid_gridbot", "微格助手")
RESIDENTS = contacts([("wxid_zhang", "张阿姨"), ("wxid_wang", "王师傅"), ("wxid_new", "新住户")])
LEADERS = contacts([("wxid_li", "李网格长")])
WORLD = World(
    bot=BOT,
    contacts=RESIDENTS + LEADERS,
    rooms=(
        MockRoom("jqs-04-12@chatroom", "金桥4号网格12栋", ("wxid_zhang", "wxid_wang", "wxid_li")),
        MockRoom("jqs-04-13@chatroom", "金桥4号网格13栋", ("wxid_li",)),
    ),
)


@pytest.fixture(scope="session")
def node_path() -> str:
    """Node, with the harness's packages installed (a failure, never a skip, when Node is missing)."""
    return ensure_node_modules()


@pytest.fixture
def world() -> World:
    return WORLD


@pytest.fixture
async def mock_wechat(node_path: str, world: World, tmp_path: Path) -> AsyncIterator[MockWeChat]:
    server = MockWeChat(world, tmp_path, node=node_path)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def events() -> EventLog:
    return EventLog()


@pytest.fixture
async def transport(mock_wechat: MockWeChat, events: EventLog) -> AsyncIterator[WechatyTransport]:
    """A transport connected to the mock and logged in; fast reconnects for the tests."""
    wechat = WechatyTransport(mock_wechat.endpoint, mock_wechat.token, reconnect_initial=0.1, reconnect_max=0.5)
    await wechat.start(events)
    try:
        await until(lambda: wechat.logged_in, timeout=10)
        yield wechat
    finally:
        await wechat.stop()
