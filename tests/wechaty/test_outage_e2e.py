"""A 100-second outage of the puppet service, over the official Wechaty PuppetServer + PuppetMock: nothing lost.

The outage lasts OUTAGE bot-seconds (default 100) on a clock that runs SPEED times faster than the wall
(default 10, so the test waits about 10 s of real time for the outage). The bot's own timing — the outbox's
ages, its sleeps, its send budget — is on that clock, so for the bot the service was gone the full 100 s;
the gRPC reconnection runs on real time (backoff capped at 0.5 s here). Set GRIDBOT_OUTAGE_SECONDS and
GRIDBOT_OUTAGE_SPEED=1 to sit through a real one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from datetime import datetime, timedelta

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import GridBot
from bot.config import SendBudget
from bot.messages import Address, IncomingMessage
from bot.transport.wechaty import WechatyTransport
from bot.web.app import build_web_app
from storage.models import OutboxRow
from tests.wechaty.harness import MockWeChat, until, world_from_config
from tests.fakes import WORKDAY_MORNING

OUTAGE = float(os.environ.get("GRIDBOT_OUTAGE_SECONDS", "100"))  # as the bot's clock counts them
SPEED = float(os.environ.get("GRIDBOT_OUTAGE_SPEED", "10"))


class FastClock:
    """Wall time, SPEED times faster: `now()` moves and `sleep()` ends SPEED times sooner."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self._start = WORKDAY_MORNING  # not the hour the test runs at (quiet hours hold routine notices at night)
        self._mono = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._mono) * self.speed)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)


async def rows(db):
    async with db.unit_of_work() as s:
        return list(await s.scalars(select(OutboxRow).order_by(OutboxRow.id)))


async def test_a_100_second_outage_loses_nothing_and_readiness_follows_it(node_path, sample_config, db, tmp_path):
    config = dataclasses.replace(sample_config, transport=dataclasses.replace(
        sample_config.transport, send_budget=SendBudget(per_minute=600, jitter=0.0)))
    world = world_from_config(config)
    rooms = {room.topic: room.id for room in world.rooms}
    server = MockWeChat(world, tmp_path, node=node_path)
    await server.start()
    clock = FastClock(SPEED)
    transport = WechatyTransport(server.endpoint, server.token, reconnect_initial=0.1, reconnect_max=0.5)
    bot = GridBot(config, transport, clock=clock, database=db, scheduler=False)
    client = TestClient(TestServer(build_web_app(bot)))
    try:
        await bot.start()
        await client.start_server()
        await until(lambda: transport.logged_in, timeout=10)
        await bot.refresh_rooms()
        assert (await client.get("/readyz")).status == 200

        await server.kill()  # the service dies
        await until(lambda: not transport.connected, timeout=10)
        down_at = clock.now()
        # a leader's notice (and a few replies) are queued while it is down
        community = rooms["江桥社区工作群"]
        await bot.process_message(IncomingMessage(
            Address.room(community), "wxid_lihongmei", "李红梅", "#通知 周六上午停水检修，请提前储水",
            clock.now(), room_topic="江桥社区工作群", message_id="before-1", mentions_self=True))
        for i in range(3):
            await bot.process_message(IncomingMessage(
                Address.contact("wxid_chenli"), "wxid_chenli", "陈丽", f"#帮助{i}", clock.now(),
                message_id=f"before-help-{i}", mentions_self=True))
        queued = await rows(db)
        assert len([r for r in queued if r.kind == "notice"]) == 29

        readiness = []
        while (clock.now() - down_at).total_seconds() < OUTAGE:
            answer = await client.get("/readyz")
            readiness.append((answer.status, (await answer.json())["ready"]))
            await asyncio.sleep(0.5)
        assert readiness and set(readiness) == {(503, False)}
        during = await rows(db)
        assert {r.status for r in during} == {"pending"} and {r.attempts for r in during} == {0}
        assert bot.sender.failed_count == 0

        await server.start()  # back on the same port with the same world
        await until(lambda: transport.connected, timeout=15)
        assert (await client.get("/readyz")).status == 200
        async with asyncio.timeout(60):
            while {r.status for r in await rows(db)} != {"sent"}:
                await asyncio.sleep(0.2)
        after = await rows(db)
        assert bot.sender.failed_count == 0 and {r.attempts for r in after} == {1}
        delivered = await server.sent()  # what the service received since it came back
        assert sorted(m["id"] for m in delivered) == sorted(r.transport_message_id for r in after)  # 0 lost, 0 twice
        expected = [r.transport_message_id for r in sorted(after, key=lambda r: (r.priority, r.id))]
        assert [m["id"] for m in delivered] == expected  # in order: priority, then id
        reached = {m["conversation"] for m in delivered}
        below = [rooms[room.topic] for node in config.tree.descendants("JQS", include_self=False)
                 for room in node.rooms]
        assert set(below) <= reached
        print(f"\noutage: {(clock.now() - down_at).total_seconds():.0f} bot-seconds "
              f"({len(readiness)} readiness checks, all 503); {len(after)} messages delivered after it")
    finally:
        await client.close()
        await bot.stop()
        await server.stop()
