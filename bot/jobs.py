"""Scheduled jobs: one entry point for every job, one error path for all of them.

On the wall clock the jobs run on APScheduler 3 (AsyncIOScheduler). On a virtual clock (tests,
`gridbot replay`) the same jobs run when the driver moves time past their next run (`run_due`).
Jobs take no arguments and read what they need from the database, so a restart loses nothing:
whatever is due is computed from stored state on the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.clock import Clock

_LOGGER = logging.getLogger(__name__)

JobFunc = Callable[[], Awaitable[Any]]


@dataclass
class _Job:
    name: str
    func: JobFunc
    interval: timedelta | None = None
    cron: dict[str, Any] | None = None
    next_at: datetime | None = None
    floor: datetime | None = None  # virtual: the first tick after the last run; skipped ticks come back no earlier
    hint: Callable[[], Awaitable[datetime | None]] | None = None  # virtual: when there is work at the earliest
    virtual: bool = True  # False: not run on a virtual clock (e.g. polling the transport)
    leader_only: bool = False  # several processes: only the leader runs it


class Jobs:
    """Named async jobs, each wrapped in the same error handling; real or virtual scheduling."""

    def __init__(self, clock: Clock, timezone: str, *, enabled: bool = True,
                 leader: Callable[[], bool] | None = None) -> None:
        """`leader`: with several processes, whether this one leads now (leader-only jobs skip otherwise)."""
        self.clock = clock
        self.leader = leader
        self.skipped: dict[str, int] = {}
        self.timezone = timezone
        self.enabled = enabled  # False: virtual scheduling through run_due()
        self._jobs: dict[str, _Job] = {}
        self.runs: dict[str, int] = {}
        self.failures: dict[str, int] = {}
        self._scheduler: AsyncIOScheduler | None = None
        self._started = False

    def _wrap(self, name: str, func: JobFunc, leader_only: bool = False) -> JobFunc:
        async def run() -> Any:
            if leader_only and self.leader is not None and not self.leader():
                self.skipped[name] = self.skipped.get(name, 0) + 1
                return None
            try:
                result = await func()
            except Exception:
                self.failures[name] = self.failures.get(name, 0) + 1
                _LOGGER.exception("scheduled job %s failed; it will run again at its next time", name)
                return None
            self.runs[name] = self.runs.get(name, 0) + 1
            return result

        return run

    def add_interval(self, name: str, func: JobFunc, *, seconds: float,
                     hint: Callable[[], Awaitable[datetime | None]] | None = None, virtual: bool = True,
                     leader_only: bool = False) -> None:
        """Run every `seconds`. On a virtual clock, `hint` lets idle ticks be skipped: it says when the
        job will first have work (None: none now), and the job runs at the first tick from then."""
        self._add(_Job(name, self._wrap(name, func, leader_only), interval=timedelta(seconds=seconds), hint=hint,
                       virtual=virtual, leader_only=leader_only))

    def add_cron(self, name: str, func: JobFunc, **cron: Any) -> None:
        """E.g. add_cron('daily_digest', f, hour=18, minute=0) in the deployment's time zone."""
        self._add(_Job(name, self._wrap(name, func), cron=cron))

    def _add(self, job: _Job) -> None:
        self._jobs[job.name] = job
        if self._started:
            self._schedule(job)

    def _schedule(self, job: _Job) -> None:
        if self._scheduler is not None:
            trigger = (IntervalTrigger(seconds=job.interval.total_seconds(), timezone=self.timezone)
                       if job.interval is not None else CronTrigger(timezone=self.timezone, **(job.cron or {})))
            self._scheduler.add_job(job.func, trigger, id=job.name, name=job.name, replace_existing=True,
                                    coalesce=True, max_instances=1, misfire_grace_time=3600)
        elif job.virtual:
            job.next_at = job.floor = self._next_virtual(job, self.clock.now())

    def _next_virtual(self, job: _Job, after: datetime) -> datetime | None:
        if job.interval is not None:
            return after + job.interval
        trigger = CronTrigger(timezone=self.timezone, **(job.cron or {}))
        return trigger.get_next_fire_time(None, after + timedelta(microseconds=1))

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        if self.enabled:
            self._scheduler = AsyncIOScheduler(timezone=self.timezone)
            self._scheduler.start()
        for job in self._jobs.values():
            self._schedule(job)

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        self._started = False

    async def run_now(self, name: str) -> Any:
        """Run a job at once through the same error path."""
        return await self._jobs[name].func()

    async def next_due(self) -> datetime | None:
        """Virtual scheduling: when the next job has something to do."""
        times = []
        for job in self._jobs.values():
            if job.next_at is None:
                continue
            if job.hint is None or job.interval is None:
                times.append(job.next_at)
                continue
            earliest = await job.hint()
            if earliest is None:
                continue
            if earliest > job.next_at:  # skip the ticks that would find nothing
                ticks = -(-(earliest - job.next_at) // job.interval)
                job.next_at += job.interval * ticks
            elif earliest < job.next_at - job.interval and job.floor is not None:
                # work came up sooner than the job was waiting for (a new, earlier deadline): come back to
                # the first tick at or after it, never before the tick after its last run (asked again after
                # every handled batch, so a hint stuck in the past cannot make it run without time passing)
                ticks = (job.next_at - max(earliest, job.floor)) // job.interval
                job.next_at -= job.interval * ticks
            times.append(job.next_at)
        return min(times) if times else None

    async def run_due(self, now: datetime) -> int:
        """Virtual scheduling: run every job whose time has come (once, even if several runs were missed)."""
        ran = 0
        for job in sorted(self._jobs.values(), key=lambda j: j.name):
            if job.next_at is not None and job.next_at <= now:
                job.next_at = job.floor = self._next_virtual(job, now)
                await job.func()
                ran += 1
        return ran

    @property
    def names(self) -> list[str]:
        return sorted(self._jobs)
