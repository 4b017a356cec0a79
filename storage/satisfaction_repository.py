"""Satisfaction: which reporters were asked about which closed ticket (once, ever), and what they answered."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.memo import forget, remember_since, remember_since_for_group
from storage.models import SatisfactionRow, TicketEventRow, TicketReporterRow, TicketRow
from storage.repositories import MAX_NAME, clean_text
from storage.ticket_repository import in_subtree

ASKED, ANSWERED, SKIPPED = "asked", "answered", "skipped"


def _unasked(since: datetime, until: datetime) -> Any:
    """Closed tickets (closed in [since, until]) nobody was asked about yet."""
    return and_(TicketRow.state == "closed", TicketRow.closed_at.is_not(None), TicketRow.closed_at >= since,
                TicketRow.closed_at <= until,
                ~exists().where(SatisfactionRow.ticket_id == TicketRow.id))


class SatisfactionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def closed_unasked(self, since: datetime, until: datetime, *, limit: int = 100) -> list[TicketRow]:
        """Tickets closed between `since` and `until` that no reporter was asked about, oldest first."""
        return list(await self.session.scalars(select(TicketRow).where(_unasked(since, until))
                                               .order_by(TicketRow.closed_at).limit(limit)))

    async def earliest_unasked(self, since: datetime, until: datetime) -> datetime | None:
        """When the oldest such ticket closed (the job's hint)."""
        return await self.session.scalar(select(func.min(TicketRow.closed_at)).where(_unasked(since, until)))

    async def closing_event(self, ticket_id: int) -> TicketEventRow | None:
        """The step that closed the ticket (merge_into, confirm, close …)."""
        return await self.session.scalar(select(TicketEventRow).where(
            TicketEventRow.ticket_id == ticket_id, TicketEventRow.to_state == "closed")
            .order_by(TicketEventRow.id.desc()).limit(1))

    async def reporters(self, ticket_id: int) -> list[TicketReporterRow]:
        return list(await self.session.scalars(select(TicketReporterRow).where(
            TicketReporterRow.ticket_id == ticket_id).order_by(TicketReporterRow.id)))

    async def asked_pairs(self, ticket_id: int) -> set[tuple[int, str]]:
        return {(ticket_id, r) for r in await self.session.scalars(select(SatisfactionRow.reporter_id).where(
            SatisfactionRow.ticket_id == ticket_id))}

    async def add(self, ticket: TicketRow, *, reporter_id: str, reporter_name: str, state: str,
                  to_kind: str | None, to_id: str | None, at: datetime) -> SatisfactionRow:
        row = SatisfactionRow(
            ticket_id=ticket.id, ticket_number=ticket.number, reporter_id=reporter_id,
            reporter_name=clean_text(reporter_name)[0][:MAX_NAME], state=state, to_kind=to_kind, to_id=to_id,
            node_code=ticket.node_code, node_path=ticket.node_path, handler_key=ticket.assignee, asked_at=at,
            reopened=False)
        self.session.add(row)
        await self.session.flush()
        forget(self.session, "satisfaction")
        return row

    async def waiting_for(self, reporter_id: str, to_kind: str, to_id: str, since: datetime) -> SatisfactionRow | None:
        """The newest question to this reporter in this conversation, asked since `since` and not answered.

        Asked for every message that reads like a rating, so the conversation's open questions are read once per
        unit of work (storage.memo: those asked since the first `since`; a later message's `since` is later) and
        sorted out here; an answer recorded in between marks its row answered, which the filter sees."""
        def asked(to_ids: list[str], start: datetime) -> Any:
            return select(SatisfactionRow).where(
                SatisfactionRow.state == ASKED, SatisfactionRow.to_kind == to_kind,
                SatisfactionRow.to_id.in_(to_ids), SatisfactionRow.asked_at >= start)

        async def load(start: datetime) -> list[SatisfactionRow]:
            return list(await self.session.scalars(asked([to_id], start)))

        async def load_groups(room_keys: list[str], start: datetime) -> dict[str, list[SatisfactionRow]]:
            found: dict[str, list[SatisfactionRow]] = {}
            for row in await self.session.scalars(asked(room_keys, start)):
                found.setdefault(row.to_id or "", []).append(row)
            return found

        rows = (await remember_since_for_group(self.session, ("satisfaction", "room"), to_id, since, load_groups, [])
                if to_kind == "room" else await remember_since(self.session, ("satisfaction", to_kind, to_id), since,
                                                                 load))
        mine = [r for r in rows if r.reporter_id == reporter_id and r.state == ASKED and r.asked_at >= since]
        return max(mine, key=lambda r: (r.asked_at, r.id), default=None)

    async def for_ticket(self, ticket_id: int) -> list[SatisfactionRow]:
        return list(await self.session.scalars(select(SatisfactionRow).where(
            SatisfactionRow.ticket_id == ticket_id).order_by(SatisfactionRow.id)))

    async def answers(self, start: datetime, end: datetime, *, path_prefix: str | None = None
                      ) -> Sequence[tuple[str | None, str, int]]:
        """(handler key, node code, score) of the answers given in [start, end), in a subtree if given."""
        query = select(SatisfactionRow.handler_key, SatisfactionRow.node_code, SatisfactionRow.score).where(
            SatisfactionRow.state == ANSWERED, SatisfactionRow.answered_at >= start,
            SatisfactionRow.answered_at < end)
        if path_prefix:
            query = query.where(in_subtree(path_prefix, SatisfactionRow.node_path))
        return [tuple(r) for r in (await self.session.execute(query)).all()]  # type: ignore[misc]
