"""A fake transport that records what was sent and can be told to fail."""

from __future__ import annotations

from collections.abc import Sequence

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
