"""Benchmark: the console's ticket list with 1,000,000 tickets (SQLite), through HTTP as a browser asks for it.

A generated zone (11,473 groups) with a year of tickets (bench_digest's generator). Signed in as the zone's
secretary and as one grid's leader, the list is requested again and again with the filters people use;
reported: p50 / p95 per kind of request. Target: p95 ≤ 200 ms.

Run: .venv/bin/python bench/bench_console.py [--tickets N] [--keep FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from bench._machine import describe  # noqa: E402
from bench.bench_digest import fill  # noqa: E402
from bench.bench_pipeline import corpus  # noqa: E402
from bot.app import GridBot  # noqa: E402
from bot.cli.gen_config import generate  # noqa: E402
from bot.clock import SystemClock  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.transport.simulator import SimulatorTransport  # noqa: E402
from bot.web.accounts import hash_password  # noqa: E402
from bot.web.app import build_web_app  # noqa: E402
from storage.session import Database  # noqa: E402
from storage.web_repository import WebRepository  # noqa: E402

REQUESTS = {
    "newest first, no filter": "/console/tickets",
    "open only": "/console/tickets?state=open",
    "category + urgency": "/console/tickets?category=repair&urgency=urgent",
    "overdue only": "/console/tickets?overdue=1",
    "a node's subtree": "/console/tickets?node=Z-C003-02",
    "page 20": "/console/tickets?offset=1000",
    "text search, a common word": "/console/tickets?q=%E6%A5%BC%E9%81%93",  # 楼道
    "text search, a rare word": "/console/tickets?q=%E8%87%AD%E9%B8%A1%E8%9B%8B",  # 臭鸡蛋
    "text search, no such word": "/console/tickets?q=%E9%A3%9E%E7%A2%9F",  # 飞碟
}


async def run(tickets: int, keep: str | None, rounds: int) -> None:
    config = parse_config(generate(11_473))
    path = Path(keep) if keep else Path(tempfile.mkdtemp()) / "console.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    fresh = not path.exists()
    await db.upgrade()
    if fresh:
        await fill(db, config, tickets, 0, texts=corpus())
    bot = GridBot(config, SimulatorTransport.from_config(config, SystemClock()), database=db, scheduler=False)
    await bot.start()
    secretary = config.tree.node("Z").people_with("社区书记")[0]
    leader = config.tree.node("Z-C003").people_with("社区书记")[0]  # a community of the zone

    async def accounts(session):  # type: ignore[no-untyped-def]
        repo = WebRepository(session)
        for name, role, person in (("zone", "secretary", secretary), ("c003", "leader", leader)):
            if await repo.user(name) is None:
                await repo.add_user(username=name, password_hash=hash_password("bench password"), role=role,
                                    person_key=person, node_code=None, token_hash=None, disabled=False,
                                    created_at=datetime.now(timezone.utc))

    await db.run(accounts)
    client = TestClient(TestServer(build_web_app(bot)))
    await client.start_server()
    print(f"console benchmark on {describe()}, SQLite, {tickets:,} tickets")
    try:
        for account in ("zone", "c003"):
            client.session.cookie_jar.clear()
            await client.post("/login", data={"username": account, "password": "bench password"})
            for label, url in REQUESTS.items():
                if account == "zone" and "subtree" in label:
                    continue
                times = []
                for _ in range(rounds):
                    started = time.perf_counter()
                    answer = await client.get(url)
                    await answer.read()
                    times.append((time.perf_counter() - started) * 1000)
                    assert answer.status == 200, (url, answer.status)
                times.sort()
                p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
                print(f"  {account:5s} {label:28s} p50 {statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms")
    finally:
        await client.close()
        await bot.stop()


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--keep", help="SQLite file to fill once and reuse")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    asyncio.run(run(args.tickets, args.keep, args.rounds))


if __name__ == "__main__":
    main()
