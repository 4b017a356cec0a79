"""Notices, their per-group deliveries (outbox rows) and acknowledgements: SQL with aggregates, not loops."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.acks import Member
from storage.memo import remember_since_for_group
from storage.models import MemberRow, NoticeAckRow, NoticeRow, OutboxRow
from bot.messages import Address, Reply
from storage.outbox_repository import outbox_values
from storage.repositories import dialect_insert


def notice_ref(notice_id: int) -> str:
    return f"notice:{notice_id}"


CHUNK = 2000  # values per IN list: well under SQLite's and asyncpg's parameter limits
WIDE_CHUNK = 10_000  # where each list means one pass over a table (both limits are 32,766)

# what a member is counted under, as bot.domain.acks.household_key says: the household, else the member alone
_HOUSEHOLD = func.coalesce(func.nullif(MemberRow.household, ""), "member:" + MemberRow.member_id)
_MEMBERS = (select(MemberRow.room_key, MemberRow.member_id, MemberRow.display_name, MemberRow.household)
            .where(MemberRow.active.is_(True)).order_by(MemberRow.id))


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

    async def recent(self, limit: int, *, since: datetime | None = None) -> list[NoticeRow]:
        """The latest notices, newest first (only those posted since `since`, when given)."""
        query = select(NoticeRow) if since is None else select(NoticeRow).where(NoticeRow.created_at >= since)
        return list(await self.session.scalars(query.order_by(NoticeRow.id.desc()).limit(limit)))

    async def latest_by(self, sender_key: str) -> NoticeRow | None:
        return await self.session.scalar(select(NoticeRow).where(NoticeRow.sender_key == sender_key)
                                         .order_by(NoticeRow.id.desc()).limit(1))

    async def delivered_to(self, room_key: str, since: datetime) -> NoticeRow | None:
        """The latest notice sent to this group since `since` (what a "收到" there acknowledges).

        Asked for every acknowledgement, so the group's latest delivery is read once per unit of work
        (storage.memo) and measured against each message's own `since` (a later message's is later)."""
        async def load(room_keys: list[str], start: datetime) -> dict[str, tuple[str | None, datetime]]:
            latest: dict[str, tuple[str | None, datetime]] = {}
            for to_id, ref, sent_at in (await self.session.execute(
                    select(OutboxRow.to_id, OutboxRow.ref, OutboxRow.sent_at).where(
                        OutboxRow.kind == "notice", OutboxRow.to_id.in_(room_keys), OutboxRow.status == "sent",
                        OutboxRow.sent_at >= start))).all():
                if to_id not in latest or sent_at > latest[to_id][1]:
                    latest[to_id] = (ref, sent_at)
            return latest

        latest = await remember_since_for_group(self.session, ("notice_delivery",), room_key, since, load, None)
        if latest is None or latest[0] is None or latest[1] < since:
            return None
        return await self.session.get(NoticeRow, int(latest[0].split(":", 1)[1]))

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
        if room_keys is None:
            return await self._members([_MEMBERS.where(self._in_rooms(notice_id, None)[0])],
                                       await self._replied(notice_id))
        keys = list(room_keys)
        replied: set[tuple[str, str]] = set()
        for i in range(0, len(keys), CHUNK):  # the replies of these groups only (a receipt's ten lagging groups)
            replied.update(await self._rows(select(NoticeAckRow.room_key, NoticeAckRow.member_id).where(
                NoticeAckRow.notice_id == notice_id, NoticeAckRow.room_key.in_(keys[i:i + CHUNK]))))
        return await self._members([_MEMBERS.where(condition) for condition in self._in_rooms(notice_id, keys)],
                                   replied)

    async def due_reminders(self, now: datetime) -> list[NoticeRow]:
        return list(await self.session.scalars(select(NoticeRow).where(
            NoticeRow.remind_at.is_not(None), NoticeRow.remind_at <= now, NoticeRow.reminded_at.is_(None))))

    async def next_reminder(self) -> datetime | None:
        return await self.session.scalar(select(func.min(NoticeRow.remind_at)).where(
            NoticeRow.remind_at.is_not(None), NoticeRow.reminded_at.is_(None)))

    async def _rows(self, query: Any) -> Any:
        """Plain rows through the session's connection: no ORM loading for 100,000 tuples."""
        return (await (await self.session.connection()).execute(query)).tuples()

    async def _replied(self, notice_id: int) -> set[tuple[str, str]]:
        """(group, member) of every reply to this notice: one query by notice (a zone's are a few ten thousand)."""
        return set(await self._rows(select(NoticeAckRow.room_key, NoticeAckRow.member_id).where(
            NoticeAckRow.notice_id == notice_id)))

    async def _members(self, queries: Iterable[Any], replied: set[tuple[str, str]]) -> dict[str, list[Member]]:
        """Per group, the members the queries find (in order), each marked replied or not."""
        found: dict[str, list[Member]] = {}
        for query in queries:
            for room, member, name, household in await self._rows(query):
                found.setdefault(room, []).append(Member(member, name, household, (room, member) in replied))
        return found

    def _in_rooms(self, notice_id: int, room_keys: Sequence[str] | None) -> list[Any]:
        """The conditions that keep a query to the given groups (one per chunk), or to every group delivered."""
        if room_keys is None:
            return [MemberRow.room_key.in_(select(OutboxRow.to_id).where(
                OutboxRow.ref == notice_ref(notice_id), OutboxRow.kind == "notice", OutboxRow.status == "sent"))]
        keys = list(room_keys)
        return [MemberRow.room_key.in_(keys[i:i + CHUNK]) for i in range(0, len(keys), CHUNK)]

    async def room_counts(self, notice_id: int, room_keys: Sequence[str] | None = None
                          ) -> dict[str, tuple[int, int, int, int]]:
        """Per group: (members, replied, households, replied households) of every active member, staff included —
        `count_room` over the group with nobody left out — in two grouped queries (per 2,000 groups).

        The caller takes the staff out (NoticeDesk.room_acks); the figures never pass through Python per member.
        Replies are counted from the replies' side (a zone's notice has far fewer replies than members).
        """
        figures = (func.count(MemberRow.id), func.count(func.distinct(_HOUSEHOLD)))
        members = select(MemberRow.room_key, *figures).where(MemberRow.active.is_(True))
        replies = (select(MemberRow.room_key, *figures).select_from(NoticeAckRow)
                   .join(MemberRow, and_(MemberRow.room_key == NoticeAckRow.room_key,
                                         MemberRow.member_id == NoticeAckRow.member_id))
                   .where(NoticeAckRow.notice_id == notice_id, MemberRow.active.is_(True)))
        everyone: dict[str, tuple[int, int]] = {}
        replied: dict[str, tuple[int, int]] = {}
        for condition in self._in_rooms(notice_id, room_keys):
            for query, into in ((members, everyone), (replies, replied)):
                for room, count, households in await self._rows(query.where(condition).group_by(MemberRow.room_key)):
                    into[room] = (int(count), int(households))
        return {room: (count, replied.get(room, (0, 0))[0], households, replied.get(room, (0, 0))[1])
                for room, (count, households) in everyone.items()}

    async def members_among(self, notice_id: int, member_ids: Sequence[str], room_keys: Collection[str]
                            ) -> dict[str, list[Member]]:
        """Per group of `room_keys`, the active members whose id is one of `member_ids` (who may be staff there).

        The groups are picked in Python: given both lists, databases walk the (group, member) index group by
        group and id by id, minutes for a zone, where one pass over the members per 10,000 ids takes milliseconds.
        """
        ids = list(member_ids)
        if not ids or not room_keys:
            return {}
        chunks = [ids[i:i + WIDE_CHUNK] for i in range(0, len(ids), WIDE_CHUNK)]
        replied: set[tuple[str, str]] = set()
        for chunk in chunks:
            replied.update(await self._rows(select(NoticeAckRow.room_key, NoticeAckRow.member_id).where(
                NoticeAckRow.notice_id == notice_id, NoticeAckRow.member_id.in_(chunk))))
        found = await self._members([_MEMBERS.where(MemberRow.member_id.in_(chunk)) for chunk in chunks], replied)
        return {room: members for room, members in found.items() if room in room_keys}

    async def household_members(self, notice_id: int, pairs: Sequence[tuple[str, str]]) -> dict[str, list[Member]]:
        """Per group, the active members of the given (group, household) pairs, with their replies."""
        unique = sorted(set(pairs))
        if not unique:
            return {}
        return await self._members([_MEMBERS.where(tuple_(MemberRow.room_key, MemberRow.household).in_(
            unique[i:i + CHUNK // 2])) for i in range(0, len(unique), CHUNK // 2)], await self._replied(notice_id))

    async def reminders(self, notice_id: int) -> list[tuple[str, datetime, datetime | None, str, int]]:
        """(group, queued at, sent at, status, people @-ed) of every reminder of this notice, oldest first."""
        rows = await self.session.execute(select(
            OutboxRow.to_id, OutboxRow.created_at, OutboxRow.sent_at, OutboxRow.status, OutboxRow.mentions).where(
            OutboxRow.ref == notice_ref(notice_id), OutboxRow.kind == "notice_reminder").order_by(OutboxRow.id))
        return [(room, queued, sent, status, len(mentions or ())) for room, queued, sent, status, mentions in rows.all()]
