"""One unit of work: what a message, a job or a console action does inside one database transaction.

A `Work` carries the session, the time and the deployment's shared parts (`Services`); the desks are built
on first use; what the bot is to say is collected with `say()`. `perform()` runs a function on a fresh Work
in one transaction (retried while the database is unavailable), queues everything said in the outbox in
that same transaction, and wakes the sender once it is committed. Handlers find the Work on their context
(`ctx.work`) and call desks only; they return their replies, which the inbound pipeline queues the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TypeVar

from bot.care import CareDesk
from bot.care_reminders import CareReminderDesk
from bot.clock import Clock
from bot.config import Config
from bot.digests import DigestDesk, DigestSender
from bot.duty import DutyDesk
from bot.domain.people import Directory
from bot.households import HouseholdDesk
from bot.identity import IdentityDesk
from bot.messages import Reply
from bot.notices import NoticeDesk
from bot.polls import PollDesk
from bot.review import ReviewDesk
from bot.satisfaction import SatisfactionDesk
from bot.tickets import TicketDesk
from storage.outbox_repository import OutboxRepository
from storage.session import Database, Session

T = TypeVar("T")


@dataclass
class Services:
    """What every unit of work of one bot shares: the deployment, who is who, the database and the clock."""

    config: Config
    directory: Directory
    db: Database
    clock: Clock
    bot_id: Callable[[], str] = lambda: ""
    wake: Callable[[], None] = lambda: None  # the sender: there is something new in the outbox
    recent_image: Callable[[str, str], bool] | None = None  # did this sender post a photo here lately?
    digests: DigestSender | None = None  # the scheduled digests (their state: what is owed since when)


@dataclass
class Work:
    """One transaction's worth of work: session, time, desks built on demand, and what to say."""

    session: Session
    services: Services
    now: datetime
    said: list[Reply] = field(default_factory=list)

    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def directory(self) -> Directory:
        return self.services.directory

    def say(self, replies: Sequence[Reply]) -> int:
        """Queue these replies with the unit of work (sent once it commits); returns how many."""
        self.said.extend(replies)
        return len(replies)

    @cached_property
    def tickets(self) -> TicketDesk:
        return TicketDesk(self.session, self.config, self.directory, self.now, self.services.recent_image)

    @cached_property
    def notices(self) -> NoticeDesk:
        return NoticeDesk(self.session, self.config, self.directory, self.now, self.services.bot_id())

    @cached_property
    def review(self) -> ReviewDesk:
        return ReviewDesk(self.session, self.config, self.directory, self.now)

    @cached_property
    def identity(self) -> IdentityDesk:
        return IdentityDesk(self.session, self.now)

    @cached_property
    def digests(self) -> DigestDesk:
        return DigestDesk(self.session, self.config, self.now, directory=self.directory,
                          bot_id=self.services.bot_id())

    @cached_property
    def households(self) -> HouseholdDesk:
        return HouseholdDesk(self.session, self.config, self.directory, self.now)

    @cached_property
    def duty(self) -> DutyDesk:
        return DutyDesk(self.config, self.directory, self.now)

    @cached_property
    def care(self) -> CareDesk:
        return CareDesk(self.session, self.config, self.directory, self.now)

    @cached_property
    def care_reminders(self) -> CareReminderDesk:
        return CareReminderDesk(self.session, self.config, self.directory, self.now)

    @cached_property
    def polls(self) -> PollDesk:
        return PollDesk(self.session, self.config, self.directory, self.now, self.services.bot_id())

    @cached_property
    def satisfaction(self) -> SatisfactionDesk:
        return SatisfactionDesk(self.session, self.config, self.directory, self.now, lambda: self.tickets)

    async def queue_said(self) -> int:
        """Put what was said into the outbox, in this transaction (one INSERT)."""
        if not self.said:
            return 0
        await OutboxRepository(self.session).enqueue(self.said, now=self.now)
        return len(self.said)


async def perform(services: Services, job: Callable[[Work], Awaitable[T]], *, what: str,
                  wake: bool | None = None) -> T:
    """Run `job` on a fresh Work in one transaction, queue what it said, and wake the sender after the commit if
    anything was said. `wake=True`: wake it anyway (a desk queued rows of its own, such as a notice's copies for
    every group); `wake=False`: never (a look that only reads, such as a job's hint)."""

    async def run(session: Session) -> tuple[T, int]:
        work = Work(session, services, services.clock.now())  # a retried attempt starts afresh
        result = await job(work)
        return result, await work.queue_said()

    result, queued = await services.db.run(run, what=what)
    if wake or (wake is None and queued):
        services.wake()
    return result
