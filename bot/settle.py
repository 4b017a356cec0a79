"""Driving a bot on a virtual clock: handle everything received, then move time to the next send or job.

Used by `gridbot replay` (bot/replay.py) and the tests: nothing really sleeps; the clock jumps to whatever is
due next — a paced send, a retry, a deadline, a reminder, a digest — until nothing is left to send (or until
a given time).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Protocol

from bot.clock import VirtualClock
from bot.jobs import Jobs
from bot.outbox import OutboxSender
from storage.outbox_repository import OutboxRepository
from storage.session import Database


class Settleable(Protocol):
    """What settling needs of a bot (bot.app.GridBot)."""

    db: Database
    jobs: Jobs
    sender: OutboxSender

    async def idle(self) -> None: ...

    def busy(self) -> bool: ...


async def settle(bot: Settleable, clock: VirtualClock, *, until: datetime | None = None,
                 max_steps: int = 1_000_000) -> None:
    """Handle everything received, run jobs and due sends as the clock moves, until nothing is left to send
    (or until `until`, then stop there)."""
    for _ in range(max_steps):
        await bot.idle()
        await asyncio.wait_for(bot.sender.waiting.wait(), timeout=30)
        if bot.busy():
            continue
        if await bot.jobs.run_due(clock.now()):
            continue
        pending = await bot.db.run(lambda s: OutboxRepository(s).pending_count(), what="outbox count")
        wake = clock.next_wakeup()
        job_at = await bot.jobs.next_due()
        if until is None:
            if not pending:
                break
            job_at = None  # without a horizon, only sends move the clock
        if not pending:
            wake = None  # an idle sender's periodic look is not worth stepping the clock for
        candidates = [t for t in (wake, job_at) if t is not None]
        step = min(candidates) if candidates else None
        if step is None or (until is not None and step > until):
            break
        paused_until = bot.sender.pause_until
        if paused_until is not None and paused_until <= step and bot.sender.waiting.is_set():
            bot.sender.waiting.clear()  # this advance wakes it; wait for it to pause again
        await clock.advance_to(step)
    if until is not None and clock.now() < until:
        await clock.advance_to(until)
        await bot.idle()
