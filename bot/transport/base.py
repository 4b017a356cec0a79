"""The Transport protocol every chat connection implements."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Protocol, Union

from bot.messages import Address, IncomingMessage, MemberEvent, RoomInfo

Event = Union[IncomingMessage, MemberEvent]
EventSink = Callable[[Event], Awaitable[None]]


class TransportError(Exception):
    """A send or connection failed; `retryable` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Transport(Protocol):
    """A connection to one chat account.

    The app calls `start(sink)` once; the transport then delivers every event to `sink`,
    in the order it arrived, until `stop()`. `send` raises TransportError on failure.
    """

    name: str

    @property
    def self_id(self) -> str:
        """The bot account's own contact id (its own echoed messages are ignored)."""
        ...

    async def start(self, sink: EventSink) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, to: Address, text: str, mentions: Sequence[str] = ()) -> str | None:
        """Send text, @-mentioning `mentions` (contact ids) in a room; return the message id if known."""
        ...

    async def rooms(self) -> list[RoomInfo]:
        """The rooms the account is in now."""
        ...


class ImageSending(Protocol):
    """A transport that can also send a picture (a file on disk)."""

    async def send_image(self, to: Address, path: Path) -> str | None:
        """Send the image file; return the message id if known. Raises TransportError on failure."""
        ...


def can_send_images(transport: object) -> bool:
    return callable(getattr(transport, "send_image", None))
