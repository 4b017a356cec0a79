"""A fake transport that records what was sent and can be told to fail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from bot.clock import SystemClock
from bot.messages import Address, RoomInfo
from bot.transport.base import EventSink, TransportError


class FakeTransport:
    name = "fake"

    def __init__(self, rooms: Sequence[RoomInfo] = (), self_id: str = "bot") -> None:
        self._rooms = list(rooms)
        self._self_id = self_id
        self.sent: list[tuple[Address, str, tuple[str, ...]]] = []
        self.sink: EventSink | None = None
        self.failures: list[TransportError] = []
        self.connected = True

    def watch_connection(self, listener) -> None:  # type: ignore[no-untyped-def]
        pass

    @property
    def self_id(self) -> str:
        return self._self_id

    async def start(self, sink: EventSink) -> None:
        self.sink = sink

    async def stop(self) -> None:
        self.sink = None

    async def send(self, to: Address, text: str, mentions: Sequence[str] = ()) -> str | None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((to, text, tuple(mentions)))
        return f"fake-{len(self.sent)}"

    async def rooms(self) -> list[RoomInfo]:
        return list(self._rooms)


class ShiftedClock(SystemClock):
    """Wall-clock time moved to a fixed moment: it starts at `start` and runs at real speed (sleeping really
    sleeps), so a test that needs real time (a browser, the sender's pacing) does not depend on the hour it runs at
    (quiet hours hold routine notices at night; holidays hold them all day)."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - datetime.now(timezone.utc)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self._offset


# a Tuesday morning in an ordinary working week, Beijing time: no quiet hours, no holiday
WORKDAY_MORNING = datetime(2026, 11, 24, 10, 0, tzinfo=timezone(timedelta(hours=8)))
