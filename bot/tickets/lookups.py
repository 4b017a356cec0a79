"""What handlers and jobs look up about tickets before they act: read-only, inside the caller's session.

Kept on the desk (`TicketDesk` inherits these), so a handler asks the desk, never a repository.
"""

from __future__ import annotations

from datetime import datetime

from bot.config import TicketConfig
from storage.models import MemberRow, MessageRow, TicketRow
from storage.message_repository import MessageRepository
from storage.repositories import MemberRepository
from storage.session import Session
from storage.ticket_repository import TicketRepository


class TicketLookups:
    """Read-only questions about tickets, their reporters and the jobs' next work."""

    session: Session
    repo: TicketRepository
    settings: TicketConfig
    now: datetime

    async def get(self, ticket_id: int) -> TicketRow:
        return await self.repo.get(ticket_id)

    async def by_number(self, number: int) -> TicketRow | None:
        return await self.repo.find_by_number(number)

    async def reporter_ids(self, ticket_id: int) -> set[str]:
        """Everyone who reported this problem (the first reporter and every "+1")."""
        return {r.reporter_id for r in await self.repo.reporters(ticket_id)}

    async def latest_for_reporter(self, reporter_id: str, *, limit: int = 3) -> list[TicketRow]:
        return await self.repo.latest_for_reporter(reporter_id, limit=limit)

    async def awaiting_acceptance(self, assignee: str) -> list[TicketRow]:
        """The person's tickets nobody has accepted yet (new or reopened), most recently changed first."""
        return await self.repo.awaiting_acceptance(assignee)

    async def awaiting_confirmation(self, sender_id: str, room_key: str | None) -> TicketRow | None:
        """The sender's resolved ticket in this place that waits for their "好了" (if any)."""
        return await self.repo.awaiting_confirmation(sender_id, room_key)

    async def withdrawable(self, sender_id: str, room_key: str | None) -> TicketRow | None:
        """The sender's own open ticket here, reported recently enough to be taken back."""
        return await self.repo.open_for_reporter_since(sender_id, room_key, self.now - self.settings.withdraw_window)

    async def memberships_of(self, sender_id: str) -> list[MemberRow]:
        """The groups a resident is an active member of, most recently joined first (to find their home node)."""
        return list(await MemberRepository(self.session).memberships_of(sender_id))

    async def recent_private_from(self, sender_id: str, since: datetime) -> list[MessageRow]:
        """The sender's latest handled private messages to the bot since `since`, newest first."""
        return await MessageRepository(self.session).recent_direct_from(sender_id, since)

    async def next_deadline_check(self) -> datetime | None:
        """When a deadline passes at the earliest (for the virtual clock)."""
        return await self.repo.next_check_time()

    async def next_auto_close(self) -> datetime | None:
        """When the oldest resolved ticket is due to be closed for want of an answer."""
        oldest = await self.repo.oldest_resolved_at()
        return None if oldest is None else oldest + self.settings.auto_close_after
