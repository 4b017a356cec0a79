"""The periodic chores: every feature's jobs scheduled in one place, and what the sender reports back.

Each feature lists its jobs (`bot.feature.Job`: deadlines and auto-close for tickets, reminders for notices,
review lists, digests); `Chores.schedule` puts them on the scheduler with the same error path, leader-only
where several processes share a database. Jobs read what they need from the database, so a restart loses
nothing. The sender's two callbacks live here too: a notice delivered marks its group as awaiting replies,
and a send that failed for good is reported to whoever sent it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.feature import Feature, Job
from bot.jobs import Jobs
from bot.rooms import RoomBook
from bot.work import Services, Work, perform
from storage.models import OutboxRow

_LOGGER = logging.getLogger(__name__)


class Chores:
    """The features' jobs on the scheduler, and the outbox sender's callbacks."""

    def __init__(self, services: Services, rooms: RoomBook, features: Sequence[Feature]) -> None:
        self.services = services
        self.rooms = rooms
        self.jobs: dict[str, Job] = {job.name: job for feature in features for job in feature.jobs}

    def schedule(self, scheduler: Jobs) -> None:
        """Every feature's job on the scheduler (virtual clocks jump to each job's hint)."""
        for job in self.jobs.values():
            hint = job.hint
            scheduler.add_interval(job.name, self._runner(job), seconds=job.every,
                                   hint=(lambda h=hint: h(self.services)) if hint is not None else None,
                                   leader_only=job.leader_only)

    def _runner(self, job: Job) -> Callable[[], Awaitable[int]]:
        async def run() -> int:
            return await job.run(self.services)

        return run

    async def run(self, name: str) -> int:
        """Run one job now (for the CLI, tests and replays); returns how much it did."""
        return await self.jobs[name].run(self.services)

    # -- the sender's callbacks ----------------------------------------------------------------------

    async def sent(self, row: OutboxRow) -> None:
        if row.kind == "notice":
            key, _ = self.rooms.key_and_node(row.to_id)
            self.rooms.notice_sent(key or row.to_id, self.services.clock.now())

    async def failed(self, row: OutboxRow, error: str) -> None:
        async def report(work: Work) -> int:
            return work.say(await work.notices.report_failure(row, error))

        await perform(self.services, report, what="reporting a failed send")
