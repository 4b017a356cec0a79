"""Notices, their per-group deliveries (outbox rows) and acknowledgements: SQL with aggregates, not loops."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.acks import Member
from storage.models import MemberRow, NoticeAckRow, NoticeRow, OutboxRow
from bot.messages import Address, Reply
from storage.repositories import dialect_insert, outbox_values


def notice_ref(notice_id: int) -> str:
    return f"notice:{notice_id}"


class NoticeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, **fields: Any) -> NoticeRow:
        notice = NoticeRow(**fields)
        self.session.add(notice)
        await self.session.flush()
        return notice

    async def enqueue_deliveries(self, notice: NoticeRow, room_keys: Sequence[str], text: str, *,
                                 now: datetime, not_before: datetime | None = None) -> int:
        """One outbox row per group, in a single multi-row INSERT (11,000 groups in well under a second);
        `not_before` holds them back (a routine notice posted in quiet hours)."""
        ref = notice_ref(notice.id)
        rows = [outbox_values(Reply(Address.room(key), text, priority=notice.priority, kind="notice", ref=ref),
                              now=now, not_before=not_before) for key in room_keys]
        table = OutboxRow.__table__  # Core executemany: no ORM bookkeeping for thousands of plain rows
        for start in range(0, len(rows), 5000):
            await self.session.execute(table.insert(), rows[start:start + 5000])
        return len(rows)

    async def queued_ahead(self, priority: int) -> int:
        """Outbox rows that will go before a new row of this priority (what delays a fan-out)."""
        return int(await self.session.scalar(select(func.count()).select_from(OutboxRow).where(
            OutboxRow.status.in_(("pending", "sending")), OutboxRow.priority <= priority)) or 0)

    async def report_failures(self, notice: NoticeRow, *, to_kind: str, to_id: str, now: datetime,
                              delay: timedelta,
                              render: Callable[[list[tuple[str, str | None, int]]], Awaitable[str]]) -> bool:
        """Queue (or refresh) the sender's report of this notice's failed groups: one message per `delay`.

        A report still waiting in the outbox is rewritten with every failure so far, so a zone where the bot
        was removed from 200 groups tells the sender in a few messages, not 200. False if one was refreshed.
        """
        ref = notice_ref(notice.id)
        text = await render(await self.failed_rooms(notice.id))
        waiting = await self.session.scalar(select(OutboxRow).where(
            OutboxRow.kind == "notice_failure", OutboxRow.ref == ref, OutboxRow.status == "pending").limit(1))
        if waiting is not None:
            waiting.text = text
            await self.session.flush()
            return False
        report = Reply(Address(to_kind, to_id), text, priority=2, kind="notice_failure", ref=ref)
        self.session.add(OutboxRow(**outbox_values(report, now=now, not_before=now + delay)))
        await self.session.flush()
        return True

    async def by_number(self, number: int) -> NoticeRow | None:
        return await self.session.scalar(select(NoticeRow).where(NoticeRow.number == number))

    async def recent(self, limit: int) -> list[NoticeRow]:
        """The latest notices, newest first."""
        return list(await self.session.scalars(select(NoticeRow).order_by(NoticeRow.id.desc()).limit(limit)))

    async def progress(self, notice_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """Per notice: groups delivered, members who acknowledged (raw counts, staff included: the JSON API)."""
        if not notice_ids:
            return {}
        refs = {notice_ref(i): i for i in notice_ids}
        sent = dict((await self.session.execute(select(OutboxRow.ref, func.count()).where(
            OutboxRow.ref.in_(list(refs)), OutboxRow.kind == "notice", OutboxRow.status == "sent")
            .group_by(OutboxRow.ref))).all())
        acks = dict((await self.session.execute(select(NoticeAckRow.notice_id, func.count()).where(
            NoticeAckRow.notice_id.in_(list(notice_ids))).group_by(NoticeAckRow.notice_id))).all())
        return {i: (int(sent.get(ref, 0)), int(acks.get(i, 0))) for ref, i in refs.items()}

    async def latest_by(self, sender_key: str) -> NoticeRow | None:
        return await self.session.scalar(select(NoticeRow).where(NoticeRow.sender_key == sender_key)
                                         .order_by(NoticeRow.id.desc()).limit(1))

    async def delivered_to(self, room_key: str, since: datetime) -> NoticeRow | None:
        """The latest notice sent to this group since `since` (what a "收到" there acknowledges)."""
        notice_id = await self.session.scalar(
            select(OutboxRow.ref).where(OutboxRow.kind == "notice", OutboxRow.to_id == room_key,
                                        OutboxRow.status == "sent", OutboxRow.sent_at >= since)
            .order_by(OutboxRow.sent_at.desc()).limit(1))
        if notice_id is None:
            return None
        return await self.session.get(NoticeRow, int(notice_id.split(":", 1)[1]))

    async def rooms_with_notices_since(self, since: datetime) -> list[tuple[str, datetime]]:
        rows = await self.session.execute(
            select(OutboxRow.to_id, func.max(OutboxRow.sent_at)).where(
                OutboxRow.kind == "notice", OutboxRow.status == "sent", OutboxRow.sent_at >= since)
            .group_by(OutboxRow.to_id))
        return [(room, at) for room, at in rows.all()]

    async def record_ack(self, notice: NoticeRow, *, room_key: str, member_id: str, member_name: str,
                         household: str | None, at: datetime) -> bool:
        """Record an acknowledgement once per member and group; False if it was already there."""
        statement = dialect_insert(self.session)(NoticeAckRow).values(
            notice_id=notice.id, room_key=room_key, member_id=member_id, member_name=member_name,
            household=household, at=at).on_conflict_do_nothing(index_elements=["notice_id", "room_key", "member_id"])
        result = await self.session.execute(statement)
        return bool(result.rowcount)

    async def delivery_counts(self, notice_id: int) -> dict[str, int]:
        rows = await self.session.execute(select(OutboxRow.status, func.count()).where(
            OutboxRow.ref == notice_ref(notice_id), OutboxRow.kind == "notice").group_by(OutboxRow.status))
        return {status: int(n) for status, n in rows.all()}

    async def failed_rooms(self, notice_id: int) -> list[tuple[str, str | None, int]]:
        """(group, last error, attempts) of this notice's copies that could not be delivered, oldest first."""
        rows = await self.session.execute(select(OutboxRow.to_id, OutboxRow.last_error, OutboxRow.attempts).where(
            OutboxRow.ref == notice_ref(notice_id), OutboxRow.kind == "notice", OutboxRow.status == "failed")
            .order_by(OutboxRow.id))
        return [(room, error, int(attempts)) for room, error, attempts in rows.all()]

    async def sent_rooms(self, notice_id: int) -> list[str]:
        """The groups this notice was delivered to."""
        return list(await self.session.scalars(select(OutboxRow.to_id).where(
            OutboxRow.ref == notice_ref(notice_id), OutboxRow.kind == "notice", OutboxRow.status == "sent")
            .order_by(OutboxRow.id)))

    async def audience(self, notice_id: int, room_keys: Sequence[str] | None = None) -> dict[str, list[Member]]:
        """Per group, its active members and whether each replied to this notice: for the given groups (one
        query per 2,000), or for every group it was delivered to (`None`, one query).

        Whoever replied is recorded as a member by the ack handler, so every reply has its member row.
        """
        acked = set((await self.session.execute(select(NoticeAckRow.room_key, NoticeAckRow.member_id).where(
            NoticeAckRow.notice_id == notice_id))).tuples())
        query = (select(MemberRow.room_key, MemberRow.member_id, MemberRow.display_name, MemberRow.household)
                 .where(MemberRow.active.is_(True)).order_by(MemberRow.id))
        if room_keys is None:
            sent = select(OutboxRow.to_id).where(OutboxRow.ref == notice_ref(notice_id), OutboxRow.kind == "notice",
                                                 OutboxRow.status == "sent")
            chunks = [query.where(MemberRow.room_key.in_(sent))]
        else:
            keys = list(room_keys)
            chunks = [query.where(MemberRow.room_key.in_(keys[i:i + 2000])) for i in range(0, len(keys), 2000)]
        found: dict[str, list[Member]] = {}
        for chunk in chunks:
            for room, member, name, household in (await self.session.execute(chunk)).tuples():
                found.setdefault(room, []).append(Member(member, name, household, (room, member) in acked))
        return found

    async def due_reminders(self, now: datetime) -> list[NoticeRow]:
        return list(await self.session.scalars(select(NoticeRow).where(
            NoticeRow.remind_at.is_not(None), NoticeRow.remind_at <= now, NoticeRow.reminded_at.is_(None))))

    async def next_reminder(self) -> datetime | None:
        return await self.session.scalar(select(func.min(NoticeRow.remind_at)).where(
            NoticeRow.remind_at.is_not(None), NoticeRow.reminded_at.is_(None)))
