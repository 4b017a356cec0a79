"""Hostile and odd messages are stored and never crash the bot."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import GridBot
from bot.messages import MessageType
from bot.transport.simulator import SimulatorTransport
from storage.models import MessageRow
from storage.repositories import original_text

ODD = [
    "",
    "   \n\t  ",
    "楼道灯坏了" * 4000,  # 20,000 characters
    "😀😀👌🙏🔥",
    "坏了\ud800\udfff\ud800",
    "\x00\x01\x02\x1b[31m红\x07",
    "<script>alert(1)</script>\"><img src=x onerror=alert(1)>",
    "'; DROP TABLE messages; --",
    "#" * 3000,
    "＃",
    "@微格助手",
    "\u202e\u200b\ufeff反转",
]


async def test_odd_messages_are_all_stored_and_the_bot_keeps_answering(sim_bot, db, clock):
    bot, sim = sim_bot
    room = sim.room_by_topic("东头12号房东租客群")
    for text in ODD:
        await sim.post(room.id, "sim:201 小刘", text)
    await sim.post(room.id, "sim:201 小刘", "#帮助", type=MessageType.TEXT)
    await bot.settle(clock)
    async with db.unit_of_work() as s:
        rows = list(await s.scalars(select(MessageRow).where(MessageRow.direction == "in").order_by(MessageRow.id)))
    assert len(rows) == len(ODD) + 1
    for row, text in zip(rows, ODD):
        assert original_text(row.text, row.raw) == text
    assert bot.stats.errors == 0
    assert "微格助手使用说明" in room.history[-1].text


async def test_images_and_unknown_types_are_stored_as_such(sim_bot, db, clock):
    bot, sim = sim_bot
    room = sim.room_by_topic("东头12号房东租客群")
    await sim.post(room.id, "sim:201 小刘", "", type=MessageType.IMAGE, payload=b"\x89PNG....")
    await sim.post(room.id, "sim:201 小刘", "", type=MessageType.MINI_PROGRAM)
    await bot.settle(clock)
    async with db.unit_of_work() as s:
        types = list(await s.scalars(select(MessageRow.msg_type).order_by(MessageRow.id)))
    assert types == ["image", "mini_program"]


async def test_a_crashing_handler_loses_nothing(sample_config, db, clock):
    from handlers.router import Router

    class Boom:
        name = "boom"

        def match(self, msg, ctx):
            return True

        async def handle(self, msg, args, ctx):
            from storage.outbox_repository import OutboxRepository
            from bot.messages import Reply

            await OutboxRepository(ctx.session).enqueue([Reply(msg.conversation, "half-done")], now=ctx.now)
            raise RuntimeError("bug")

    sim = SimulatorTransport.from_config(sample_config, clock)
    bot = GridBot(sample_config, sim, clock=clock, database=db, router=Router("root", [Boom()]), scheduler=False)
    await bot.start()
    try:
        room = sim.room_by_topic("东头12号房东租客群")
        await sim.post(room.id, "sim:201 小刘", "随便说点")
        await bot.settle(clock)
    finally:
        await bot.stop()
    async with db.unit_of_work() as s:
        row = (await s.scalars(select(MessageRow))).one()
    assert row.text == "随便说点" and row.handler == "error"
    assert not [m for m in room.history if m.from_bot]  # the half-done reply was rolled back
