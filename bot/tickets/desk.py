"""The ticket desk: every ticket action, used by chat commands, jobs and the web console.

Each method works inside the caller's unit of work and returns the replies to queue, so the same
action taken from chat or from the console tells the same groups the same thing. What a step changes on
the ticket is planned in bot.domain.tickets; who hears it is the audience's; what they read is wording's.
(Longer than most modules, on purpose: one job, every action on a ticket, each a short method.)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.config import Config
from bot.domain.grid import Person, node_path
from bot.domain.parsing.parser import Location
from bot.domain.people import Directory, Holder
from bot.domain.problems import problem_key
from bot.domain.reach import is_party
from bot.domain.tickets import (ACTIVE_VALUES, OPEN_VALUES, Action, Assignment, Changes, State, TicketSnapshot,
                                TransitionError, escalation_stage, max_level, next_state, plan_escalation,
                                plan_opening, plan_reassignment, plan_taken_on, plan_transition, plan_urgent)
from bot.messages import Address, Reply
from bot.tickets import wording
from bot.tickets.announcements import Announcements
from bot.tickets.attachments import Photos
from bot.tickets.lookups import TicketLookups
from bot.tickets.audience import AlertBatch, Audience, EscalationAlert, Reporter
from bot.tickets.wording import short_text
from storage.models import MessageRow, TicketRow
from storage.session import Session
from storage.ticket_repository import TicketRepository

_LOGGER = logging.getLogger(__name__)


def ticket_location(ticket: TicketRow) -> Location:
    """The ticket's location as a parse gives it (for a ticket split off another)."""
    return Location(ticket.building, ticket.unit, ticket.room_no, ticket.place)


def _audience(name: str) -> Any:
    """A desk method that is its audience's (same signature and docstring)."""
    return property(lambda desk: getattr(desk.audience, name), doc=getattr(Audience, name).__doc__)


def _set(ticket: TicketRow, changes: Changes) -> None:
    for name, value in changes.items():
        setattr(ticket, name, value)


class TicketDesk(TicketLookups):
    """Ticket actions for one unit of work."""

    def __init__(self, session: Session, config: Config, directory: Directory, now: datetime,
                 recent_image: Any = None) -> None:
        self.session = session
        self.config = config
        self.directory = directory
        self.now = now
        self.repo = TicketRepository(session)
        self.settings = config.tickets
        self.tree = config.tree
        self.recent_image = recent_image  # optional hint: skip looking for photos nobody sent
        self.audience = Audience(session, config, directory, self.repo)
        self.announce = Announcements(self.audience)
        self.photos = Photos(self.repo, config, now, recent_image)

    # -- who hears: the audience's own methods, kept on the desk for its callers -----------------------

    person_id = _audience("person_id")
    room_address = _audience("room_address")
    nearest_room = _audience("nearest_room")
    upper_room = _audience("upper_room")
    notified_in = _audience("notified_in")
    reporter_address = _audience("reporter_address")
    holder_of = _audience("holder_of")
    may_act = _audience("may_act")
    member_rooms = _audience("member_rooms")
    reach = _audience("reach")
    pick = _audience("pick")

    async def _record_skips(self, ticket: TicketRow, skipped: list[tuple[Holder, str]], holder: Holder | None) -> None:
        for passed, why in skipped:
            await self.repo.add_event(ticket, at=self.now, actor=wording.SYSTEM, action="reroute",
                                      from_state=ticket.state, to_state=ticket.state,
                                      note=wording.skip_note(passed, why, holder))

    # -- new reports ----------------------------------------------------------------------------

    async def report(self, reporter: Reporter, parse: Any, text: str, *,
                     mentions: Sequence[str] = ()) -> tuple[TicketRow, bool, list[Reply]]:
        """Open a ticket for a report, or add the reporter to a matching open one. Returns (ticket, merged, replies).

        `mentions`: whom the report @-ed (a dispute with an @-ed handler goes one level up)."""
        category = parse.category or "other"
        urgency = parse.urgency or "normal"
        loc = parse.location
        key = problem_key(text)
        merged_into = await self._merge_target(reporter, key, loc, bool(getattr(parse, "me_too", False)))
        if merged_into is not None:
            added = await self.repo.add_reporter(merged_into, reporter_id=reporter.id, reporter_name=reporter.name,
                                                 room_key=reporter.room_key, message_id=reporter.message_row_id,
                                                 at=self.now)
            # a later report may show the thing is urgent ("+1 里面还有人被困"): the ticket becomes urgent with it
            raised = urgency == "urgent" and merged_into.urgency != "urgent" and merged_into.state in OPEN_VALUES
            if raised:
                _set(merged_into, plan_urgent(TicketSnapshot.of(merged_into), self.now, self.settings.sla))
            if added or raised:
                await self.repo.add_event(merged_into, at=self.now, actor=reporter.name, action=Action.MERGE.value,
                                          from_state=merged_into.state, to_state=merged_into.state,
                                          note=wording.merge_note(text, raised=raised))
            await self.photos.attach_loose(merged_into, reporter)
            holder = self.holder_of(merged_into)
            line = wording.joined(merged_into, holder, added=added, raised=raised)
            if raised:
                return merged_into, True, await self.announce.raised(merged_into, reporter, holder, parse, text, line)
            return merged_into, True, [self.audience.to_reporter(reporter, line, kind="ticket_merge",
                                                                 ref=f"ticket:{merged_into.id}")]
        ticket, holder = await self._open(reporter, category, urgency, loc, text, key, mentions=mentions)
        return ticket, False, await self.announce.opened(ticket, reporter, holder, parse)

    async def _open(self, reporter: Reporter, category: str, urgency: str, loc: Any, text: str,
                    key: str | None, *, mentions: Sequence[str] = ()) -> tuple[TicketRow, Holder | None]:
        prefer = self.settings.routing.get(category)

        def party(holder: Holder) -> bool:
            return is_party(holder.person, holder.role, category=category, text=text, mentions=mentions,
                            contact_ids=self.directory.contact_ids(holder.person.key))

        assignment, skipped = await self.pick(reporter.node.code, 0, prefer_role=prefer, party=party)
        holder = assignment.holder
        fields = plan_opening(self.tree, reporter.node.code, category=category, urgency=urgency, text=text,
                              location=loc, problem_key=key, room_key=reporter.room_key, room_id=reporter.room_id,
                              assignment=assignment,
                              due_at=self.settings.sla.deadline("accept", urgency, category, self.now))
        # numbered, with its first reporter and its "open" step (by the reporter), in as few statements as can be
        ticket = await self.repo.create(fields=fields, reporter_id=reporter.id, reporter_name=reporter.name,
                                        message_id=reporter.message_row_id, at=self.now,
                                        first_number=self.settings.first_number, note=short_text(text, 200))
        await self._record_skips(ticket, skipped, holder)
        await self.photos.attach_loose(ticket, reporter)
        return ticket, holder

    async def joinable(self, reporter: Reporter, parse: Any, text: str) -> TicketRow | None:
        """The open ticket this report would join, if any (what `report` would merge it into)."""
        return await self._merge_target(reporter, problem_key(text), parse.location,
                                        bool(getattr(parse, "me_too", False)))

    async def _merge_target(self, reporter: Reporter, key: str | None, loc: Any, me_too: bool) -> TicketRow | None:
        """The same thing in the same state (bot.domain.problems), or the group's report a "+1" follows."""
        return await self.repo.find_duplicate(
            room_key=reporter.room_key, node_code=reporter.node.code, problem_key=key,
            building=getattr(loc, "building", None), unit=getattr(loc, "unit", None),
            room_no=getattr(loc, "room", None), since=self.now - self.settings.merge_window, me_too=me_too,
            echo_since=self.now - self.settings.me_too_window)

    async def attach_image(self, image: MessageRow, payload: bytes | None) -> TicketRow | None:
        """An image: keep the file, and attach it to the sender's ticket from the last few minutes, if any."""
        return await self.photos.attach(image, payload)

    # -- actions by people --------------------------------------------------------------------------

    async def act(self, number: int, action: Action, actor: Person | None, *, note: str = "",
                  target: str | None = None, reply_to: Address | None = None,
                  resident: str | None = None) -> list[Reply]:
        """A leader (or the reporter, for confirm/reopen) acts on a ticket. Refusals are replies too."""
        ticket = await self.repo.find_by_number(number)
        answer_to = reply_to
        if ticket is None:
            return self.audience.answer(answer_to, wording.not_found(number))
        if action not in (Action.CONFIRM, Action.REOPEN) or actor is not None:
            if not self.may_act(actor, ticket):
                return self.audience.answer(answer_to, wording.not_yours(number))
        actor_name = actor.name if actor else resident or wording.SYSTEM  # a resident's own word is theirs
        if action == Action.ESCALATE:
            return await self.escalate(ticket, actor_name=actor_name, note=note, manual=True, answer_to=answer_to)
        if action == Action.REASSIGN:
            return await self._reassign(ticket, actor_name, target or "", answer_to)
        try:
            new_state = next_state(ticket.state, action)
        except TransitionError:
            return self.audience.answer(answer_to, wording.cannot(ticket, action))
        if action == Action.ACCEPT and actor is not None:
            _set(ticket, plan_taken_on(self.directory, ticket.node_code, actor.key, ticket.assignee, self.now))
        return await self._transition(ticket, action, new_state, actor_name, note, answer_to)

    async def _transition(self, ticket: TicketRow, action: Action, new_state: State, actor_name: str, note: str,
                          answer_to: Address | None) -> list[Reply]:
        await self._apply(ticket, action, new_state, actor_name, note)
        replies = await self.announce.acted(ticket, action, actor_name, note, answer_to)
        if action == Action.REOPEN:
            replies = await self.audience.tell_holder(ticket, replies, wording.reopened_for_holder(ticket, note))
        return replies

    async def _apply(self, ticket: TicketRow, action: Action, new_state: State, actor_name: str, note: str) -> None:
        """The state change and its timeline step, without telling anyone."""
        old = ticket.state
        _set(ticket, plan_transition(TicketSnapshot.of(ticket), new_state, self.now, self.settings.sla, note=note))
        await self.repo.add_event(ticket, at=self.now, actor=actor_name, action=action.value, from_state=old,
                                  to_state=new_state.value, note=note or None)

    async def _reassign(self, ticket: TicketRow, actor_name: str, target: str,
                        answer_to: Address | None) -> list[Reply]:
        target = target.strip().lstrip("@")
        holder = self.audience.holder_named(target, ticket)
        if holder is None:
            return self.audience.answer(answer_to, wording.unknown_target(target, ticket.number))
        if ticket.state not in OPEN_VALUES:
            return self.audience.answer(answer_to, wording.already(ticket, "不能转派"))
        _set(ticket, plan_reassignment(holder, self.now))
        await self.repo.add_event(ticket, at=self.now, actor=actor_name, action=Action.REASSIGN.value,
                                  from_state=ticket.state, to_state=ticket.state, note=wording.reassigned_note(holder))
        replies = await self.announce.acted(ticket, Action.REASSIGN, actor_name, wording.reassigned_to(holder),
                                               answer_to)
        replies.extend(await self.audience.notify_holder(ticket, holder, wording.reassigned_for_holder(ticket)))
        return replies

    # -- the same problem, or not -------------------------------------------------------------------

    async def merge(self, number: int, other: int | None, actor: Person, *,
                    reply_to: Address | None = None) -> list[Reply]:
        """`#合并 A B`: B is the same problem as A; its reporters join A and B closes as merged."""
        answer = self.audience.answer
        if other is None:
            return answer(reply_to, wording.NEED_TWO_NUMBERS)
        a, b = await self.repo.find_by_number(number), await self.repo.find_by_number(other)
        for n, t in ((number, a), (other, b)):
            if t is None:
                return answer(reply_to, wording.not_found(n))
        assert a is not None and b is not None
        if a.id == b.id:
            return answer(reply_to, wording.SAME_NUMBER_TWICE)
        if not (self.may_act(actor, a) and self.may_act(actor, b)):
            return answer(reply_to, wording.not_yours_to_merge(number, other))
        for t in (a, b):
            if t.state not in ACTIVE_VALUES:
                return answer(reply_to, wording.cannot_merge(t, target=t is a))
        moved = 0
        for row in await self.repo.reporters(b.id):
            if await self.repo.add_reporter(a, reporter_id=row.reporter_id, reporter_name=row.reporter_name,
                                            room_key=row.room_key, message_id=row.message_id, at=self.now):
                moved += 1
        await self.repo.add_event(a, at=self.now, actor=actor.name, action=Action.MERGE.value, from_state=a.state,
                                  to_state=a.state, note=wording.merged_note(b, moved))
        await self._apply(b, Action.MERGE_INTO, State.CLOSED, actor.name, wording.merged_into_note(a))
        a.updated_at = self.now
        return await self.announce.merged(a, b, actor.name, reply_to)

    async def split(self, number: int, actor: Person, *, reply_to: Address | None = None) -> list[Reply]:
        """`#拆分 A`: the reporter who joined A last was about something else; their message gets its own ticket."""
        ticket = await self.repo.find_by_number(number)
        if ticket is None:
            return self.audience.answer(reply_to, wording.not_found(number))
        if not self.may_act(actor, ticket):
            return self.audience.answer(reply_to, wording.not_yours_to(number, "拆分"))
        if ticket.state not in ACTIVE_VALUES:
            return self.audience.answer(reply_to, wording.already(ticket, "不能拆分"))
        rows = await self.repo.reporters(ticket.id)
        if len(rows) < 2:
            return self.audience.answer(reply_to, wording.single_reporter(number))
        row = rows[-1]
        message = await self.repo.message(row.message_id)
        text = message.text if message is not None and message.text else ticket.text
        room_id = message.conversation_id if message is not None and message.conversation_kind == "room" else (
            ticket.room_id if row.room_key == ticket.room_key else None)
        node = (self.tree.node_for_room(room_id=row.room_key, topic=row.room_key) if row.room_key else None) or \
            self.tree.node(ticket.node_code)
        reporter = Reporter(id=row.reporter_id, name=row.reporter_name, room_id=room_id, room_key=row.room_key,
                            node=node, message_row_id=row.message_id)
        await self.repo.remove_reporter(ticket, row)
        category = (message.category if message is not None and message.category else None) or ticket.category
        urgency = (message.urgency if message is not None and message.urgency else None) or ticket.urgency
        new, holder = await self._open(reporter, category, urgency, ticket_location(ticket), text, problem_key(text))
        if message is not None:
            message.ticket_id = new.id
        await self.repo.add_event(ticket, at=self.now, actor=actor.name, action=Action.SPLIT.value,
                                  from_state=ticket.state, to_state=ticket.state,
                                  note=wording.split_note(row.reporter_name, new))
        ticket.updated_at = self.now
        return await self.announce.split(ticket, new, reporter, holder, text, actor.name, reply_to)

    async def reopen_target(self, sender_id: str, room_key: str | None, text: str, *,
                            strong: bool) -> TicketRow | None:
        """The ticket a "还是不亮 / 又坏了" is about: the sender's own awaiting confirmation, or — within
        `reopen_window` after 办结 — one of the group's (anyone may say it; `strong` says the wording is clear)."""
        key = problem_key(text)

        def fits(ticket: TicketRow) -> bool:
            return key is None or ticket.problem_key is None or ticket.problem_key == key

        own = await self.repo.awaiting_confirmation(sender_id, room_key)
        if own is not None and fits(own):
            return own
        if room_key is None or not strong:
            return None
        candidates = [t for t in await self.repo.resolved_in_room_since(
            room_key, self.now - self.settings.reopen_window) if fits(t)]
        if key is None and len(" ".join(text.split())) > 24:
            return None  # a long message naming nothing known: not sure it is about a handled ticket
        if key is not None:  # the same problem named: that one first
            candidates.sort(key=lambda t: t.problem_key != key)
        return candidates[0] if candidates else None

    async def withdraw(self, ticket: TicketRow, sender: str, text: str,
                       answer_to: Address | None = None) -> list[Reply]:
        """The reporter's own "看错了 / 没事了 / 已经好了": cancel (not yet accepted) or close, and tell those alerted."""
        quote = short_text(text, 30)
        if (ticket.reporter_count or 1) > 1:
            await self.repo.add_event(ticket, at=self.now, actor=sender, action=Action.MERGE.value,
                                      from_state=ticket.state, to_state=ticket.state,
                                      note=wording.resident_said(quote))
            return [Reply(answer_to or self.reporter_address(ticket), wording.others_still_report(ticket),
                          kind="ticket_status", ref=f"ticket:{ticket.id}")]
        action = Action.CANCEL if ticket.state == State.NEW.value else Action.CLOSE
        new_state = next_state(ticket.state, action)
        await self._apply(ticket, action, new_state, sender, wording.resident_said(quote))
        return await self.announce.withdrawn(ticket, action, quote)

    # -- escalation and the clock -----------------------------------------------------------------

    async def escalate(self, ticket: TicketRow, *, actor_name: str, note: str = "", manual: bool = False,
                       answer_to: Address | None = None) -> list[Reply]:
        """Pass the ticket one tier up: a new owner, a fresh deadline, and everyone told."""
        refusal = self._no_escalation(ticket)
        if refusal is not None:
            return self.audience.answer(answer_to, refusal)
        replies, alert, who = await self._escalate(ticket, actor_name=actor_name, note=note)
        if alert is not None:
            replies.append(self.audience.alert_reply([alert]))
        if manual and answer_to is not None and answer_to != self.reporter_address(ticket):
            replies.append(Reply(answer_to, wording.escalated_ack(ticket, who), kind="ticket_ack"))
        return replies

    def _no_escalation(self, ticket: TicketRow) -> str | None:
        """Why the ticket cannot go up (closed, or already at the top), else None."""
        if ticket.state not in OPEN_VALUES:
            return wording.already(ticket, "不用上报")
        if ticket.escalation_level >= max_level(self.tree, ticket.node_code):
            ticket.next_check_at = None  # already at the top: stays overdue, nothing higher to tell
            return wording.at_the_top(ticket, self.tree.node(self.tree.roots[0]).name)
        return None

    async def _escalate(self, ticket: TicketRow, *, actor_name: str, note: str = "",
                        picked: tuple[Assignment, list[tuple[Holder, str]]] | None = None,
                        ) -> tuple[list[Reply], EscalationAlert | None, str]:
        """The escalation itself and the reporter's line; the new holder's alert is returned to be sent
        alone or in a batch, with who now has it."""
        assignment, skipped = picked or await self.audience.pick_up(ticket, self.now)
        holder = assignment.holder
        stage = escalation_stage(ticket.state)
        sla = self.settings.sla
        limits = sla.limits_for(ticket.urgency, ticket.category)
        limit = limits.accept if stage == "accept" else limits.resolve
        _set(ticket, plan_escalation(TicketSnapshot.of(ticket), assignment, limit, self.now,
                                     due=sla.due(limit, self.now)))
        reason = note or wording.overdue_reason(stage)
        await self.repo.add_event(ticket, at=self.now, actor=actor_name, action=Action.ESCALATE.value,
                                  from_state=ticket.state, to_state=ticket.state,
                                  note=wording.escalated_note(reason, assignment.node.name, holder))
        await self._record_skips(ticket, skipped, holder)
        who = wording.escalated_to(assignment.node.name, holder)
        replies = self.announce.escalated(ticket, reason, who)
        alert = None
        if holder is not None:
            address = await self.reach(holder.person, near=(holder.node.code, assignment.node.code, ticket.node_code))
            if address is not None:
                alert = EscalationAlert(ticket, holder, address, reason, limit)
        return replies, alert, who

    async def check_deadlines(self) -> list[Reply]:
        """Escalate every open ticket whose deadline has passed; hold non-urgent ones in quiet hours.

        A handler gets at most one escalation message per `escalation_batch` (see AlertBatch)."""
        replies: list[Reply] = []
        sla = self.settings.sla
        window = self.settings.escalation_batch
        batch = AlertBatch(self.audience, self.now, window)
        for ticket in await self.repo.due_for_check(self.now):
            if ticket.due_at is not None and ticket.due_at <= self.now:
                ticket.breached = True
            announce_at = sla.when_to_announce(ticket.urgency, self.now)
            if announce_at > self.now:
                ticket.next_check_at = announce_at
                continue
            if not window or ticket.urgency == "urgent" or self._no_escalation(ticket) is not None:
                replies.extend(await self.escalate(ticket, actor_name=wording.SYSTEM))
                continue
            picked = await self.audience.pick_up(ticket, self.now)
            holder = picked[0].holder
            if holder is not None:
                held = await batch.held_until(holder)
                if held is not None:
                    ticket.next_check_at = held  # told of another a moment ago: comes with the next list
                    continue
            ticket_replies, alert, _who = await self._escalate(ticket, actor_name=wording.SYSTEM, picked=picked)
            replies.extend(ticket_replies)
            if alert is not None:
                batch.add(alert)
        return replies + batch.replies()

    async def auto_close(self) -> list[Reply]:
        """Resolved tickets nobody answered for `auto_close_after` are closed."""
        replies: list[Reply] = []
        cutoff = self.now - self.settings.auto_close_after
        for ticket in await self.repo.resolved_before(cutoff):
            replies.extend(await self._transition(ticket, Action.CONFIRM, State.CLOSED, wording.SYSTEM,
                                                  wording.auto_closed(self.settings.auto_close_after), None))
        return replies

    # -- views -------------------------------------------------------------------------------------

    def plain_status(self, ticket: TicketRow) -> str:
        """A resident's question answered in plain words first: '还没修好。已受理，钱老师负责。'"""
        return wording.plain_status(ticket, self.holder_of(ticket))

    def describe(self, ticket: TicketRow, *, with_text: bool = True) -> str:
        """The ticket's card, as `查询` shows it."""
        return wording.describe(ticket, self.holder_of(ticket), tz=self.config.tz, now=self.now, with_text=with_text)

    async def overview(self, person: Person) -> str:
        """`#工单`: open tickets in the person's subtrees, overdue first."""
        codes = [code for code, role in self.directory.positions(person.key)
                 if role in self.config.roles and self.config.roles[role].handles]
        tops = [c for c in codes if not any(c != o and self.tree.is_within(c, o) for o in codes)]
        if not tops:
            return wording.NO_GRIDS
        lines: list[str] = []
        total = 0
        for code in tops:
            rows, count = await self.repo.open_in_subtree(node_path(self.tree, code), now=self.now, limit=10)
            total += count
            lines.extend(wording.overview_section(self.tree.node(code).name, code, count, rows, self.now))
        if total == 0:
            return wording.ALL_CLEAR
        return "\n".join(lines)
