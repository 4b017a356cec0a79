"""Who hears what about a ticket: people's chat ids, their groups, who holds a ticket and where each line goes."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.config import Config
from bot.domain.grid import GridNode, Person
from bot.domain.people import Directory, Holder
from bot.domain.reach import choose_room, config_rooms
from bot.domain.tickets import Assignment, assign, escalation_node, max_level
from bot.messages import Address, Reply
from bot.tickets import wording
from storage.models import TicketRow
from storage.repositories import MemberRepository
from storage.ticket_repository import TicketRepository
from storage.session import Session

_LOGGER = logging.getLogger(__name__)

TICKET_PRIORITY = {"urgent": 0, "normal": 3, "low": 4}
DUTY_ROLE = "值班"  # how someone holding a ticket because they are on duty is named


def priority_of(ticket: TicketRow) -> int:
    """The send priority of lines about a ticket (lower goes first)."""
    return TICKET_PRIORITY.get(ticket.urgency, 3)


@dataclass(frozen=True, slots=True)
class EscalationAlert:
    """What the new holder of an escalated ticket is to be told, and where."""

    ticket: TicketRow
    holder: Holder
    address: Address
    reason: str
    limit: timedelta


@dataclass(frozen=True, slots=True)
class Reporter:
    """Who reported, from where."""

    id: str
    name: str
    room_id: str | None  # the transport's id of the group, None for a private chat
    room_key: str | None
    node: GridNode
    message_row_id: int | None


class Audience:
    """Where each line about a ticket goes, for one unit of work (member lists are read once)."""

    def __init__(self, session: Session, config: Config, directory: Directory, repo: TicketRepository) -> None:
        self.session = session
        self.config = config
        self.directory = directory
        self.repo = repo
        self.settings = config.tickets
        self.tree = config.tree
        self._member_rooms: dict[str, set[str]] = {}

    # -- people and places ----------------------------------------------------------------------

    def person_id(self, person: Person) -> str:
        """The id a person has in chats: their WeChat id when configured, else the one bound to them."""
        ids = self.directory.contact_ids(person.key)
        return ids[0] if ids else person.key

    def room_address(self, node: GridNode) -> Address | None:
        """The first group of a node, addressed by its key (the sender maps it to the transport's id)."""
        return Address.room(node.rooms[0].key) if node.rooms else None

    def nearest_room(self, node: GridNode) -> tuple[GridNode, Address] | None:
        """The node's own group, or else the nearest ancestor's."""
        for candidate in self.tree.lineage(node.code):
            address = self.room_address(candidate)
            if address is not None:
                return candidate, address
        return None

    def upper_room(self, ticket: TicketRow) -> tuple[GridNode, Address] | None:
        """The group of the tier above the ticket's node."""
        parent = self.tree.parent(ticket.node_code) if ticket.node_code in self.tree else None
        return self.nearest_room(parent) if parent is not None else None

    def notified_in(self, ticket: TicketRow) -> str | None:
        """The group key where the ticket's holder was @-ed about it, when not the reporter's own group."""
        holder = self.holder_of(ticket)
        found = self.nearest_room(holder.node) if holder is not None else None
        return found[1].id if found is not None else None

    def reporter_address(self, ticket: TicketRow) -> Address:
        """The reporter's group, or their private chat."""
        if ticket.room_id:
            return Address.room(ticket.room_id)
        return Address.contact(ticket.reporter_id)

    def holder_of(self, ticket: TicketRow) -> Holder | None:
        """Who has the ticket now, with the role they hold on its node."""
        if ticket.assignee and ticket.assignee in self.config.people:
            person = self.config.people[ticket.assignee]
            node = self.tree.node(ticket.assignee_node) if ticket.assignee_node in self.tree else self.tree.node(
                ticket.node_code)
            role = next((r for c, r in self.directory.positions(person.key) if c == node.code), "负责人")
            return Holder(person, role, node)
        return None

    def holder_named(self, target: str, ticket: TicketRow) -> Holder | None:
        """Whom a #转派 names: a node's handler by its code, else a person by name (on their first position)."""
        if target in self.tree:
            return self.directory.responsible(target)
        person = self.directory.find(target)
        if person is None:
            return None
        positions = self.directory.positions(person.key)
        node = self.tree.node(positions[0][0]) if positions else self.tree.node(ticket.node_code)
        return Holder(person, positions[0][1] if positions else "负责人", node)

    def may_act(self, person: Person | None, ticket: TicketRow) -> bool:
        """Handlers of the ticket's node or above, and its current assignee, may act on it."""
        if person is None:
            return False
        return ticket.assignee == person.key or (
            ticket.node_code in self.tree and self.directory.handles(person.key, ticket.node_code))

    # -- reaching people -------------------------------------------------------------------------

    async def member_rooms(self, person: Person) -> set[str]:
        """Configured groups the person is in: the transport's member lists (stored) and config `members`."""
        if person.key not in self._member_rooms:
            ids = self.directory.contact_ids(person.key)
            found = await MemberRepository(self.session).rooms_of(ids) if ids else set()
            found |= set(config_rooms(self.tree, person))
            configured = self.tree.room_keys()
            self._member_rooms[person.key] = {key for key in found if key in configured}
        return self._member_rooms[person.key]

    async def reach(self, person: Person, *, first: str | None = None, near: Sequence[str] = ()) -> Address | None:
        """Where to tell the person: a group they are in (`first` if so, else nearest `near`), else privately by
        their contact id; None when neither is possible."""
        ids = self.directory.contact_ids(person.key)
        # a group unrelated to the case (another building's residents) only when there is no private way
        room = choose_room(self.tree, await self.member_rooms(person), first=first,
                           near=[c for c in near if c in self.tree], any_room=not ids)
        if room is not None:
            return Address.room(room)
        return Address.contact(ids[0]) if ids else None

    async def pick(self, node_code: str, level: int, *, prefer_role: str | None = None,
                   party: Callable[[Holder], bool] | None = None) -> tuple[Assignment, list[tuple[Holder, str]]]:
        """The handler at `level` or the next one up who can be reached and is no party to the report.

        Returns the assignment and who was passed over, with why ("unreachable", "party")."""
        top = max_level(self.tree, node_code)
        skipped: list[tuple[Holder, str]] = []
        role = prefer_role
        while True:
            assignment = assign(self.directory, node_code, level, prefer_role=role)
            holder = assignment.holder
            if holder is None:
                return assignment, skipped
            why = None
            if party is not None and party(holder):
                why = "party"
            elif await self.reach(holder.person, near=(holder.node.code, node_code)) is None:
                why = "unreachable"
            if why is None:
                return assignment, skipped
            if all(h.person.key != holder.person.key for h, _ in skipped):
                skipped.append((holder, why))
            if role is not None and level == 0:
                role = None  # the category's own role cannot take it: the tier's usual handler next
                continue
            if level >= top:
                return Assignment(None, assignment.node, level), skipped
            level += 1

    async def on_duty(self, node_code: str, at: datetime, *, skip: Collection[str] = (),
                      near: Sequence[str] = ()) -> tuple[Holder, Address] | None:
        """Who is on duty (值班) for the node at `at` — its own roster, else the nearest ancestor's with someone on
        then — and where to reach them. Someone in `skip`, or whom the bot cannot reach, passes it on up."""
        code: str | None = node_code if node_code in self.tree else None
        while code is not None:
            found = self.config.duty.find_on_duty(code, at, self._parent_code)
            if found is None:
                return None
            duty_code, key = found
            person = self.config.people.get(key)
            if person is not None and key not in skip:
                address = await self.reach(person, near=(duty_code, *near))
                if address is not None:
                    return Holder(person, DUTY_ROLE, self.tree.node(duty_code)), address
                _LOGGER.info("%s is on duty for %s but cannot be reached: passed over", key, duty_code)
            code = self._parent_code(duty_code)
        return None

    async def pick_up(self, ticket: TicketRow, at: datetime) -> tuple[Assignment, list[tuple[Holder, str]]]:
        """Whom the ticket's next escalation goes to: whoever is on duty (值班) at `at` for the node it goes up to,
        unless they hold it already; else that tier's usual handler (`pick`)."""
        level = ticket.escalation_level + 1
        if ticket.node_code in self.tree:
            target = escalation_node(self.tree, ticket.node_code, level)
            duty = await self.on_duty(target.code, at, skip=(ticket.assignee or "",), near=(ticket.node_code,))
            if duty is not None:
                return Assignment(duty[0], target, level), []
        return await self.pick(ticket.node_code, level)

    def _parent_code(self, code: str) -> str | None:
        parent = self.tree.parent(code) if code in self.tree else None
        return parent.code if parent is not None else None

    # -- lines to people -------------------------------------------------------------------------

    def tell(self, address: Address, person: Person, line: str, **reply: Any) -> Reply:
        """A line for one person: @-ed in a group, plain in a private chat."""
        if address.is_room:
            return Reply(address, f"@{person.name} {line}", (self.person_id(person),), **reply)
        return Reply(address, line, (), **reply)

    def to_reporter(self, reporter: Reporter, text: str, *, extra_mentions: list[str] | None = None,
                    kind: str = "reply", ref: str | None = None, priority: int = 3) -> Reply:
        """A line for who just reported: @-ed (with anyone else named) in their group, plain in private."""
        if reporter.room_id is None:
            return Reply(Address.contact(reporter.id), text, (), priority=priority, kind=kind, ref=ref)
        mentions = (reporter.id, *(extra_mentions or ()))
        return Reply(Address.room(reporter.room_id), f"@{reporter.name} {text}", tuple(dict.fromkeys(mentions)),
                     priority=priority, kind=kind, ref=ref)

    @staticmethod
    def answer(to: Address | None, text: str) -> list[Reply]:
        """An answer where the person asked, if anywhere."""
        return [Reply(to, text, kind="ticket_answer")] if to is not None else []

    async def notify_holder(self, ticket: TicketRow, holder: Holder, line: str) -> list[Reply]:
        """Tell the person where they are (a group they are in, else privately), unless the reporter's group,
        which the announcement already told."""
        address = await self.reach(holder.person, near=(holder.node.code, ticket.node_code))
        if address is None:
            return []
        if address.is_room and ticket.room_id and address.id in (ticket.room_key, ticket.room_id):
            return []
        return [self.tell(address, holder.person, line, priority=priority_of(ticket), kind="ticket_assign",
                          ref=f"ticket:{ticket.id}")]

    async def tell_holder(self, ticket: TicketRow, replies: list[Reply], line: str) -> list[Reply]:
        """Make sure the ticket's handler hears: in their own group, or @ in the reporter's message."""
        holder = self.holder_of(ticket)
        if holder is None:
            return replies
        own = await self.notify_holder(ticket, holder, line)
        if own:
            return [*replies, *own]
        holder_id = self.person_id(holder.person)
        to_reporter = self.reporter_address(ticket)
        out: list[Reply] = []
        done = False
        for reply in replies:
            if not done and reply.to == to_reporter:
                done = True
                if holder_id not in reply.mentions:
                    reply = dataclasses.replace(reply, text=f"{reply.text} @{holder.person.name}",
                                                mentions=(*reply.mentions, holder_id))
            out.append(reply)
        return out

    # -- escalation alerts -------------------------------------------------------------------------

    def _origin(self, ticket: TicketRow) -> str:
        return self.tree.node(ticket.node_code).name if ticket.node_code in self.tree else ticket.node_code

    def alert_reply(self, alerts: list[EscalationAlert]) -> Reply:
        """One message to one handler: a single escalated ticket in full, several as a list."""
        first = alerts[0]
        priority = min(priority_of(a.ticket) for a in alerts)
        if len(alerts) == 1:
            t = first.ticket
            line = wording.escalated_for_holder(t, self._origin(t), first.reason, first.limit)
            return self.tell(first.address, first.holder.person, line, priority=priority, kind="ticket_escalate",
                             ref=f"ticket:{t.id}")
        text = wording.escalated_list([(a.ticket, self._origin(a.ticket), a.reason) for a in alerts],
                                      min(a.limit for a in alerts))
        return self.tell(first.address, first.holder.person, text, priority=priority, kind="ticket_escalate",
                         ref=None)


class AlertBatch:
    """A handler gets at most one escalation message per `escalation_batch`: the tickets escalated to them in
    one run come as one list, and those breaching soon after a message wait for the end of its window."""

    def __init__(self, audience: Audience, now: datetime, window: timedelta) -> None:
        self.audience = audience
        self.now = now
        self.window = window
        self._alerts: dict[str, list[EscalationAlert]] = {}
        self._held: dict[str, datetime | None] = {}  # handler → held until (None: send now), decided once per run

    async def held_until(self, holder: Holder) -> datetime | None:
        """Until when a new alert to this handler waits (they were told of another a moment ago), else None."""
        key = holder.person.key
        if key not in self._held:
            last = await self.audience.repo.last_escalation_to(key, self.now - self.window)
            self._held[key] = None if last is None else last + self.window
        return self._held[key]

    def add(self, alert: EscalationAlert) -> None:
        """Keep an alert for its handler's list."""
        self._alerts.setdefault(alert.holder.person.key, []).append(alert)

    def replies(self) -> list[Reply]:
        """One message per handler."""
        return [self.audience.alert_reply(group) for group in self._alerts.values()]
