"""The simulator web chat: the tree, a group, typing, and bot replies arriving live."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import GridBot
from bot.transport.simulator import SimulatorTransport
from bot.web.app import build_web_app
from tests.fakes import WORKDAY_MORNING, ShiftedClock


@pytest.fixture
async def client(sample_config, db):
    clock = ShiftedClock(WORKDAY_MORNING)  # not the hour the test runs at
    sim = SimulatorTransport.from_config(sample_config, clock)
    bot = GridBot(sample_config, sim, clock=clock, database=db, scheduler=False)
    await bot.start()
    client = TestClient(TestServer(build_web_app(bot)))
    await client.start_server()
    yield client, sim
    await client.close()
    await bot.stop()


async def test_page_and_tree(client):
    http, sim = client
    page = await http.get("/")
    assert page.status == 200 and "群聊模拟器" in await page.text()
    state = await (await http.get("/api/sim/state")).json()
    assert state["deployment"] == "江桥社区微格助手"
    root = state["tree"][0]
    assert root["code"] == "JQS" and [c["code"] for c in root["children"]] == ["JQS-01", "JQS-02", "JQS-03"]
    assert (await http.get("/healthz")).status == 200


async def test_typing_in_a_group_brings_a_live_reply(client):
    http, sim = client
    room = sim.room_by_topic("江桥花苑3号楼微网格")
    detail = await (await http.get(f"/api/sim/rooms/{room.id}")).json()
    leaders = [m for m in detail["members"] if m["role"]]
    assert {"黄敏", "陈丽"} <= {m["name"] for m in leaders}
    ws = await http.ws_connect("/api/sim/live")
    resp = await http.post(f"/api/sim/rooms/{room.id}/messages", json={"sender_id": "sim:3-201 王芳", "text": "#帮助"})
    assert resp.status == 202
    seen = []
    async with asyncio.timeout(10):
        while not any(e["message"]["from_bot"] for e in seen):
            event = await ws.receive_json()
            if event["type"] == "message":
                seen.append(event)
    assert seen[0]["message"]["text"] == "#帮助"
    assert "微格助手使用说明" in seen[-1]["message"]["text"]
    await ws.close()


async def test_bad_requests_are_refused_clearly(client):
    http, sim = client
    room = sim.room_by_topic("江桥花苑3号楼微网格")
    assert (await http.post(f"/api/sim/rooms/{room.id}/messages", data="not json")).status == 400
    assert (await http.post(f"/api/sim/rooms/{room.id}/messages", json={"text": 1})).status == 400
    assert (await http.post("/api/sim/rooms/nope/messages", json={"sender_id": "x", "text": "hi"})).status == 404
    big = {"sender_id": "x", "text": "长" * 20_001}
    assert (await http.post(f"/api/sim/rooms/{room.id}/messages", json=big)).status == 413


async def test_new_member_joins(client):
    http, sim = client
    room = sim.room_by_topic("东头12号房东租客群")
    resp = await http.post(f"/api/sim/rooms/{room.id}/members", json={"name": "203 新租客"})
    assert resp.status == 201
    detail = await (await http.get(f"/api/sim/rooms/{room.id}")).json()
    assert "203 新租客" in {m["name"] for m in detail["members"]}


async def test_history_comes_from_the_database(client):
    http, sim = client
    room = sim.room_by_topic("江桥花苑1号楼微网格")
    await http.post(f"/api/sim/rooms/{room.id}/messages", json={"sender_id": "sim:1-101 王芳", "text": "#帮助"})
    detail = {}
    async with asyncio.timeout(10):
        while len(detail.get("messages", [])) < 2:
            await asyncio.sleep(0.05)
            detail = await (await http.get(f"/api/sim/rooms/{room.id}")).json()
    first, reply = detail["messages"]
    assert first["text"] == "#帮助" and not first["from_bot"]
    assert reply["from_bot"] and "微格助手使用说明" in reply["text"]


async def test_photo_upload_is_stored_as_an_image(client):
    import aiohttp
    from sqlalchemy import select

    from storage.models import MessageRow

    http, sim = client
    room = sim.room_by_topic("东头12号房东租客群")
    form = aiohttp.FormData()
    form.add_field("sender_id", "sim:201 小刘")
    form.add_field("image", b"\x89PNG\r\n\x1a\nfake", filename="p.png", content_type="image/png")
    resp = await http.post(f"/api/sim/rooms/{room.id}/images", data=form)
    assert resp.status == 202
    bot = http.server.app[__import__("bot.web.app", fromlist=["BOT_KEY"]).BOT_KEY]
    async with asyncio.timeout(10):
        while True:
            async with bot.db.unit_of_work() as s:
                row = await s.scalar(select(MessageRow).where(MessageRow.msg_type == "image"))
            assert row is not None  # stored before the 202
            if row.handler != "inbox":  # and handled
                break
            await asyncio.sleep(0.05)
    assert row.attachment and row.attachment.endswith(".png")
    path = bot.config.base_dir / row.attachment
    assert path.read_bytes() == b"\x89PNG\r\n\x1a\nfake"
    path.unlink()
    assert (await http.post(f"/api/sim/rooms/{room.id}/images", data={"sender_id": "x"})).status == 400


async def test_unknown_rooms_are_listed_for_the_it_person(client):
    from bot.transport.simulator import SimRoom

    http, sim = client
    sim.add_room(SimRoom("stray-9", "<b>隔壁业主群</b>"))
    bot = http.server.app[__import__("bot.web.app", fromlist=["BOT_KEY"]).BOT_KEY]
    await bot.refresh_rooms()
    data = await (await http.get("/api/rooms/unknown")).json()
    assert [(r["id"], r["topic"]) for r in data["unknown_rooms"]] == [("stray-9", "<b>隔壁业主群</b>")]
    page = await (await http.get("/rooms/unknown")).text()
    assert "&lt;b&gt;隔壁业主群&lt;/b&gt;" in page and "<b>隔壁" not in page
