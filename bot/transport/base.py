"""The Transport protocol every chat connection implements."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Protocol, Union

from bot.messages import Address, IncomingMessage, MemberEvent, RoomInfo

Event = Union[IncomingMessage, MemberEvent]
EventSink = Callable[[Event], Awaitable[None]]


# What went wrong, in the words a grid leader reads in a failure report (never the English detail).
CAUSE_DISCONNECTED = "微信连接中断"
CAUSE_NO_ROOM = "群已解散或机器人不在群里"
CAUSE_REFUSED = "微信拒绝了这条消息"
CAUSE_UNKNOWN = "发送失败（原因不明）"
OUTAGE_PREFIX = "微信连接中断超过"


def outage_cause(max_age: timedelta) -> str:
    """Why a message waited out a whole outage: "微信连接中断超过 24 小时"."""
    minutes = int(max_age.total_seconds() // 60)
    if minutes >= 2 * 24 * 60 and minutes % (24 * 60) == 0:
        return f"{OUTAGE_PREFIX} {minutes // (24 * 60)} 天"
    hours, minutes = divmod(minutes, 60)
    parts = ([f"{hours} 小时"] if hours else []) + ([f"{minutes} 分钟"] if minutes else [])
    return f"{OUTAGE_PREFIX} {' '.join(parts) or '1 分钟'}"


def _is_chinese_sentence(text: str) -> bool:
    """A message written for people already (Chinese, no Latin letters), so it may be shown as is."""
    return bool(text) and any("\u4e00" <= ch <= "\u9fff" for ch in text) and not any(
        ch.isascii() and ch.isalpha() for ch in text)


class TransportError(Exception):
    """A send or connection failed; `retryable` says whether trying again may help.

    `cause` is the reason in Chinese for a failure report (one of the CAUSE_* sentences); the message
    itself is the technical detail for the log.
    """

    def __init__(self, message: str, *, retryable: bool = True, cause: str | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self._cause = cause

    @property
    def cause(self) -> str:
        if self._cause:
            return self._cause
        message = str(self)
        return message if _is_chinese_sentence(message) else CAUSE_UNKNOWN


def cause_for_people(error: str | None) -> str:
    """A stored error as a report may show it: Chinese as is, anything else (old English text) generic."""
    return error if error and _is_chinese_sentence(error) else CAUSE_UNKNOWN


class Transport(Protocol):
    """A connection to one chat account.

    The app calls `start(sink)` once; the transport then delivers every event to `sink`,
    in the order it arrived, until `stop()`. `send` raises TransportError on failure.
    `connected` is False while the link to WeChat is down; the sender then tries nothing and waits.
    """

    name: str

    @property
    def connected(self) -> bool:
        """Whether sends can go out now (False while the connection is lost or being re-established)."""
        ...

    def watch_connection(self, listener: Callable[[bool], None]) -> None:
        """Call `listener(connected)` whenever the connected state changes (from the event loop)."""
        ...

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
