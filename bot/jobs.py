"""APScheduler wiring: one entry point for every scheduled job, one error path for all of them.

Jobs receive plain data and read what they need from the database, so a restart loses nothing:
whatever is due is computed from stored state on the next run. With a virtual clock (tests,
`gridbot replay`) the scheduler is off and callers run jobs through `run_now`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import Clock

_LOGGER = logging.getLogger(__name__)

JobFunc = Callable[[], Awaitable[Any]]


class Jobs:
    """Named async jobs on an AsyncIOScheduler (APScheduler 3), each wrapped in the same error handling."""

    def __init__(self, clock: Clock, timezone: str, *, enabled: bool = True) -> None:
        self.clock = clock
        self.timezone = timezone
        self.enabled = enabled
        self._funcs: dict[str, JobFunc] = {}
        self.runs: dict[str, int] = {}
        self.failures: dict[str, int] = {}
        self._scheduler: AsyncIOScheduler | None = None
        self._pending: list[tuple[str, JobFunc, Any]] = []  # added before start()

    def _wrap(self, name: str, func: JobFunc) -> JobFunc:
        async def run() -> Any:
            try:
                result = await func()
            except Exception:
                self.failures[name] = self.failures.get(name, 0) + 1
                _LOGGER.exception("scheduled job %s failed; it will run again at its next time", name)
                return None
            self.runs[name] = self.runs.get(name, 0) + 1
            return result

        return run

    def add_interval(self, name: str, func: JobFunc, *, seconds: float) -> None:
        self._add(name, func, IntervalTrigger(seconds=seconds, timezone=self.timezone))

    def add_cron(self, name: str, func: JobFunc, **cron: Any) -> None:
        """E.g. add_cron('daily_digest', f, hour=18, minute=0) in the deployment's time zone."""
        self._add(name, func, CronTrigger(timezone=self.timezone, **cron))

    def _add(self, name: str, func: JobFunc, trigger: Any) -> None:
        wrapped = self._wrap(name, func)
        self._funcs[name] = wrapped
        if self._scheduler is not None:
            self._scheduler.add_job(wrapped, trigger, id=name, replace_existing=True, coalesce=True,
                                    max_instances=1, misfire_grace_time=3600)
        else:
            self._pending.append((name, wrapped, trigger))

    def start(self) -> None:
        if not self.enabled or self._scheduler is not None:
            return
        self._scheduler = AsyncIOScheduler(timezone=self.timezone)
        for name, wrapped, trigger in self._pending:
            self._scheduler.add_job(wrapped, trigger, id=name, replace_existing=True, coalesce=True,
                                    max_instances=1, misfire_grace_time=3600)
        self._pending = []
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    async def run_now(self, name: str) -> Any:
        """Run a job at once (virtual-clock runs and tests), through the same error path."""
        return await self._funcs[name]()

    @property
    def names(self) -> list[str]:
        return sorted(self._funcs)
