"""Benchmark: messages per second end to end, and latency from message in to reply queued.

The whole bot runs on the simulator with SQLite (a temporary file) or PostgreSQL (a fresh schema, dropped
afterwards) and the real parser: each message is
stored, parsed, routed (reports open or join tickets, queries look them up, commands act) and its replies
are committed to the outbox. Throughput: a burst of messages into the simulator until all are handled.
Latency: one message at a time, from `post` to its unit of work being committed.

By default the database is created a second ago (its planner statistics, on PostgreSQL, are those of its first
fifty messages), as in every earlier round. `--history N` first gives the groups yesterday's N messages (posted on a
clock a day behind, so nothing of it merges into today's reports; its replies marked sent) and, on PostgreSQL, the
planner's statistics of them, as autovacuum keeps them on a deployment that has run for a while.

Two mixes of texts: "default" (tests/data/messages*.jsonl, where about three messages in four are reports and
half open a ticket) and "writers" (tests/data/writers/*.jsonl, what residents write: mostly chat and
acknowledgements, under a third reports). Statements per message count what the engine executed (an
executemany once); round trips add each transaction's BEGIN and COMMIT (a statement committed as it runs has
none) and each pool checkout (a ping where the pool pings).

Run: .venv/bin/python bench/bench_pipeline.py [--messages 5000] [--db sqlite|postgresql|both] [--url URL]
     [--mix default|writers|both] [--history 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._machine import describe  # noqa: E402
from bot.app import GridBot, settle_heap  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.transport.simulator import SimulatorTransport  # noqa: E402
from storage.session import Database  # noqa: E402

FALLBACK = ["3号楼楼道灯坏了好几天了", "收到", "+1 我家也是", "谢谢物业", "垃圾桶满了没人清", "我昨天报的路灯修了没",
            "电梯又停了 老人下不了楼", "好的", "有人在小区里发广告", "楼上天天半夜装修太吵了"]


def corpus(mix: str = "default") -> list[str]:
    """The texts of a mix: "default" (the old labelled corpus) or "writers" (the writers' realistic mix)."""
    data = ROOT / "tests" / "data"
    paths = sorted((data / "writers").glob("*.jsonl")) if mix == "writers" else [
        data / "messages.jsonl", data / "messages_heldout.jsonl"]
    texts: list[str] = []
    for path in paths:
        if path.exists():
            lines = path.read_text(encoding="utf-8").splitlines()
            texts += [json.loads(line)["text"] for line in lines if line.strip()]
    return texts or FALLBACK


class Counter:
    """Statements the engine executed, transactions and pool checkouts, since the last `take`."""

    def __init__(self, db: Database) -> None:
        from sqlalchemy import event

        self.statements = self.transactions = self.checkouts = 0
        engine = db.engine.sync_engine

        @event.listens_for(engine, "before_cursor_execute")
        def _statement(*_args: object) -> None:
            if not _args[2].lstrip().upper().startswith(("BEGIN", "PRAGMA")):  # SQLite's BEGIN IMMEDIATE: a transaction
                self.statements += 1

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":  # no BEGIN sent, no COMMIT
                self.transactions += 1

        @event.listens_for(engine.pool, "checkout")
        def _checkout(*_args: object) -> None:
            self.checkouts += 1

    def take(self) -> tuple[int, int, int]:
        taken = (self.statements, self.transactions, self.checkouts)
        self.statements = self.transactions = self.checkouts = 0
        return taken

    @staticmethod
    def describe(taken: tuple[int, int, int], count: int, pinged: bool) -> str:
        statements, transactions, checkouts = taken
        trips = statements + 2 * transactions + (checkouts if pinged else 0)
        return (f"{statements / count:.2f} statements per message, {transactions / count:.2f} transactions, "
                f"~{trips / count:.2f} round trips")


PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@asynccontextmanager
async def database(backend: str, url: str | None) -> AsyncIterator[Database]:
    """A fresh database: a temporary SQLite file, or a PostgreSQL schema of its own, dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield Database(url or f"sqlite+aiosqlite:///{tmp}/bench.db")
        return
    from sqlalchemy import text

    url = url or PG_URL
    schema = f"gridbot_bench_{uuid.uuid4().hex[:8]}"
    admin = Database(url)
    async with admin.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield Database(url, schema=schema)
    finally:
        async with admin.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await admin.dispose()


class ShiftedClock(SystemClock):
    """Wall-clock time moved back by `shift` (the history's "yesterday"); sleeping really sleeps."""

    shift = timedelta(0)

    def now(self) -> datetime:
        return super().now() - self.shift


async def run(count: int, latency_samples: int, backend: str = "sqlite", url: str | None = None,
              mix: str = "default", history: int = 0) -> None:
    logging.disable(logging.WARNING)
    config = load_config(ROOT / "config.yaml")
    texts = corpus(mix)
    rng = random.Random(5)
    async with database(backend, url) as db:
        counter = Counter(db)
        pinged = bool(getattr(db.engine.pool, "_pre_ping", False))
        clock = ShiftedClock()
        sim = SimulatorTransport.from_config(config, clock)
        bot = GridBot(config, sim, clock=clock, database=db, scheduler=False)
        if bot.parser is None:
            raise SystemExit("the message parser is not installed")
        await bot.start()
        rooms = [r for r in sim.all_rooms()]
        plan = []
        for i in range(history + count + latency_samples):
            room = rng.choice(rooms)
            residents = [m for m in room.members.values() if m.role is None] or list(room.members.values())
            plan.append((room.id, rng.choice(residents).id, rng.choice(texts)))
        # history: yesterday's messages, then (PostgreSQL) the statistics autovacuum would have gathered of them
        clock.shift = timedelta(days=1)
        for start in range(0, history, 500):
            for room_id, sender, text in plan[start:min(history, start + 500)]:
                await sim.post(room_id, sender, text)
            await bot.idle()
        if history:  # yesterday's replies went out yesterday: no backlog for the sender to work through today
            from sqlalchemy import update

            from storage.models import OutboxRow

            async with db.engine.begin() as conn:
                await conn.execute(update(OutboxRow).where(OutboxRow.status == "pending")
                                   .values(status="sent", sent_at=clock.now()))
        clock.shift = timedelta(0)
        plan = plan[history:]
        # warm-up
        for room_id, sender, text in plan[:50]:
            await sim.post(room_id, sender, text)
        await bot.idle()
        settle_heap()  # as `gridbot run` does once started
        if backend == "postgresql":
            # the planner's statistics, as autovacuum gathers them within a minute of a deployment's first
            # messages (a schema created a second ago has none, and the planner guesses)
            from sqlalchemy import text as sql

            async with db.engine.begin() as conn:
                await conn.execute(sql("ANALYZE"))
        # throughput: a burst
        counter.take()
        start, cpu = time.perf_counter(), time.process_time()
        for room_id, sender, text in plan[:count]:
            await sim.post(room_id, sender, text)
        await bot.idle()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        burst = counter.take()
        # latency: one at a time, post → committed
        latencies = []
        single_cpu = time.process_time()
        for room_id, sender, text in plan[count:]:
            t0 = time.perf_counter()
            await sim.post(room_id, sender, text)
            await bot.idle()
            latencies.append((time.perf_counter() - t0) * 1000)
        single_cpu = time.process_time() - single_cpu
        single = counter.take()
        stats = bot.stats
        async with bot.db.unit_of_work() as s:
            from sqlalchemy import func, select

            from storage.models import OutboxRow, TicketRow

            tickets = await s.scalar(select(func.count()).select_from(TicketRow))
            queued = await s.scalar(select(func.count()).select_from(OutboxRow))
        await bot.stop()
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    print(f"machine: {describe()}")
    name = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[backend]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"messages: {count} burst + {latency_samples} one by one after {history} of history, {len(texts)} "
          f"distinct texts ({mix} mix), 30 groups, {name}; load average {load}")
    print(f"throughput: {count / elapsed:,.0f} messages/s ({elapsed:.2f} s for {count}); "
          f"this process's CPU {cpu * 1000 / count:.2f} ms per message (the figure to compare on a busy machine)")
    print(f"latency in → reply queued: p50 {p(0.50):.2f} ms, p99 {p(0.99):.2f} ms, "
          f"max {latencies[-1]:.2f} ms, mean {statistics.mean(latencies):.2f} ms; "
          f"this process's CPU {single_cpu * 1000 / len(latencies):.2f} ms per message (its replies' sending included)")
    print(f"burst: {Counter.describe(burst, count, pinged)}; one by one: "
          f"{Counter.describe(single, latency_samples, pinged)}")
    print(f"handled {stats.handled}, errors {stats.errors}, tickets {tickets}, replies queued {queued}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--latency-samples", type=int, default=1000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--mix", choices=("default", "writers", "both"), default="default",
                        help="the texts: the old corpus (half open tickets), the writers' realistic mix, or both")
    parser.add_argument("--history", type=int, default=0,
                        help="yesterday's messages, posted first (default 0: a database created a second ago)")
    parser.add_argument("--url", help="the database URL (default: a temporary SQLite file, or " + PG_URL + ")")
    args = parser.parse_args()
    backends = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    if args.url and len(backends) > 1:
        parser.error("--url names one database: use it with --db sqlite or --db postgresql")
    mixes = ("default", "writers") if args.mix == "both" else (args.mix,)
    for backend in backends:
        for mix in mixes:
            asyncio.run(run(args.messages, args.latency_samples, backend, args.url, mix, args.history))


if __name__ == "__main__":
    main()
