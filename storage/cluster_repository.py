"""Accounts, who reaches which group, who serves it: the shared state of several bot processes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AccountRow, OutboxRow, RoomReachRow, RoomRow
from storage.repositories import dialect_insert as _insert


class ClusterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def heartbeat(self, account: str, now: datetime, *, pid: int | None = None, host: str | None = None,
                        started: bool = False) -> None:
        values = {"name": account, "started_at": now, "heartbeat_at": now, "pid": pid, "host": host}
        update_set = {"heartbeat_at": now, "pid": pid, "host": host}
        if started:
            update_set["started_at"] = now
        statement = _insert(self.session)(AccountRow).values(**values)
        await self.session.execute(statement.on_conflict_do_update(index_elements=["name"], set_=update_set))

    async def accounts(self) -> list[AccountRow]:
        return list(await self.session.scalars(select(AccountRow).order_by(AccountRow.name)))

    async def record_reach(self, account: str, room_keys: Sequence[str], now: datetime) -> None:
        """The account is in exactly these groups now (groups it left are forgotten)."""
        insert = _insert(self.session)
        rows = [{"room_key": key, "account": account, "last_seen": now} for key in dict.fromkeys(room_keys)]
        for start in range(0, len(rows), 2000):
            statement = insert(RoomReachRow).values(rows[start:start + 2000])
            await self.session.execute(statement.on_conflict_do_update(
                index_elements=["room_key", "account"], set_={"last_seen": statement.excluded.last_seen}))
        await self.session.execute(delete(RoomReachRow).where(RoomReachRow.account == account,
                                                              RoomReachRow.last_seen < now))

    async def reach(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for room, account in (await self.session.execute(select(RoomReachRow.room_key, RoomReachRow.account))).all():
            found.setdefault(room, []).append(account)
        return found

    async def served(self) -> dict[str, str | None]:
        rows = await self.session.execute(select(RoomRow.room_key, RoomRow.served_by).where(
            (RoomRow.served_by.is_not(None)) | RoomRow.room_key.in_(select(RoomReachRow.room_key))))
        return {room: account for room, account in rows.all()}

    async def serve(self, changes: Mapping[str, str | None]) -> None:
        """Point groups at their new serving account (grouped: one UPDATE per account)."""
        by_account: dict[str | None, list[str]] = {}
        for room, account in changes.items():
            by_account.setdefault(account, []).append(room)
        for account, rooms in by_account.items():
            for start in range(0, len(rooms), 2000):
                await self.session.execute(update(RoomRow).where(RoomRow.room_key.in_(rooms[start:start + 2000]))
                                           .values(served_by=account))

    async def release(self, accounts: Iterable[str]) -> int:
        """Rows a dead account claimed but did not finish go back to the queue (the only possible repeats)."""
        names = list(accounts)
        if not names:
            return 0
        result = await self.session.execute(update(OutboxRow).where(
            OutboxRow.status == "sending", OutboxRow.account.in_(names)).values(status="pending", account=None))
        return int(result.rowcount or 0)

    async def depth(self) -> dict[str, int]:
        """Pending outbox rows per account that will send them ('' for rows no live account can send yet)."""
        served = select(RoomRow.room_key.label("key"), RoomRow.served_by).union(
            select(RoomRow.transport_id.label("key"), RoomRow.served_by).where(RoomRow.transport_id.is_not(None))
        ).subquery()
        account = func.coalesce(OutboxRow.account, served.c.served_by, "")
        rows = await self.session.execute(
            select(account, func.count()).select_from(OutboxRow)
            .outerjoin(served, and_(OutboxRow.to_kind == "room", served.c.key == OutboxRow.to_id))
            .where(OutboxRow.status.in_(("pending", "sending"))).group_by(account))
        return {name: int(n) for name, n in rows.all()}
