"""The review queue: a message that is probably, but not surely, a report gets no reply in the group.

It is held for the nearest leader of its group, who is told privately — gathered, at most one list per
`review.gather_every` — and answers `#登记 N` (it becomes a ticket, announced in the group as any report) or
`#忽略 N`. A possibly urgent one is not gathered: the leader and the leader above hear at once ("可能紧急，请确认").
The console's 待确认 page and the daily digest show the same list. Every method works inside the caller's unit
of work and returns the replies to queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


from bot.config import Config
from bot.domain.grid import GridNode, Person, node_path
from bot.domain.parsing import ParseResult
from bot.domain.people import Directory, Holder
from bot.messages import Address, Reply
from bot.tickets import Reporter, TicketDesk, short_text
from storage.models import ReviewRow
from storage.review_repository import PENDING, ReviewRepository
from storage.session import Session

LIST_LIMIT = 10  # items per private list; the rest are on the console


@dataclass(frozen=True, slots=True)
class Held:
    """What the review desk needs of an incoming message."""

    sender_id: str
    sender_name: str
    room_id: str | None
    room_key: str | None
    node: GridNode
    text: str
    message_id: int | None


class ReviewDesk:
    def __init__(self, session: Session, config: Config, directory: Directory, now: datetime) -> None:
        self.session = session
        self.config = config
        self.directory = directory
        self.now = now
        self.repo = ReviewRepository(session)

    @staticmethod
    def _contact(person: Person) -> Address:
        return Address.contact(person.wechat_id or person.key)

    def _line(self, item: ReviewRow) -> str:
        node = self.config.tree.node(item.node_code) if item.node_code in self.config.tree else None
        where = node.name if node else item.node_code
        return f"[{item.id}] {where} · {item.sender_name}：{short_text(item.text, 60)}"

    async def hold(self, held: Held, parse: ParseResult) -> tuple[ReviewRow, list[Reply]]:
        """Keep a likely report for a leader; a possibly urgent one is announced at once."""
        leader = self.directory.leader(held.node.code)
        urgent = parse.urgency == "urgent"
        told = self._alerted(held.node.code, leader) if urgent else []
        item = await self.repo.add(
            created_at=self.now, message_id=held.message_id, room_key=held.room_key, room_id=held.room_id,
            node_code=held.node.code, node_path=node_path(self.config.tree, held.node.code),
            sender_id=held.sender_id, sender_name=held.sender_name, text=held.text, parse=parse.to_dict(),
            category=parse.category, urgent=urgent, confidence=round(parse.confidence, 3),
            leader_key=leader.person.key if leader else None,
            notified_at=self.now if told else None)  # told at once: written with the item, not after it
        if not told:
            return item, []
        return item, self._urgent_alert(item, told)

    def _alerted(self, node_code: str, leader: Holder | None) -> list[Holder]:
        """Who hears of a possibly urgent item at once: its leader and the leader above."""
        above = self.directory.leader(node_code, above=True) if leader is not None else None
        return [h for h in (leader, above) if h is not None]

    def _urgent_alert(self, item: ReviewRow, people: list[Holder]) -> list[Reply]:
        text = (f"【可能紧急，请确认】{self._line(item)}\n"
                f"机器人没有把握，没有在群里回复。请尽快确认：回复 #登记 {item.id} 立即生成紧急工单，"
                f"#忽略 {item.id} 不处理。")
        seen: set[str] = set()
        replies = []
        for holder in people:
            if holder.person.key in seen:
                continue
            seen.add(holder.person.key)
            replies.append(Reply(self._contact(holder.person), text, (), priority=0, kind="review_urgent",
                                 ref=f"review:{item.id}"))
        return replies

    async def next_list(self) -> datetime | None:
        """When a held message was first left unannounced (a list is owed from then on)."""
        return await self.repo.earliest_unannounced()

    async def gather(self) -> list[Reply]:
        """One private list per leader with new items, at most one per `review.gather_every`."""
        items = await self.repo.unannounced()
        if not items:
            return []
        by_leader: dict[str, list[ReviewRow]] = {}
        for item in items:
            if item.leader_key and item.leader_key in self.config.people:
                by_leader.setdefault(item.leader_key, []).append(item)
        last = await self.repo.last_told(list(by_leader))
        every = self.config.review.gather_every
        replies = []
        for key, mine in by_leader.items():
            if key in last and self.now - last[key] < every:
                continue
            person = self.config.people[key]
            lines = [self._line(i) for i in mine[:LIST_LIMIT]]
            if len(mine) > LIST_LIMIT:
                lines.append(f"……还有 {len(mine) - LIST_LIMIT} 条，见控制台「待确认」。")
            first = mine[0].id
            text = (f"待确认 {len(mine)} 条：这些消息可能是问题反映，机器人没有把握，没有在群里回复。\n"
                    + "\n".join(lines)
                    + f"\n回复 #登记 编号 生成工单（如 #登记 {first}），#忽略 编号 不处理；控制台「待确认」页也可处理。")
            replies.append(Reply(self._contact(person), text, (), priority=4, kind="review_list",
                                 ref=f"review:{first}"))
            await self.repo.mark_told([i.id for i in mine], self.now)
        return replies

    async def next_gather(self) -> datetime | None:
        """Virtual clock: when the gather job may first have something to send."""
        return await self.repo.earliest_unannounced()

    def may_decide(self, person: Person | None, item: ReviewRow) -> bool:
        if person is None or item.node_code not in self.config.tree:
            return False
        return self.directory.leads(person.key, item.node_code) or self.directory.handles(person.key, item.node_code)

    async def decide(self, item_id: int, register: bool, actor: Person | None, *,
                     answer_to: Address | None = None) -> tuple[str, list[Reply]]:
        """Register (a ticket opens, announced in the group) or dismiss an item. Returns (outcome, replies):
        outcome is 'registered', 'dismissed', 'missing', 'forbidden' or 'decided' (already done)."""
        item = await self.repo.get(item_id)
        verb = "登记" if register else "忽略"
        if item is None:
            return "missing", self._answer(answer_to, f"没有找到待确认的消息 [{item_id}]，请核对编号。")
        if not self.may_decide(actor, item):
            return "forbidden", self._answer(answer_to, f"待确认消息 [{item_id}] 不在您负责的范围内，不能{verb}。")
        assert actor is not None
        if item.state != PENDING:
            done = "已登记为工单" if item.state == "registered" else "已忽略"
            return "decided", self._answer(answer_to, f"[{item_id}] 已处理过（{done}），由 {item.decided_by} 处理。")
        item.decided_at, item.decided_by = self.now, actor.name
        if not register:
            item.state = "dismissed"
            return "dismissed", self._answer(answer_to, f"已忽略 [{item_id}]，群里不会收到回复。")
        parse = ParseResult.from_dict(item.parse or {})
        node = self.config.tree.node(item.node_code)
        reporter = Reporter(id=item.sender_id, name=item.sender_name, room_id=item.room_id, room_key=item.room_key,
                            node=node, message_row_id=item.message_id)
        ticket, merged, replies = await TicketDesk(self.session, self.config, self.directory, self.now).report(
            reporter, parse, item.text)
        item.state, item.ticket_id = "registered", ticket.id
        how = "并入已有工单" if merged else "登记为工单"
        replies.extend(self._answer(answer_to, f"已把 [{item_id}] {how} #{ticket.number}，已在群里回复居民。"))
        return "registered", replies

    @staticmethod
    def _answer(to: Address | None, text: str) -> list[Reply]:
        return [Reply(to, text, (), priority=3, kind="review_answer")] if to is not None else []

    async def pending_for(self, node_code: str, *, limit: int = 200) -> list[ReviewRow]:
        return await self.repo.pending_in(node_path(self.config.tree, node_code), limit=limit)


def held_from(msg: Any, node: GridNode, room_key: str | None, message_id: int | None) -> Held:
    return Held(sender_id=msg.sender_id, sender_name=msg.sender_name, room_id=msg.room_id, room_key=room_key,
                node=node, text=msg.text, message_id=message_id)
