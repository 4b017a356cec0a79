"""What a digest counts, as aggregate queries: the database sums a million tickets, Python formats dozens of rows.

Periods are [start, end). A subtree is a `node_path` prefix; the top of the tree needs no filter at all.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import case, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement


from bot.domain.tickets import OPEN_VALUES, State
from storage import deferred
from storage.models import CounterRow, DigestDeliveryRow, NoticeRow, TicketEventRow, TicketRow
from storage.repositories import dialect_insert
from storage.ticket_repository import in_subtree, overdue_now


class DigestRepository:
    def __init__(self, session: AsyncSession, *, path_prefix: str | None = None) -> None:
        """`path_prefix` limits tickets to a subtree ("/JQS/JQS-01/"); None: the whole deployment."""
        self.session = session
        self.path_prefix = path_prefix

    def _subtree(self) -> ColumnElement[bool]:
        if self.path_prefix is None:
            return true()
        return in_subtree(self.path_prefix)

    async def _count(self, *where: Any) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(TicketRow).where(
            self._subtree(), *where)) or 0)

    # -- tickets ----------------------------------------------------------------------------------

    async def flow(self, start: datetime, end: datetime) -> dict[str, int]:
        """How many tickets were raised, accepted, resolved and closed in the period."""
        return {
            "new": await self._count(TicketRow.created_at >= start, TicketRow.created_at < end),
            "accepted": await self._count(TicketRow.accepted_at >= start, TicketRow.accepted_at < end),
            "resolved": await self._count(TicketRow.resolved_at >= start, TicketRow.resolved_at < end),
            "closed": await self._count(TicketRow.closed_at >= start, TicketRow.closed_at < end,
                                        TicketRow.state == State.CLOSED.value),
        }

    async def open_now(self, now: datetime) -> tuple[int, int]:
        """(open, overdue) tickets as they stand."""
        row = (await self.session.execute(
            select(func.count(), func.coalesce(func.sum(case((overdue_now(now), 1), else_=0)), 0))
            .where(self._subtree(), TicketRow.state.in_(OPEN_VALUES)))).one()
        return int(row[0]), int(row[1])

    async def by_category(self, start: datetime, end: datetime) -> dict[str, int]:
        rows = await self.session.execute(
            select(TicketRow.category, func.count()).where(
                self._subtree(), TicketRow.created_at >= start, TicketRow.created_at < end)
            .group_by(TicketRow.category))
        return {category: int(n) for category, n in rows.all()}

    async def open_by_node(self, now: datetime, *, overdue: bool, limit: int = 5) -> list[tuple[str, int]]:
        """The nodes with the most open (or overdue) tickets, most first."""
        where = [self._subtree(), TicketRow.state.in_(OPEN_VALUES)]
        if overdue:
            where.append(overdue_now(now))
        count = func.count().label("n")
        # grouped by an expression, not the column: SQLite would otherwise walk the whole node_code index
        # (a million rows) instead of the few open ones found through (state, node_code, due_at)
        code = (TicketRow.node_code + "").label("code")
        rows = await self.session.execute(
            select(code, count).where(*where).group_by(code).order_by(count.desc(), code).limit(limit))
        return [(code, int(n)) for code, n in rows.all()]

    async def urgent(self, start: datetime, end: datetime, *, limit: int = 50) -> list[tuple[int, str, str, str]]:
        """(number, state, node code, text) of urgent tickets raised in the period, oldest first."""
        rows = await self.session.execute(
            select(TicketRow.number, TicketRow.state, TicketRow.node_code, TicketRow.text).where(
                self._subtree(), TicketRow.created_at >= start, TicketRow.created_at < end,
                TicketRow.urgency == "urgent").order_by(TicketRow.created_at).limit(limit))
        return [(int(n), s, c, t) for n, s, c, t in rows.all()]

    async def median(self, column: Any, at_column: Any, start: datetime, end: datetime) -> float | None:
        """The median of a per-ticket figure over tickets whose `at_column` falls in the period (in SQL,
        on every backend: count, then read the middle one or two in index order)."""
        where = [self._subtree(), at_column >= start, at_column < end, column.is_not(None)]
        n = await self._count(*where)
        if not n:
            return None
        values = list(await self.session.scalars(
            select(column).where(*where).order_by(column).offset((n - 1) // 2).limit(2 - n % 2)))
        return sum(values) / len(values)

    async def outcomes(self, start: datetime, end: datetime) -> dict[str, int]:
        """Of tickets resolved in the period: how many kept every deadline, how many were handled at their
        own level and how many were passed up."""
        row = (await self.session.execute(
            select(func.count(),
                   func.coalesce(func.sum(case((TicketRow.breached.is_(False), 1), else_=0)), 0),
                   func.coalesce(func.sum(case((TicketRow.escalated.is_(True), 1), else_=0)), 0))
            .where(self._subtree(), TicketRow.resolved_at >= start, TicketRow.resolved_at < end))).one()
        resolved, on_time, escalated = (int(v) for v in row)
        return {"judged": resolved, "on_time": on_time, "escalated": escalated, "own_level": resolved - escalated}

    async def people(self, start: datetime, end: datetime) -> dict[str, tuple[int, int, int]]:
        """Per assignee: (handled in the period, of which on time, open now)."""
        handled = await self.session.execute(
            select(TicketRow.assignee, func.count(),
                   func.coalesce(func.sum(case((TicketRow.breached.is_(False), 1), else_=0)), 0))
            .where(self._subtree(), TicketRow.resolved_at >= start, TicketRow.resolved_at < end,
                   TicketRow.assignee.is_not(None)).group_by(TicketRow.assignee))
        result = {key: (int(n), int(ok), 0) for key, n, ok in handled.all()}
        open_rows = await self.session.execute(
            select(TicketRow.assignee, func.count()).where(
                self._subtree(), TicketRow.state.in_(OPEN_VALUES), TicketRow.assignee.is_not(None))
            .group_by(TicketRow.assignee))
        for key, n in open_rows.all():
            done, ok, _ = result.get(key, (0, 0, 0))
            result[key] = (done, ok, int(n))
        return result

    async def credits(self, start: datetime, end: datetime) -> list[tuple[str, str | None, str, bool]]:
        """Who acted, from the ticket timeline: (action, actor name, assignee, breached) for each ticket accepted
        or resolved in the period, with the name on its last such event in the period (None: no event kept)."""
        found: list[tuple[str, str | None, str, bool]] = []
        await deferred.flush(self.session)  # this unit of work's own timeline steps count too
        for action, column in (("accept", TicketRow.accepted_at), ("resolve", TicketRow.resolved_at)):
            last = (select(TicketEventRow.ticket_id, func.max(TicketEventRow.id).label("event_id"))
                    .where(TicketEventRow.action == action, TicketEventRow.at >= start, TicketEventRow.at < end)
                    .group_by(TicketEventRow.ticket_id)).subquery()
            rows = await self.session.execute(
                select(TicketEventRow.actor, TicketRow.assignee, TicketRow.breached)
                .select_from(TicketRow)
                .outerjoin(last, last.c.ticket_id == TicketRow.id)
                .outerjoin(TicketEventRow, TicketEventRow.id == last.c.event_id)
                .where(self._subtree(), column >= start, column < end))
            found.extend((action, actor, assignee, bool(breached)) for actor, assignee, breached in rows.all())
        return found

    async def daily(self, start: datetime, end: datetime, tz_offset: timedelta) -> list[tuple[date, int, int]]:
        """(local day, raised, resolved) per day of the period, for the chart: one query per day boundary set."""
        days: list[tuple[date, int, int]] = []
        day_start = start
        while day_start < end:
            day_end = min(day_start + timedelta(days=1), end)
            new = await self._count(TicketRow.created_at >= day_start, TicketRow.created_at < day_end)
            resolved = await self._count(TicketRow.resolved_at >= day_start, TicketRow.resolved_at < day_end)
            days.append(((day_start + tz_offset).date(), new, resolved))
            day_start = day_end
        return days

    # -- notices ----------------------------------------------------------------------------------

    async def notices_posted(self, start: datetime, end: datetime) -> list[NoticeRow]:
        """The notices posted in the period, oldest first."""
        return list(await self.session.scalars(
            select(NoticeRow).where(NoticeRow.created_at >= start, NoticeRow.created_at < end).order_by(NoticeRow.id)))

    # -- the exactly-once record ------------------------------------------------------------------

    async def since(self, now: datetime) -> datetime:
        """When this deployment first ran (recorded on the first call): periods that ended before it are
        not "missed", they were never ours to send."""
        await self.session.execute(dialect_insert(self.session)(CounterRow).values(name="digests_since", value=int(now.timestamp()))
                                   .on_conflict_do_nothing(index_elements=["name"]))
        value = await self.session.scalar(select(CounterRow.value).where(CounterRow.name == "digests_since"))
        return datetime.fromtimestamp(int(value), tz=timezone.utc)

    async def delivered(self, period: str, period_start: datetime) -> set[tuple[str, str]]:
        """(node code, recipient) pairs that already have this period's digest."""
        rows = await self.session.execute(select(DigestDeliveryRow.node_code, DigestDeliveryRow.recipient).where(
            DigestDeliveryRow.period == period, DigestDeliveryRow.period_start == period_start))
        return {(node, who) for node, who in rows.all()}

    async def record(self, *, period: str, period_start: datetime, node_code: str, recipient: str, to_kind: str,
                     to_id: str, now: datetime, chart: str | None) -> None:
        self.session.add(DigestDeliveryRow(period=period, period_start=period_start, node_code=node_code,
                                           recipient=recipient, to_kind=to_kind, to_id=to_id, created_at=now,
                                           chart=chart))
        await self.session.flush()
