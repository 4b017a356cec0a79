"""The simulator: a complete transport with WeChat-like groups, members and ordered delivery.

It is a real transport, not a mock: the bot runs on it exactly as on WeChat. Groups come from
config (each configured room becomes a simulated group, its `members` the residents, the role
holders of the node and its parent the leaders). People type through `post()` (the web chat and
tests call it); what the bot sends lands in the group's history. Observers (the web page) get
every message as it happens. `fail_sends()` lets a trainer or a test rehearse failing sends, and
`set_connected(False)` a lost connection (the sender then waits until `set_connected(True)`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.clock import Clock
from bot.config import Config
from bot.domain.grid import Person
from bot.messages import Address, IncomingMessage, MemberEvent, MessageType, RoomInfo
from bot.transport.base import CAUSE_DISCONNECTED, CAUSE_NO_ROOM, EventSink, TransportError

_LOGGER = logging.getLogger(__name__)

BOT_ID = "gridbot"
BOT_NAME = "微格助手"
HISTORY_LIMIT = 500


@dataclass(frozen=True, slots=True)
class SimMember:
    id: str
    name: str
    role: str | None = None  # e.g. "微网格长" for leaders, None for residents


@dataclass(frozen=True, slots=True)
class SimMessage:
    """One line in a simulated group or private chat, as everyone in it sees it."""

    id: str
    conversation: Address
    sender_id: str
    sender_name: str
    text: str
    at: datetime
    mentions: tuple[str, ...] = ()
    from_bot: bool = False
    type: MessageType = MessageType.TEXT
    image: str | None = None  # the file the bot sent as a picture

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id, "conversation": {"kind": self.conversation.kind, "id": self.conversation.id},
            "sender_id": self.sender_id, "sender_name": self.sender_name, "text": self.text,
            "at": self.at.isoformat(), "mentions": list(self.mentions), "from_bot": self.from_bot,
            "type": self.type.value, "image": Path(self.image).name if self.image else None,
        }


@dataclass
class SimRoom:
    id: str
    topic: str
    node_code: str | None = None
    members: dict[str, SimMember] = field(default_factory=dict)
    history: list[SimMessage] = field(default_factory=list)


def contact_id_for(name: str) -> str:
    """The stable simulated contact id of a resident known by display name."""
    return f"sim:{name}"


def person_id_for(person: Person) -> str:
    """The contact id a configured person has in the simulator: their wechat_id, or one the simulator binds
    to them (`sim-person:<key>`) — never the bare key, which identifies nobody."""
    return person.wechat_id or f"sim-person:{person.key}"


class SimulatorTransport:
    """Simulated WeChat groups; `post()` types as a member, `send()` is the bot speaking."""

    name = "simulator"

    def __init__(self, clock: Clock, rooms: Sequence[SimRoom] = (), *, bot_id: str = BOT_ID,
                 bot_name: str = BOT_NAME, log: Path | None = None,
                 person_ids: dict[str, str] | None = None) -> None:
        """`log`: append every message the bot sends to this JSON Lines file — the simulated WeChat's own
        record, shared by every account process of a deployment and kept when a process dies."""
        self.clock = clock
        self.log = log
        self._person_ids = dict(person_ids or {})
        self.bot_id = bot_id
        self.bot_name = bot_name
        self._rooms: dict[str, SimRoom] = {room.id: room for room in rooms}
        self._direct: dict[str, list[SimMessage]] = {}
        self._sink: EventSink | None = None
        # events for the bot, with the future a sender waiting for the bot's acknowledgement waits on
        self._inbound: asyncio.Queue[tuple[IncomingMessage | MemberEvent, asyncio.Future[None] | None]] = \
            asyncio.Queue()
        self._pump: asyncio.Task[None] | None = None
        self._observers: set[asyncio.Queue[dict[str, object]]] = set()
        self._ids = itertools.count(1)
        self._fail_remaining = 0
        self._fail_error = "simulated network failure"
        self._connected = True
        self._watchers: list[Callable[[bool], None]] = []
        self.sent: list[SimMessage] = []  # everything the bot sent, in order

    @classmethod
    def from_config(cls, config: Config, clock: Clock, *, account: str | None = None) -> "SimulatorTransport":
        """One simulated group per configured room, with its residents and the leaders around it.

        With `account`, the bot is that account ("gridbot-<name>") and is only in the groups of the account's
        `sim_nodes` subtrees (all groups when it lists none)."""
        rooms: list[SimRoom] = []
        tree = config.tree
        account_config = config.transport.account(account) if account else None
        within = set(account_config.sim_nodes) if account_config else set()
        for node in tree:
            if within and not any(tree.is_within(node.code, top) for top in within):
                continue
            leaders: dict[str, SimMember] = {}
            for holder_node in tree.lineage(node.code)[:2]:
                for role, keys in holder_node.roles:
                    for key in keys:
                        person = config.people[key]
                        member_id = person_id_for(person)
                        leaders.setdefault(member_id, SimMember(member_id, person.name, role))
            for index, room in enumerate(node.rooms):
                room_id = room.id or f"sim-{node.code}-{index + 1}"
                members = {m.id: m for m in (SimMember(contact_id_for(n), n) for n in room.members)}
                members.update(leaders)
                rooms.append(SimRoom(room_id, room.topic or room_id, node.code, members))
        log = None
        if config.transport.sim_log:
            log = Path(config.transport.sim_log)
            log = log if log.is_absolute() else config.path.parent / log
        person_ids = {person_id_for(p): p.key for p in config.people.values() if not p.wechat_id}
        return cls(clock, rooms, bot_id=f"{BOT_ID}-{account}" if account else BOT_ID, log=log,
                   person_ids=person_ids)

    def person_ids(self) -> dict[str, str]:
        """Simulator contact id → person key, for the people config gives no wechat_id: choosing such a
        person in the simulator is being them, as a binding would make it on WeChat."""
        return dict(self._person_ids)

    # -- the Transport protocol ---------------------------------------------------------------

    @property
    def self_id(self) -> str:
        return self.bot_id

    @property
    def connected(self) -> bool:
        return self._connected

    def watch_connection(self, listener: Callable[[bool], None]) -> None:
        self._watchers.append(listener)

    def set_connected(self, connected: bool) -> None:
        """Lose (False) or regain (True) the simulated link to WeChat; sends fail while it is down."""
        if connected == self._connected:
            return
        self._connected = connected
        _LOGGER.warning("simulator: connection %s", "restored" if connected else "lost")
        for listener in list(self._watchers):
            listener(connected)

    async def start(self, sink: EventSink) -> None:
        self._sink = sink
        if self._pump is None:
            self._pump = asyncio.create_task(self._deliver(), name="simulator-deliver")

    async def stop(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            try:
                await self._pump
            except asyncio.CancelledError:
                pass
            self._pump = None

    async def send(self, to: Address, text: str, mentions: Sequence[str] = ()) -> str | None:
        self._check_link(to)
        message = SimMessage(f"b{next(self._ids)}", to, self.bot_id, self.bot_name, text, self.clock.now(),
                             tuple(mentions), from_bot=True)
        self._record(message)
        self.sent.append(message)
        return message.id

    async def send_image(self, to: Address, path: Path) -> str | None:
        """The bot sends a picture: everyone in the chat sees it (the web page shows charts inline)."""
        self._check_link(to)
        if not path.is_file():
            raise TransportError(f"image file is missing: {path}", retryable=False)
        message = SimMessage(f"b{next(self._ids)}", to, self.bot_id, self.bot_name, f"[图片] {path.name}",
                             self.clock.now(), from_bot=True, type=MessageType.IMAGE, image=str(path))
        self._record(message)
        self.sent.append(message)
        return message.id

    async def rooms(self) -> list[RoomInfo]:
        return [RoomInfo(r.id, r.topic, tuple(r.members), tuple(m.name for m in r.members.values()))
                for r in self._rooms.values()]

    # -- what people do ------------------------------------------------------------------------

    def room(self, room_id: str) -> SimRoom:
        try:
            return self._rooms[room_id]
        except KeyError:
            raise KeyError(f"no simulated group {room_id!r}") from None

    def room_by_topic(self, topic: str) -> SimRoom:
        for room in self._rooms.values():
            if room.topic == topic:
                return room
        raise KeyError(f"no simulated group with topic {topic!r}")

    def find_room(self, key: str) -> SimRoom:
        """A room by id or by topic."""
        return self._rooms[key] if key in self._rooms else self.room_by_topic(key)

    def all_rooms(self) -> list[SimRoom]:
        return list(self._rooms.values())

    def add_room(self, room: SimRoom) -> None:
        """A group the bot was pulled into (config may not know it)."""
        self._rooms[room.id] = room

    async def post(self, room_id: str, sender_id: str, text: str, *, sender_name: str | None = None,
                   mentions: Sequence[str] = (), type: MessageType = MessageType.TEXT,
                   payload: bytes | None = None, acknowledged: bool = False) -> SimMessage:
        """A member types in a group; the bot receives it after everything posted before it.

        acknowledged=True: return only once the bot has taken it (stored it); raise TransportError if it could not."""
        room = self.room(room_id)
        member = room.members.get(sender_id)
        name = sender_name or (member.name if member else sender_id)
        if member is None:
            room.members[sender_id] = SimMember(sender_id, name)
        mention_ids = tuple(mentions) + tuple(
            m.id for m in room.members.values() if f"@{m.name}" in text and m.id not in mentions)
        if f"@{self.bot_name}" in text and self.bot_id not in mention_ids:
            mention_ids += (self.bot_id,)
        message = SimMessage(f"m{next(self._ids)}", Address.room(room_id), sender_id, name, text,
                             self.clock.now(), mention_ids, type=type)
        self._record(message)
        taken = asyncio.get_running_loop().create_future() if acknowledged else None
        await self._inbound.put((IncomingMessage(
            conversation=message.conversation, sender_id=sender_id, sender_name=name, text=text, at=message.at,
            mentions=mention_ids, type=type, message_id=message.id, room_topic=room.topic, payload=payload,
            mentions_self=self.bot_id in mention_ids,
        ), taken))
        if taken is not None:
            try:
                await taken
            except Exception as exc:
                raise TransportError(f"the bot did not take the message: {exc}") from exc
        return message

    async def post_direct(self, sender_id: str, sender_name: str, text: str) -> SimMessage:
        """Someone writes to the bot in a private chat."""
        message = SimMessage(f"m{next(self._ids)}", Address.contact(sender_id), sender_id, sender_name, text,
                             self.clock.now())
        self._record(message)
        await self._inbound.put((IncomingMessage(
            conversation=message.conversation, sender_id=sender_id, sender_name=sender_name, text=text,
            at=message.at, message_id=message.id, mentions_self=True), None))
        return message

    async def join(self, room_id: str, member_id: str, name: str) -> None:
        room = self.room(room_id)
        room.members[member_id] = SimMember(member_id, name)
        self._broadcast({"type": "member", "room_id": room_id, "member": {"id": member_id, "name": name},
                         "joined": True})
        await self._inbound.put((MemberEvent(room_id, member_id, name, True, self.clock.now()), None))

    async def leave(self, room_id: str, member_id: str) -> None:
        room = self.room(room_id)
        member = room.members.pop(member_id, None)
        name = member.name if member else member_id
        self._broadcast({"type": "member", "room_id": room_id, "member": {"id": member_id, "name": name},
                         "joined": False})
        await self._inbound.put((MemberEvent(room_id, member_id, name, False, self.clock.now()), None))

    def fail_sends(self, count: int, error: str = "simulated network failure") -> None:
        """The next `count` sends fail with a retryable TransportError (rehearse an outage)."""
        self._fail_remaining = count
        self._fail_error = error

    def direct_history(self, contact_id: str) -> list[SimMessage]:
        return list(self._direct.get(contact_id, ()))

    def observe(self) -> asyncio.Queue[dict[str, object]]:
        """A queue receiving every message and membership change from now on."""
        queue: asyncio.Queue[dict[str, object]] = asyncio.Queue(maxsize=1000)
        self._observers.add(queue)
        return queue

    def unobserve(self, queue: asyncio.Queue[dict[str, object]]) -> None:
        self._observers.discard(queue)

    async def idle(self) -> None:
        """Wait until every posted event has been handed to the bot (and the bot has taken it)."""
        await self._inbound.join()

    # -- internals -------------------------------------------------------------------------------

    def _check_link(self, to: Address) -> None:
        if not self._connected:
            raise TransportError("simulated connection lost", cause=CAUSE_DISCONNECTED)
        if self._fail_remaining > 0:
            self._fail_remaining -= 1
            raise TransportError(self._fail_error)
        if to.is_room and to.id not in self._rooms:
            raise TransportError(f"no such group: {to.id}", retryable=False, cause=CAUSE_NO_ROOM)

    def _record(self, message: SimMessage) -> None:
        if message.from_bot and self.log is not None:
            self._append_log(message)
        if message.conversation.is_room:
            history = self._rooms[message.conversation.id].history
        else:
            history = self._direct.setdefault(message.conversation.id, [])
        history.append(message)
        if len(history) > HISTORY_LIMIT:
            del history[: len(history) - HISTORY_LIMIT]
        self._broadcast({"type": "message", "message": message.to_dict()})

    def _append_log(self, message: SimMessage) -> None:
        """One line per message, written with a single O_APPEND write (lines from several processes never mix)."""
        line = json.dumps({"account": self.bot_id, "to": message.conversation.id, "kind": message.conversation.kind,
                           "id": message.id, "at": message.at.isoformat(), "text": message.text},
                          ensure_ascii=False) + "\n"
        self.log.parent.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)  # type: ignore[arg-type]
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)

    def _broadcast(self, event: dict[str, object]) -> None:
        for queue in list(self._observers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:  # a stalled page must not stall the bot
                self._observers.discard(queue)

    async def _deliver(self) -> None:
        """Hand events to the bot in order without waiting for one to be taken before the next (so the bot can
        store what arrives together in one transaction); each is done when the bot has taken it."""
        while True:
            event, taken = await self._inbound.get()
            if self._sink is None:
                self._settle(taken, None)
                continue
            task = asyncio.ensure_future(self._sink(event))  # tasks start in the order they were made
            task.add_done_callback(lambda t, taken=taken: self._settle(taken, t))

    def _settle(self, taken: asyncio.Future[None] | None, task: asyncio.Future[None] | None) -> None:
        error = None
        if task is not None and not task.cancelled() and task.exception() is not None:
            error = task.exception()
            if taken is None:
                _LOGGER.error("bot failed to take a simulated event: %s", error)
        if taken is not None and not taken.done():
            if error is not None:
                taken.set_exception(error)
            elif task is not None and task.cancelled():
                taken.set_exception(TransportError("the bot stopped"))
            else:
                taken.set_result(None)
        self._inbound.task_done()
