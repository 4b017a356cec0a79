"""What a handler sees (Context) and what it must provide (match, then handle)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from bot.config import Config
from bot.domain.grid import GridNode, GridTree, Person, Room
from bot.domain.parsing import ParseResult
from bot.domain.people import Directory
from bot.messages import IncomingMessage, Reply
from bot.work import Work
from storage.models import MessageRow
from storage.session import Session

A = TypeVar("A")


@dataclass
class Context:
    """One message's unit of work (`work`: session, time, desks) and what we know of the message."""

    work: Work
    bot_id: str
    bot_name: str
    room: Room | None = None
    node: GridNode | None = None
    sender: Person | None = None
    parse: ParseResult | None = None  # when the parser ran
    message_row: MessageRow | None = None  # the stored message; its INSERT waits until an id is needed
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def session(self) -> Session:
        return self.work.session

    @property
    def config(self) -> Config:
        return self.work.config

    @property
    def directory(self) -> Directory:
        return self.work.directory

    @property
    def now(self) -> datetime:
        return self.work.now

    @property
    def tree(self) -> GridTree:
        return self.work.config.tree

    @property
    def recent_image(self) -> Callable[[str, str], bool] | None:
        """Did this sender post a photo in this group lately? (None: the pipeline does not remember photos)"""
        return self.work.services.recent_image

    async def message_id(self) -> int | None:
        """The stored message's id (flushing its INSERT now if it has not happened yet)."""
        if self.message_row is None:
            return None
        if self.message_row.id is None:
            await self.session.flush()
        return self.message_row.id


class Handler(Protocol, Generic[A]):
    """Matching is separate from handling so it can be tested on its own."""

    name: str

    def match(self, msg: IncomingMessage, ctx: Context) -> A | None:
        """The handler's typed input if this message is for it, else None (may be async if it must look up)."""
        ...

    async def handle(self, msg: IncomingMessage, args: A, ctx: Context) -> list[Reply]:
        ...
