"""Reminders of overdue visits: each responsible person privately told, at most once a local day, never in quiet
hours, whom they are late to see (bot.domain.care.overdue_visits).

The reminder is recorded (storage `care_reminders`, one row per person and day, unique) before it is said, in the
caller's transaction: a restart, a second process or a retried run does not repeat it.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from bot.config import Config
from bot.domain.care import CALL, VISIT, CareEntry, Overdue, Visit, overdue_visits
from bot.domain.care import wording
from bot.domain.people import Directory
from bot.messages import Address, Reply
from storage.care_repository import CareRepository
from storage.session import Session

_LOGGER = logging.getLogger(__name__)


def _next_due(entries: list[CareEntry], visits: list[Visit], now: datetime) -> datetime | None:
    """The earliest moment after now that a visit or call falls due (a visit counts as a call too)."""
    times = []
    for entry in entries:
        for every, kinds in ((entry.visit_every, (VISIT,)), (entry.call_every, (VISIT, CALL))):
            if every is None:
                continue
            done = [v.at for v in visits if v.entry_key == entry.key and v.kind in kinds and v.at <= now]
            start = max(done) if done else entry.since
            if start is not None and start + every > now:
                times.append(start + every)
    return min(times) if times else None


class CareReminderDesk:
    """The overdue-visit reminders for one unit of work; `remind()` returns the replies to queue."""

    def __init__(self, session: Session, config: Config, directory: Directory, now: datetime) -> None:
        self.config = config
        self.directory = directory
        self.now = now
        self.repo = CareRepository(session)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.config.tz).date()

    def _out_of_quiet(self, moment: datetime) -> datetime:
        """The first moment at or after `moment` outside the tickets' quiet hours (and quiet holidays)."""
        calendar = self.config.calendar
        return calendar.calendar.shift_out_of_quiet(moment, self.config.tickets.sla.quiet,
                                                    holidays_quiet=calendar.holidays_quiet)

    async def _state(self) -> tuple[list[CareEntry], list[Visit]]:
        entries = [r.entry for r in self.config.care.residents]
        rows = await self.repo.visits([e.key for e in entries])
        return entries, [Visit(v.entry_key, v.at, v.kind, v.by, v.note) for v in rows]

    def _by_person(self, late: list[Overdue]) -> dict[str, list[Overdue]]:
        """Overdue items per responsible person who can be reached (has a bound WeChat id)."""
        found: dict[str, list[Overdue]] = {}
        for item in late:
            person = item.entry.responsible
            if self.directory.contact_ids(person):
                found.setdefault(person, []).append(item)
            else:
                _LOGGER.warning("care reminder: %s cannot be reached (no WeChat id bound)", person)
        return found

    async def remind(self) -> list[Reply]:
        """Tell each responsible person not yet reminded today whom they are late to visit or call."""
        if not self.config.care.residents or self._out_of_quiet(self.now) > self.now:
            return []
        entries, visits = await self._state()
        pending = self._by_person(overdue_visits(entries, visits, self.now))
        done = await self.repo.reminded(self.today)
        replies = []
        for person, items in pending.items():
            if person in done or not await self.repo.record_reminder(person, self.today, self.now, len(items)):
                continue
            text = wording.overdue_reminder_text(items, self.now, timezone=self.config.timezone)
            replies.append(Reply(Address.contact(self.directory.contact_ids(person)[0]), text, (), priority=4,
                                 kind="care_overdue", ref=f"care:remind:{person}"))
        return replies

    async def next_due(self) -> datetime | None:
        """When a reminder is next due: now (or the end of quiet hours), tomorrow for those told today, or when the
        next visit falls due."""
        if not self.config.care.residents:
            return None
        entries, visits = await self._state()
        pending = self._by_person(overdue_visits(entries, visits, self.now))
        done = await self.repo.reminded(self.today)
        if set(pending) - done:
            return self._out_of_quiet(self.now)
        times = []
        if pending:  # all told today: tomorrow again, unless they visit first
            tomorrow = datetime.combine(self.today + timedelta(days=1), time(0), self.config.tz)
            times.append(self._out_of_quiet(tomorrow))
        due = _next_due(entries, visits, self.now)
        if due is not None:
            times.append(self._out_of_quiet(due))
        return min(times) if times else None
