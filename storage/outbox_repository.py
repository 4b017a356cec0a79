"""The outbox: what the bot will say, claimed, sent, retried, failed — and which account sends it. The caller owns the
session and its transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.messages import Reply
from storage import driver
from storage.models import OutboxRow, RoomRow
from storage.repositories import clean_text


def outbox_values(reply: Reply, *, now: datetime, not_before: datetime | None = None,
                  account: str | None = None) -> dict[str, Any]:
    """The column values of a pending outbox row for `reply`: the one place outbox rows are built."""
    return dict(to_kind=reply.to.kind, to_id=reply.to.id, text=clean_text(reply.text)[0], mentions=list(reply.mentions),
                priority=reply.priority, kind=reply.kind, ref=reply.ref, status="pending", attempts=0,
                created_at=now, not_before=not_before, account=account, attachment=reply.image)


_INSERT_OUTBOX = OutboxRow.__table__.insert()


class OutboxRepository:
    """The durable send queue. A row is claimed (sending), then sent, retried later, or failed."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enqueue(self, replies: Sequence[Reply], *, now: datetime, account: str | None = None) -> int:
        """Queue replies with one Core executemany (a hot path: no ORM objects, no ids read back)."""
        if not replies:
            return 0
        rows = [outbox_values(r, now=now, account=account) for r in replies]
        await driver.execute_many(await self.session.connection(), _INSERT_OUTBOX, rows)  # asyncpg's own, on PostgreSQL
        return len(rows)

    async def claim(self, *, now: datetime, limit: int, account: str | None = None) -> list[OutboxRow]:
        """Take up to `limit` due rows, most urgent first, marking them 'sending'. Others skip locked rows.

        With `account` (several accounts share the database): only rows this account should send — groups it
        serves (rooms.served_by) and private chats — and each claimed row is marked with the account.
        """
        query = (
            select(OutboxRow)
            .where(OutboxRow.status == "pending")
            .where((OutboxRow.not_before.is_(None)) | (OutboxRow.not_before <= now))
            .order_by(OutboxRow.priority, OutboxRow.id)
            .limit(limit)
        )
        query = self._locked(_for_account(query, account))
        rows = list(await self.session.scalars(query))
        if not rows:
            return rows
        await self.session.execute(  # one UPDATE for the batch, not one per row
            update(OutboxRow).where(OutboxRow.id.in_([row.id for row in rows]))
            .values(status="sending", attempts=OutboxRow.attempts + 1, account=account)
            .execution_options(synchronize_session=False))
        for row in rows:  # what the UPDATE wrote, without another round trip
            set_committed_value(row, "status", "sending")
            set_committed_value(row, "attempts", row.attempts + 1)
            set_committed_value(row, "account", account)
        return rows

    async def mark_sent(self, row_id: int, *, at: datetime, transport_message_id: str | None) -> None:
        await self.session.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(
            status="sent", sent_at=at, transport_message_id=transport_message_id, last_error=None))

    async def mark_retry(self, row_id: int, *, error: str, not_before: datetime) -> None:
        await self.session.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(
            status="pending", last_error=error[:1000], not_before=not_before, account=None))

    async def mark_failed(self, row_id: int, *, error: str) -> None:
        await self.session.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(
            status="failed", last_error=error[:1000]))

    async def unclaim(self, row_ids: Sequence[int]) -> None:
        """Rows claimed but never tried go back to the queue (no attempt is counted)."""
        await self.session.execute(update(OutboxRow).where(OutboxRow.id.in_(list(row_ids)),
                                                           OutboxRow.status == "sending").values(
            status="pending", account=None, attempts=OutboxRow.attempts - 1))

    async def recover_inflight(self, account: str | None = None) -> int:
        """Put rows left 'sending' by a crash back to pending; these are the only possible duplicates."""
        query = update(OutboxRow).where(OutboxRow.status == "sending")
        if account is not None:  # only this account's: the others are still sending theirs
            query = query.where(OutboxRow.account == account)
        result = await self.session.execute(query.values(status="pending", account=None))
        return int(result.rowcount or 0)

    def _locked(self, query: Any) -> Any:
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            return query.with_for_update(skip_locked=True)
        return query

    async def expire_waiting(self, *, due_before: datetime, error: str, account: str | None = None,
                             limit: int = 500) -> list[OutboxRow]:
        """Pending rows (this account's) due since before `due_before`: marked failed with `error`, returned."""
        query = (select(OutboxRow).where(OutboxRow.status == "pending",
                                         func.coalesce(OutboxRow.not_before, OutboxRow.created_at) < due_before)
                 .order_by(OutboxRow.priority, OutboxRow.id).limit(limit))
        rows = list(await self.session.scalars(self._locked(_for_account(query, account))))
        if rows:
            await self.session.execute(update(OutboxRow).where(OutboxRow.id.in_([row.id for row in rows]))
                                       .values(status="failed", last_error=error[:1000]))
            for row in rows:  # what the UPDATE wrote, without a second write at commit
                set_committed_value(row, "status", "failed")
                set_committed_value(row, "last_error", error[:1000])
        return rows

    async def oldest_waiting(self, account: str | None = None) -> datetime | None:
        """When the longest-waiting pending row (this account's) became due."""
        due = func.coalesce(OutboxRow.not_before, OutboxRow.created_at)
        query = select(func.min(due)).where(OutboxRow.status == "pending")
        return await self.session.scalar(_for_account(query, account))

    async def seconds_until_due(self, now: datetime) -> float | None:
        """Seconds until the earliest pending row is due: 0 if one is due now, None if none is pending."""
        immediate = await self.session.scalar(select(OutboxRow.id).where(
            OutboxRow.status == "pending",
            (OutboxRow.not_before.is_(None)) | (OutboxRow.not_before <= now)).limit(1))
        if immediate is not None:
            return 0.0
        earliest = await self.session.scalar(
            select(func.min(OutboxRow.not_before)).where(OutboxRow.status == "pending"))
        if earliest is None:
            return None
        return max(0.0, (earliest - now).total_seconds())

    async def pending_count(self) -> int:
        """Rows still to send (pending or claimed)."""
        return int(await self.session.scalar(select(func.count()).select_from(OutboxRow).where(
            OutboxRow.status.in_(("pending", "sending")))) or 0)

    async def get(self, row_id: int) -> OutboxRow | None:
        return await self.session.get(OutboxRow, row_id)

    async def counts(self) -> dict[str, int]:
        rows = await self.session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
        return {status: int(n) for status, n in rows.all()}


def _for_account(query: Any, account: str | None) -> Any:
    """Only the outbox rows `account` should send: groups it serves (rooms.served_by) and private chats."""
    if account is None:
        return query
    served_keys = select(RoomRow.room_key).where(RoomRow.served_by == account)
    served_ids = select(RoomRow.transport_id).where(RoomRow.served_by == account)
    return query.where(or_(OutboxRow.account == account, and_(OutboxRow.account.is_(None), or_(
        OutboxRow.to_kind != "room", OutboxRow.to_id.in_(served_keys), OutboxRow.to_id.in_(served_ids)))))
