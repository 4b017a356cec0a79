"""The ticket desk: every ticket action, used by chat commands, jobs and (later) the web console.

Each method works inside the caller's unit of work and returns the replies to queue, so the same
action taken from chat or from the console tells the same groups the same thing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.domain.grid import GridNode, Person, node_path
from bot.domain.parsing.parser import Location
from bot.domain.people import Directory, Holder
from bot.domain.problems import problem_key
from bot.domain.reach import choose_room, config_rooms, is_party, safety_advice
from bot.domain.sla import format_duration
from bot.domain.tickets import (
    ACTIVE_STATES,
    CATEGORY_NAMES,
    OPEN_STATES,
    STATE_NAMES,
    Action,
    State,
    URGENCY_NAMES,
    Assignment,
    TransitionError,
    assign,
    is_overdue,
    max_level,
    next_state,
)
from bot.messages import Address, Reply
from storage.models import MessageRow, TicketRow
from storage.repositories import MemberRepository
from storage.ticket_repository import CounterRepository, TicketRepository

_LOGGER = logging.getLogger(__name__)

ACTION_NAMES = {
    Action.ACCEPT: "已受理", Action.RESOLVE: "已办结", Action.CONFIRM: "已确认解决并关闭", Action.REOPEN: "已重新打开",
    Action.CLOSE: "已关闭", Action.CANCEL: "已撤销", Action.ESCALATE: "已上报", Action.REASSIGN: "已转派",
    Action.MERGE_INTO: "已合并", Action.SPLIT: "已拆分",
}
TICKET_PRIORITY = {"urgent": 0, "normal": 3, "low": 4}
SKIP_REASONS = {"unreachable": "无法联系（没有微信号，也不在任何群里）", "party": "是反映问题的当事人，回避"}


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


def location_text(ticket: TicketRow) -> str:
    parts = "".join(p for p in (ticket.building and f"{ticket.building}号楼", ticket.unit and f"{ticket.unit}单元",
                                ticket.room_no and f"{ticket.room_no}室") if p)
    return "，".join(p for p in (parts, ticket.place) if p)


def ticket_location(ticket: TicketRow) -> Location:
    """The ticket's location as a parse gives it (for a ticket split off another)."""
    return Location(ticket.building, ticket.unit, ticket.room_no, ticket.place)


def short_text(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def wording_assigned(ticket: TicketRow, tree: Any, what: str, limit: timedelta) -> str:
    """The line a handler gets for a new ticket where they are (not in the reporter's group)."""
    origin = tree.node(ticket.node_code).name if ticket.node_code in tree else ticket.node_code
    where = location_text(ticket)
    return (f"新工单 #{ticket.number} 派给您：{origin}·{what}{'，' + where if where else ''}：{short_text(ticket.text)}。"
            f"请在{format_duration(limit)}内受理，回复“#受理 {ticket.number}”。")


def local_time(moment: datetime | None, tz: Any) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(tz).strftime("%m月%d日 %H:%M")


class TicketDesk:
    """Ticket actions for one unit of work."""

    def __init__(self, session: AsyncSession, config: Config, directory: Directory, now: datetime,
                 recent_image: Any = None) -> None:
        self.session = session
        self.config = config
        self.directory = directory
        self.now = now
        self.repo = TicketRepository(session)
        self.settings = config.tickets
        self.tree = config.tree
        self.recent_image = recent_image  # optional hint: skip looking for photos nobody sent
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
        if ticket.room_id:
            return Address.room(ticket.room_id)
        return Address.contact(ticket.reporter_id)

    def holder_of(self, ticket: TicketRow) -> Holder | None:
        if ticket.assignee and ticket.assignee in self.config.people:
            person = self.config.people[ticket.assignee]
            node = self.tree.node(ticket.assignee_node) if ticket.assignee_node in self.tree else self.tree.node(
                ticket.node_code)
            role = next((r for c, r in self.directory.positions(person.key) if c == node.code), "负责人")
            return Holder(person, role, node)
        return None

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
            configured = {room.key for room in self.tree.rooms()}
            self._member_rooms[person.key] = {key for key in found if key in configured}
        return self._member_rooms[person.key]

    async def reach(self, person: Person, *, first: str | None = None, near: Sequence[str] = ()) -> Address | None:
        """Where to tell the person: a group they are in (`first` if so, else nearest `near`), else privately by
        their contact id; None when neither is possible."""
        room = choose_room(self.tree, await self.member_rooms(person), first=first,
                           near=[c for c in near if c in self.tree])
        if room is not None:
            return Address.room(room)
        ids = self.directory.contact_ids(person.key)
        return Address.contact(ids[0]) if ids else None

    def _tell(self, address: Address, person: Person, line: str, **reply: Any) -> Reply:
        """A line for one person: @-ed in a group, plain in a private chat."""
        if address.is_room:
            return Reply(address, f"@{person.name} {line}", (self.person_id(person),), **reply)
        return Reply(address, line, (), **reply)

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

    async def _record_skips(self, ticket: TicketRow, skipped: list[tuple[Holder, str]], holder: Holder | None) -> None:
        to = f" → {holder.person.name}（{holder.role}）" if holder else " → 暂无可联系的负责人"
        for passed, why in skipped:
            await self.repo.add_event(ticket, at=self.now, actor="系统", action="reroute", from_state=ticket.state,
                                      to_state=ticket.state,
                                      note=f"{passed.person.name}（{passed.role}）{SKIP_REASONS[why]}{to}")

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
            if added:
                await self.repo.add_event(merged_into, at=self.now, actor=reporter.name, action=Action.MERGE.value,
                                          from_state=merged_into.state, to_state=merged_into.state,
                                          note=short_text(text, 200))
            await self._attach_loose_images(merged_into, reporter)
            holder = self.holder_of(merged_into)
            who = ""
            if holder is not None:  # "正在跟进" only once someone has taken it on, never beside "待受理"
                following = merged_into.state == State.ACCEPTED.value
                who = f"，{holder.person.name}（{holder.role}）{'正在跟进' if following else '负责'}"
            if added:
                line = (f"同样的问题已有工单 #{merged_into.number}（{STATE_NAMES[State(merged_into.state)]}），"
                        f"已把您加入，共 {merged_into.reporter_count} 人反映{who}。")
            else:
                line = f"您已反映过这个问题，工单 #{merged_into.number}（{STATE_NAMES[State(merged_into.state)]}）{who}。"
            return merged_into, True, [self._to_reporter(reporter, line, kind="ticket_merge",
                                                         ref=f"ticket:{merged_into.id}")]
        ticket, holder = await self._open(reporter, category, urgency, loc, text, key, mentions=mentions)
        return ticket, False, await self._opened_replies(ticket, reporter, holder, parse)

    async def _open(self, reporter: Reporter, category: str, urgency: str, loc: Any, text: str,
                    key: str | None, *, mentions: Sequence[str] = ()) -> tuple[TicketRow, Holder | None]:
        number = await CounterRepository(self.session).next("ticket", start=self.settings.first_number)
        prefer = self.settings.routing.get(category)
        def party(holder: Holder) -> bool:
            return is_party(holder.person, holder.role, category=category, text=text, mentions=mentions,
                            contact_ids=self.directory.contact_ids(holder.person.key))

        assignment, skipped = await self.pick(reporter.node.code, 0, prefer_role=prefer, party=party)
        holder = assignment.holder
        due = self.settings.sla.deadline("accept", urgency, category, self.now)
        fields = dict(
            state=State.NEW.value, category=category, urgency=urgency, node_code=reporter.node.code,
            node_path=node_path(self.tree, reporter.node.code), room_key=reporter.room_key, room_id=reporter.room_id,
            text=text, location=loc.to_dict() if hasattr(loc, "to_dict") else None,
            building=getattr(loc, "building", None), unit=getattr(loc, "unit", None),
            room_no=getattr(loc, "room", None), place=(getattr(loc, "place", None) or None), problem_key=key,
            assignee=holder.person.key if holder else None, assignee_node=holder.node.code if holder else None,
            due_at=due, next_check_at=due, escalation_level=assignment.level,
        )
        ticket = await self.repo.create(number=number, fields=fields, reporter_id=reporter.id,
                                        reporter_name=reporter.name, message_id=reporter.message_row_id, at=self.now)
        await self.repo.add_event(ticket, at=self.now, actor=reporter.name, action="open", from_state=None,
                                  to_state=State.NEW.value, note=short_text(text, 200))
        await self._record_skips(ticket, skipped, holder)
        await self._attach_loose_images(ticket, reporter)
        return ticket, holder

    async def _merge_target(self, reporter: Reporter, key: str | None, loc: Any, me_too: bool) -> TicketRow | None:
        """The same thing in the same state (bot.domain.problems), or the group's report a "+1" follows."""
        return await self.repo.find_duplicate(
            room_key=reporter.room_key, node_code=reporter.node.code, problem_key=key,
            building=getattr(loc, "building", None), unit=getattr(loc, "unit", None),
            room_no=getattr(loc, "room", None), since=self.now - self.settings.merge_window, me_too=me_too,
            echo_since=self.now - self.settings.me_too_window)

    async def _opened_replies(self, ticket: TicketRow, reporter: Reporter, holder: Holder | None,
                              parse: Any = None) -> list[Reply]:
        tz = self.config.tz
        what = f"{CATEGORY_NAMES.get(ticket.category, ticket.category)}·{URGENCY_NAMES.get(ticket.urgency)}"
        where = location_text(ticket)
        limits = self.settings.sla.limits_for(ticket.urgency, ticket.category)
        priority = TICKET_PRIORITY.get(ticket.urgency, 3)
        urgent = ticket.urgency == "urgent"
        text = ""
        if urgent:
            advice = safety_advice(self.settings.safety_advice, category=ticket.category,
                                   category_name=CATEGORY_NAMES.get(ticket.category),
                                   explanation=tuple(getattr(parse, "explanation", ()) or ()), text=ticket.text)
            if advice:
                text += f"⚠️{advice.rstrip('。！!')}。"
        text += f"已登记为工单 #{ticket.number}（{what}{'，' + where if where else ''}）。"
        mentions: list[str] = []
        extra: list[Reply] = []
        if holder is not None:
            at = await self.reach(holder.person, first=ticket.room_key if ticket.room_id else None,
                                  near=(holder.node.code, ticket.node_code))
            here = at is not None and ticket.room_id is not None and at == Address.room(ticket.room_key or "")
            if here:
                text += f"由 @{holder.person.name}（{holder.role}）负责"
                mentions.append(self.person_id(holder.person))
            else:
                text += f"由 {holder.person.name}（{holder.role}）负责，已通知本人"
                if at is not None:
                    extra.append(self._tell(at, holder.person, wording_assigned(ticket, self.tree, what, limits.accept),
                                            priority=priority, kind="ticket_assign", ref=f"ticket:{ticket.id}"))
            text += f"，{format_duration(limits.accept)}内受理（{local_time(ticket.due_at, tz)}前）。"
        else:
            text += "暂无负责人，已转社区。"
        upper = self.upper_room(ticket)
        alerts: list[Reply] = []
        if urgent and upper is not None:
            # urgent: the tier above hears at once, whatever the hour
            upper_node, address = upper
            boss = self.directory.responsible(upper_node.code)
            line = (f"【紧急】工单 #{ticket.number} {reporter.node.name}：{short_text(ticket.text)}"
                    f"（{what}）。负责人：{holder.person.name if holder else '待定'}。")
            boss_mentions: tuple[str, ...] = ()
            told = upper_node.name
            if boss is not None and (holder is None or boss.person.key != holder.person.key):
                told = f"{boss.person.name}（{boss.role}）"
                boss_at = await self.reach(boss.person, first=address.id, near=(boss.node.code, upper_node.code))
                if boss_at == address:
                    line += f" @{boss.person.name} 请关注。"
                    boss_mentions = (self.person_id(boss.person),)
                elif boss_at is not None:
                    alerts.append(self._tell(boss_at, boss.person, line + "请关注。", priority=0, kind="ticket_urgent",
                                             ref=f"ticket:{ticket.id}"))
            alerts.insert(0, Reply(address, line, boss_mentions, priority=0, kind="ticket_urgent",
                                   ref=f"ticket:{ticket.id}"))
            text += f"已同时通知 {told}。"
        elif self.settings.relay == "all" and upper is not None:
            alerts.append(Reply(upper[1], f"[新工单 #{ticket.number}] {reporter.node.name}：{short_text(ticket.text)}"
                                f"（{what}）→ {holder.person.name if holder else '待定'}",
                                priority=priority + 2, kind="ticket_relay", ref=f"ticket:{ticket.id}"))
        text += f"查进度请发“查询 {ticket.number}”。"
        replies = [self._to_reporter(reporter, text, extra_mentions=mentions, kind="ticket_open",
                                     ref=f"ticket:{ticket.id}", priority=priority)]
        return replies + extra + alerts

    def _to_reporter(self, reporter: Reporter, text: str, *, extra_mentions: list[str] | None = None,
                     kind: str = "reply", ref: str | None = None, priority: int = 3) -> Reply:
        if reporter.room_id is None:
            return Reply(Address.contact(reporter.id), text, (), priority=priority, kind=kind, ref=ref)
        mentions = (reporter.id, *(extra_mentions or ()))
        return Reply(Address.room(reporter.room_id), f"@{reporter.name} {text}", tuple(dict.fromkeys(mentions)),
                     priority=priority, kind=kind, ref=ref)

    async def _attach_loose_images(self, ticket: TicketRow, reporter: Reporter) -> None:
        if reporter.room_key is None:
            return
        if self.recent_image is not None and not self.recent_image(reporter.id, reporter.room_key):
            return
        since = self.now - self.settings.photo_window
        for image in await self.repo.loose_images(reporter.id, reporter.room_key, since):
            image.ticket_id = ticket.id
            await self.repo.add_event(ticket, at=self.now, actor=reporter.name, action=Action.ATTACH.value,
                                      from_state=ticket.state, to_state=ticket.state, note=image.attachment)

    async def attach_image(self, image: MessageRow, payload: bytes | None) -> TicketRow | None:
        """An image: keep the file, and attach it to the sender's ticket from the last few minutes, if any."""
        if payload:
            image.attachment = self._save_attachment(image, payload)
        if image.room_key is None:
            return None
        ticket = await self.repo.recent_by_reporter_in_room(image.sender_id, image.room_key,
                                                            self.now - self.settings.photo_window)
        if ticket is None:
            return None  # may still join a report that follows within the window
        image.ticket_id = ticket.id
        await self.repo.add_event(ticket, at=self.now, actor=image.sender_name, action=Action.ATTACH.value,
                                  from_state=ticket.state, to_state=ticket.state, note=image.attachment)
        return ticket

    def _save_attachment(self, image: MessageRow, payload: bytes) -> str:
        base = Path(self.settings.attachments_dir)
        if not base.is_absolute():
            base = self.config.base_dir / base
        day = self.now.strftime("%Y%m%d")
        kind = "png" if payload.startswith(b"\x89PNG") else "gif" if payload.startswith(b"GIF8") else "jpg"
        path = base / day / f"msg{image.id}.{kind}"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(payload)
        except OSError as exc:  # keep the message; the picture is lost but say so
            _LOGGER.error("could not save attachment %s: %s", path, exc)
            return f"unsaved:{exc.strerror}"
        return str(path.relative_to(self.config.base_dir)) if path.is_relative_to(self.config.base_dir) else str(path)

    # -- actions by people --------------------------------------------------------------------------

    async def act(self, number: int, action: Action, actor: Person | None, *, note: str = "",
                  target: str | None = None, reply_to: Address | None = None,
                  resident: str | None = None) -> list[Reply]:
        """A leader (or the reporter, for confirm/reopen) acts on a ticket. Refusals are replies too."""
        ticket = await self.repo.find_by_number(number)
        answer_to = reply_to
        if ticket is None:
            return self._answer(answer_to, f"没有找到工单 #{number}，请核对编号。")
        if action not in (Action.CONFIRM, Action.REOPEN) or actor is not None:
            if not self.may_act(actor, ticket):
                return self._answer(answer_to, f"抱歉，工单 #{number} 不在您负责的范围内，不能操作。"
                                    "如需处理请联系该网格负责人。")
        actor_name = actor.name if actor else resident or "系统"  # a resident's own word is theirs, not the system's
        if action == Action.ESCALATE:
            return await self.escalate(ticket, actor_name=actor_name, note=note, manual=True, answer_to=answer_to)
        if action == Action.REASSIGN:
            return await self._reassign(ticket, actor_name, target or "", answer_to)
        try:
            new_state = next_state(ticket.state, action)
        except TransitionError:
            return self._answer(answer_to, f"工单 #{number} 现在是“{STATE_NAMES[State(ticket.state)]}”，"
                                f"不能{_verb(action)}。")
        return await self._transition(ticket, action, new_state, actor_name, note, answer_to)

    async def _transition(self, ticket: TicketRow, action: Action, new_state: State, actor_name: str, note: str,
                          answer_to: Address | None) -> list[Reply]:
        await self._apply(ticket, action, new_state, actor_name, note)
        replies = await self._announce(ticket, action, actor_name, note, answer_to)
        if action == Action.REOPEN:
            replies = await self._tell_holder(ticket, replies, f"工单 #{ticket.number}（{short_text(ticket.text, 24)}）"
                                        f"已重新打开{'：' + note if note else ''}，请再处理。")
        return replies

    async def _apply(self, ticket: TicketRow, action: Action, new_state: State, actor_name: str, note: str) -> None:
        """The state change and its timeline step, without telling anyone."""
        old = ticket.state
        ticket.state = new_state.value
        ticket.updated_at = self.now
        if new_state == State.ACCEPTED:
            if ticket.accepted_at is None:
                ticket.accepted_at = self.now
                ticket.accept_seconds = int((self.now - ticket.created_at).total_seconds())
            ticket.due_at = max(self.settings.sla.deadline("resolve", ticket.urgency, ticket.category,
                                                           ticket.created_at), self.now)
            ticket.next_check_at = ticket.due_at
        elif new_state == State.RESOLVED:
            ticket.resolved_at, ticket.resolution = self.now, note or None
            if ticket.resolve_seconds is None:
                ticket.resolve_seconds = int((self.now - ticket.created_at).total_seconds())
            ticket.due_at = ticket.next_check_at = None
        elif new_state in (State.CLOSED, State.CANCELLED):
            ticket.closed_at = self.now
            ticket.due_at = ticket.next_check_at = None
        elif new_state == State.REOPENED:
            ticket.resolved_at = ticket.closed_at = None
            ticket.due_at = self.settings.sla.deadline("accept", ticket.urgency, ticket.category, self.now)
            ticket.next_check_at = ticket.due_at
        await self.repo.add_event(ticket, at=self.now, actor=actor_name, action=action.value, from_state=old,
                                  to_state=new_state.value, note=note or None)

    async def _tell_holder(self, ticket: TicketRow, replies: list[Reply], line: str) -> list[Reply]:
        """Make sure the ticket's handler hears: in their own group, or @ in the reporter's message."""
        holder = self.holder_of(ticket)
        if holder is None:
            return replies
        own = await self._notify_holder(ticket, holder, line)
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

    async def _announce(self, ticket: TicketRow, action: Action, actor_name: str, note: str,
                        answer_to: Address | None) -> list[Reply]:
        """Tell the reporter's group (and the tier above, compactly); the actor sees it there or privately."""
        summary = f"工单 #{ticket.number}（{short_text(ticket.text, 24)}）{ACTION_NAMES[action]}"
        detail = f"：{note}" if note else ""
        reporters = await self.repo.reporters(ticket.id)
        room_reporters = [r for r in reporters if r.room_key == ticket.room_key] if ticket.room_id else []
        replies: list[Reply] = []
        to_reporter = self.reporter_address(ticket)
        mentions = tuple(r.reporter_id for r in room_reporters[:20]) if ticket.room_id else ()
        names = " ".join(f"@{r.reporter_name}" for r in room_reporters[:20])
        line = f"{names} {summary}（{actor_name}）{detail}。".strip()
        if action == Action.RESOLVE:
            line += "问题解决了吗？回复“好了”确认，回复“还没修好”会重新处理；" \
                    f"{format_duration(self.settings.auto_close_after)}内没有回复将自动关闭。"
        priority = TICKET_PRIORITY.get(ticket.urgency, 3)
        replies.append(Reply(to_reporter, line, mentions, priority=priority, kind="ticket_status",
                             ref=f"ticket:{ticket.id}"))
        if answer_to is not None and answer_to != to_reporter:
            replies.append(Reply(answer_to, f"好的，{summary}{detail}。", priority=priority, kind="ticket_ack",
                                 ref=f"ticket:{ticket.id}"))
        upper = self.upper_room(ticket)
        relay = self.settings.relay
        if upper is not None and (relay == "all" or (relay == "urgent_escalated" and (
                ticket.urgency == "urgent" or ticket.escalated))) and upper[1] not in (to_reporter, answer_to):
            replies.append(Reply(upper[1], f"[工单 #{ticket.number}] {ACTION_NAMES[action]}（{actor_name}）"
                                 f"{detail}", priority=priority + 2, kind="ticket_relay", ref=f"ticket:{ticket.id}"))
        return replies

    async def _reassign(self, ticket: TicketRow, actor_name: str, target: str,
                        answer_to: Address | None) -> list[Reply]:
        target = target.strip().lstrip("@")
        holder: Holder | None = None
        if target in self.tree:
            holder = self.directory.responsible(target)
        else:
            person = self.directory.find(target)
            if person is not None:
                positions = self.directory.positions(person.key)
                node = self.tree.node(positions[0][0]) if positions else self.tree.node(ticket.node_code)
                holder = Holder(person, positions[0][1] if positions else "负责人", node)
        if holder is None:
            return self._answer(answer_to, f"没有找到“{target[:20]}”。请写人员姓名或网格编码，例如 #转派 "
                                f"{ticket.number} 何警官")
        if ticket.state not in {s.value for s in OPEN_STATES}:
            return self._answer(answer_to, f"工单 #{ticket.number} 已{STATE_NAMES[State(ticket.state)]}，不能转派。")
        ticket.assignee, ticket.assignee_node = holder.person.key, holder.node.code
        ticket.updated_at = self.now
        await self.repo.add_event(ticket, at=self.now, actor=actor_name, action=Action.REASSIGN.value,
                                  from_state=ticket.state, to_state=ticket.state, note=f"→ {holder.person.name}")
        replies = await self._announce(ticket, Action.REASSIGN, actor_name, f"转给 {holder.person.name}（{holder.role}）",
                                       answer_to)
        replies.extend(await self._notify_holder(ticket, holder,
                                                 f"工单 #{ticket.number} 转派给您：{short_text(ticket.text)}"))
        return replies

    async def _notify_holder(self, ticket: TicketRow, holder: Holder, line: str) -> list[Reply]:
        """Tell the person where they are (a group they are in, else privately), unless the reporter's group,
        which the announcement already told."""
        address = await self.reach(holder.person, near=(holder.node.code, ticket.node_code))
        if address is None:
            return []
        if address.is_room and ticket.room_id and address.id in (ticket.room_key, ticket.room_id):
            return []
        return [self._tell(address, holder.person, line, priority=TICKET_PRIORITY.get(ticket.urgency, 3),
                           kind="ticket_assign", ref=f"ticket:{ticket.id}")]

    def _answer(self, to: Address | None, text: str) -> list[Reply]:
        return [Reply(to, text, kind="ticket_answer")] if to is not None else []

    # -- the same problem, or not -------------------------------------------------------------------

    async def merge(self, number: int, other: int | None, actor: Person, *,
                    reply_to: Address | None = None) -> list[Reply]:
        """`#合并 A B`: B is the same problem as A; its reporters join A and B closes as merged."""
        if other is None:
            return self._answer(reply_to, "请写两个工单号，例如：#合并 1024 1025（把 1025 并入 1024）")
        a, b = await self.repo.find_by_number(number), await self.repo.find_by_number(other)
        for n, t in ((number, a), (other, b)):
            if t is None:
                return self._answer(reply_to, f"没有找到工单 #{n}，请核对编号。")
        assert a is not None and b is not None
        if a.id == b.id:
            return self._answer(reply_to, "请写两个不同的工单号。")
        if not (self.may_act(actor, a) and self.may_act(actor, b)):
            return self._answer(reply_to, f"抱歉，工单 #{number} 或 #{other} 不在您负责的范围内，不能合并。")
        active = {s.value for s in ACTIVE_STATES}
        for t in (a, b):
            if t.state not in active:
                return self._answer(reply_to, f"工单 #{t.number} 已{STATE_NAMES[State(t.state)]}，不能合并"
                                    + ("（可先 #重开）。" if t is a else "。"))
        moved = 0
        for row in await self.repo.reporters(b.id):
            if await self.repo.add_reporter(a, reporter_id=row.reporter_id, reporter_name=row.reporter_name,
                                            room_key=row.room_key, message_id=row.message_id, at=self.now):
                moved += 1
        await self.repo.add_event(a, at=self.now, actor=actor.name, action=Action.MERGE.value, from_state=a.state,
                                  to_state=a.state, note=f"并入工单 #{b.number}（{moved} 人）")
        await self._apply(b, Action.MERGE_INTO, State.CLOSED, actor.name, f"并入工单 #{a.number}")
        a.updated_at = self.now
        priority = TICKET_PRIORITY.get(a.urgency, 3)
        to_a, to_b = self.reporter_address(a), self.reporter_address(b)
        line_a = (f"工单 #{b.number}（{short_text(b.text, 24)}）与 #{a.number}（{short_text(a.text, 24)}）是同一问题，"
                  f"已合并到 #{a.number}，共 {a.reporter_count} 人反映（{actor.name}）。")
        b_reporters = await self.repo.reporters(b.id)
        mentions = tuple(r.reporter_id for r in b_reporters[:20]) if b.room_id else ()
        names = " ".join(f"@{r.reporter_name}" for r in b_reporters[:20]) if b.room_id else ""
        line_b = (f"{names} 您反映的工单 #{b.number} 与工单 #{a.number} 是同一问题，已合并，"
                  f"后续进度请发“查询 {a.number}”。").strip()
        replies = [Reply(to_a, line_a, priority=priority, kind="ticket_status", ref=f"ticket:{a.id}")]
        if to_b == to_a:
            replies = [Reply(to_a, f"{line_a}\n{line_b}", mentions, priority=priority, kind="ticket_status",
                             ref=f"ticket:{a.id}")]
        else:
            replies.append(Reply(to_b, line_b, mentions, priority=priority, kind="ticket_status",
                                 ref=f"ticket:{b.id}"))
        if reply_to is not None and reply_to not in (to_a, to_b):
            replies.append(Reply(reply_to, f"好的，工单 #{b.number} 已并入 #{a.number}（共 {a.reporter_count} 人反映）。",
                                 priority=priority, kind="ticket_ack", ref=f"ticket:{a.id}"))
        return replies

    async def split(self, number: int, actor: Person, *, reply_to: Address | None = None) -> list[Reply]:
        """`#拆分 A`: the reporter who joined A last was about something else; their message gets its own ticket."""
        ticket = await self.repo.find_by_number(number)
        if ticket is None:
            return self._answer(reply_to, f"没有找到工单 #{number}，请核对编号。")
        if not self.may_act(actor, ticket):
            return self._answer(reply_to, f"抱歉，工单 #{number} 不在您负责的范围内，不能拆分。")
        if ticket.state not in {s.value for s in ACTIVE_STATES}:
            return self._answer(reply_to, f"工单 #{number} 已{STATE_NAMES[State(ticket.state)]}，不能拆分。")
        rows = await self.repo.reporters(ticket.id)
        if len(rows) < 2:
            return self._answer(reply_to, f"工单 #{number} 只有一位反映人，没有可拆分的。")
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
                                  note=f"{row.reporter_name} 的反映另立为工单 #{new.number}")
        ticket.updated_at = self.now
        replies = await self._opened_replies(new, reporter, holder)
        priority = TICKET_PRIORITY.get(ticket.urgency, 3)
        replies.insert(0, Reply(self.reporter_address(ticket),
                                f"工单 #{ticket.number}：{row.reporter_name} 反映的“{short_text(text, 24)}”是另一个问题，"
                                f"已另立为工单 #{new.number}（{actor.name}）。#{ticket.number} 现有 "
                                f"{ticket.reporter_count} 人反映。", priority=priority, kind="ticket_status",
                                ref=f"ticket:{ticket.id}"))
        if reply_to is not None and reply_to not in {r.to for r in replies}:
            replies.append(Reply(reply_to, f"好的，已从工单 #{ticket.number} 拆出工单 #{new.number}。",
                                 priority=priority, kind="ticket_ack", ref=f"ticket:{new.id}"))
        return replies

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
                                      from_state=ticket.state, to_state=ticket.state, note=f"居民说：{quote}")
            line = (f"好的，已记下。工单 #{ticket.number} 还有其他 {ticket.reporter_count - 1} 人反映，"
                    "负责人会继续核实。")
            return [Reply(answer_to or self.reporter_address(ticket), line, kind="ticket_status",
                          ref=f"ticket:{ticket.id}")]
        action = Action.CANCEL if ticket.state == State.NEW.value else Action.CLOSE
        new_state = next_state(ticket.state, action)
        await self._apply(ticket, action, new_state, sender, f"居民说：{quote}")
        done = "已撤销" if action == Action.CANCEL else "已关闭"
        priority = TICKET_PRIORITY.get(ticket.urgency, 3)
        to_reporter = self.reporter_address(ticket)
        mentions: tuple[str, ...] = (ticket.reporter_id,) if ticket.room_id else ()
        prefix = f"@{ticket.reporter_name} " if ticket.room_id else ""
        replies = [Reply(to_reporter, f"{prefix}好的，工单 #{ticket.number} {done}，谢谢告知。", mentions,
                         priority=priority, kind="ticket_status", ref=f"ticket:{ticket.id}")]
        note = f"工单 #{ticket.number}（{short_text(ticket.text, 24)}）居民说“{quote}”，{done}，不用再处理。"
        replies = await self._tell_holder(ticket, replies, note)
        upper = self.upper_room(ticket)
        if upper is not None and (ticket.urgency == "urgent" or ticket.escalated or self.settings.relay == "all") \
                and upper[1] not in {r.to for r in replies}:
            replies.append(Reply(upper[1], f"[工单 #{ticket.number}] {note}", priority=priority,
                                 kind="ticket_relay", ref=f"ticket:{ticket.id}"))
        return replies

    # -- escalation and the clock -----------------------------------------------------------------

    async def escalate(self, ticket: TicketRow, *, actor_name: str, note: str = "", manual: bool = False,
                       answer_to: Address | None = None) -> list[Reply]:
        """Pass the ticket one tier up: a new owner, a fresh deadline, and everyone told."""
        refusal = self._no_escalation(ticket)
        if refusal is not None:
            return self._answer(answer_to, refusal)
        replies, alert, who = await self._escalate(ticket, actor_name=actor_name, note=note)
        if alert is not None:
            replies.append(self._alert_reply([alert]))
        if manual and answer_to is not None and answer_to != self.reporter_address(ticket):
            replies.append(Reply(answer_to, f"好的，工单 #{ticket.number} 已上报至{who}。", kind="ticket_ack"))
        return replies

    def _no_escalation(self, ticket: TicketRow) -> str | None:
        """Why the ticket cannot go up (closed, or already at the top), else None."""
        if ticket.state not in {s.value for s in OPEN_STATES}:
            return f"工单 #{ticket.number} 已{STATE_NAMES[State(ticket.state)]}，不用上报。"
        if ticket.escalation_level >= max_level(self.tree, ticket.node_code):
            ticket.next_check_at = None  # already at the top: stays overdue, nothing higher to tell
            return f"工单 #{ticket.number} 已在最高一级（{self.tree.node(self.tree.roots[0]).name}）。"
        return None

    async def _escalate(self, ticket: TicketRow, *, actor_name: str, note: str = "",
                        picked: tuple[Assignment, list[tuple[Holder, str]]] | None = None,
                        ) -> tuple[list[Reply], EscalationAlert | None, str]:
        """The escalation itself and the reporter's line; the new holder's alert is returned to be sent
        alone or in a batch, with who now has it."""
        assignment, skipped = picked or await self.pick(ticket.node_code, ticket.escalation_level + 1)
        holder = assignment.holder
        level = assignment.level
        stage = "accept" if ticket.state in (State.NEW.value, State.REOPENED.value) else "resolve"
        limits = self.settings.sla.limits_for(ticket.urgency, ticket.category)
        limit = limits.accept if stage == "accept" else limits.resolve
        ticket.escalation_level, ticket.escalated = level, True
        ticket.assignee = holder.person.key if holder else ticket.assignee
        ticket.assignee_node = holder.node.code if holder else assignment.node.code
        ticket.due_at = self.now + limit
        ticket.next_check_at = ticket.due_at
        ticket.updated_at = self.now
        reason = note or ("超时未受理" if stage == "accept" else "超时未办结")
        await self.repo.add_event(ticket, at=self.now, actor=actor_name, action=Action.ESCALATE.value,
                                  from_state=ticket.state, to_state=ticket.state,
                                  note=f"{reason} → {assignment.node.name}" + (f"（{holder.person.name}）" if holder else ""))
        await self._record_skips(ticket, skipped, holder)
        who = f"{assignment.node.name}（{holder.person.name}）" if holder else assignment.node.name
        priority = TICKET_PRIORITY.get(ticket.urgency, 3)
        replies = [Reply(self.reporter_address(ticket), f"工单 #{ticket.number}（{short_text(ticket.text, 24)}）"
                         f"{reason}，已上报至{who}。", priority=priority, kind="ticket_escalate",
                         ref=f"ticket:{ticket.id}")]
        alert = None
        if holder is not None:
            address = await self.reach(holder.person, near=(holder.node.code, assignment.node.code, ticket.node_code))
            if address is not None:
                alert = EscalationAlert(ticket, holder, address, reason, limit)
        return replies, alert, who

    def _alert_reply(self, alerts: list[EscalationAlert]) -> Reply:
        """One message to one handler: a single escalated ticket in full, several as a list."""
        first = alerts[0]
        priority = min(TICKET_PRIORITY.get(a.ticket.urgency, 3) for a in alerts)
        if len(alerts) == 1:
            t = first.ticket
            origin = self.tree.node(t.node_code).name if t.node_code in self.tree else t.node_code
            line = (f"⚠️工单 #{t.number} {first.reason}，已升级到您：{origin}·{CATEGORY_NAMES.get(t.category)}·"
                    f"{URGENCY_NAMES.get(t.urgency)}：{short_text(t.text)}（{t.reporter_count}人反映）。"
                    f"请在{format_duration(first.limit)}内处理。")
            return self._tell(first.address, first.holder.person, line, priority=priority, kind="ticket_escalate",
                              ref=f"ticket:{t.id}")
        lines = [f"⚠️{len(alerts)} 张工单超时，已升级到您："]
        for a in alerts[:20]:
            t = a.ticket
            origin = self.tree.node(t.node_code).name if t.node_code in self.tree else t.node_code
            lines.append(f"· #{t.number} {origin}·{CATEGORY_NAMES.get(t.category)}：{short_text(t.text, 24)}"
                         f"（{a.reason}）")
        if len(alerts) > 20:
            lines.append(f"……还有 {len(alerts) - 20} 张，发“#工单”查看全部")
        lines.append(f"请在{format_duration(min(a.limit for a in alerts))}内处理，回复“#受理 编号”受理。")
        return self._tell(first.address, first.holder.person, "\n".join(lines), priority=priority,
                          kind="ticket_escalate", ref=None)

    async def check_deadlines(self) -> list[Reply]:
        """Escalate every open ticket whose deadline has passed; hold non-urgent ones in quiet hours.

        A handler gets at most one escalation message per `escalation_batch`: tickets escalated to them in one
        run come as one list, and non-urgent ones breaching soon after wait for the end of the window."""
        replies: list[Reply] = []
        sla = self.settings.sla
        batch = self.settings.escalation_batch
        alerts: dict[str, list[EscalationAlert]] = {}
        waiting: dict[str, datetime | None] = {}  # handler → held until (None: send now), decided once per run
        for ticket in await self.repo.due_for_check(self.now):
            if ticket.due_at is not None and ticket.due_at <= self.now:
                ticket.breached = True
            announce_at = sla.when_to_announce(ticket.urgency, self.now)
            if announce_at > self.now:
                ticket.next_check_at = announce_at
                continue
            if not batch or ticket.urgency == "urgent" or self._no_escalation(ticket) is not None:
                replies.extend(await self.escalate(ticket, actor_name="系统"))
                continue
            picked = await self.pick(ticket.node_code, ticket.escalation_level + 1)
            holder = picked[0].holder
            if holder is not None:
                key = holder.person.key
                if key not in waiting:
                    last = await self.repo.last_escalation_to(key, self.now - batch)
                    waiting[key] = None if last is None else last + batch
                if waiting[key] is not None:
                    ticket.next_check_at = waiting[key]  # told of another a moment ago: comes with the next list
                    continue
            ticket_replies, alert, _who = await self._escalate(ticket, actor_name="系统", picked=picked)
            replies.extend(ticket_replies)
            if alert is not None:
                alerts.setdefault(alert.holder.person.key, []).append(alert)
        for group in alerts.values():
            replies.append(self._alert_reply(group))
        return replies

    async def next_deadline_check(self) -> datetime | None:
        """When a deadline passes at the earliest (for the virtual clock)."""
        return await self.repo.next_check_time()

    async def next_auto_close(self) -> datetime | None:
        """When the oldest resolved ticket is due to be closed for want of an answer."""
        oldest = await self.repo.oldest_resolved_at()
        return None if oldest is None else oldest + self.settings.auto_close_after

    async def auto_close(self) -> list[Reply]:
        """Resolved tickets nobody answered for `auto_close_after` are closed."""
        replies: list[Reply] = []
        cutoff = self.now - self.settings.auto_close_after
        for ticket in await self.repo.resolved_before(cutoff):
            replies.extend(await self._transition(
                ticket, Action.CONFIRM, State.CLOSED, "系统",
                f"{format_duration(self.settings.auto_close_after)}无人回复，自动关闭", None))
        return replies

    # -- views -------------------------------------------------------------------------------------

    def plain_status(self, ticket: TicketRow) -> str:
        """A resident's question answered in plain words first: '还没修好。已受理，钱老师负责。'"""
        holder = self.holder_of(ticket)
        who = f"，{holder.person.name}负责" if holder else ""
        state = State(ticket.state)
        if state == State.NEW:
            return f"还没有人受理{who}，已在催办。" if ticket.escalated else f"还没受理{who}。"
        if state == State.ACCEPTED:
            return f"还没修好。已受理{who}，正在处理。"
        if state == State.REOPENED:
            return f"还没修好，已重新交办{who}。"
        if state == State.RESOLVED:
            return "负责人说已经办好了，请您确认：好了回复“好了”，没好回复“还没修好”。"
        if state == State.CLOSED:
            return "这件事已经解决并关闭。"
        return "这张工单已撤销。"

    def describe(self, ticket: TicketRow, *, with_text: bool = True) -> str:
        tz = self.config.tz
        holder = self.holder_of(ticket)
        lines = [f"工单 #{ticket.number}：{STATE_NAMES[State(ticket.state)]}"
                 + (f"（已上报 {ticket.escalation_level} 级）" if ticket.escalation_level else "")]
        if with_text:
            lines.append(f"内容：{short_text(ticket.text, 60)}")
        where = location_text(ticket)
        lines.append(f"类别：{CATEGORY_NAMES.get(ticket.category)}·{URGENCY_NAMES.get(ticket.urgency)}"
                     + (f"；位置：{where}" if where else ""))
        lines.append(f"负责人：{holder.person.name}（{holder.role}）" if holder else "负责人：待定")
        lines.append(f"反映人数：{ticket.reporter_count}；登记：{local_time(ticket.created_at, tz)}")
        if ticket.state in {s.value for s in OPEN_STATES} and ticket.due_at is not None:
            overdue = "（已超时）" if is_overdue(ticket.state, ticket.due_at, ticket.breached, self.now) else ""
            lines.append(f"期限：{local_time(ticket.due_at, tz)}{overdue}")
        if ticket.resolution:
            lines.append(f"办理结果：{ticket.resolution}")
        return "\n".join(lines)

    async def overview(self, person: Person) -> str:
        """`#工单`: open tickets in the person's subtrees, overdue first."""
        codes = [code for code, role in self.directory.positions(person.key)
                 if role in self.config.roles and self.config.roles[role].handles]
        tops = [c for c in codes if not any(c != o and self.tree.is_within(c, o) for o in codes)]
        if not tops:
            return "您没有负责的网格，暂无工单。"
        lines: list[str] = []
        total = 0
        for code in tops:
            rows, count = await self.repo.open_in_subtree(node_path(self.tree, code), now=self.now, limit=10)
            total += count
            lines.append(f"{self.tree.node(code).name}（{code}）未办结 {count} 件：")
            for t in rows:
                overdue = "⚠️超时 " if is_overdue(t.state, t.due_at, t.breached, self.now) else ""
                lines.append(f"· #{t.number} {overdue}{STATE_NAMES[State(t.state)]} "
                             f"{URGENCY_NAMES.get(t.urgency)} {short_text(t.text, 20)}")
            if count > len(rows):
                lines.append(f"……还有 {count - len(rows)} 件，请在网页后台查看")
        if total == 0:
            return "您负责的网格目前没有未办结的工单。👍"
        return "\n".join(lines)


def _verb(action: Action) -> str:
    return {Action.ACCEPT: "受理", Action.RESOLVE: "办结", Action.CLOSE: "关闭", Action.CANCEL: "撤销",
            Action.REOPEN: "重开", Action.CONFIRM: "确认"}.get(action, action.value)


