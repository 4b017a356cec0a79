"""The whole path through the simulator: transport → router → handler → storage → outbox → transport."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import GridBot
from bot.transport.simulator import SimulatorTransport
from storage.models import MessageRow, OutboxRow


async def stored(db, **filters):
    async with db.unit_of_work() as s:
        query = select(MessageRow).order_by(MessageRow.id)
        for key, value in filters.items():
            query = query.where(getattr(MessageRow, key) == value)
        return list(await s.scalars(query))


async def test_help_command_is_answered_in_the_group(sim_bot, db, clock):
    bot, sim = sim_bot
    room = sim.room_by_topic("江桥花苑3号楼微网格")
    await sim.post(room.id, "sim:3-201 王芳", "＃帮助")
    await bot.settle(clock)
    replies = [m for m in room.history if m.from_bot]
    assert len(replies) == 1 and "微格助手使用说明" in replies[0].text
    incoming = await stored(db, direction="in")
    outgoing = await stored(db, direction="out")
    assert [m.text for m in incoming] == ["＃帮助"]
    assert incoming[0].handler == "help" and incoming[0].node_code == "JQS-01-03"
    assert outgoing[0].conversation_id == room.id and "微格助手使用说明" in outgoing[0].text


async def test_replies_go_out_in_order_within_the_send_budget(sim_bot, db, clock):
    bot, sim = sim_bot
    room = sim.room_by_topic("老村东片微网格")
    start = clock.now()
    for i in range(5):
        await sim.post(room.id, "sim:东头20号 周嫂", f"#帮助{i}")
    await bot.settle(clock)
    replies = [m for m in room.history if m.from_bot]
    assert len(replies) == 5
    # unknown-command replies, one per message, in the order the messages came
    assert [f"“#帮助{i}”" in r.text for i, r in enumerate(replies)] == [True] * 5
    # 20 a minute with ±15 % jitter: five sends need at least four gaps of 2.55 s
    gaps = [(b.at - a.at).total_seconds() for a, b in zip(replies, replies[1:])]
    assert min(gaps) >= 3.0 * 0.85 - 1e-6
    assert (replies[-1].at - start).total_seconds() < 60
    async with db.unit_of_work() as s:
        rows = list(await s.scalars(select(OutboxRow)))
    assert {r.status for r in rows} == {"sent"} and len(rows) == 5


async def test_bot_ignores_its_own_echo(sim_bot, db, clock):
    bot, sim = sim_bot
    room = sim.room_by_topic("江桥花苑3号楼微网格")
    await sim.post(room.id, sim.bot_id, "#帮助", sender_name="微格助手")
    await bot.settle(clock)
    assert not [m for m in room.history if m.from_bot]
    assert await stored(db, direction="in") == []


async def test_private_chat_gets_a_pointer_to_help(sim_bot, db, clock):
    bot, sim = sim_bot
    await sim.post_direct("wxid_chenli", "陈丽", "你好")
    await bot.settle(clock)
    history = sim.direct_history("wxid_chenli")
    assert history[-1].from_bot and "#帮助" in history[-1].text


async def test_unknown_group_is_stored_not_answered(sim_bot, db, clock):
    from bot.transport.simulator import SimRoom

    bot, sim = sim_bot
    sim.add_room(SimRoom("stray-1", "隔壁小区业主群"))
    await sim.post("stray-1", "sim:路人", "#帮助")
    await bot.settle(clock)
    assert sim.room("stray-1").history[-1].from_bot is False
    rows = await stored(db, direction="in")
    assert rows[0].handler == "unknown_room" and rows[0].node_code is None


async def test_failed_sends_are_retried_then_delivered(sim_bot, db, clock):
    bot, sim = sim_bot
    room = sim.room_by_topic("江桥花苑3号楼微网格")
    sim.fail_sends(2)
    await sim.post(room.id, "sim:3-201 王芳", "#帮助")
    await bot.settle(clock)
    assert len([m for m in room.history if m.from_bot]) == 1
    async with db.unit_of_work() as s:
        row = (await s.scalars(select(OutboxRow))).one()
    assert row.status == "sent" and row.attempts == 3


async def test_send_that_keeps_failing_is_marked_failed(sample_config, db, clock):
    sim = SimulatorTransport.from_config(sample_config, clock)
    bot = GridBot(sample_config, sim, clock=clock, database=db, scheduler=False)
    failed = []

    async def on_failed(row, error):
        failed.append((row.to_id, error))

    bot.sender.on_failed = on_failed
    await bot.start()
    try:
        room = sim.room_by_topic("江桥花苑3号楼微网格")
        sim.fail_sends(100, "network down")
        await sim.post(room.id, "sim:3-201 王芳", "#帮助")
        await bot.settle(clock)
    finally:
        await bot.stop()
    assert failed == [(room.id, "network down")]
    async with db.unit_of_work() as s:
        row = (await s.scalars(select(OutboxRow))).one()
    assert row.status == "failed" and row.attempts == sample_config.transport.max_attempts
