"""The notice desk: post once to every group below, count acknowledgements, remind the rest.

Like the ticket desk, each method works in the caller's unit of work and returns replies to queue.
(Longer than most modules, on purpose: one job, a notice's life from posting to the last reminder.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


from bot.config import Config
from bot.domain.acks import (OTHER_TIER, Member, NoticeTotals, RoomAcks, count_room, lagging, roll_up, staff_ids,
                             to_remind)
from bot.domain.fanout import (Delivery, Draft, NoticeSyntaxError, by_tier, chunk_mentions, notice_title, parse_draft,
                               plan_fanout)
from bot.domain.grid import GridNode, Person
from bot.domain.households import with_households
from bot.domain.people import Directory
from bot.domain.sla import QuietHours
from bot.households import registry_for
from bot.messages import Address, Reply
from bot.transport.base import OUTAGE_PREFIX, cause_for_people
from storage.models import NoticeRow, OutboxRow
from storage.notice_repository import NoticeRepository
from storage.repositories import GridRepository, MemberRepository
from storage.counters import CounterRepository
from storage.session import Session

NOTICE_PRIORITY = {True: 1, False: 6}  # urgent notices go ahead of routine ones (replies to people are 3–5)


def _local(moment: datetime | None, tz: Any) -> str:
    return "—" if moment is None else moment.astimezone(tz).strftime("%m月%d日 %H:%M")


def _local_day(moment: datetime, tz: Any) -> str:
    """'12月3日 18:00' (no leading zeros: how a reminder names a deadline)."""
    local = moment.astimezone(tz)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def _minutes(minutes: int) -> str:
    """570 → '9 小时 30 分钟'."""
    hours, rest = divmod(minutes, 60)
    return f"{minutes} 分钟" if not hours else f"{hours} 小时" + (f" {rest} 分钟" if rest else "")


def delivery_minutes(groups: int, queued_ahead: int, per_minute: int) -> int:
    """Minutes until the last copy goes out: the rows ahead in the outbox, then these, at the budget."""
    return max(1, math.ceil((groups + queued_ahead) / per_minute))


@dataclass(frozen=True, slots=True)
class NoticePlan:
    """What a notice would do if sent now: its groups (by tier), when sending starts and how long it takes."""

    draft: Draft
    origin: str
    deliveries: list[Delivery]
    tiers: list[tuple[str, int]]  # (tier, groups), in the tree's tier order
    ahead: int  # outbox rows that go first
    start: datetime  # now, or the end of quiet hours for a routine notice posted in them
    held: bool
    budget: int  # messages a minute
    minutes: int

    @property
    def finish(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


class NoticeDesk:
    def __init__(self, session: Session, config: Config, directory: Directory, now: datetime,
                 bot_id: str = "") -> None:
        self.session = session
        self.config = config
        self.directory = directory
        self.now = now
        self.repo = NoticeRepository(session)
        self.tree = config.tree
        self.bot_id = bot_id

    def origin_for(self, person: Person, node: GridNode | None) -> str | None:
        """Where a leader's notice starts: the group's node, or (in a private chat) their highest node."""
        if node is not None:
            return node.code if self.directory.leads(person.key, node.code) else None
        leading = [code for code, role in self.directory.positions(person.key)
                   if role in self.config.roles and self.config.roles[role].leads]
        if not leading:
            return None
        return min(leading, key=lambda c: self.tree.node(c).depth)

    async def plan(self, person: Person | None, node: GridNode | None, rest: str, *, posted_in_origin: bool
                   ) -> NoticePlan | str:
        """What `#通知 rest` would do now (nothing is written): the plan, or why it cannot be sent."""
        if person is None:
            return "抱歉，只有网格长、楼道长、房东等负责人可以发通知。"
        origin = self.origin_for(person, node)
        if origin is None:
            return f"抱歉，{person.name}在这里没有发通知的权限，只能向自己负责的网格发。"
        try:
            draft = parse_draft(rest, now=self.now, tz=self.config.tz, tiers=self.tree.tiers)
            deliveries = plan_fanout(self.tree, origin, draft.target, include_origin=not posted_in_origin)
        except NoticeSyntaxError as exc:
            return str(exc)
        if not deliveries:
            return f"按“{draft.target.describe()}”没有找到下级群，通知没有发出。"
        ahead = await self.repo.queued_ahead(NOTICE_PRIORITY[draft.urgent])
        # routine notices wait for the morning (or the holiday's end); urgent ones go at once
        start = self.now if draft.urgent else max(self.now, self.quiet_end())
        budget = self.config.transport.send_budget.per_minute
        return NoticePlan(draft, origin, deliveries, by_tier(deliveries, self.tree.tiers), ahead, start,
                          start > self.now, budget, delivery_minutes(len(deliveries), ahead, budget))

    def estimate(self, plan: NoticePlan) -> str:
        """How long sending takes, the quiet-hours hold included: what the sender is told before and after."""
        held = self.held_text(plan.start) if plan.held else ""
        queue = f"（前面还有 {plan.ahead} 条消息排队）" if plan.ahead else ""
        return (f"{held}按每分钟 {plan.budget} 条约需 {_minutes(plan.minutes)}发完{queue}，"
                f"预计 {_local(plan.finish, self.config.tz)} 前全部送达。")

    async def post(self, person: Person | None, node: GridNode | None, rest: str, *, reply_to: Address,
                   posted_in_origin: bool) -> list[Reply]:
        """`#通知`: plan the cascade, queue one copy per group, tell the sender what will happen."""
        plan = await self.plan(person, node, rest, posted_in_origin=posted_in_origin)
        if isinstance(plan, str):
            return [Reply(reply_to, plan)]
        assert person is not None  # a plan needs a sender
        draft, deliveries, origin = plan.draft, plan.deliveries, plan.origin
        number = await CounterRepository(self.session).next("notice", start=1)
        origin_node = self.tree.node(origin)
        role = next((r for c, r in self.directory.positions(person.key) if self.tree.is_within(origin, c)), "负责人")
        remind_at = None
        if draft.deadline is not None:
            remind_at = max(self.now, draft.deadline - self.config.notices.remind_before)
        notice = await self.repo.create(
            number=number, sender_key=person.key, sender_name=person.name, reply_kind=reply_to.kind,
            reply_id=reply_to.id, node_code=origin, text=draft.text, target=draft.target.to_dict(),
            priority=NOTICE_PRIORITY[draft.urgent], room_count=len(deliveries), created_at=self.now,
            deadline=draft.deadline, remind_at=remind_at)
        head = "【紧急通知" if draft.urgent else "【通知"
        body = (f"{head} #{number}】{origin_node.name}·{role} {person.name}：\n{draft.text}\n"
                f"请回复“收到”" + (f"（{_local(draft.deadline, self.config.tz)}前）" if draft.deadline else "") + "。")
        await self.repo.enqueue_deliveries(notice, [d.room_key for d in deliveries], body, now=self.now,
                                           not_before=plan.start if plan.held else None)
        tiers = "，".join(f"{tier} {count} 个" for tier, count in plan.tiers)
        confirm = (f"通知 #{number} 已安排发送到 {len(deliveries)} 个群（{tiers}），{self.estimate(plan)}"
                   + (f"截止 {_local(draft.deadline, self.config.tz)}。" if draft.deadline else "")
                   + f"发送“#回执 {number}”查看回执情况。")
        return [Reply(reply_to, confirm, priority=2, kind="notice_confirm", ref=f"notice:{notice.id}")]

    async def record_ack(self, room_key: str, member_id: str, member_name: str, household: str | None) -> bool:
        """A member's "收到" in a group that received a notice lately; counted once."""
        notice = await self.repo.delivered_to(room_key, self.now - self.config.notices.ack_window)
        if notice is None:
            return False
        # whoever replies is a member (the member list may not have caught up), so replied ≤ total holds
        await MemberRepository(self.session).upsert(room_key, member_id, member_name, household=household,
                                                    now=self.now)
        return await self.repo.record_ack(notice, room_key=room_key, member_id=member_id, member_name=member_name,
                                          household=household, at=self.now)

    def quiet(self) -> QuietHours:
        return self.config.notices.quiet or self.config.tickets.sla.quiet

    def quiet_end(self) -> datetime:
        """Now, or when the quiet hours end — and with `calendar.holidays_quiet`, the public holiday."""
        calendar = self.config.calendar
        return calendar.calendar.shift_out_of_quiet(self.now, self.quiet(), holidays_quiet=calendar.holidays_quiet)

    def held_text(self, start: datetime) -> str:
        """Why a routine notice waits and until when: the night, or the public holiday it is posted on."""
        calendar = self.config.calendar
        if calendar.holidays_quiet and start - self.now > timedelta(hours=12):  # longer than a night: a holiday
            last_day = (start.astimezone(self.config.tz) - timedelta(days=1)).date()
            holiday = calendar.calendar.holiday_name(last_day) or "节"
            return f"{holiday}假期免打扰，将于 {_local_day(start, self.config.tz)} 开始发送，"
        return f"夜间免打扰，将于 {start.astimezone(self.config.tz):%H:%M} 开始发送，"

    def node_of_room(self, room_key: str) -> GridNode | None:
        return self.tree.node_for_room(room_id=room_key, topic=room_key)

    def in_view(self, room_key: str, within: tuple[str, ...] | None) -> bool:
        """Whether a group is inside the subtrees a reader follows (`None`: everything)."""
        if within is None:
            return True
        node = self.node_of_room(room_key)
        return node is not None and any(self.tree.is_within(node.code, top) for top in within)

    def staff_of(self, notice: NoticeRow) -> Callable[[str], frozenset[str]]:
        """Group → its staff for this notice (`staff_ids`), worked out once per node."""
        by_node: dict[str | None, frozenset[str]] = {}
        by_room: dict[str, frozenset[str]] = {}

        def staff(room_key: str) -> frozenset[str]:
            if room_key not in by_room:
                node = self.node_of_room(room_key)
                code = node.code if node else None
                if code not in by_node:
                    by_node[code] = staff_ids(self.tree, self.directory, code, sender_key=notice.sender_key,
                                              bot_id=self.bot_id)
                by_room[room_key] = by_node[code]
            return by_room[room_key]

        return staff

    def possible_staff(self, notice: NoticeRow) -> set[str]:
        """Every contact id that is staff in some group of the tree: a superset, to find who to look at closely
        (`staff_ids` then decides group by group)."""
        keys = {notice.sender_key}
        for node in self.tree:
            for role, holders in node.roles:
                kind = self.directory.roles.get(role)
                if kind is not None and (kind.leads or kind.handles):
                    keys.update(holders)
        ids = {self.bot_id} if self.bot_id else set()
        for key in keys:
            ids.update(self.directory.contact_ids(key) or [key])
        return ids

    async def room_acks(self, notice: NoticeRow, within: tuple[str, ...] | None = None, *,
                        names: bool = True) -> list[RoomAcks]:
        """Per delivered group (in the reader's subtrees): audience, households, who replied and who has not.

        Every figure is `count_room`'s with the group's staff left out (bot.domain.acks). Where households are
        registered (bot/households.py), members count under their registered household, and a registered household
        of a node the notice reached that nobody in these groups speaks for is counted, unreplied, in that node's
        first group (`absent`): the denominator is the households registered at the nodes reached. Without a
        registry and with `names=False`, only the figures (no `missing`), from a grouped count in SQL: a zone's
        100,000 members never come into Python, only the staff and the households they live in (see `_counted`).
        """
        keys = [key for key in await self.repo.sent_rooms(notice.id) if self.in_view(key, within)]
        nodes = {key: self.node_of_room(key) for key in keys}
        registry = await registry_for(self.session, self.tree, [n.code for n in nodes.values() if n is not None])
        if registry is None and not names:
            return await self._counted(notice, keys, within)
        found = await self.repo.audience(notice.id, None if within is None else keys)
        members = {key: list(found.get(key, ())) for key in keys}
        if registry is None:
            return self.count(notice, members)
        on = self.now.astimezone(self.config.tz).date()
        present: set[str | None] = set()
        first_room: dict[str, str] = {}
        for key in keys:
            node = nodes[key]
            members[key] = with_households(members[key], registry, room_key=key,
                                           node_code=node.code if node else None, on=on)
            present.update(m.household for m in members[key])  # staff too: their own household is not chased
            if node is not None:
                first_room.setdefault(node.code, key)
        absent: dict[str, int] = {}
        for household in registry:
            room = first_room.get(household.node_code)
            if room is not None and household.ref not in present:
                absent[room] = absent.get(room, 0) + 1
        staff = self.staff_of(notice)
        return [count_room(key, self._tier(key), members[key], staff(key), absent=absent.get(key, 0)) for key in keys]

    async def members_in_view(self, notice: NoticeRow, within: tuple[str, ...] | None = None
                              ) -> dict[str, list[Member]]:
        """Per delivered group in view, in delivery order: its active members (staff too), with their replies."""
        keys = [key for key in await self.repo.sent_rooms(notice.id) if self.in_view(key, within)]
        members = await self.repo.audience(notice.id, None if within is None else keys)
        return {key: members.get(key, []) for key in keys}

    def count(self, notice: NoticeRow, members: dict[str, list[Member]]) -> list[RoomAcks]:
        """`count_room` for each group of `members_in_view`, its staff left out."""
        staff = self.staff_of(notice)
        return [count_room(key, self._tier(key), found, staff(key)) for key, found in members.items()]

    def _tier(self, room_key: str) -> str | None:
        node = self.node_of_room(room_key)
        return node.tier if node else None

    async def _counted(self, notice: NoticeRow, keys: list[str], within: tuple[str, ...] | None) -> list[RoomAcks]:
        """`count_room`'s figures without the member lists: a group is a sum over its households, and staff
        change only the households they are in. So: the grouped count of everyone, minus `count_room` of those
        households with nobody left out, plus `count_room` of the same households with the staff left out."""
        counts = await self.repo.room_counts(notice.id, None if within is None else keys)
        staff = self.staff_of(notice)
        present = await self.repo.members_among(notice.id, sorted(self.possible_staff(notice)), set(keys))
        parts: dict[str, dict[str, Member]] = {}
        households: list[tuple[str, str]] = []
        for key, found in present.items():
            for member in found:
                if member.member_id in staff(key):
                    parts.setdefault(key, {})[member.member_id] = member
                    if member.household:
                        households.append((key, member.household))
        for key, found in (await self.repo.household_members(notice.id, households)).items():
            for member in found:
                parts.setdefault(key, {})[member.member_id] = member
        rooms = []
        for key in keys:
            tier = self._tier(key) or OTHER_TIER
            members, acked, total, replied = counts.get(key, (0, 0, 0, 0))
            part = list(parts.get(key, {}).values())
            if part:
                everyone, audience = count_room(key, tier, part, ()), count_room(key, tier, part, staff(key))
                members += audience.members - everyone.members
                acked += audience.acked - everyone.acked
                total += audience.households - everyone.households
                replied += audience.acked_households - everyone.acked_households
            rooms.append(RoomAcks(key, tier, members, acked, total, replied))
        return rooms

    async def with_missing(self, notice: NoticeRow, rooms: list[RoomAcks]) -> list[RoomAcks]:
        """The same groups counted from their member lists, so each says who has not replied."""
        if all(r.missing or r.complete for r in rooms):
            return rooms  # counted with names already (an incomplete group always misses someone)
        members = await self.repo.audience(notice.id, [r.room_key for r in rooms])
        staff = self.staff_of(notice)
        return [count_room(r.room_key, r.tier, members.get(r.room_key, ()), staff(r.room_key)) for r in rooms]

    def follows(self, person: Person, notice: NoticeRow) -> tuple[str, ...] | None:
        """The subtrees of a notice a person follows: all of it (`None`) for its sender and the leaders of its
        origin or above; else the nodes they lead (only the part of the notice that reached them)."""
        if notice.sender_key == person.key or self.directory.leads(person.key, notice.node_code):
            return None
        return tuple(code for code, role in self.directory.positions(person.key)
                     if role in self.config.roles and self.config.roles[role].leads and code in self.tree)

    async def rollup(self, notice: NoticeRow, *, detail_rooms: int = 10, names: int = 8,
                     within: tuple[str, ...] | None = None, rooms: list[RoomAcks] | None = None) -> str:
        """Per tier: groups, members and households that replied; the groups lagging most, with who is missing."""
        if rooms is None:
            rooms = await self.room_acks(notice, within, names=False)
        counts = await self.repo.delivery_counts(notice.id)
        scope = "" if within is None else "（您负责的范围）"
        sent = counts.get("sent", 0) if within is None else len(rooms)
        lines = [f"通知 #{notice.number} 回执{scope}（{_local(self.now, self.config.tz)}）："
                 f"已送达 {sent}" + (f"/{notice.room_count}" if within is None else "") + " 个群"
                 + (f"，失败 {counts['failed']} 个" if counts.get("failed") and within is None else "")
                 + (f"，截止 {_local(notice.deadline, self.config.tz)}" if notice.deadline else "")]
        lines.append(f"《{notice_title(notice.text)}》" + NoticeTotals.of(rooms).line())
        lines.extend(tier.line() for tier in roll_up(rooms, self.tree.tiers))
        behind = await self.with_missing(notice, lagging(rooms, detail_rooms))
        if behind:
            lines.append("回复最少的群：")
        group_names = await self.group_names([r.room_key for r in behind])
        for room in behind:
            missing = list(room.missing)
            who = "、".join(name for _, name in missing[:names]) + (f"等 {len(missing)} 人" if len(missing) > names else "")
            absent = f"；另有 {room.absent} 户无人在群（#无人在群 查看）" if room.absent else ""
            lines.append(f"  {group_names[room.room_key]}：{room.acked_households}/{room.households} 户"
                         f"（{room.acked}/{room.members} 人），未回复：{who or '—'}{absent}")
        incomplete = sum(1 for r in rooms if not r.complete)
        if incomplete > len(behind):
            lines.append(f"  ……另有 {incomplete - len(behind)} 个群未全部回复")
        return "\n".join(lines)

    async def receipt(self, person: Person | None, number: int | None, reply_to: Address) -> list[Reply]:
        """`#回执 [编号]`: the sender's (or an ancestor leader's) view of acknowledgements."""
        if person is None:
            return [Reply(reply_to, "#回执 是发通知的负责人用的命令。")]
        notice = await (self.repo.by_number(number) if number is not None else self.repo.latest_by(person.key))
        if notice is None:
            return [Reply(reply_to, "没有找到这条通知。" if number is not None else "您还没有发过通知。")]
        within = self.follows(person, notice)
        rooms = await self.room_acks(notice, within, names=False)
        if within is not None and not rooms:
            return [Reply(reply_to, f"通知 #{notice.number} 不是您发的，也没有发到您负责的群。")]
        return [Reply(reply_to, await self.rollup(notice, within=within, rooms=rooms), priority=2,
                      kind="notice_receipt")]

    async def next_reminder(self) -> datetime | None:
        """When the next reminder is due at the earliest (for the virtual clock)."""
        return await self.repo.next_reminder()

    async def remind(self) -> list[Reply]:
        """At the reminder time: groups below the threshold get one reminder @-ing who has not replied."""
        replies: list[Reply] = []
        settings = self.config.notices
        quiet_end = self.quiet_end()
        for notice in await self.repo.due_reminders(self.now):
            urgent = notice.priority <= NOTICE_PRIORITY[True]
            if not urgent and quiet_end > self.now:
                notice.remind_at = quiet_end
                continue
            notice.reminded_at = self.now
            rooms = await self.room_acks(notice)  # with names: most groups of a pass are reminded, by name
            behind = to_remind(rooms, settings.threshold)
            deadline = f"，截止 {_local_day(notice.deadline, self.config.tz)}" if notice.deadline else ""
            for room in behind:
                for chunk in chunk_mentions(list(room.missing), settings.mention_chunk):
                    names = " ".join(f"@{name}" for _, name in chunk)
                    replies.append(Reply(Address.room(room.room_key),
                                         f"{names} 提醒：《{notice_title(notice.text)}》还没回复{deadline}。"
                                         f"请看通知 #{notice.number} 后回复“收到”。",
                                         tuple(member for member, _ in chunk), priority=notice.priority,
                                         kind="notice_reminder", ref=f"notice:{notice.id}"))
            if notice.reply_kind and notice.reply_id:
                replies.append(Reply(Address(notice.reply_kind, notice.reply_id),
                                     await self.rollup(notice, rooms=rooms),
                                     priority=2, kind="notice_receipt", ref=f"notice:{notice.id}"))
        return replies

    async def group_names(self, room_keys: Sequence[str]) -> dict[str, str]:
        """Room key → the group as people know it (`GridTree.group_name`), never a raw room id: the configured
        topic, else the topic the transport last listed (looked up only for groups config gives none)."""
        unnamed = [key for key in room_keys if not (room := self.tree.room(room_id=key, topic=key)) or not room.topic]
        topics = await GridRepository(self.session).topics(unnamed) if unnamed else {}
        return {key: self.tree.group_name(key, topics.get(key)) for key in room_keys}

    async def report_failure(self, row: OutboxRow, error: str) -> list[Reply]:
        """A copy that could not be delivered: the sender is told which groups failed and why.

        Failures are gathered into one report per `notices.failure_report_every` (queued here directly, so
        nothing is returned): a notice to thousands of groups must not answer each failure with a message.
        """
        if not row.ref or not row.ref.startswith("notice:") or row.kind != "notice":
            return []
        notice = await self.session.get(NoticeRow, int(row.ref.split(":", 1)[1]))
        if notice is None or not notice.reply_kind or not notice.reply_id:
            return []
        async def render(failed: list[tuple[str, str | None, int]]) -> str:
            shown = failed[:30]
            group_names = await self.group_names([room for room, _, _ in shown])
            outage = [(room, err) for room, err, _ in shown if err and err.startswith(OUTAGE_PREFIX)]
            other = [(room, err, tries) for room, err, tries in shown if not (err and err.startswith(OUTAGE_PREFIX))]
            lines = [f"通知 #{notice.number} 有 {len(failed)} 个群没能发出。"]
            if outage:
                lines.append(f"{outage[0][1]}，以下消息未能发出，恢复后请重新发送：")
                lines.extend(f"· {group_names[room]}" for room, _ in outage)
            if other:
                lines.append("以下群发送失败，请检查机器人是否还在这些群：")
                lines.extend(f"· {group_names[room]}：{cause_for_people(err)[:100]}（已重试 {tries} 次）"
                             for room, err, tries in other)
            if len(failed) > len(shown):
                lines.append(f"……另有 {len(failed) - len(shown)} 个，发送“#回执 {notice.number}”查看汇总。")
            return "\n".join(lines)

        await self.repo.report_failures(notice, to_kind=notice.reply_kind, to_id=notice.reply_id, now=self.now,
                                        delay=self.config.notices.failure_report_every, render=render)
        return []
