"""Benchmark: a notice to every group of a development zone (11,473 groups).

1. plan + enqueue time on SQLite: the pure fan-out plan over the tree and one outbox row per group;
2. delivery rate against the send budget, through the simulator on a compressed virtual clock
   (the rate does not depend on the number of groups, so 600 groups are delivered), never above it;
3. peak Python memory while planning and enqueueing.

Run: .venv/bin/python bench/bench_notices.py
"""

from __future__ import annotations

import asyncio
import logging
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
    await db.dispose()
    assert "11472 个群" in replies[0].text, replies[0].text
    return elapsed, 11_472, peak


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
        elapsed, groups, peak = await plan_and_enqueue(tmp)
        share, worst, minutes = await delivery_rate(tmp) if "--plan-only" not in sys.argv else (0, 0, 0)
    print(f"machine: {describe()}")
    print(f"plan + enqueue a notice to {groups:,} groups (SQLite): {elapsed * 1000:.0f} ms, "
          f"peak Python memory {peak / 1e6:.1f} MB")
    print(f"delivery at 20/min through the simulator (virtual clock, 600 groups in {minutes:.1f} virtual minutes): "
          f"{share:.1%} of the budget; most in any 60 s window: {worst} (limit 20)")


if __name__ == "__main__":
    asyncio.run(main())
