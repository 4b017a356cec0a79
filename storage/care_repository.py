"""The care ledger's records: check-in steps done, signs of life, pauses, visits (the ledger itself is config)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CarePauseRow, CareReminderRow, CareReplyRow, CareStepRow, CareVisitRow, MessageRow
from storage.repositories import clean_text


class CareRepository:
    """Queries for the care desk; the caller owns the transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- check-in steps --------------------------------------------------------------------------

    async def steps(self, entry_keys: Sequence[str], days: Sequence[date]) -> dict[tuple[str, date], dict[str, CareStepRow]]:
        """(entry, day) → step name → the row recording it."""
        if not entry_keys or not days:
            return {}
        result = await self.session.execute(
            select(CareStepRow).where(CareStepRow.entry_key.in_(list(entry_keys)),
                                      CareStepRow.day.in_([d.isoformat() for d in days])))
        found: dict[tuple[str, date], dict[str, CareStepRow]] = {}
        for row in result.scalars():
            found.setdefault((row.entry_key, date.fromisoformat(row.day)), {})[row.step] = row
        return found

    async def record_step(self, entry_key: str, day: date, step: str, at: datetime) -> CareStepRow | None:
        """Record a step as done; None when it already was (another process, or a retried run, got there first)."""
        row = CareStepRow(entry_key=entry_key, day=day.isoformat(), step=step, done_at=at)
        try:
            async with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return None
        return row

    # -- signs of life -----------------------------------------------------------------------------

    async def add_reply(self, entry_key: str, *, at: datetime, kind: str, text: str, by_subject: bool,
                        sender_id: str) -> CareReplyRow:
        row = CareReplyRow(entry_key=entry_key, at=at, kind=kind, text=clean_text(text or "")[0][:500],
                           by_subject=by_subject, sender_id=sender_id)
        self.session.add(row)
        await self.session.flush()
        return row

    async def replies(self, entry_keys: Sequence[str], since: datetime) -> list[CareReplyRow]:
        if not entry_keys:
            return []
        result = await self.session.execute(
            select(CareReplyRow).where(CareReplyRow.entry_key.in_(list(entry_keys)), CareReplyRow.at >= since)
            .order_by(CareReplyRow.at))
        return list(result.scalars())

    async def messages_from(self, sender_ids: Sequence[str], since: datetime) -> list[MessageRow]:
        """Messages received from these contacts since then (any handler: a report is a sign of life too)."""
        if not sender_ids:
            return []
        result = await self.session.execute(
            select(MessageRow).where(MessageRow.direction == "in", MessageRow.sender_id.in_(list(sender_ids)),
                                     MessageRow.at >= since).order_by(MessageRow.at))
        return list(result.scalars())

    # -- pauses ------------------------------------------------------------------------------------

    async def add_pause(self, entry_key: str, *, start: date, end: date, said_on: date, reason: str, text: str,
                        sender_id: str, at: datetime) -> CarePauseRow:
        row = CarePauseRow(entry_key=entry_key, start_day=start.isoformat(), end_day=end.isoformat(),
                           said_on=said_on.isoformat(), reason=reason[:50], text=clean_text(text)[0][:500],
                           sender_id=sender_id, created_at=at)
        self.session.add(row)
        await self.session.flush()
        return row

    async def pauses(self, entry_keys: Sequence[str], ending_from: date) -> list[CarePauseRow]:
        """Pauses that end on or after `ending_from`."""
        if not entry_keys:
            return []
        result = await self.session.execute(
            select(CarePauseRow).where(CarePauseRow.entry_key.in_(list(entry_keys)),
                                       CarePauseRow.end_day >= ending_from.isoformat()).order_by(CarePauseRow.id))
        return list(result.scalars())

    # -- visits ------------------------------------------------------------------------------------

    async def add_visit(self, entry_key: str, *, at: datetime, kind: str, by: str, note: str, photo: bool,
                        message_id: int | None, now: datetime) -> CareVisitRow:
        row = CareVisitRow(entry_key=entry_key, at=at, kind=kind, by=by, note=clean_text(note)[0][:1000],
                           photo=photo, message_id=message_id, created_at=now)
        self.session.add(row)
        await self.session.flush()
        return row

    async def visits(self, entry_keys: Sequence[str], *, since: datetime | None = None) -> list[CareVisitRow]:
        if not entry_keys:
            return []
        statement = select(CareVisitRow).where(CareVisitRow.entry_key.in_(list(entry_keys)))
        if since is not None:
            statement = statement.where(CareVisitRow.at >= since)
        result = await self.session.execute(statement.order_by(CareVisitRow.at))
        return list(result.scalars())

    async def recent_visits(self, entry_keys: Sequence[str], *, limit: int = 200) -> list[CareVisitRow]:
        """The latest visits and calls of these entries, newest first."""
        if not entry_keys:
            return []
        result = await self.session.execute(
            select(CareVisitRow).where(CareVisitRow.entry_key.in_(list(entry_keys)))
            .order_by(CareVisitRow.at.desc(), CareVisitRow.id.desc()).limit(limit))
        return list(result.scalars())

    # -- reminders of overdue visits -----------------------------------------------------------------

    async def reminded(self, day: date) -> set[str]:
        """The person keys already reminded on this local day."""
        result = await self.session.scalars(select(CareReminderRow.person_key).where(
            CareReminderRow.day == day.isoformat()))
        return set(result)

    async def record_reminder(self, person_key: str, day: date, at: datetime, entries: int) -> bool:
        """Record the day's reminder to this person; False when one was already recorded (by another process)."""
        try:
            async with self.session.begin_nested():
                self.session.add(CareReminderRow(person_key=person_key, day=day.isoformat(), sent_at=at,
                                                 entries=entries))
        except IntegrityError:
            return False
        return True
