"""What crosses the transport boundary: incoming events and outgoing replies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class MessageType(str, Enum):
    """The kind of payload a chat message carries."""

    TEXT = "text"
    IMAGE = "image"
    VOICE = "voice"
    VIDEO = "video"
    FILE = "file"
    MINI_PROGRAM = "mini_program"
    LINK = "link"
    EMOTICON = "emoticon"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Address:
    """Where a message goes or comes from: a group (room) or a private chat (contact)."""

    kind: str  # "room" or "contact"
    id: str

    @classmethod
    def room(cls, room_id: str) -> "Address":
        return cls("room", room_id)

    @classmethod
    def contact(cls, contact_id: str) -> "Address":
        return cls("contact", contact_id)

    @property
    def is_room(self) -> bool:
        return self.kind == "room"


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A message the bot received, as the transport saw it."""

    conversation: Address
    sender_id: str
    sender_name: str
    text: str
    at: datetime
    mentions: tuple[str, ...] = ()
    type: MessageType = MessageType.TEXT
    message_id: str | None = None
    room_topic: str | None = None
    payload: bytes | None = None  # image bytes etc., when the transport has them
    mentions_self: bool = False

    @property
    def room_id(self) -> str | None:
        return self.conversation.id if self.conversation.is_room else None


@dataclass(frozen=True, slots=True)
class MemberEvent:
    """A member joined or left a room."""

    room_id: str
    member_id: str
    member_name: str
    joined: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class Reply:
    """Something the bot wants to say; handlers return these instead of sending."""

    to: Address
    text: str
    mentions: tuple[str, ...] = ()
    priority: int = 5  # lower goes first: 0 urgent, 5 normal, 9 bulk
    kind: str = "reply"  # reply, notice, relay, reminder, digest ...
    ref: str | None = None  # what it is about, e.g. "ticket:1024"
    image: str | None = None  # a picture file to send instead of text (transports that can send images)


@dataclass(frozen=True, slots=True)
class RoomInfo:
    """A room the bot account is in, as the transport lists it."""

    id: str
    topic: str
    member_ids: tuple[str, ...] = field(default=())
    member_names: tuple[str, ...] = field(default=())  # parallel to member_ids, when the transport knows them
