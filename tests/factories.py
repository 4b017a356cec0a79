"""Message factories: make_message("3号楼楼道灯坏了", room="江桥花苑3号楼微网格", sender="3-201 王芳")."""

from __future__ import annotations

import itertools
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.messages import Address, IncomingMessage, MessageType

_IDS = itertools.count(1)
DEFAULT_AT = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def make_message(text: str, *, room: str | None = "sim-JQS-01-03-1", topic: str | None = "江桥花苑3号楼微网格",
                 sender: str = "3-201 王芳", sender_id: str | None = None, at: datetime | None = None,
                 mentions: tuple[str, ...] = (), type: MessageType = MessageType.TEXT,
                 direct: bool = False) -> IncomingMessage:
    """An IncomingMessage as a transport would deliver it."""
    conversation = Address.contact(sender_id or f"sim:{sender}") if direct or room is None else Address.room(room)
    return IncomingMessage(
        conversation=conversation, sender_id=sender_id or f"sim:{sender}", sender_name=sender, text=text,
        at=at or DEFAULT_AT, mentions=mentions, type=type, message_id=f"t{next(_IDS)}",
        room_topic=None if conversation.kind == "contact" else topic, mentions_self=direct,
    )
