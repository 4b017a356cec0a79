"""Benchmark: one notice to a whole development zone through 25 accounts sharing one PostgreSQL database.

11,473 groups, 25 WeChat accounts, each in an equal share of the groups and limited to 20 messages a minute:
the zone's physical limit is 500 messages a minute, so a notice to every group needs about 23 minutes.
Each account has its own real outbox sender (claims in batches with FOR UPDATE SKIP LOCKED, its own send
budget) and its own simulated WeChat; time is a compressed virtual clock, the database is real.

Reported: achieved delivery rate / the zone's limit (target ≥ 0.95), the worst 60 s window of any account
(must stay ≤ 20), and the database load: statements per delivered message (claims, marking sent, storing the
outgoing message), counted on the senders' engine.

Run: .venv/bin/python bench/bench_scale.py [--groups 11473] [--accounts 25]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, select, text  # noqa: E402

from bench._machine import describe  # noqa: E402
from bot.cli.gen_config import generate  # noqa: E402
from bot.clock import VirtualClock  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.domain.budget import SendLimiter  # noqa: E402
from bot.domain.cluster import reassign  # noqa: E402
from bot.domain.people import Directory  # noqa: E402
from bot.messages import Address  # noqa: E402
from bot.notices import NoticeDesk  # noqa: E402
from bot.outbox import OutboxSender  # noqa: E402
from bot.transport.simulator import SimulatorTransport  # noqa: E402
from storage.cluster_repository import ClusterRepository  # noqa: E402
from storage.models import OutboxRow  # noqa: E402
from storage.outbox_repository import OutboxRepository  # noqa: E402
from storage.repositories import GridRepository  # noqa: E402
from storage.session import Database  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
PG_URL = os.environ.get("GRIDBOT_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


async def run(groups: int, accounts: int, per_minute: int) -> None:
    config = parse_config(generate(groups))
    clock = VirtualClock(datetime(2026, 11, 23, 9, tzinfo=TZ))
    schema = f"bench_scale_{os.getpid()}"
    admin = Database(PG_URL)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    control, senders_db = Database(PG_URL, schema=schema), Database(PG_URL, schema=schema, pool_size=10)
    statements = Counter()
    event.listen(senders_db.engine.sync_engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: statements.update(["all", statement.split()[0]]))
    try:
        await control.upgrade()
        await control.run(lambda s: GridRepository(s).sync(config.tree, config.people, clock.now()))
        world = SimulatorTransport.from_config(config, clock)
        rooms = [r for r in world.all_rooms() if r.node_code != "Z"]
        names = [f"acct{i:02d}" for i in range(accounts)]
        share = -(-len(rooms) // accounts)
        chunks = {name: rooms[i * share:(i + 1) * share] for i, name in enumerate(names)}
        key_of = {r.id: config.tree.room(room_id=r.id, topic=r.topic).key for r in rooms}  # type: ignore[union-attr]

        async def cluster(session):  # type: ignore[no-untyped-def]
            repo = ClusterRepository(session)
            for name in names:
                await repo.heartbeat(name, clock.now(), started=True)
                await repo.record_reach(name, [key_of[r.id] for r in chunks[name]], clock.now())
            await repo.serve(reassign(await repo.reach(), names, await repo.served()))

        await control.run(cluster)
        senders = []
        for name in names:
            sim = SimulatorTransport(clock, chunks[name], bot_id=f"gridbot-{name}")
            sender = OutboxSender(senders_db, sim, SendLimiter(per_minute, jitter=0.3, rng=random.Random(name)),
                                  clock, account=name, room_keys=lambda room_id: (None, None),
                                  resolve=lambda to, sim=sim: _by_topic(sim, to))
            sender.batch, sender.idle_poll = 5, 2.0
            senders.append((name, sim, sender))

        root = config.tree.node("Z")
        secretary = config.people[root.people_with("社区书记")[0]]

        async def post(session):  # type: ignore[no-untyped-def]
            desk = NoticeDesk(session, config, Directory(config.tree, config.people, config.roles), clock.now())
            return await desk.post(secretary, root, "本周六全区消防安全检查，请各户配合",
                                   reply_to=Address.room(root.rooms[0].key), posted_in_origin=True)

        await control.run(post)
        total = await control.run(lambda s: s.scalar(select(func.count()).select_from(OutboxRow).where(
            OutboxRow.kind == "notice")))
        statements.clear()
        started = time.perf_counter()
        for _, _, sender in senders:
            sender.start()
        await drive(clock, [s for _, _, s in senders], control)
        wall = time.perf_counter() - started
        for _, _, sender in senders:
            await sender.stop()
        times = sorted(m.at.timestamp() for _, sim, _ in senders for m in sim.sent if "消防安全检查" in m.text)
        delivered = len(times)
        minutes = (times[-1] - times[0]) / 60
        limit = accounts * per_minute
        worst = 0
        for _, sim, _ in senders:
            mine = [m.at.timestamp() for m in sim.sent]
            worst = max([worst, *(sum(1 for t in mine if s <= t < s + 60) for s in mine)])
        print(f"scale benchmark on {describe()}, PostgreSQL")
        print(f"{delivered:,} of {total:,} groups reached by {accounts} accounts at {per_minute}/min each "
              f"(zone limit {limit}/min) in {minutes:.1f} virtual minutes ({wall:.0f} s real)")
        print(f"achieved {delivered / minutes:.0f}/min = {delivered / minutes / limit:.3f} of the limit "
              f"(target ≥ 0.95); busiest 60 s of any account: {worst} (limit {per_minute})")
        print(f"database load: {statements['all'] / delivered:.2f} statements per delivered message "
              f"({statements['all']:,} in all, senders only: " + ", ".join(f"{k} {v:,}" for k, v in sorted(statements.items())
                                                         if k != "all") + ")")
    finally:
        await control.dispose()
        await senders_db.dispose()
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


def _by_topic(sim: SimulatorTransport, to: Address) -> Address:
    """Notices are queued by group key (the topic in a generated zone); the sender maps it to the group id."""
    if not to.is_room:
        return to
    try:
        return Address.room(sim.room_by_topic(to.id).id)
    except KeyError:
        return to


async def drive(clock: VirtualClock, senders: list[OutboxSender], db: Database) -> None:
    """Move virtual time whenever every sender waits, until the outbox is empty."""
    while True:
        for _ in range(100_000):
            if all(s.waiting.is_set() for s in senders):
                break
            await asyncio.sleep(0.0005)
        pending = await db.run(lambda s: OutboxRepository(s).pending_count())
        if not pending:
            return
        step = clock.next_wakeup()
        if step is None:
            raise RuntimeError(f"{pending} messages left and nobody waiting to send them")
        for sender in senders:
            if sender.pause_until is not None and sender.pause_until <= step:
                sender.waiting.clear()
        await clock.advance_to(step)


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=11_473)
    parser.add_argument("--accounts", type=int, default=25)
    parser.add_argument("--per-minute", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.groups, args.accounts, args.per_minute))


if __name__ == "__main__":
    main()
