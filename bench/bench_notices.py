"""Benchmark: a notice to every group of a development zone (11,473 groups).

1. plan + enqueue time on SQLite: the pure fan-out plan over the tree and one outbox row per group;
2. delivery rate against the send budget, through the simulator on a compressed virtual clock
   (the rate does not depend on the number of groups, so 600 groups are delivered), never above it;
3. peak Python memory while planning and enqueueing, and the process's peak RSS;
4. the `#回执` roll-up over every group of the zone (10 residents each, a third of the groups partly acknowledged,
   and the group's own leaders and their parent node's in it too, as in life, some of them saying 收到): a grouped
   count in SQL, staff taken out household by household, so its time grows with the number of groups, not with
   members × groups in Python.

Run: .venv/bin/python bench/bench_notices.py
"""

from __future__ import annotations

import asyncio
import logging
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._machine import describe  # noqa: E402
from bot.app import GridBot  # noqa: E402
from bot.cli.gen_config import generate  # noqa: E402
from bot.clock import VirtualClock  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.domain.people import Directory  # noqa: E402
from bot.messages import Address  # noqa: E402
from bot.notices import NoticeDesk  # noqa: E402
from bot.transport.simulator import SimulatorTransport  # noqa: E402
from sqlalchemy import update  # noqa: E402

from storage.models import MemberRow, NoticeAckRow, NoticeRow, OutboxRow  # noqa: E402
from storage.repositories import GridRepository  # noqa: E402
from storage.session import Database  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")


async def plan_and_enqueue(tmp: str) -> tuple[float, int, int]:
    config = parse_config(generate(11_473))
    db = Database(f"sqlite+aiosqlite:///{tmp}/zone.db")
    await db.upgrade()
    now = datetime(2026, 11, 23, 9, tzinfo=TZ)
    await db.run(lambda s: GridRepository(s).sync(config.tree, config.people, now))
    directory = Directory(config.tree, config.people, config.roles)
    root = config.tree.node("Z")
    secretary = config.people[root.roles[0][1][0]]
    async def post():  # type: ignore[no-untyped-def]
        return await db.run(lambda s: NoticeDesk(s, config, directory, now).post(
            secretary, root, "本周六全区消防安全检查，请各户配合", reply_to=Address.room(root.rooms[0].key),
            posted_in_origin=True))

    start = time.perf_counter()
    replies = await post()
    elapsed = time.perf_counter() - start
    tracemalloc.start()  # memory on a second notice: tracing slows Python, so it is not timed
    await post()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "11472 个群" in replies[0].text, replies[0].text
    rollup = await receipt_rollup(db, config, directory, now)
    await db.dispose()
    return elapsed, 11_472, peak, rollup


async def receipt_rollup(db: Database, config, directory, now) -> tuple[float, int, float, int]:  # type: ignore[no-untyped-def]
    """Deliver notice #1 everywhere (in the database), give each group 10 residents (a third of the groups partly
    acknowledged) and its staff: the leaders of its node and of the node above, every other one saying 收到."""
    rooms = [room.key for node in config.tree for room in node.rooms]
    members = [dict(room_key=key, member_id=f"{key}:{i}", display_name=f"{i + 1}-{101 + i} 居民{i}",
                    household=f"{i + 1}-{101 + i}", active=True, joined_at=now) for key in rooms for i in range(10)]
    acks = [dict(notice_id=1, room_key=key, member_id=f"{key}:{i}", member_name=f"居民{i}", household=f"{i + 1}-{101 + i}",
                 at=now) for n, key in enumerate(rooms) for i in range(n % 10 if n % 3 == 0 else 0)]
    for node in config.tree:
        leaders = [person for n in (node, config.tree.node(node.parent) if node.parent else None) if n is not None
                   for _, holders in n.roles for person in holders]
        staff = {config.people[p].wechat_id or p: config.people[p].name for p in leaders}
        for room in node.rooms:
            for j, (member, name) in enumerate(staff.items()):
                members.append(dict(room_key=room.key, member_id=member, display_name=name, household=None,
                                    active=True, joined_at=now))
                if j % 2 == 0:
                    acks.append(dict(notice_id=1, room_key=room.key, member_id=member, member_name="负责人",
                                     household=None, at=now))

    async def fill(session):  # type: ignore[no-untyped-def]
        await session.execute(update(OutboxRow).where(OutboxRow.ref == "notice:1").values(status="sent", sent_at=now))
        for table, rows in ((MemberRow.__table__, members), (NoticeAckRow.__table__, acks)):
            for start in range(0, len(rows), 5000):
                await session.execute(table.insert(), rows[start:start + 5000])

    await db.run(fill)

    async def rollup(session):  # type: ignore[no-untyped-def]
        desk = NoticeDesk(session, config, directory, now)
        return await desk.rollup(await desk.repo.by_number(1))

    start = time.perf_counter()
    text = await db.run(rollup)
    elapsed = time.perf_counter() - start
    assert "回执" in text and "回复最少的群" in text, text

    async def remind(session):  # type: ignore[no-untyped-def]
        await session.execute(update(NoticeRow).where(NoticeRow.number == 1).values(remind_at=now))
        return await NoticeDesk(session, config, directory, now).remind()

    start = time.perf_counter()
    reminders = await db.run(remind)
    remind_s = time.perf_counter() - start
    return elapsed, len(members), remind_s, len(reminders) - 1  # less the roll-up to the sender


async def delivery_rate(tmp: str, groups: int = 600) -> tuple[float, int, float]:
    config = parse_config(generate(groups + 1))
    clock = VirtualClock(datetime(2026, 11, 23, 9, tzinfo=TZ))
    sim = SimulatorTransport.from_config(config, clock)
    bot = GridBot(config, sim, clock=clock, database=Database(f"sqlite+aiosqlite:///{tmp}/rate.db"), scheduler=False)
    await bot.start()
    root = config.tree.node("Z")
    secretary = config.people[root.roles[0][1][0]]
    await sim.post(sim.room_by_topic(root.rooms[0].topic).id, secretary.wechat_id, "#通知 测试送达速度")
    await bot.settle(clock)
    await bot.stop()
    times = [m.at.timestamp() for m in sim.sent if "#1】" in m.text]
    per_minute = config.transport.send_budget.per_minute
    achieved = (len(times) - 1) / ((times[-1] - times[0]) / 60)
    worst = max(sum(1 for t in times if start <= t < start + 60) for start in times)
    return achieved / per_minute, worst, (times[-1] - times[0]) / 60


async def main() -> None:
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        elapsed, groups, peak, (rollup_s, members, remind_s, reminders) = await plan_and_enqueue(tmp)
        share, worst, minutes = await delivery_rate(tmp) if "--plan-only" not in sys.argv else (0, 0, 0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    print(f"machine: {describe()}")
    print(f"plan + enqueue a notice to {groups:,} groups (SQLite): {elapsed * 1000:.0f} ms, "
          f"peak Python memory {peak / 1e6:.1f} MB; process peak RSS {rss:.0f} MB (config load included)")
    print(f"#回执 roll-up over {groups:,} delivered groups, {members:,} members: {rollup_s * 1000:.0f} ms; "
          f"reminder pass ({reminders:,} group reminders planned): {remind_s * 1000:.0f} ms")
    print(f"delivery at 20/min through the simulator (virtual clock, 600 groups in {minutes:.1f} virtual minutes): "
          f"{share:.1%} of the budget; most in any 60 s window: {worst} (limit 20)")


if __name__ == "__main__":
    asyncio.run(main())
