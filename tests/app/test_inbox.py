"""Stored before acknowledged: the durable inbox, a crash between storing and handling, and messages that
cannot be handled (on both backends) never taking the rest of their batch with them."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.app import GridBot, build_router
from bot.messages import Address, IncomingMessage
from bot.transport.simulator import SimulatorTransport
from bot.web.app import build_web_app
from handlers.router import Router
from storage.models import OutboxRow, MessageRow
from tests.factories import make_message

ROOM = "东头12号房东租客群"
SENDER = "sim:201 小刘"


class GatedBot(GridBot):
    """Handling is held until the test opens the gate (handling is slow, or the process dies first)."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.gate = asyncio.Event()
        self.waiting = 0
        handle = self.inbound.handle_stored

        async def gated(items):  # type: ignore[no-untyped-def]
            self.waiting += len(items)
            await self.gate.wait()
            return await handle(items)

        self.inbound.handle_stored = gated  # type: ignore[method-assign]


class Boom:
    """A handler the database refuses for one message (a constraint it breaks, say)."""

    name = "boom"

    def match(self, msg, ctx):  # type: ignore[no-untyped-def]
        return True if "BOOM" in msg.text else None

    async def handle(self, msg, args, ctx):  # type: ignore[no-untyped-def]
        raise IntegrityError("INSERT INTO tickets …", {}, Exception("duplicate key value violates a constraint"))


async def _rows(db) -> list[MessageRow]:  # type: ignore[no-untyped-def]
    async with db.unit_of_work() as s:
        return list(await s.scalars(select(MessageRow).where(MessageRow.direction == "in").order_by(MessageRow.id)))


async def test_the_simulator_answers_202_only_once_the_message_is_stored(sample_config, db, clock):
    sim = SimulatorTransport.from_config(sample_config, clock)
    bot = GatedBot(sample_config, sim, clock=clock, database=db, scheduler=False)
    await bot.start()
    client = TestClient(TestServer(build_web_app(bot)))
    await client.start_server()
    try:
        room = sim.room_by_topic(ROOM)
        resp = await client.post(f"/api/sim/rooms/{room.id}/messages", json={"sender_id": SENDER, "text": "#帮助"})
        assert resp.status == 202
        body = await resp.json()
        rows = await _rows(db)  # handling is held at the gate: the row is there all the same
        assert [(r.text, r.transport_message_id, r.handler) for r in rows] == [("#帮助", body["id"], "inbox")]
        bot.gate.set()
        await bot.settle(clock)
        rows = await _rows(db)
        assert [(r.text, r.handler) for r in rows] == [("#帮助", "help")]  # the same row, handled once
        assert "微格助手使用说明" in room.history[-1].text
    finally:
        await client.close()
        await bot.stop()


async def test_a_crash_between_storing_and_handling_loses_nothing_and_handles_once(sample_config, db_spec, clock):
    sim = SimulatorTransport.from_config(sample_config, clock)
    first = GatedBot(sample_config, sim, clock=clock, database=db_spec.database(), scheduler=False)
    await first.start()
    room = sim.room_by_topic(ROOM)
    for i, text in enumerate(["3号楼楼道灯坏了", "#帮助", "垃圾桶满了好几天没人清"]):
        await sim.post(room.id, f"sim:20{i} 住户", text, acknowledged=True)  # each accepted
    while first.waiting == 0:  # the first is being handled, the others wait their turn
        await asyncio.sleep(0.01)
    for task in (first.sender._task, first.inbound.consumer_task, first.inbound.intake_task):  # SIGKILL: nothing gets to clean up
        task.cancel()
    await first.db.dispose()

    db = db_spec.database()
    assert [r.handler for r in await _rows(db)] == ["inbox"] * 3
    sim2 = SimulatorTransport.from_config(sample_config, clock)
    second = GridBot(sample_config, sim2, clock=clock, database=db, scheduler=False)
    await second.start()
    try:
        await second.settle(clock)
        rows = await _rows(db)
        assert [(r.text, r.handler) for r in rows] == [
            ("3号楼楼道灯坏了", "report"), ("#帮助", "help"), ("垃圾桶满了好几天没人清", "report")]
        assert [r.ticket_id is not None for r in rows] == [True, False, True]
        async with db.unit_of_work() as s:
            replies = list(await s.scalars(select(OutboxRow.text).order_by(OutboxRow.id)))
        assert sum("使用说明" in t for t in replies) == 1
        await second.recover_inbox()  # a second start finds nothing left to do
        assert len(await _rows(db)) == 3
        async with db.unit_of_work() as s:
            assert await s.scalar(select(func.count()).select_from(OutboxRow)) == len(replies)
    finally:
        await second.stop()


def _bad_batch(clock, room_id: str) -> list[IncomingMessage]:  # type: ignore[no-untyped-def]
    good = lambda text: make_message(text, room=room_id, topic=ROOM, sender="201 小刘", at=clock.now())  # noqa: E731
    return [
        good("#帮助"),
        IncomingMessage(Address.room(room_id), SENDER, "小\x00刘", "3号楼楼道灯坏了", clock.now(), room_topic=ROOM,
                        message_id="m\x00-1"),
        IncomingMessage(Address.room(room_id), "sim:\ud800x", "小\udfff刘", "#帮助", clock.now(), room_topic=ROOM,
                        mentions=("a\x00b",)),
        IncomingMessage(Address.room("bad\x00room"), SENDER, "小刘", "hi", clock.now(), room_topic="群\x00名"),
        good("坏了\x00\ud800"),
        good("垃圾桶满了好几天没人清"),
    ]


async def test_nul_and_lone_surrogates_anywhere_cost_no_other_message(sim_bot, db, clock):
    bot, sim = sim_bot
    batch = _bad_batch(clock, sim.room_by_topic(ROOM).id)
    results = await bot.process_messages(batch)
    rows = await _rows(db)
    assert len(rows) == len(batch)  # every one stored
    assert [r.handler for r in results] == [r.handler for r in rows]
    assert [r.handler for r in rows] == ["help", "report", "help", "unknown_room", rows[4].handler, "report"]
    assert all(r.handler not in ("inbox", "error") for r in rows)
    assert rows[1].transport_message_id == "m\ufffd-1" and rows[1].sender_name == "小\ufffd刘"
    assert rows[3].conversation_id == "bad\ufffdroom"
    assert rows[4].raw is not None and rows[4].text == "坏了\ufffd\ufffd"


async def test_a_batch_through_the_queue_keeps_its_good_messages(sim_bot, db, clock):
    bot, sim = sim_bot
    # all arriving together: stored in one transaction, handled in one batch
    await asyncio.gather(*(bot.handle_event(msg) for msg in _bad_batch(clock, sim.room_by_topic(ROOM).id)))
    await bot.settle(clock)
    rows = await _rows(db)
    assert len(rows) == 6 and all(r.handler not in ("inbox", "error") for r in rows)
    assert sum("使用说明" in m.text for m in sim.room_by_topic(ROOM).history) == 2


async def test_a_message_that_cannot_be_handled_is_stored_with_the_reason(sample_config, db, clock):
    root = build_router()
    sim = SimulatorTransport.from_config(sample_config, clock)
    bot = GridBot(sample_config, sim, clock=clock, database=db, scheduler=False,
                  router=Router("root", [Boom(), root]))
    await bot.start()
    try:
        room = sim.room_by_topic(ROOM)
        await asyncio.gather(*(bot.handle_event(make_message(text, room=room.id, topic=ROOM, sender="201 小刘",
                                                             at=clock.now()))
                               for text in ["#帮助", "BOOM", "3号楼楼道灯坏了"]))
        await bot.settle(clock)
        rows = await _rows(db)
        assert [(r.text, r.handler) for r in rows] == [("#帮助", "help"), ("BOOM", "error"), ("3号楼楼道灯坏了", "report")]
        assert "duplicate key" in rows[1].error and rows[0].error is None
        assert rows[2].ticket_id is not None
        assert any("微格助手使用说明" in m.text for m in room.history)
    finally:
        await bot.stop()
