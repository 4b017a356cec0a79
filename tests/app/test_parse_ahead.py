"""Stored messages parsed ahead while the handler is busy: the parse is used when the group is as it was, and made
again when a notice reached the group in between (on both backends)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.transport.simulator import SimulatorTransport
from storage.models import MessageRow
from tests.app.test_inbox import GatedBot

GROUP = "老村东片微网格"
LEADER = "wxid_xudama"
REPORT = "东头路口的路灯坏了好几天了"


class Counting:
    """The bot's parser, noting each call's text and notice state."""

    def __init__(self, parse) -> None:  # type: ignore[no-untyped-def]
        self.parse = parse
        self.calls: list[tuple[str, bool]] = []

    def __call__(self, text, *, room_tier=None, notice_pending=False):  # type: ignore[no-untyped-def]
        self.calls.append((text, notice_pending))
        return self.parse(text, room_tier=room_tier, notice_pending=notice_pending)


async def _until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def _held_bot(sample_config, db, clock):  # type: ignore[no-untyped-def]
    sim = SimulatorTransport.from_config(sample_config, clock)
    bot = GatedBot(sample_config, sim, clock=clock, database=db, scheduler=False)
    parser = bot.inbound.parser = Counting(bot.inbound.parser)
    await bot.start()
    return bot, sim, parser


async def test_a_message_parsed_while_the_handler_is_busy_is_not_parsed_again(sample_config, db, clock):
    bot, sim, parser = await _held_bot(sample_config, db, clock)
    try:
        room = sim.room_by_topic(GROUP)
        await sim.post(room.id, "东头15号 施阿伯", "#帮助")
        await _until(lambda: bot.waiting == 1, "the first message at the gate")
        await sim.post(room.id, "东头20号 周嫂", "东头路口的路灯坏了好几天了")
        await _until(lambda: ("东头路口的路灯坏了好几天了", False) in parser.calls, "the report parsed ahead")
        bot.gate.set()
        await bot.settle(clock)
        assert [text for text, _ in parser.calls].count("东头路口的路灯坏了好几天了") == 1
        assert any("已登记" in m.text or "工单" in m.text for m in room.history if m.from_bot)
    finally:
        await bot.stop()


async def test_a_notice_reaching_the_group_in_between_has_the_reply_parsed_again_as_an_answer(sample_config, db,
                                                                                              clock):
    bot, sim, parser = await _held_bot(sample_config, db, clock)
    try:
        room = sim.room_by_topic(GROUP)
        await sim.post(room.id, LEADER, "#通知 周五前登记出租屋租客信息，收到请回复")
        await _until(lambda: bot.waiting == 1, "the notice at the gate")
        await sim.post(room.id, "东头15号 施阿伯", "收到")
        # parsed ahead before the notice was handled: no notice in this group yet
        await _until(lambda: ("收到", False) in parser.calls, "the reply parsed ahead")
        bot.gate.set()
        await bot.settle(clock)
        assert parser.calls.count(("收到", True)) == 1  # parsed again, the notice now pending in the group
        async with db.unit_of_work() as s:
            row = await s.scalar(select(MessageRow).where(MessageRow.text == "收到"))
        assert (row.kind, row.handler) == ("ack", "ack")  # read as the answer to the notice, as handled one by one
    finally:
        await bot.stop()


async def test_a_parse_ahead_that_fails_leaves_the_message_to_the_handler_and_the_intake_going(sample_config, db,
                                                                                                clock):
    bot, sim, parser = await _held_bot(sample_config, db, clock)
    inbound, failed = bot.inbound, []
    parse = inbound._parse

    def first_fails(item, pending):  # type: ignore[no-untyped-def]
        if item.msg.text == REPORT and not failed:  # once: the handler's own parse then works
            failed.append(item.msg.text)
            raise RuntimeError("a parse ahead that breaks")
        return parse(item, pending)

    inbound._parse = first_fails  # type: ignore[method-assign]
    try:
        room = sim.room_by_topic(GROUP)
        await sim.post(room.id, "东头15号 施阿伯", "#帮助")
        await _until(lambda: bot.waiting == 1, "the first message at the gate")
        await sim.post(room.id, "东头20号 周嫂", REPORT)
        await _until(lambda: failed == [REPORT], "the parse ahead to fail")
        bot.gate.set()
        await sim.post(room.id, "东头12号 陈老板", "#帮助")  # the intake still stores what comes after
        await asyncio.wait_for(bot.settle(clock), 60)  # (a dead intake never settles)
        async with db.unit_of_work() as s:
            rows = list(await s.scalars(select(MessageRow).where(MessageRow.direction == "in").order_by(MessageRow.id)))
        assert [r.handler for r in rows] == ["help", "report", "help"]
    finally:
        await bot.stop()
