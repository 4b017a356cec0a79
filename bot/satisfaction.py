"""The satisfaction desk: once a ticket closes, ask each of its reporters once how it went, and act on the answer.

The question, the reading of the answer and the reply are pure (bot.domain.satisfaction). This desk finds the
closed tickets nobody was asked about, asks each reporter where they reported (privately if they reported
privately, else in their group with an @), and records the answer. 不满意 reopens the ticket and passes it one
level up, with the reporter's reason, through the ticket desk's own actions (`act(REOPEN)`, `escalate`), so the
group, the handler and the tier above hear it exactly as for a `#重开` and a `#上报`.

Never twice: one row per (ticket, reporter), written when asked; a ticket reopened and closed again is not asked
again. Tickets merged into another or withdrawn by their reporter ("看错了") get a "skipped" row and no question.
Tickets closed longer ago than `satisfaction.window` (e.g. before the feature was switched on) are left alone.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from bot.config import Config
from bot.domain.people import Directory
from bot.domain.satisfaction import (
    Score,
    Summary,
    answer,
    interpret_satisfaction,
    is_dissatisfied,
    question,
    reason,
    satisfaction_summary,
    summary_by,
    to_ask,
)
from bot.domain.tickets import Action, State
from bot.messages import Address, Reply
from bot.tickets import TicketDesk
from storage.models import SatisfactionRow, TicketRow
from storage.satisfaction_repository import ANSWERED, ASKED, SKIPPED, SatisfactionRepository
from storage.session import Session

_LOGGER = logging.getLogger(__name__)

PRIORITY = 5  # after replies to people (3–4): a question that can wait a little
SYSTEM = "系统"


class SatisfactionDesk:
    def __init__(self, session: Session, config: Config, directory: Directory, now: datetime,
                 tickets: Callable[[], TicketDesk]) -> None:
        """`tickets`: the unit of work's ticket desk, asked for only when an answer acts on its ticket (every
        message is offered to this desk; few need the other)."""
        self.session = session
        self.config = config
        self.settings = config.satisfaction
        self.directory = directory
        self.now = now
        self._tickets = tickets
        self.repo = SatisfactionRepository(session)

    @property
    def tickets(self) -> TicketDesk:
        return self._tickets()

    # -- asking -------------------------------------------------------------------------------------

    async def _skip_reason(self, ticket: TicketRow) -> str | None:
        """Why a closed ticket is not asked about: merged into another, or withdrawn by its reporter."""
        event = await self.repo.closing_event(ticket.id)
        if event is None:
            return None
        if event.action == Action.MERGE_INTO.value:
            return "merged"
        if event.action == Action.CLOSE.value and event.actor == ticket.reporter_name and \
                (event.note or "").startswith("居民说"):
            return "withdrawn"  # TicketDesk.withdraw: "看错了 / 没事了" — nothing was done to rate
        return None

    async def ask_due(self) -> list[Reply]:
        """Ask the reporters of tickets closed at least `ask_after` ago (and within `window`) that nobody asked."""
        if not self.settings.enabled:
            return []
        replies: list[Reply] = []
        for ticket in await self.repo.closed_unasked(self.now - self.settings.window,
                                                     self.now - self.settings.ask_after):
            skip = await self._skip_reason(ticket)
            if skip is not None:
                await self.repo.add(ticket, reporter_id=ticket.reporter_id, reporter_name=ticket.reporter_name,
                                    state=SKIPPED, to_kind=None, to_id=None, at=self.now)
                _LOGGER.info("ticket %s not asked about (%s)", ticket.number, skip)
                continue
            rows = await self.repo.reporters(ticket.id)
            names = {r.reporter_id: r for r in rows}
            for reporter_id in to_ask(ticket.number, [r.reporter_id for r in rows], await self.repo.asked_pairs(ticket.id)):
                row = names[reporter_id]
                text = question(ticket.number, ticket.text)
                if row.room_key:
                    to = Address.room(row.room_key)
                    reply = Reply(to, f"@{row.reporter_name} {text}", (reporter_id,), priority=PRIORITY,
                                  kind="satisfaction", ref=f"ticket:{ticket.id}")
                else:
                    to = Address.contact(reporter_id)
                    reply = Reply(to, text, priority=PRIORITY, kind="satisfaction", ref=f"ticket:{ticket.id}")
                await self.repo.add(ticket, reporter_id=reporter_id, reporter_name=row.reporter_name, state=ASKED,
                                    to_kind=to.kind, to_id=to.id, at=self.now)
                replies.append(reply)
        return replies

    async def next_ask(self) -> datetime | None:
        """When the oldest closed, unasked ticket is due to be asked about (for the virtual clock)."""
        if not self.settings.enabled:
            return None
        closed = await self.repo.earliest_unasked(self.now - self.settings.window, self.now)
        return None if closed is None else closed + self.settings.ask_after

    # -- answers ------------------------------------------------------------------------------------

    async def waiting(self, reporter_id: str, where: Address) -> SatisfactionRow | None:
        """The question this reporter has still to answer in this conversation (within the window)."""
        if not self.settings.enabled:
            return None
        return await self.repo.waiting_for(reporter_id, where.kind, where.id, self.now - self.settings.window)

    @staticmethod
    def score_of(text: str) -> Score | None:
        return interpret_satisfaction(text)

    async def record(self, row: SatisfactionRow, score: Score, text: str, *, name: str,
                     reply_to: Address, mention: tuple[str, ...] = ()) -> list[Reply]:
        """Keep the answer; 不满意 reopens the ticket and passes it one level up with the reporter's reason."""
        row.state, row.score, row.answer, row.answered_at = ANSWERED, int(score), text[:500], self.now
        replies: list[Reply] = []
        if is_dissatisfied(score):
            why = reason(text).strip()[:100]
            note = f"居民评价不满意（{why}）" if why else "居民评价不满意"
            ticket = await self.tickets.repo.get(row.ticket_id)
            if ticket.state in (State.CLOSED.value, State.RESOLVED.value):
                # the reporter's own word reopens it (as "还没修好" does); the escalation is the bot's
                replies += await self.tickets.act(ticket.number, Action.REOPEN, None, note=note, resident=name)
            if ticket.state == State.REOPENED.value:
                row.reopened = True
                replies += await self.tickets.escalate(ticket, actor_name=SYSTEM, note=note)
            _LOGGER.info("ticket %s: reporter dissatisfied, reopened=%s", ticket.number, row.reopened)
            if row.reopened:
                return merged(replies)  # the group reads that it is reopened and who has it now, in one message
        prefix = f"@{name} " if mention else ""
        replies.append(Reply(reply_to, prefix + answer(score, row.ticket_number, reopened=row.reopened), mention,
                             priority=4, kind="satisfaction_answer", ref=f"ticket:{row.ticket_id}"))
        return replies

    # -- figures ------------------------------------------------------------------------------------

    async def summaries(self, start: datetime, end: datetime, path_prefix: str | None = None
                        ) -> tuple[Summary, dict[str, Summary], dict[str, Summary]]:
        """All answers given in [start, end) (in a subtree), and the same per handler and per node."""
        rows = await self.repo.answers(start, end, path_prefix=path_prefix)
        return (satisfaction_summary(s for _, _, s in rows),
                summary_by((h, s) for h, _, s in rows if h),
                summary_by((n, s) for _, n, s in rows))

    async def for_ticket(self, ticket_id: int) -> list[SatisfactionRow]:
        return await self.repo.for_ticket(ticket_id)


def merged(replies: list[Reply]) -> list[Reply]:
    """Replies to the same conversation as one message (a reopen and its escalation are one event to readers)."""
    out: list[Reply] = []
    index: dict[Address | None, int] = {}
    for reply in replies:
        at = index.get(reply.to)
        if at is None:
            index[reply.to] = len(out)
            out.append(reply)
            continue
        first = out[at]
        mentions = (*first.mentions, *(m for m in reply.mentions if m not in first.mentions))
        out[at] = dataclasses.replace(first, text=f"{first.text}\n{reply.text}", mentions=mentions,
                                      priority=min(first.priority, reply.priority))
    return out


def scores(rows: Iterable[SatisfactionRow]) -> Summary:
    """The summary of some stored answers."""
    return satisfaction_summary(r.score for r in rows if r.score is not None)
