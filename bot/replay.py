"""Replay: run the whole bot on the simulator with a virtual clock, fed from a list of events.

An event is {"at": "2026-11-23T09:00:00+08:00" | "+35m", "room": "<topic or id>", "sender": "<who>",
"text": "..."}; optional "type" (text, image, join, leave) and "direct": true for a private chat.
An event with only "at" just lets time pass (deadlines fire, reminders go out). Senders are matched
to configured people by key, WeChat id or name; anyone else is a resident known by nickname.
What the bot sends is collected in order; scenario tests and `gridbot replay` use the same code.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.app import GridBot
from bot.clock import VirtualClock
from bot.config import Config
from bot.domain.sla import parse_duration
from bot.messages import MessageType
from bot.transport.simulator import SimulatorTransport, contact_id_for, person_id_for
from storage.models import TicketRow
from storage.message_repository import MessageRepository
from storage.session import Database, Session
from storage.ticket_repository import TicketRepository

_LOGGER = logging.getLogger(__name__)


class ReplayError(ValueError):
    """An event that cannot be replayed; the message says which and why."""


@dataclass
class Event:
    at: datetime
    room: str | None = None
    sender: str | None = None
    text: str = ""
    type: str = "text"
    direct: bool = False


@dataclass
class Replay:
    """A bot on the simulator and a virtual clock, driven by events."""

    config: Config
    database: Database
    start: datetime
    clock: VirtualClock = field(init=False)
    sim: SimulatorTransport = field(init=False)
    bot: GridBot = field(init=False)

    def __post_init__(self) -> None:
        self.clock = VirtualClock(self.start)
        self.sim = SimulatorTransport.from_config(self.config, self.clock)
        self.bot = GridBot(self.config, self.sim, clock=self.clock, database=self.database, scheduler=False)

    async def __aenter__(self) -> "Replay":
        await self.bot.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.bot.stop()

    def sender_identity(self, sender: str) -> tuple[str, str]:
        """(contact id, display name) for a configured person or a resident nickname."""
        person = self.bot.directory.find(sender)  # a test driver may pick people by key or name …
        if person is not None:
            return person_id_for(person), person.name  # … but sends with their contact id, as WeChat would
        return contact_id_for(sender), sender

    async def feed(self, event: Event) -> None:
        """Let time pass to the event, then make it happen."""
        if event.at > self.clock.now():
            await self.bot.settle(self.clock, until=event.at)
        if event.sender is None and event.room is None:
            return
        if event.sender is None:
            raise ReplayError("event has a room but no sender")
        sender_id, name = self.sender_identity(event.sender)
        if event.direct or event.room is None:
            await self.sim.post_direct(sender_id, name, event.text)
            return
        try:
            room = self.sim.find_room(event.room)
        except KeyError:
            raise ReplayError(f"no group {event.room!r} in the config") from None
        if event.type == "join":
            await self.sim.join(room.id, sender_id, name)
        elif event.type == "leave":
            await self.sim.leave(room.id, sender_id)
        else:
            kind = MessageType(event.type) if event.type in MessageType._value2member_map_ else MessageType.UNKNOWN
            payload = b"\x89PNG\r\n\x1a\nreplay" if kind == MessageType.IMAGE else None
            await self.sim.post(room.id, sender_id, event.text, sender_name=name, type=kind, payload=payload)

    async def finish(self, until: datetime | None = None) -> None:
        """Handle what is left: everything received, every due send (and time up to `until`)."""
        await self.bot.settle(self.clock, until=until)
        await self.bot.settle(self.clock)

    def sent(self) -> list[dict[str, Any]]:
        """Every message the bot sent, in order, as replay prints them."""
        tz = self.config.tz
        topics = {room.id: room.topic for room in self.sim.all_rooms()}
        return [{"at": m.at.astimezone(tz).isoformat(), "room": topics.get(m.conversation.id) if m.conversation.is_room
                 else None, "to": None if m.conversation.is_room else m.conversation.id, "text": m.text,
                 "mentions": list(m.mentions)} for m in self.sim.sent]

    async def summary(self) -> dict[str, Any]:
        """The final state: tickets with their state and level, and message counts."""
        async def work(session: Session) -> tuple[list[TicketRow], dict[str, int]]:
            return await TicketRepository(session).all_by_number(), await MessageRepository(session).direction_counts()

        tickets, counts = await self.database.run(work, what="replay summary")
        return {
            "tickets": [{"number": t.number, "state": t.state, "category": t.category, "urgency": t.urgency,
                         "node": t.node_code, "escalation_level": t.escalation_level, "escalated": t.escalated,
                         "reporters": t.reporter_count, "assignee": t.assignee} for t in tickets],
            "messages_in": int(counts.get("in", 0)), "messages_out": int(counts.get("out", 0)),
            "clock": self.clock.now().astimezone(self.config.tz).isoformat(),
        }


def parse_events(lines: Iterable[str], *, tz: Any, start: datetime) -> Iterator[Event]:
    """JSON Lines → events with absolute times; relative '+35m' counts from the previous event."""
    previous = start
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReplayError(f"line {number}: not JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise ReplayError(f"line {number}: an event must be a JSON object")
        at = _when(data.get("at"), previous, tz, number)
        if at < previous:
            raise ReplayError(f"line {number}: events must be in time order ({at.isoformat()} is before "
                              f"{previous.isoformat()})")
        previous = at
        text = data.get("text", "")
        if not isinstance(text, str):
            raise ReplayError(f"line {number}: text must be a string")
        yield Event(at=at, room=_opt_str(data.get("room")), sender=_opt_str(data.get("sender")), text=text,
                    type=str(data.get("type") or "text"), direct=bool(data.get("direct")))


def first_time(lines: list[str], tz: Any) -> datetime | None:
    """The first absolute time among the events, to start the clock there."""
    for line in lines:
        try:
            at = json.loads(line).get("at")
        except (json.JSONDecodeError, AttributeError):
            continue
        if isinstance(at, str) and not at.startswith("+"):
            try:
                moment = datetime.fromisoformat(at)
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=tz)
    return None


def _when(value: Any, previous: datetime, tz: Any, number: int) -> datetime:
    if value is None:
        return previous
    if not isinstance(value, str):
        raise ReplayError(f"line {number}: 'at' must be a time like 2026-11-23T09:00:00+08:00 or +35m")
    if value.startswith("+"):
        try:
            return previous + parse_duration(value[1:])
        except ValueError:
            raise ReplayError(f"line {number}: cannot read relative time {value!r} (write +35m, +2h, +1d)") from None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ReplayError(f"line {number}: cannot read time {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


