"""The poll desk (微议事): a leader's `#议事` in a group, residents' votes by household, results and the deadline.

The rules and every sentence are pure (bot.domain.polls, bot.domain.stance, bot.domain.polls_wording); this desk
stores polls and votes and decides who may do what. Like every desk it works in the caller's unit of work and
returns the replies to queue.

- Who may start: a leader of the group's node (as for `#通知`); `polls.start_roles` can narrow it to some roles.
- One poll at a time per group, so that a bare "1" is never ambiguous.
- Voters are residents: the group's staff (leading and handling roles on the node or above, and the bot) do not
  vote, as they are not counted for notices either (bot.domain.acks.staff_ids). One vote per household
  (`household_of(nickname)`, else `member:<id>`); the group's household count is its stored member list, staff
  left out, counted the same way.
- A linked ticket ("关联 #1023") is stored and shown with its state under `#议事结果` and in the leader's result.
  The ticket desk has no public way to add a note to a ticket's timeline, so the outcome is not written there.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from bot.config import Config
from bot.domain import polls_wording as wording
from bot.domain.acks import household_key, staff_ids
from bot.domain.grid import GridNode, Person
from bot.domain.households import HouseholdRegistry, match_member
from bot.domain.people import Directory, household_of
from bot.households import registry_for
from bot.domain.polls import PollDraft, PollError, PollResult, Quorum, interpret_vote, parse_poll_command, tally
from bot.domain.tickets import STATE_NAMES, State
from bot.messages import Address, Reply
from storage.models import PollRow
from storage.poll_repository import CLOSED, OPEN, PollRepository
from storage.repositories import MemberRepository
from storage.session import Session
from storage.ticket_repository import TicketRepository

_LOGGER = logging.getLogger(__name__)

LATE_WINDOW = timedelta(minutes=30)  # a vote this soon after the deadline is told it came too late; later, silence
PRIORITY = 3


def quorum_to_dict(quorum: Quorum | None) -> dict[str, Any] | None:
    if quorum is None:
        return None
    return {"min_households": quorum.min_households, "share": str(quorum.share) if quorum.share else None,
            "strict": quorum.strict, "support": quorum.support}


def quorum_from_dict(data: dict[str, Any] | None) -> Quorum | None:
    if not data:
        return None
    share = data.get("share")
    return Quorum(min_households=data.get("min_households"), share=Fraction(share) if share else None,
                  strict=bool(data.get("strict")), support=bool(data.get("support")))


def draft_of(poll: PollRow) -> PollDraft:
    """The stored poll as the wording module reads it."""
    return PollDraft(poll.question, tuple(poll.options), poll.closes_at, poll.deadline_given,
                     quorum_from_dict(poll.quorum), poll.ticket_no)


class PollDesk:
    def __init__(self, session: Session, config: Config, directory: Directory, now: datetime,
                 bot_id: str = "") -> None:
        self.session = session
        self.config = config
        self.directory = directory
        self.now = now
        self.bot_id = bot_id
        self.tree = config.tree
        self.repo = PollRepository(session)

    # -- who ----------------------------------------------------------------------------------------

    def refusal_to_start(self, person: Person | None, node: GridNode) -> str | None:
        """Why this sender may not start a poll in this group, or None when they may."""
        if person is None or not self.directory.leads(person.key, node.code):
            return wording.NOT_A_LEADER
        roles = self.config.polls.start_roles
        if roles and not any(role in roles and self.tree.is_within(node.code, code)
                             for code, role in self.directory.positions(person.key)):
            return wording.not_allowed(person.name, roles)
        return None

    def staff(self, poll_node: str, starter_key: str | None = None) -> frozenset[str]:
        return staff_ids(self.tree, self.directory, poll_node, sender_key=starter_key, bot_id=self.bot_id)

    def is_voter(self, poll: PollRow, sender_id: str) -> bool:
        """Residents vote; the group's staff and the bot do not."""
        return sender_id not in self.staff(poll.node_code, poll.starter_key)

    async def _registry(self, poll: PollRow) -> HouseholdRegistry | None:
        return await registry_for(self.session, self.config.tree, [poll.node_code])

    async def _voter(self, poll: PollRow, member_id: str, member_name: str) -> str:
        """Whose vote it is: the registered household the member speaks for where households are registered
        (bot/households.py), else the house number in the nickname, else the member alone."""
        registry = await self._registry(poll)
        if registry is not None:
            found = match_member(member_name, registry, node_code=poll.node_code, room_key=poll.room_key,
                                 on=self.now.astimezone(self.config.tz).date())
            if found is not None:
                return found.ref
        return household_key(member_id, household_of(member_name))

    async def households_total(self, poll: PollRow) -> int | None:
        """Households in the group: the households registered at its node where there is a registry, else its
        stored members' households (staff left out); None when nothing is known."""
        registry = await self._registry(poll)
        if registry is not None:
            registered = [h for h in registry if registry.in_scope(h, poll.node_code)]
            if registered:
                return len(registered)
        staff = self.staff(poll.node_code, poll.starter_key)
        members = await MemberRepository(self.session).in_room(poll.room_key)
        households = {household_key(m.member_id, m.household or household_of(m.display_name))
                      for m in members if m.member_id not in staff}
        return len(households) or None

    # -- commands -----------------------------------------------------------------------------------

    async def open(self, person: Person | None, node: GridNode, room_key: str, room_id: str, text: str,
                   reply_to: Address) -> list[Reply]:
        """`#议事 …` in a group: store the poll and announce it there."""
        refusal = self.refusal_to_start(person, node)
        if refusal is not None:
            return [Reply(reply_to, refusal, kind="poll_answer")]
        assert person is not None
        running = await self.repo.open_in(room_key)
        if running is not None:
            return [Reply(reply_to, wording.already_open(running.number, running.closes_at, self.config.tz),
                          kind="poll_answer")]
        draft = parse_poll_command(text, self.now.astimezone(self.config.tz),
                                   default_duration=self.config.polls.default_duration)
        if isinstance(draft, PollError):
            return [Reply(reply_to, draft.message, kind="poll_answer")]
        assert draft.deadline is not None
        if draft.ticket_no is not None and await TicketRepository(self.session).find_by_number(draft.ticket_no) is None:
            return [Reply(reply_to, wording.unknown_ticket(draft.ticket_no), kind="poll_answer")]
        poll = await self.repo.create(
            room_key=room_key, room_id=room_id, node_code=node.code, starter_key=person.key,
            starter_name=person.name, question=draft.question, options=list(draft.options),
            quorum=quorum_to_dict(draft.quorum), ticket_no=draft.ticket_no, opened_at=self.now,
            closes_at=draft.deadline, deadline_given=draft.deadline_given)
        _LOGGER.info("poll %s opened in %s by %s", poll.number, room_key, person.key)
        return [Reply(reply_to, wording.announcement(draft, poll.number, self.config.tz), priority=2,
                      kind="poll", ref=f"poll:{poll.id}")]

    async def result(self, person: Person | None, room_key: str | None, number: int | None,
                     reply_to: Address) -> list[Reply]:
        """`#议事结果 [编号]`: the figures so far (or the final ones), for anyone in the group or its leaders."""
        if number is not None:
            poll = await self.repo.by_number(number)
            if poll is not None and poll.room_key != room_key and not (
                    person is not None and self.directory.leads(person.key, poll.node_code)):
                poll = None  # another group's poll is for its own residents and leaders
        elif room_key is not None:
            poll = await self.repo.open_in(room_key) or await self.repo.latest_in(room_key)
        else:
            return [Reply(reply_to, wording.RESULT_NEEDS_NUMBER, kind="poll_answer")]
        if poll is None:
            return [Reply(reply_to, wording.NO_POLL_HERE if number is None else
                          f"没有找到第{number}号议事，请核对编号。", kind="poll_answer")]
        result = await self.tally(poll)
        draft = draft_of(poll)
        if poll.state == CLOSED:
            text = wording.final_for_group(draft, poll.number, result)
        else:
            text = wording.interim(draft, poll.number, result, self.now, self.config.tz)
        if poll.ticket_no is not None:
            text += "\n" + await self._ticket_line(poll.ticket_no)
        return [Reply(reply_to, text, kind="poll_result", ref=f"poll:{poll.id}")]

    async def finish(self, person: Person | None, room_key: str | None, reply_to: Address) -> list[Reply]:
        """`#结束议事` in the group, by whoever started the poll: it closes now."""
        if room_key is None:
            return [Reply(reply_to, wording.ONLY_IN_GROUP, kind="poll_answer")]
        poll = await self.repo.open_in(room_key)
        if poll is None:
            latest = await self.repo.latest_in(room_key)
            text = wording.already_closed(latest.number) if latest is not None else wording.NO_POLL_HERE
            return [Reply(reply_to, text, kind="poll_answer")]
        if person is None or person.key != poll.starter_key:
            return [Reply(reply_to, wording.only_starter(poll.number, poll.starter_name), kind="poll_answer")]
        return await self.close(poll, by=person.name)

    # -- votes --------------------------------------------------------------------------------------

    async def voting_in(self, room_key: str) -> PollRow | None:
        """The group's poll that is taking votes now."""
        poll = await self.repo.latest_in(room_key)
        return poll if poll is not None and poll.state == OPEN and self.now < poll.closes_at else None

    async def current(self, room_key: str) -> tuple[PollRow | None, bool]:
        """The group's newest poll (one query: this runs for group messages that reach the vote stage) and
        whether it takes votes now; a poll whose deadline passed less than LATE_WINDOW ago is returned too, with
        False, so that a vote for it is told it came late. Otherwise (None, False)."""
        poll = await self.repo.latest_in(room_key)
        if poll is None:
            return None, False
        if poll.state == OPEN and self.now < poll.closes_at:
            return poll, True
        ended = poll.closes_at if poll.state == OPEN else poll.closed_at
        by_deadline = poll.state == OPEN or poll.closed_by == "截止"
        if by_deadline and ended is not None and ended <= self.now < ended + LATE_WINDOW:
            return poll, False
        return None, False

    @staticmethod
    def option_of(poll: PollRow, text: str) -> int | None:
        return interpret_vote(text, tuple(poll.options))

    async def vote(self, poll: PollRow, *, member_id: str, member_name: str, option: int, text: str,
                   reply_to: Address, mention: tuple[str, ...] = ()) -> list[Reply]:
        """Record a household's vote; only a changed vote is confirmed (see bot.domain.polls_wording)."""
        household = household_of(member_name)
        # a voter is a member, even if the member list has not caught up: the count of households covers them
        await MemberRepository(self.session).upsert(poll.room_key, member_id, member_name, household=household,
                                                    now=self.now)
        voter = await self._voter(poll, member_id, member_name)
        previous = await self.repo.record_vote(poll, voter=voter, member_id=member_id,
                                               member_name=member_name, option=option, text=text, at=self.now)
        ack = wording.vote_ack(option, tuple(poll.options), previous)
        if ack is None:
            return []
        prefix = f"@{member_name} " if mention else ""
        return [Reply(reply_to, prefix + ack, mention, priority=5, kind="poll_vote", ref=f"poll:{poll.id}")]

    def late(self, poll: PollRow, reply_to: Address, mention: tuple[str, ...] = (), name: str = "") -> list[Reply]:
        prefix = f"@{name} " if mention else ""
        return [Reply(reply_to, prefix + wording.late_vote(poll.number), mention, priority=5, kind="poll_vote")]

    # -- closing ------------------------------------------------------------------------------------

    async def tally(self, poll: PollRow) -> PollResult:
        closes_at = poll.closed_at if poll.state == CLOSED else None
        total = (poll.outcome or {}).get("households_total") if poll.state == CLOSED else \
            await self.households_total(poll)
        return tally(await self.repo.votes(poll), total, quorum_from_dict(poll.quorum), options=poll.options,
                     closes_at=closes_at)

    async def close(self, poll: PollRow, *, by: str) -> list[Reply]:
        """Close a poll: the result to the group, and privately to the leader who started it."""
        if poll.state != OPEN:
            return []
        total = await self.households_total(poll)
        closed_at = min(self.now, poll.closes_at)
        result = tally(await self.repo.votes(poll), total, quorum_from_dict(poll.quorum), options=poll.options,
                       closes_at=closed_at)
        poll.state, poll.closed_at, poll.closed_by = CLOSED, closed_at, by
        poll.outcome = {"counts": list(result.counts), "voted": result.voted, "households_total": total,
                        "needed": result.needed, "quorum_met": result.quorum_met, "winner": result.winner}
        draft = draft_of(poll)
        replies = [Reply(Address.room(poll.room_id), wording.final_for_group(draft, poll.number, result),
                         priority=PRIORITY, kind="poll_result", ref=f"poll:{poll.id}")]
        contacts = self.directory.contact_ids(poll.starter_key)
        if contacts:
            replies.append(Reply(Address.contact(contacts[0]), wording.final_for_leader(draft, poll.number, result),
                                 priority=PRIORITY, kind="poll_result", ref=f"poll:{poll.id}"))
        if poll.ticket_no is not None:  # the outcome goes on the ticket's timeline too
            ticket = await TicketRepository(self.session).find_by_number(poll.ticket_no)
            if ticket is not None:
                await TicketRepository(self.session).add_event(
                    ticket, at=self.now, actor=poll.starter_name, action="poll", from_state=ticket.state,
                    to_state=ticket.state, note=wording.ticket_note(poll.number, result))
        _LOGGER.info("poll %s closed (%s): %s", poll.number, by, poll.outcome)
        return replies

    async def close_due(self) -> list[Reply]:
        """Close every poll whose deadline has come."""
        replies: list[Reply] = []
        for poll in await self.repo.due(self.now):
            replies.extend(await self.close(poll, by="截止"))
        return replies

    async def next_deadline(self) -> datetime | None:
        return await self.repo.next_deadline()

    async def _ticket_line(self, number: int) -> str:
        ticket = await TicketRepository(self.session).find_by_number(number)
        return wording.ticket_line(number, STATE_NAMES[State(ticket.state)] if ticket is not None else None)
