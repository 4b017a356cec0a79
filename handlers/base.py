"""What a handler sees (Context) and what it must provide (match, then handle)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Config
from bot.domain.grid import GridNode, Person, Room
from bot.domain.people import Directory
from bot.messages import IncomingMessage, Reply
from storage.models import MessageRow

A = TypeVar("A")


@dataclass
class Context:
    """One message's unit of work: the session, the deployment, the time, and what we know of it."""

    session: AsyncSession
    config: Config
    directory: Directory
    now: datetime
    bot_id: str
    bot_name: str
    room: Room | None = None
    node: GridNode | None = None
    sender: Person | None = None
    parse: Any = None  # bot.domain.parsing.ParseResult when the parser ran
    message_row: MessageRow | None = None  # the stored message; its INSERT waits until an id is needed
    recent_image: Callable[[str, str], bool] | None = None  # did this sender post a photo here lately?
    extras: dict[str, Any] = field(default_factory=dict)

    async def message_id(self) -> int | None:
        """The stored message's id (flushing its INSERT now if it has not happened yet)."""
        if self.message_row is None:
            return None
        if self.message_row.id is None:
            await self.session.flush()
        return self.message_row.id

    @property
    def tree(self):  # type: ignore[no-untyped-def]
        return self.config.tree


class Handler(Protocol, Generic[A]):
    """Matching is separate from handling so it can be tested on its own."""

    name: str

    def match(self, msg: IncomingMessage, ctx: Context) -> A | None:
        """The handler's typed input if this message is for it, else None (may be async if it must look up)."""
        ...

    async def handle(self, msg: IncomingMessage, args: A, ctx: Context) -> list[Reply]:
        ...
