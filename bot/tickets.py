"""The ticket desk: every ticket action, used by chat commands, jobs and (later) the web console.

Each method works inside the caller's unit of work and returns the replies to queue, so the same
action taken from chat or from the console tells the same groups the same thing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.domain.grid import GridNode, Person, node_path
from bot.domain.people import Directory, Holder
from bot.domain.sla import format_duration
from bot.domain.tickets import (
    CATEGORY_NAMES,
    OPEN_STATES,
    STATE_NAMES,
    Action,
    State,
    URGENCY_NAMES,
    TransitionError,
    assign,
    max_level,
    next_state,
)
from bot.messages import Address, Reply
from storage.models import MessageRow, TicketRow
from storage.ticket_repository import CounterRepository, TicketRepository

_LOGGER = logging.getLogger(__name__)

ACTION_NAMES = {
    Action.ACCEPT: "已受理", Action.RESOLVE: "已办结", Action.CONFIRM: "已确认解决并关闭", Action.REOPEN: "已重新打开",
    Action.CLOSE: "已关闭", Action.CANCEL: "已撤销", Action.ESCALATE: "已上报", Action.REASSIGN: "已转派",
}
TICKET_PRIORITY = {"urgent": 0, "normal": 3, "low": 4}


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


def short_text(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


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

    # -- new reports ----------------------------------------------------------------------------

    async def report(self, reporter: Reporter, parse: Any, text: str) -> tuple[TicketRow, bool, list[Reply]]:
        """Open a ticket for a report, or add the reporter to a matching open one. Returns (ticket, merged, replies)."""
        category = parse.category or "other"
        urgency = parse.urgency or "normal"
        loc = parse.location
        merged_into = await self._merge_target(reporter, category, loc, bool(getattr(parse, "me_too", False)))
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

        number = await CounterRepository(self.session).next("ticket", start=self.settings.first_number)
        prefer = self.settings.routing.get(category)
        assignment = assign(self.directory, reporter.node.code, 0, prefer_role=prefer)
        holder = assignment.holder
        due = self.settings.sla.deadline("accept", urgency, category, self.now)
        fields = dict(
            state=State.NEW.value, category=category, urgency=urgency, node_code=reporter.node.code,
            node_path=node_path(self.tree, reporter.node.code), room_key=reporter.room_key, room_id=reporter.room_id,
            text=text, location=loc.to_dict() if hasattr(loc, "to_dict") else None,
            building=getattr(loc, "building", None), unit=getattr(loc, "unit", None),
            room_no=getattr(loc, "room", None), place=(getattr(loc, "place", None) or None),
            assignee=holder.person.key if holder else None, assignee_node=holder.node.code if holder else None,
            due_at=due, next_check_at=due,
        )
        ticket = await self.repo.create(number=number, fields=fields, reporter_id=reporter.id,
                                        reporter_name=reporter.name, message_id=reporter.message_row_id, at=self.now)
        await self.repo.add_event(ticket, at=self.now, actor=reporter.name, action="open", from_state=None,
                                  to_state=State.NEW.value, note=short_text(text, 200))
        await self._attach_loose_images(ticket, reporter)
        return ticket, False, self._opened_replies(ticket, reporter, holder)

    async def _merge_target(self, reporter: Reporter, category: str, loc: Any, me_too: bool) -> TicketRow | None:
        return await self.repo.find_duplicate(
            room_key=reporter.room_key, node_code=reporter.node.code, category=category,
            building=getattr(loc, "building", None), unit=getattr(loc, "unit", None),
            room_no=getattr(loc, "room", None), since=self.now - self.settings.merge_window, me_too=me_too)

    def _opened_replies(self, ticket: TicketRow, reporter: Reporter, holder: Holder | None) -> list[Reply]:
        tz = self.config.tz
        what = f"{CATEGORY_NAMES.get(ticket.category, ticket.category)}·{URGENCY_NAMES.get(ticket.urgency)}"
        where = location_text(ticket)
        limits = self.settings.sla.limits_for(ticket.urgency, ticket.category)
        text = f"已登记为工单 #{ticket.number}（{what}{'，' + where if where else ''}）。"
        mentions: list[str] = []
        if holder is not None:
            text += f"由 @{holder.person.name}（{holder.role}）负责，{format_duration(limits.accept)}内受理"
            text += f"（{local_time(ticket.due_at, tz)}前）。"
            mentions.append(self.person_id(holder.person))
        else:
            text += "暂无负责人，已转社区。"
        text += f"查进度请发“查询 {ticket.number}”。"
        priority = TICKET_PRIORITY.get(ticket.urgency, 3)
        replies = [self._to_reporter(reporter, text, extra_mentions=mentions, kind="ticket_open",
                                     ref=f"ticket:{ticket.id}", priority=priority)]
        upper = self.upper_room(ticket)
        if ticket.urgency == "urgent" and upper is not None:
            # urgent: the tier above hears at once, whatever the hour
            upper_node, address = upper
            boss = self.directory.responsible(upper_node.code)
            line = (f"【紧急】工单 #{ticket.number} {reporter.node.name}：{short_text(ticket.text)}"
                    f"（{what}）。负责人：{holder.person.name if holder else '待定'}。")
            boss_mentions: tuple[str, ...] = ()
            if boss is not None:
                line += f" @{boss.person.name} 请关注。"
                boss_mentions = (self.person_id(boss.person),)
            replies.append(Reply(address, line, boss_mentions, priority=0, kind="ticket_urgent",
                                 ref=f"ticket:{ticket.id}"))
        elif self.settings.relay == "all" and upper is not None:
            replies.append(Reply(upper[1], f"[新工单 #{ticket.number}] {reporter.node.name}：{short_text(ticket.text)}"
                                 f"（{what}）→ {holder.person.name if holder else '待定'}",
                                 priority=priority + 2, kind="ticket_relay", ref=f"ticket:{ticket.id}"))
        return replies

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
        return await self._announce(ticket, action, actor_name, note, answer_to)

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
        replies.extend(self._notify_holder(ticket, holder, f"工单 #{ticket.number} 转派给您：{short_text(ticket.text)}"))
        return replies

    def _notify_holder(self, ticket: TicketRow, holder: Holder, line: str) -> list[Reply]:
        """@ the person in their own node's group (or the nearest above) unless that is the reporter's group."""
        found = self.nearest_room(holder.node)
        if found is None:
            return []
        _, address = found
        if ticket.room_id and address.id in (ticket.room_key, ticket.room_id):
            return []
        return [Reply(address, f"@{holder.person.name} {line}", (self.person_id(holder.person),),
                      priority=TICKET_PRIORITY.get(ticket.urgency, 3), kind="ticket_assign", ref=f"ticket:{ticket.id}")]

    def _answer(self, to: Address | None, text: str) -> list[Reply]:
        return [Reply(to, text, kind="ticket_answer")] if to is not None else []

    # -- escalation and the clock -----------------------------------------------------------------

    async def escalate(self, ticket: TicketRow, *, actor_name: str, note: str = "", manual: bool = False,
                       answer_to: Address | None = None) -> list[Reply]:
        """Pass the ticket one tier up: a new owner, a fresh deadline, and everyone told."""
        top = max_level(self.tree, ticket.node_code)
        if ticket.state not in {s.value for s in OPEN_STATES}:
            return self._answer(answer_to, f"工单 #{ticket.number} 已{STATE_NAMES[State(ticket.state)]}，不用上报。")
        if ticket.escalation_level >= top:
            ticket.next_check_at = None  # already at the top: stays overdue, nothing higher to tell
            return self._answer(answer_to, f"工单 #{ticket.number} 已在最高一级（{self.tree.node(self.tree.roots[0]).name}）。")
        level = ticket.escalation_level + 1
        assignment = assign(self.directory, ticket.node_code, level)
        holder = assignment.holder
        stage = "accept" if ticket.state in (State.NEW.value, State.REOPENED.value) else "resolve"
        limits = self.settings.sla.limits_for(ticket.urgency, ticket.category)
        ticket.escalation_level, ticket.escalated = level, True
        ticket.assignee = holder.person.key if holder else ticket.assignee
        ticket.assignee_node = holder.node.code if holder else assignment.node.code
        ticket.due_at = self.now + (limits.accept if stage == "accept" else limits.resolve)
        ticket.next_check_at = ticket.due_at
        ticket.updated_at = self.now
        reason = note or ("超时未受理" if stage == "accept" else "超时未办结")
        await self.repo.add_event(ticket, at=self.now, actor=actor_name, action=Action.ESCALATE.value,
                                  from_state=ticket.state, to_state=ticket.state,
                                  note=f"{reason} → {assignment.node.name}" + (f"（{holder.person.name}）" if holder else ""))
        who = f"{assignment.node.name}（{holder.person.name}）" if holder else assignment.node.name
        priority = TICKET_PRIORITY.get(ticket.urgency, 3)
        replies = [Reply(self.reporter_address(ticket), f"工单 #{ticket.number}（{short_text(ticket.text, 24)}）"
                         f"{reason}，已上报至{who}。", priority=priority, kind="ticket_escalate",
                         ref=f"ticket:{ticket.id}")]
        if holder is not None:
            found = self.nearest_room(assignment.node)
            if found is not None:
                origin = self.tree.node(ticket.node_code)
                replies.append(Reply(found[1], f"@{holder.person.name} ⚠️工单 #{ticket.number} {reason}，"
                                     f"已升级到您：{origin.name}·{CATEGORY_NAMES.get(ticket.category)}·"
                                     f"{URGENCY_NAMES.get(ticket.urgency)}：{short_text(ticket.text)}"
                                     f"（{ticket.reporter_count}人反映）。请在{format_duration(limits.accept if stage == 'accept' else limits.resolve)}内处理。",
                                     (self.person_id(holder.person),), priority=priority, kind="ticket_escalate",
                                     ref=f"ticket:{ticket.id}"))
        if manual and answer_to is not None and answer_to != self.reporter_address(ticket):
            replies.append(Reply(answer_to, f"好的，工单 #{ticket.number} 已上报至{who}。", kind="ticket_ack"))
        return replies

    async def check_deadlines(self) -> list[Reply]:
        """Escalate every open ticket whose deadline has passed; hold non-urgent ones in quiet hours."""
        replies: list[Reply] = []
        sla = self.settings.sla
        for ticket in await self.repo.due_for_check(self.now):
            if ticket.due_at is not None and ticket.due_at <= self.now:
                ticket.breached = True
            announce_at = sla.when_to_announce(ticket.urgency, self.now)
            if announce_at > self.now:
                ticket.next_check_at = announce_at
                continue
            replies.extend(await self.escalate(ticket, actor_name="系统"))
        return replies

    async def auto_close(self) -> list[Reply]:
        """Resolved tickets nobody answered for `auto_close_after` are closed."""
        replies: list[Reply] = []
        cutoff = self.now - self.settings.auto_close_after
        for ticket in await self.repo.resolved_before(cutoff):
            replies.extend(await self._transition(ticket, Action.CONFIRM, State.CLOSED, "系统",
                                                  "居民未回复，自动关闭", None))
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
            overdue = "（已超时）" if ticket.due_at <= self.now else ""
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
                overdue = "⚠️超时 " if t.due_at is not None and t.due_at <= self.now else ""
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


