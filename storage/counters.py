"""Sequential numbers people type (tickets, notices, polls): one row per counter, bumped in the caller's transaction."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from storage import deferred
from storage.models import CounterRow


class CounterRepository:
    """Sequential numbers, safe across processes (one row per counter, bumped in the caller's transaction)."""

    TAKEN = "counter_values"  # session.info (SQLite): counter name → the last number this unit of work took

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next(self, name: str, *, start: int = 1) -> int:
        conn = await self.session.connection()
        if conn.dialect.name == "sqlite":
            # The unit of work holds SQLite's one write lock (BEGIN IMMEDIATE) from the first bump to its commit:
            # later numbers are the next ones up, and the counter row is written once, before the commit.
            taken: dict[str, int] = self.session.info.setdefault(self.TAKEN, {})
            if name in taken:
                taken[name] += 1
                deferred.defer(self.session, SET_NUMBER, {"name": name, "value": taken[name]})
                return taken[name]
        result = await conn.execute(NEXT_NUMBER, {"name": name, "start": start})
        number = int(result.scalar_one())
        if conn.dialect.name == "sqlite":
            taken[name] = number
        return number


# Plain text: SQLAlchemy compiles an ON CONFLICT construct afresh at every call (it is not cacheable), which
# cost more than the statement itself on the ticket-opening path. Both backends speak this SQL.
NEXT_NUMBER = text(f"INSERT INTO {CounterRow.__tablename__} (name, value) VALUES (:name, :start) "
                   f"ON CONFLICT (name) DO UPDATE SET value = {CounterRow.__tablename__}.value + 1 RETURNING value")
SET_NUMBER = text(f"UPDATE {CounterRow.__tablename__} SET value = :value WHERE name = :name")
