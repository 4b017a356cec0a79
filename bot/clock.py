"""Clocks passed into the app so tests and replays can run on virtual time."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    """A source of aware datetimes and a way to wait."""

    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Wall-clock time in UTC; sleeping really sleeps."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class VirtualClock:
    """Time that moves only when told to; sleepers wake as it passes them."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs an aware datetime")
        self._now = start
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + timedelta(seconds=seconds), next(self._seq), fut))
        await fut

    def next_wakeup(self) -> datetime | None:
        """When the earliest sleeper wants to wake, if any."""
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
        return self._sleepers[0][0] if self._sleepers else None

    async def advance_to(self, when: datetime) -> None:
        """Move time forward to `when`, waking each sleeper at its own moment in order."""
        while True:
            wake = self.next_wakeup()
            if wake is None or wake > when:
                break
            _, _, fut = heapq.heappop(self._sleepers)
            self._now = max(self._now, wake)
            fut.set_result(None)
            for _ in range(5):  # let the woken task run until it waits again
                await asyncio.sleep(0)
        self._now = max(self._now, when)
        await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        await self.advance_to(self._now + timedelta(seconds=seconds))
