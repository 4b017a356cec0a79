"""Real WeChat through a Wechaty Puppet Service, with the Python puppet-service client.

Route: `wechaty_puppet_service.PuppetService` (0.8.10) directly, not the `wechaty` package, whose last
release does not import on Python 3.11. The client speaks gRPC (grpclib) to any Wechaty Puppet
Service, e.g. a `PuppetServer` in front of a puppet provider; its protocol matches the Node 1.x
servers' field numbers for everything used here.
(Longer than most modules, on purpose: one job, speaking the puppet protocol, kept in one file so the whole
adaptation to WeChat can be read and replaced together.)

Compatibility shims, each small:
- `_PuppetClient._init_puppet` replaces the library's: it never asks the internet for an endpoint
  (an explicit endpoint is required), skips the blocking telnet "ping" (we probe asynchronously before
  each attempt), and turns on HTTP/2 keepalive pings so a silently dead link is noticed.
- Message payloads are read through the raw gRPC stub: the library's type mapping raises IndexError on
  types newer than it (e.g. 16, "post"); `_MESSAGE_TYPES` maps the wire value, unknown → UNKNOWN.
- The library's loggers print the token and log to stderr on their own; they are quieted to errors,
  passed to our logging, and the token is redacted from their records.
- Room members are named by their group nickname (群昵称, RoomMemberPayload.room_alias, e.g. "5-1-201 张伟",
  where households come from), else their contact name; WeChat announces no nickname change, so the
  sender of each room message and every member of a room listing is read afresh (`member_display_name`).
- hpack (under grpclib) logs every header, the token among them, at DEBUG: its logger is held at INFO.
- `telnetlib` (imported by the library) and pyee 11 (`AsyncIOEventEmitter` moved) warn of deprecations;
  those warnings are muted where they fire.

The library's `start()` calls the service's Stop then Start (restarting the puppet behind it, which logs
the account in again by itself), then reads the event stream; it never returns and does not reconnect: a
dropped stream ends it with `StreamTerminatedError` or a socket error. This transport runs it as a task per
connection. A first connection that fails (unreachable, token rejected) makes `start()` raise one
TransportError; once connected, drops are retried with exponential backoff capped at 30 s (a service back
after a long outage is found within half a minute), one log line per attempt. `connected` follows the
stream: set by its first event (or an open stream), cleared the moment it ends; `watch_connection`
listeners hear each change, so the outbox sender waits instead of spending attempts on a dead link.
Events are queued by synchronous listeners and delivered to the sink by one task, in arrival order.
No TLS: the service must run with TLS disabled; the token travels in the `:authority` header.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from grpclib.client import Channel
from grpclib.config import Configuration
from grpclib.const import Status
from grpclib.exceptions import GRPCError, ProtocolError, StreamTerminatedError

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # telnetlib, see the module docstring
    from wechaty_grpc.wechaty import PuppetStub
    from wechaty_grpc.wechaty.puppet import RoomMemberPayloadResponse
    from wechaty_puppet import PuppetOptions
    from wechaty_puppet_service import PuppetService
    from wechaty_puppet_service.utils import extract_host_and_port

from bot.clock import Clock, SystemClock
from bot.messages import Address, IncomingMessage, MemberEvent, MessageType, RoomInfo
from bot.transport.base import CAUSE_DISCONNECTED, CAUSE_NO_ROOM, CAUSE_REFUSED, Event, EventSink, TransportError

_LOGGER = logging.getLogger(__name__)

TOKEN_ENV = "WECHATY_PUPPET_SERVICE_TOKEN"
ENDPOINT_ENV = "WECHATY_PUPPET_SERVICE_ENDPOINT"
MENTION_SEPARATOR = "\u2005"  # WeChat ends an @name with a four-per-em space
QRCODE_URL = "https://wechaty.js.org/qrcode/"

# The wire value of MessagePayloadResponse.type is wechaty-puppet's MessageType (servers set it as is).
_MESSAGE_TYPES: dict[int, MessageType] = {
    1: MessageType.FILE,  # Attachment
    2: MessageType.VOICE,  # Audio
    5: MessageType.EMOTICON,
    6: MessageType.IMAGE,
    7: MessageType.TEXT,
    9: MessageType.MINI_PROGRAM,
    14: MessageType.LINK,  # Url
    15: MessageType.VIDEO,
}
# Contact card, chat history, location, group note, transfer, red envelope, recalled, post: UNKNOWN.

# Keepalive every 5.5 minutes: gRPC servers in Go reject pings more often than every 5 minutes by default.
_KEEPALIVE = Configuration(_keepalive_time=330.0, _keepalive_timeout=20.0, _keepalive_permit_without_calls=True)
_RPC_TIMEOUT = 15.0
_FILEBOX_BASE64 = 1  # FileBoxType.Base64 in the file-box package every puppet service uses
_PERMANENT = (Status.UNAUTHENTICATED, Status.PERMISSION_DENIED, Status.NOT_FOUND, Status.INVALID_ARGUMENT,
              Status.UNIMPLEMENTED)
_IMAGE_TIMEOUT = 10.0
_MAX_IMAGE_BYTES = 10 * 1024 * 1024
_CONNECTION_ERRORS = (OSError, StreamTerminatedError, ProtocolError, asyncio.TimeoutError, ConnectionError)
RECONNECT_CAP = 30.0  # seconds: the longest wait between two reconnection attempts, whatever is configured


class _RedactToken(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.tokens:
            message = record.getMessage()
            for token in self.tokens:
                message = message.replace(token, "***")
            record.msg, record.args = message, None
        return True


_REDACT = _RedactToken()


def _quiet_library_loggers() -> None:
    for name in list(logging.root.manager.loggerDict):
        if name.startswith(("WechatyPuppet", "PuppetService", "Wechaty")):
            logger = logging.getLogger(name)
            logger.handlers = []
            logger.propagate = True
            logger.setLevel(logging.ERROR)
            if _REDACT not in logger.filters:
                logger.addFilter(_REDACT)


_quiet_library_loggers()
if logging.getLogger("hpack").level == logging.NOTSET:
    logging.getLogger("hpack").setLevel(logging.INFO)


class _PuppetClient(PuppetService):
    """The library's client with our channel set-up (see the module docstring)."""

    def _init_puppet(self) -> None:
        host, port = extract_host_and_port(self.options.end_point)
        self.channel = Channel(host=host, port=port, config=_KEEPALIVE)
        self.channel._authority = self.options.token  # how puppet services read the token
        self._puppet_stub = PuppetStub(self.channel)


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Read a finished task's outcome so asyncio does not warn that it was never retrieved."""
    if task.done() and not task.cancelled():
        task.exception()


class _StreamEnded(Exception):
    """The server ended the event stream."""


@dataclass
class _Room:
    topic: str
    member_ids: tuple[str, ...]


class WechatyTransport:
    """One WeChat account through a Wechaty Puppet Service (see the module docstring)."""

    def __init__(self, endpoint: str, token: str, *, name: str = "wechaty", reconnect_initial: float = 1.0,
                 reconnect_max: float = RECONNECT_CAP, connect_timeout: float = 15.0, clock: Clock | None = None,
                 client_factory: Callable[[PuppetOptions], PuppetService] | None = None) -> None:
        if not endpoint:
            raise ValueError(f"the Wechaty transport needs an endpoint (host:port); set {ENDPOINT_ENV}")
        if not token:
            raise ValueError(f"the Wechaty transport needs a token; set {TOKEN_ENV}")
        self.name = name
        self.endpoint = endpoint
        self._token = token
        self.reconnect_max = min(reconnect_max, RECONNECT_CAP)
        self.reconnect_initial = min(reconnect_initial, self.reconnect_max)
        self.connect_timeout = connect_timeout
        self.clock: Clock = clock or SystemClock()
        self._client_factory = client_factory or (lambda options: _PuppetClient(options, name=name))
        self._self_id = ""
        self._self_name = ""
        self.logged_in = False
        self.reconnects = 0  # successful reconnections since start, for the console and tests
        self.last_reconnect_seconds: float | None = None
        self._sink: EventSink | None = None
        self._client: PuppetService | None = None
        self._connected = asyncio.Event()
        self._watchers: list[Callable[[bool], None]] = []
        self._first: asyncio.Future[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._pump: asyncio.Task[None] | None = None
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._stopping = False
        self._generation = 0
        self._contacts: dict[str, str] = {}
        self._members: dict[tuple[str, str], str] = {}
        self._rooms: dict[str, _Room] = {}
        _REDACT.tokens.add(token)

    @classmethod
    def from_env(cls, endpoint: str | None = None, token: str | None = None, **kwargs: Any) -> "WechatyTransport":
        """Build from arguments, else from WECHATY_PUPPET_SERVICE_ENDPOINT / _TOKEN; an endpoint is required."""
        endpoint = endpoint or os.environ.get(ENDPOINT_ENV, "").strip()
        token = token or os.environ.get(TOKEN_ENV, "").strip()
        if not endpoint:
            raise ValueError(f"no Wechaty puppet service endpoint: set transport.endpoint in config.yaml or "
                             f"{ENDPOINT_ENV} (host:port); without one the client would look the token up "
                             "on the internet")
        if not token:
            raise ValueError(f"no Wechaty puppet service token: set {TOKEN_ENV}")
        return cls(endpoint, token, **kwargs)

    # -- the Transport protocol ---------------------------------------------------------------

    @property
    def self_id(self) -> str:
        return self._self_id

    @property
    def connected(self) -> bool:
        """Whether the event stream is up now (False while reconnecting)."""
        return self._connected.is_set()

    def watch_connection(self, listener: Callable[[bool], None]) -> None:
        self._watchers.append(listener)

    def _set_connected(self, connected: bool) -> None:
        if connected == self._connected.is_set():
            return
        if connected:
            self._connected.set()
        else:
            self._connected.clear()
        for listener in list(self._watchers):
            try:
                listener(connected)
            except Exception:
                _LOGGER.exception("%s: a connection listener failed", self.name)

    async def start(self, sink: EventSink) -> None:
        """Connect once (raising TransportError if that fails), then keep the connection up until stop()."""
        if self._supervisor is not None:
            raise RuntimeError("WechatyTransport.start() called twice")
        self._sink = sink
        self._stopping = False
        self._first = asyncio.get_running_loop().create_future()
        self._pump = asyncio.create_task(self._deliver(), name=f"{self.name}-deliver")
        self._supervisor = asyncio.create_task(self._run(), name=f"{self.name}-connection")
        try:
            await self._first
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        self._stopping = True
        for task in (self._supervisor, self._pump):
            if task is not None:
                task.cancel()
        tasks = {task for task in (self._supervisor, self._pump) if task is not None}
        if tasks:
            await asyncio.wait(tasks, timeout=10.0)
            for task in tasks:
                _retrieve(task)
        self._supervisor = self._pump = None
        self._set_connected(False)

    async def send(self, to: Address, text: str, mentions: Sequence[str] = ()) -> str | None:
        client = self._client
        if client is None or not self._connected.is_set():
            raise TransportError("not connected to the WeChat puppet service", retryable=True,
                                 cause=CAUSE_DISCONNECTED)
        mention_ids = list(mentions) if to.is_room else []
        try:
            if mention_ids:
                text = await self._with_mentions(client, to.id, text, mention_ids)
            response = await asyncio.wait_for(
                client.puppet_stub.message_send_text(conversation_id=to.id, text=text, mentonal_ids=mention_ids),
                _RPC_TIMEOUT)
        except (GRPCError, *_CONNECTION_ERRORS) as exc:
            raise _send_failed(exc, f"WeChat send to {to.id}", to_room=to.is_room) from exc
        return response.id or None

    async def send_image(self, to: Address, path: Path) -> str | None:
        """Send a picture as a Wechaty FileBox (base64 JSON, the form every puppet service accepts)."""
        client = self._client
        if client is None or not self._connected.is_set():
            raise TransportError("not connected to the WeChat puppet service", retryable=True,
                                 cause=CAUSE_DISCONNECTED)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise TransportError(f"image file is missing: {path}", retryable=False) from exc
        filebox = json.dumps({"type": _FILEBOX_BASE64, "boxType": _FILEBOX_BASE64, "name": path.name,
                              "base64": base64.b64encode(data).decode("ascii"),
                              "md5": hashlib.md5(data).hexdigest(), "size": len(data)})
        try:
            response = await asyncio.wait_for(
                client.puppet_stub.message_send_file(conversation_id=to.id, filebox=filebox), _RPC_TIMEOUT * 2)
        except (GRPCError, *_CONNECTION_ERRORS) as exc:
            raise _send_failed(exc, f"WeChat image to {to.id}", to_room=to.is_room) from exc
        return response.id or None

    async def rooms(self) -> list[RoomInfo]:
        client = self._require_client()
        try:
            ids = (await asyncio.wait_for(client.puppet_stub.room_list(), _RPC_TIMEOUT)).ids
            result = []
            for room_id in ids:
                room = await self._room(client, room_id, fresh=True)
                names = await asyncio.gather(*(self._member_name(client, room_id, m, fresh=True)
                                               for m in room.member_ids))
                result.append(RoomInfo(room_id, room.topic, room.member_ids, tuple(names)))
        except GRPCError as exc:
            raise TransportError(f"listing WeChat rooms failed: {exc.message or exc.status.name}") from exc
        except _CONNECTION_ERRORS as exc:
            raise TransportError(f"listing WeChat rooms failed: {exc!r}") from exc
        return result

    # -- the connection -----------------------------------------------------------------------

    async def _run(self) -> None:
        """Connect, wait for the stream to end, reconnect with backoff; until stop()."""
        delay = self.reconnect_initial
        attempt = 0
        lost_at: float | None = None
        while not self._stopping:
            attempt += 1
            self._generation += 1
            generation = self._generation
            client: PuppetService | None = None
            task: asyncio.Task[None] | None = None
            try:
                await self._probe()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)  # pyee's AsyncIOEventEmitter moved
                    client = self._client_factory(PuppetOptions(end_point=self.endpoint, token=self._token))
                self._listen(client, generation)
                self._client = client
                task = asyncio.create_task(client.start(), name=f"{self.name}-stream-{generation}")
                connected = asyncio.create_task(self._connected.wait(), name=f"{self.name}-connected-{generation}")
                try:
                    await asyncio.wait({task, connected}, timeout=self.connect_timeout,
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    connected.cancel()
                if not task.done() and not self._connected.is_set():
                    # Some services send nothing until something happens; a live stream counts as connected.
                    _LOGGER.info("%s: no event from %s yet; taking the open stream as connected",
                                 self.name, self.endpoint)
                    self._on_connected(generation)
                if self._connected.is_set() and lost_at is not None:
                    self.reconnects += 1
                    self.last_reconnect_seconds = time.monotonic() - lost_at
                    _LOGGER.warning("%s: reconnected to %s after %.1f s (%d attempts)", self.name, self.endpoint,
                                    self.last_reconnect_seconds, attempt)
                    lost_at, attempt, delay = None, 0, self.reconnect_initial
                await task
                raise _StreamEnded("the puppet service ended the event stream")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every failure of a connection ends here, to be retried
                error = self._classify(exc)
            finally:
                self._set_connected(False)
                self._client = None
                await self._close(client, task)
            if not self._first_done():
                assert self._first is not None
                self._first.set_exception(error)
                return
            if lost_at is None:
                lost_at = time.monotonic()
                attempt = 1
            if not error.retryable:
                delay = self.reconnect_max
            _LOGGER.warning("%s: reconnecting to %s in %.1f s (attempt %d): %s", self.name, self.endpoint, delay,
                            attempt, error)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.reconnect_max)

    async def _probe(self) -> None:
        host, port = extract_host_and_port(self.endpoint)
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5.0)
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()

    def _classify(self, exc: Exception) -> TransportError:
        if isinstance(exc, TransportError):
            return exc
        if isinstance(exc, GRPCError) and exc.status in (Status.UNAUTHENTICATED, Status.PERMISSION_DENIED):
            detail = (exc.message or exc.status.name).replace(self._token, "***")
            return TransportError(f"the WeChat puppet service at {self.endpoint} rejected the token ({detail}); "
                                  f"check {TOKEN_ENV}", retryable=False)
        if isinstance(exc, GRPCError):
            return TransportError(f"the WeChat puppet service at {self.endpoint} answered "
                                  f"{exc.status.name}: {exc.message}")
        if isinstance(exc, _StreamEnded):
            return TransportError(str(exc))
        if isinstance(exc, (OSError, asyncio.TimeoutError)) and not self._first_done():
            return TransportError(f"cannot reach the WeChat puppet service at {self.endpoint}: "
                                  f"{exc.strerror if isinstance(exc, OSError) and exc.strerror else exc!r}")
        hint = "" if self._first_done() else " (does the service run with TLS? this client needs it disabled)"
        return TransportError(f"the WeChat puppet service at {self.endpoint} failed: {exc!r}{hint}")

    def _first_done(self) -> bool:
        return self._first is not None and self._first.done()

    async def _close(self, client: PuppetService | None, task: asyncio.Task[None] | None) -> None:
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=5.0)
            if not task.done():
                _LOGGER.warning("%s: the old event stream did not stop within 5 s", self.name)
            _retrieve(task)
        if client is None:
            return
        client._event_stream.remove_all_listeners()
        if self._stopping and client._puppet_stub is not None:
            # Tell the service we are gone, so it frees its single event-stream slot at once.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client._puppet_stub.stop(), 3.0)
        if client.channel is not None:
            client.channel.close()
            client.channel = None

    def _listen(self, client: PuppetService, generation: int) -> None:
        """Synchronous listeners: queue each event, in the order the stream delivered them."""
        for kind in ("heartbeat", "login", "logout", "message", "room-join", "room-leave", "room-topic", "scan",
                     "ready", "error", "dong"):
            client.on(kind, self._listener(kind, generation))

    def _listener(self, kind: str, generation: int) -> Callable[[Any], None]:
        def listen(payload: Any) -> None:
            if generation != self._generation:
                return
            self._on_connected(generation)
            if kind not in ("heartbeat", "dong", "ready"):
                self._queue.put_nowait((kind, payload))
        return listen

    def _on_connected(self, generation: int) -> None:
        if generation != self._generation or self._connected.is_set():
            return
        self._set_connected(True)
        _LOGGER.info("%s: connected to the WeChat puppet service at %s", self.name, self.endpoint)
        if self._first is not None and not self._first.done():
            self._first.set_result(None)

    def _require_client(self) -> PuppetService:
        if self._client is None or not self._connected.is_set():
            raise TransportError("not connected to the WeChat puppet service", retryable=True,
                                 cause=CAUSE_DISCONNECTED)
        return self._client

    # -- events -------------------------------------------------------------------------------

    async def _deliver(self) -> None:
        """Turn queued puppet events into our events and hand them to the sink, one at a time."""
        while True:
            kind, payload = await self._queue.get()
            events: list[Event] = []
            for _ in range(3):
                try:
                    events = await self._translate(kind, payload)
                    break
                except (*_CONNECTION_ERRORS, TransportError) as exc:
                    # The link dropped while we looked the payload up: wait for the next connection.
                    _LOGGER.warning("%s: reading a %s event failed (%r); waiting for the connection", self.name,
                                    kind, exc)
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._connected.wait(), self.reconnect_max + self.connect_timeout)
                except Exception:
                    _LOGGER.exception("%s: could not read a %s event; skipped", self.name, kind)
                    break
            else:
                _LOGGER.error("%s: gave up reading a %s event (%r) after 3 tries", self.name, kind, payload)
            for event in events:
                try:
                    assert self._sink is not None
                    await self._sink(event)
                except Exception:
                    _LOGGER.exception("%s: the bot failed on %s", self.name, type(event).__name__)

    async def _translate(self, kind: str, payload: Any) -> list[Event]:
        client = self._require_client() if kind in ("message", "room-join", "room-leave") else self._client
        if kind == "login":
            self._self_id = payload.contact_id
            self.logged_in = True
            if client is not None:
                self._self_name = await self._contact_name(client, self._self_id)
            _LOGGER.info("%s: logged in as %s (%s)", self.name, self._self_name or "?", self._self_id)
        elif kind == "logout":
            self.logged_in = False
            _LOGGER.warning("%s: the WeChat account %s logged out (%s)", self.name, payload.contact_id,
                            getattr(payload, "data", "") or "no reason given")
        elif kind == "scan":
            qrcode = getattr(payload, "qrcode", None)
            if qrcode:
                _LOGGER.warning("%s: WeChat login needed, scan %s%s", self.name, QRCODE_URL, quote(qrcode, safe=""))
            else:
                _LOGGER.info("%s: login status %s", self.name, getattr(payload, "status", "?"))
        elif kind == "error":
            _LOGGER.warning("%s: the puppet service reports an error: %s", self.name, getattr(payload, "data", payload))
        elif kind == "room-topic":
            room = self._rooms.get(payload.room_id)
            if room is not None:
                room.topic = payload.new_topic or room.topic
            _LOGGER.info("%s: room %s is now called %r", self.name, payload.room_id, payload.new_topic)
        elif kind == "message":
            assert client is not None
            message = await self._message(client, payload.message_id)
            return [message] if message is not None else []
        elif kind in ("room-join", "room-leave"):
            assert client is not None
            joined = kind == "room-join"
            member_ids = payload.invited_ids if joined else payload.removed_ids
            self._rooms.pop(payload.room_id, None)  # membership changed: read it again when needed
            events: list[Event] = []
            for member_id in member_ids or []:
                name = await self._member_name(client, payload.room_id, member_id, fresh=joined)
                events.append(MemberEvent(payload.room_id, member_id, name, joined, self.clock.now()))
                if member_id == self._self_id:
                    _LOGGER.warning("%s: the bot was %s room %s", self.name, "added to" if joined else "removed from",
                                    payload.room_id)
            return events
        return []

    async def _message(self, client: PuppetService, message_id: str) -> IncomingMessage | None:
        response = await asyncio.wait_for(client.puppet_stub.message_payload(id=message_id), _RPC_TIMEOUT)
        talker = response.from_id  # talker_id on the Node side, same field number
        if talker and talker == self._self_id:
            return None  # the puppet echoes what the bot sent
        try:
            kind = _MESSAGE_TYPES.get(int(response.type), MessageType.UNKNOWN)
        except (TypeError, ValueError):
            kind = MessageType.UNKNOWN
        text = response.text or ""
        mentions = list(dict.fromkeys(response.mention_ids or []))
        room_id = response.room_id
        topic: str | None = None
        if room_id:
            room = await self._room(client, room_id)
            topic = room.topic
            sender_name = await self._member_name(client, room_id, talker, fresh=True)
            if kind is MessageType.TEXT and "@" in text:
                # Many puppets leave the mention list empty; WeChat's text still has "@name".
                others = [m for m in room.member_ids if m not in mentions and m != talker]
                names = await asyncio.gather(*(self._member_name(client, room_id, m) for m in others))
                mentions += [m for m, name in zip(others, names) if name and f"@{name}" in text]
                if self._self_id and self._self_name and f"@{self._self_name}" in text \
                        and self._self_id not in mentions:
                    mentions.append(self._self_id)
            conversation = Address.room(room_id)
        else:
            sender_name = await self._contact_name(client, talker)
            conversation = Address.contact(talker)
        data = await self._image(client, message_id) if kind is MessageType.IMAGE else None
        return IncomingMessage(
            conversation=conversation, sender_id=talker, sender_name=sender_name, text=text, at=self.clock.now(),
            mentions=tuple(mentions), type=kind, message_id=response.id or message_id, room_topic=topic,
            payload=data, mentions_self=not room_id or (bool(self._self_id) and self._self_id in mentions),
        )

    async def _image(self, client: PuppetService, message_id: str) -> bytes | None:
        """The image's bytes when the service inlines them (base64 FileBox); else None, never an error."""
        try:
            response = await asyncio.wait_for(client.puppet_stub.message_image(id=message_id, type=3), _IMAGE_TIMEOUT)
            box = json.loads(response.filebox or "{}")
            encoded = box.get("base64")  # a FileBox of boxType 1; URL and UUID boxes are not fetched
            if isinstance(encoded, str) and encoded and len(encoded) <= _MAX_IMAGE_BYTES * 4 // 3 + 4:
                return base64.b64decode(encoded, validate=False)
        except Exception as exc:  # an image we cannot fetch is still a message
            _LOGGER.info("%s: no bytes for image %s: %r", self.name, message_id, exc)
        return None

    # -- look-ups, cached -----------------------------------------------------------------------

    async def _room(self, client: PuppetService, room_id: str, *, fresh: bool = False) -> _Room:
        room = None if fresh else self._rooms.get(room_id)
        if room is None:
            response = await asyncio.wait_for(client.puppet_stub.room_payload(id=room_id), _RPC_TIMEOUT)
            room = _Room(response.topic or room_id, tuple(response.member_ids))
            self._rooms[room_id] = room
        return room

    async def _contact_name(self, client: PuppetService, contact_id: str) -> str:
        if not contact_id:
            return ""
        name = self._contacts.get(contact_id)
        if name is None:
            try:
                response = await asyncio.wait_for(client.puppet_stub.contact_payload(id=contact_id), _RPC_TIMEOUT)
                name = response.name or contact_id
            except GRPCError:
                name = contact_id  # a stranger the service cannot describe
            self._contacts[contact_id] = name
        return name

    async def _member_name(self, client: PuppetService, room_id: str, contact_id: str, *,
                           fresh: bool = False) -> str:
        """The name shown in the room: the member's group nickname (群昵称) if set, else the contact's name.

        `fresh` reads it again from the service (WeChat sends no event when someone changes their nickname):
        for the sender of each message and for a room listing; mention look-ups use the cache."""
        key = (room_id, contact_id)
        name = None if fresh else self._members.get(key)
        if name is None:
            try:
                response = await asyncio.wait_for(
                    client.puppet_stub.room_member_payload(id=room_id, member_id=contact_id), _RPC_TIMEOUT)
            except GRPCError:
                response = None  # not (or no longer) a member the service can describe
            name = member_display_name(response) or self._members.get(key) \
                or await self._contact_name(client, contact_id)
            self._members[key] = name
        return name

    async def _with_mentions(self, client: PuppetService, room_id: str, text: str, mention_ids: list[str]) -> str:
        """Put "@name" before the text for each mentioned member the text does not name already."""
        prefix = ""
        for contact_id in mention_ids:
            name = await self._member_name(client, room_id, contact_id)
            if f"@{name}" not in text:
                prefix += f"@{name}{MENTION_SEPARATOR}"
        return prefix + text


def member_display_name(payload: RoomMemberPayloadResponse | None) -> str:
    """A room member as the room shows them: the group nickname (room_alias, 群昵称, e.g. "5-1-201 张伟")
    when set, else their WeChat name; "" when the payload names them neither way."""
    if payload is None:
        return ""
    return (payload.room_alias or "").strip() or (payload.name or "").strip()


def _send_failed(exc: BaseException, what: str, *, to_room: bool = False) -> TransportError:
    """A failed send as a TransportError: permanent for refusals the service will repeat, else retryable;
    its `cause` says in Chinese what a grid leader can do something about."""
    if isinstance(exc, GRPCError):
        if to_room and exc.status in (Status.NOT_FOUND, Status.INVALID_ARGUMENT, Status.PERMISSION_DENIED):
            cause = CAUSE_NO_ROOM
        elif exc.status in (Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED, Status.CANCELLED):
            cause = CAUSE_DISCONNECTED
        else:
            cause = CAUSE_REFUSED
        return TransportError(f"{what} failed: {exc.message or exc.status.name}",
                              retryable=exc.status not in _PERMANENT, cause=cause)
    return TransportError(f"{what} failed: {exc!r}", retryable=True, cause=CAUSE_DISCONNECTED)
