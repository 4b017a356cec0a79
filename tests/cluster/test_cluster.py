"""Several accounts on one PostgreSQL: who serves which group, claims, failover, leadership, metrics."""

from __future__ import annotations

import asyncio
import dataclasses

from sqlalchemy import func, select, update

from bot.app import GridBot
from bot.clock import VirtualClock
from bot.cluster import Cluster, Leadership
from bot.config import AccountConfig, DigestConfig, SendBudget
from bot.domain.cluster import choose, reassign
from bot.domain.digest import Schedule
from bot.messages import Address, Reply
from bot.transport.simulator import SimulatorTransport
from storage.cluster_repository import ClusterRepository
from storage.models import DigestDeliveryRow, OutboxRow, TicketEventRow, TicketRow
from storage.outbox_repository import OutboxRepository
from storage.repositories import GridRepository
from tests.digests.fixture import at, ticket


# -- the choice of account, pure -----------------------------------------------------------------------

def test_the_choice_is_stable_and_only_a_lost_accounts_groups_move():
    rooms = [f"room-{i}" for i in range(300)]
    reach = {room: ["a", "b", "c"] for room in rooms}
    first = reassign(reach, ["a", "b", "c"], {})
    assert set(first) == set(rooms) and {a for a in first.values()} == {"a", "b", "c"}
    assert reassign(reach, ["a", "b", "c"], first) == {}  # nothing changes while everyone lives
    after = reassign(reach, ["a", "b"], first)
    assert set(after) == {room for room, account in first.items() if account == "c"}
    assert set(after.values()) <= {"a", "b"}
    back = reassign(reach, ["a", "b", "c"], {**first, **after})
    assert back == {}  # c is back, but its groups stay where they went: no flapping


def test_a_group_nobody_reaches_has_no_server():
    assert choose("r", [], "a") is None
    assert reassign({"r": ["a"]}, ["b"], {"r": "a"}) == {"r": None}
    assert reassign({}, ["a"], {"gone": "a"}) == {"gone": None}


# -- on PostgreSQL ---------------------------------------------------------------------------------

async def test_leadership_is_exclusive_and_passes_on_when_the_leader_dies(pg_spec):
    first_db, second_db = pg_spec.database(), pg_spec.database()
    first, second = Leadership(first_db), Leadership(second_db)
    try:
        assert await first.check() and first.is_leader
        assert not await second.check() and not second.is_leader
        assert await first.check()  # keeps it
        await first._conn.invalidate()  # the leader's process dies: its connection closes, PostgreSQL frees the lock
        first._conn = None
        assert await second.check() and second.is_leader
    finally:
        await second.release()
        await first_db.dispose()
        await second_db.dispose()


async def rooms_of(config):
    return [room.key for room in config.tree.rooms()]


async def test_claims_follow_the_serving_account_and_never_overlap(pg_spec, sample_config, clock):
    db = pg_spec.database()
    try:
        keys = await rooms_of(sample_config)
        await db.run(lambda s: GridRepository(s).sync(sample_config.tree, sample_config.people, clock.now()))
        half = len(keys) // 2
        await db.run(lambda s: ClusterRepository(s).serve({**{k: "a" for k in keys[:half]},
                                                          **{k: "b" for k in keys[half:]}}))
        replies = [Reply(Address.room(k), f"通知 {k}", kind="notice") for k in keys]
        replies.append(Reply(Address.contact("wxid_lihongmei"), "私聊"))
        await db.run(lambda s: OutboxRepository(s).enqueue(replies, now=clock.now()))

        async with db.unit_of_work() as first, db.unit_of_work() as second:  # two claimants at once
            mine = await OutboxRepository(first).claim(now=clock.now(), limit=100, account="a")
            theirs = await OutboxRepository(second).claim(now=clock.now(), limit=100, account="b")
        assert {r.to_id for r in mine if r.to_kind == "room"} == set(keys[:half])
        assert {r.to_id for r in theirs} == set(keys[half:])
        assert [r.to_id for r in mine if r.to_kind == "contact"] == ["wxid_lihongmei"]  # private chats: anyone
        assert all(r.account == "a" for r in mine)
        depth = await db.run(lambda s: ClusterRepository(s).depth())
        assert depth == {"a": half + 1, "b": len(keys) - half}
    finally:
        await db.dispose()


async def test_a_dead_accounts_groups_move_and_its_claims_return(pg_spec, sample_config, clock):
    db = pg_spec.database()
    keys = await rooms_of(sample_config)
    shared, only_a = keys[:5], keys[5:8]
    a, b = Cluster(db, "a", clock), Cluster(db, "b", clock)
    try:
        await db.run(lambda s: GridRepository(s).sync(sample_config.tree, sample_config.people, clock.now()))
        await a.start()
        await b.start()
        assert a.is_leader and not b.is_leader
        await a.report_reach(shared + only_a)
        await b.report_reach(shared)
        await a.rebalance()
        served = await db.run(lambda s: ClusterRepository(s).served())
        assert {k: served[k] for k in only_a} == {k: "a" for k in only_a}
        await db.run(lambda s: OutboxRepository(s).enqueue(
            [Reply(Address.room(k), "通知") for k in shared + only_a], now=clock.now()))
        claimed = await db.run(lambda s: OutboxRepository(s).claim(now=clock.now(), limit=100, account="a"))
        assert {r.to_id for r in claimed} == {k for k in shared + only_a if served[k] == "a"}

        await clock.advance(30)  # a stops beating; b takes the lead and a's groups
        await a.leadership.release()
        await b.heartbeat()
        assert b.is_leader
        await b.rebalance()
        served = await db.run(lambda s: ClusterRepository(s).served())
        assert {served[k] for k in shared} == {"b"} and {served[k] for k in only_a} == {None}
        async with db.unit_of_work() as s:
            statuses = dict((await s.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))).all())
        assert statuses == {"pending": len(shared + only_a)}  # what a held went back
        again = await db.run(lambda s: OutboxRepository(s).claim(now=clock.now(), limit=100, account="b"))
        assert {r.to_id for r in again} == set(shared)  # groups only a was in wait for a
        assert b.released == len(claimed)
    finally:
        await a.stop()
        await b.stop()
        await db.dispose()


def two_accounts(config):
    transport = dataclasses.replace(config.transport, accounts=(
        AccountConfig("a", SendBudget(600, 0.0)), AccountConfig("b", SendBudget(600, 0.0))))
    digests = DigestConfig(schedules=(Schedule.parse("day", "18:00"),), leader_roles=())
    return dataclasses.replace(config, transport=transport, digests=digests)


async def test_when_the_leader_dies_the_deadline_job_and_the_digest_still_run_once(pg_spec, sample_config):
    config = two_accounts(sample_config)
    clock = VirtualClock(at(22, 17))
    first_db, second_db = pg_spec.database(), pg_spec.database()
    first = GridBot(config, SimulatorTransport.from_config(config, clock, account="a"), clock=clock,
                    database=first_db, scheduler=False, account="a")
    second = GridBot(config, SimulatorTransport.from_config(config, clock, account="b"), clock=clock,
                     database=second_db, scheduler=False, account="b")
    first.cluster.tick = second.cluster.tick = 120  # fewer virtual ticks; the takeover bound is then 2 min
    await first.start()
    await second.start()
    try:
        assert first.cluster.is_leader and not second.cluster.is_leader
        async with first_db.unit_of_work() as s:  # an open ticket whose deadline passes at 17:30
            s.add(ticket(config, 1, "JQS-01-03", "repair", "normal", "new", at(22, 16, 50), due=at(22, 17, 30),
                         assignee="huang_min"))
            await s.flush()
            await s.execute(update(TicketRow).values(next_check_at=at(22, 17, 30)))
        # the leader dies at 17:00 without a word: its connections (the lock's among them) go away
        await first.sender.stop()
        first.jobs.stop()
        await first.cluster.leadership._conn.invalidate()
        first.cluster.leadership._conn = None

        await second.settle(clock, until=at(22, 18, 30))
        assert second.cluster.is_leader
        notes = await escalation_notes(second_db)
        assert len(notes) == 2 and len(set(notes)) == 2  # 17:30 to the grid, 18:00 to the community: once each
        assert await count(second_db, DigestDeliveryRow) == 2  # 书记 and 主任, once each
        await second.settle(clock, until=at(22, 20))
        assert await escalation_notes(second_db) == notes
        assert await count(second_db, DigestDeliveryRow) == 2
    finally:
        await second.stop()
        await first.stop()


async def escalation_notes(db):
    async with db.unit_of_work() as s:
        return list(await s.scalars(select(TicketEventRow.note).where(TicketEventRow.action == "escalate")
                                    .order_by(TicketEventRow.id)))


async def count(db, model):
    async with db.unit_of_work() as s:
        return int(await s.scalar(select(func.count()).select_from(model)))


async def test_health_and_metrics_per_process(pg_spec, sample_config, clock):
    from aiohttp.test_utils import TestClient, TestServer

    from bot.web.app import build_web_app

    config = two_accounts(sample_config)
    db = pg_spec.database()
    sim = SimulatorTransport.from_config(config, clock, account="a")
    bot = GridBot(config, sim, clock=clock, database=db, scheduler=False, account="a")
    await bot.start()
    client = TestClient(TestServer(build_web_app(bot)))
    await client.start_server()
    try:
        room = sim.room_by_topic("江桥花苑3号楼微网格")
        await sim.post(room.id, "sim:3-201 王芳", "3号楼楼道灯坏了好几天了")
        await bot.settle(clock)
        ready = await client.get("/readyz")
        assert ready.status == 200 and (await ready.json())["leader"] is True
        text = await (await client.get("/metrics")).text()
        values = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                  if line and not line.startswith("#")}
        assert values['gridbot_messages_in_total{account="a"}'] == 1
        assert values['gridbot_messages_out_total{account="a"}'] >= 1
        assert values['gridbot_tickets{state="new"}'] == 1
        assert values['gridbot_leader{account="a"}'] == 1
        assert values['gridbot_send_budget_per_minute{account="a"}'] == 600
        assert 0 < values['gridbot_send_budget_used{account="a"}'] <= 1
        assert "gridbot_outbox_depth" in text and "gridbot_errors_total" in text
    finally:
        await client.close()
        await bot.stop()


async def test_a_new_outbox_row_wakes_listening_senders_at_once(pg_spec, clock):
    db, other = pg_spec.database(), pg_spec.database()
    woken = asyncio.Event()
    listener = Cluster(db, "a", clock, on_wake=woken.set)
    await listener.start()
    try:
        await other.run(lambda s: OutboxRepository(s).enqueue([Reply(Address.room("x"), "通知")], now=clock.now()))
        await asyncio.wait_for(woken.wait(), timeout=2)  # NOTIFY from the trigger, not a poll
    finally:
        await listener.stop()
        await db.dispose()
        await other.dispose()
