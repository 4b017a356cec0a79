"""The app: config → database → scheduler → transport → router → sender → web, and back down.

`GridBot` wires the parts; the order of start-up and shut-down is written once, here. A message
from the transport is first stored (the durable inbox: its row, with handler "inbox", committed in a
short transaction shared with the messages arriving together) and only then acknowledged to the
transport; the messages are then handled in the order they arrived, a batch in one unit of work
(parsed, routed, replies queued in the outbox, the row's handler written) that is retried while the
database is unavailable. A crash between the two loses nothing: at start-up every message still in the
inbox is handled, once. A message that cannot be handled keeps its row, with handler "error" and the
reason, and never takes the rest of its batch with it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.clock import Clock, SystemClock, VirtualClock
from bot.cluster import Cluster
from bot.config import Config
from bot.digests import DigestSender
from bot.domain.budget import SendLimiter
from bot.domain.parsing.split import split_reports
from bot.domain.people import Directory, household_of
from bot.jobs import Jobs
from bot.messages import Address, IncomingMessage, MemberEvent, MessageType
from bot.outbox import OutboxSender
from bot.notices import NoticeDesk
from bot.review import ReviewDesk
from bot.tickets import TicketDesk
from bot.transport.base import Event, Transport, can_send_images
from handlers.base import Context
from handlers.router import HandlerFailed, RouteResult, Router
from storage.identity_repository import IdentityRepository
from storage.repositories import (GridRepository, MemberRepository, MessageRepository, OutboxRepository,
                                  PendingMessage, clean_incoming)
from storage.session import Database
from storage.notice_repository import NoticeRepository
from storage.review_repository import ReviewRepository
from storage.ticket_repository import TicketRepository

_LOGGER = logging.getLogger(__name__)

Parser = Callable[..., Any]


def build_router() -> Router:
    """The root router: commands first, then reports, then the catch-all for direct messages."""
    from handlers.commands import DirectChatHandler, HelpHandler, UnknownCommandHandler
    from handlers.tickets import (
        AnswerAcceptHandler,
        ConfirmationHandler,
        WithdrawHandler,
        ImageHandler,
        PrivateAskPlaceHandler,
        PrivatePlaceHandler,
        PrivateReportHandler,
        ReportHandler,
        TicketCommandHandler,
        TicketQueryHandler,
    )

    from handlers.ack import AckHandler
    from handlers.digest import DigestCommandHandler
    from handlers.identity import BindHandler
    from handlers.notice import NoticeHandler, ReceiptHandler
    from handlers.review import ReviewCommandHandler, ReviewHandler

    # a binding code first: "#绑定 …" must never reach another handler (or be echoed as unknown)
    commands = Router("commands", [BindHandler(), HelpHandler(), NoticeHandler(), ReceiptHandler(),
                                   TicketCommandHandler(), ReviewCommandHandler(), DigestCommandHandler(),
                                   UnknownCommandHandler()])
    # acks after ticket confirmations ("好了，谢谢" may answer either; the reporter's open ticket wins), before reports
    tickets = Router("tickets", [ImageHandler(), ConfirmationHandler(), WithdrawHandler(), AnswerAcceptHandler(),
                                 AckHandler(), TicketQueryHandler(), PrivatePlaceHandler(), PrivateReportHandler(),
                                 PrivateAskPlaceHandler(), ReviewHandler(), ReportHandler()])
    return Router("root", [commands, tickets, DirectChatHandler()])


def default_parser(config: Config) -> Parser | None:
    """The message parser with the deployment's own words, or None if the parser is not installed."""
    try:
        from bot.domain.parsing import Lexicon, ParseContext, Thresholds, parse
    except ImportError:  # pragma: no cover - the parser ships with the bot
        _LOGGER.warning("message parser not available; messages are stored without a parse")
        return None
    lexicon = Lexicon.from_mapping(config.lexicon) if config.lexicon else Lexicon.default()
    review = config.review
    thresholds = Thresholds(ticket=review.ticket, review=review.review, urgent_review=review.urgent_review)

    def run(text: str, *, room_tier: str | None = None, notice_pending: bool = False) -> Any:
        return parse(text, ParseContext(notice_pending=notice_pending, room_tier=room_tier), lexicon, thresholds)

    return run


@dataclass(frozen=True, slots=True)
class _Stored:
    """A message in the inbox: as handlers see it (cleaned), its stored row, and where it came from."""

    msg: IncomingMessage
    row: PendingMessage
    room: Any
    node: Any
    room_key: str | None


@dataclass(frozen=True, slots=True)
class _Prepared:
    stored: _Stored
    result: Any
    parsed: dict[str, Any] | None
    parts: tuple[tuple[str, Any], ...] = ()  # several reports in one message: (text, parse) each

    @property
    def msg(self) -> IncomingMessage:
        return self.stored.msg


@dataclass
class Stats:
    received: int = 0
    handled: int = 0
    errors: int = 0


class GridBot:
    """One bot account serving the groups of one deployment."""

    def __init__(self, config: Config, transport: Transport, *, clock: Clock | None = None,
                 database: Database | None = None, router: Router | None = None,
                 parser: Parser | None | bool = True, rng: random.Random | None = None,
                 scheduler: bool = True, account: str | None = None) -> None:
        """`account`: one of config transport.accounts — this process serves that account's groups alongside
        other processes on the same PostgreSQL database (see bot/cluster.py); None: the only process."""
        self.config = config
        self.account = account
        self.transport = transport
        self.clock = clock or SystemClock()
        self.db = database or config.open_database()
        self.router = router or build_router()
        self.parser: Parser | None = default_parser(config) if parser is True else (parser or None)
        self.directory = Directory(config.tree, config.people, config.roles)
        own_ids = getattr(transport, "person_ids", None)
        if callable(own_ids):  # the simulator's ids for people config gives no wechat_id (training only)
            self.directory.load_bindings(own_ids(), fixed=True)
        account_config = config.transport.account(account) if account else None
        if account is not None and account_config is None:
            raise ValueError(f"unknown account {account!r}: transport.accounts lists "
                             f"{', '.join(a.name for a in config.transport.accounts) or 'none'}")
        budget = account_config.send_budget if account_config else config.transport.send_budget
        self.sender = OutboxSender(
            self.db, transport, SendLimiter(budget.per_minute, jitter=budget.jitter, rng=rng), self.clock,
            max_attempts=config.transport.max_attempts, room_keys=self._room_key_and_node,
            resolve=self.resolve_address, on_sent=self._sent, on_failed=self._failed, account=account,
            offline_max_age=config.transport.offline_max_age)
        self.cluster: Cluster | None = None
        if account is not None:
            self.cluster = Cluster(self.db, account, self.clock, on_wake=self.sender.wake)
            self.sender.batch, self.sender.idle_poll = 5, 2.0
        self.jobs = Jobs(self.clock, config.timezone, enabled=scheduler,
                         leader=(lambda: self.cluster.is_leader) if self.cluster is not None else None)
        self.digests = DigestSender(self.db, config, images=can_send_images(transport), directory=self.directory,
                                    bot_id=lambda: self.transport.self_id)
        self.stats = Stats()
        # arrivals: events to store (with the future their sender waits on); inbound: stored, to handle
        self._arrivals: asyncio.Queue[tuple[Event, asyncio.Future[None] | None]] = asyncio.Queue()
        self._inbound: asyncio.Queue[_Stored | MemberEvent] = asyncio.Queue()
        self._intake: asyncio.Task[None] | None = None
        self._consumer: asyncio.Task[None] | None = None
        self.batch_size = 64  # messages waiting together are handled in one transaction
        self.intake_batch = 256  # and stored in one (short) transaction
        self._seen_rooms: set[str] = set()
        self._topics: dict[str, str] = {}  # transport room id → topic, as last seen
        self._room_ids: dict[str, str] = {}  # configured room key → transport room id, as learned
        self._images: dict[tuple[str, str], datetime] = {}  # (sender, room) → last photo, to spare a query
        self._notice_rooms: dict[str, datetime] = {}  # room key → when it last received a notice
        self.started = False

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self, *, migrate: bool = True) -> None:
        """Bring the bot up: schema, config sync, recovery of unsent messages, transport, sender, jobs."""
        if migrate:
            await self.db.upgrade()
        await self.db.run(lambda s: GridRepository(s).sync(self.config.tree, self.config.people, self.clock.now()),
                          what="config sync")
        await self.load_bindings()
        await self.sender.recover()
        since = self.clock.now() - self.config.tickets.photo_window
        for sender, room_key, at in await self.db.run(lambda s: MessageRepository(s).images_since(since),
                                                      what="recent photos"):
            self._images[(sender, room_key)] = at
        window = self.clock.now() - self.config.notices.ack_window
        for room_key, at in await self.db.run(lambda s: NoticeRepository(s).rooms_with_notices_since(window),
                                              what="recent notices"):
            self._notice_rooms[room_key] = at
        await self.digests.start(self.clock.now())
        if self.cluster is not None:
            await self.cluster.start()
        recovered = await self.recover_inbox()
        if recovered:
            _LOGGER.warning("handled %d message(s) stored before a crash but not handled then", recovered)
        self._intake = asyncio.create_task(self._take_in(), name="gridbot-intake")
        self._consumer = asyncio.create_task(self._consume(), name="gridbot-inbound")
        await self.transport.start(self.handle_event)
        await self.refresh_rooms()
        if self.cluster is not None:
            await self.cluster.rebalance()
        self.sender.start()
        self.jobs.add_interval("refresh_rooms", self.refresh_rooms, seconds=600, virtual=False)
        # `gridbot user unbind` (another process) and bindings made through another account reach us here
        self.jobs.add_interval("identity_bindings", self.load_bindings, seconds=60, virtual=False)
        self.jobs.add_interval("ticket_deadlines", self.check_deadlines, seconds=60, hint=self._next_deadline,
                               leader_only=True)
        self.jobs.add_interval("ticket_auto_close", self.auto_close, seconds=600, hint=self._next_auto_close,
                               leader_only=True)
        self.jobs.add_interval("notice_reminders", self.remind, seconds=60, hint=self._next_reminder,
                               leader_only=True)
        self.jobs.add_interval("review_lists", self.gather_reviews, seconds=60, hint=self._next_review,
                               leader_only=True)
        self.jobs.add_interval("digests", self.send_digests, seconds=60,
                               hint=lambda: self.digests.next_work(self.clock.now()), leader_only=True)
        if self.cluster is not None:
            self.jobs.add_interval("cluster_heartbeat", self.cluster.heartbeat, seconds=self.cluster.tick)
            self.jobs.add_interval("cluster_rebalance", self.cluster.rebalance, seconds=self.cluster.tick,
                                   leader_only=True)
        self.jobs.start()
        self.started = True
        _LOGGER.info("gridbot up: %d nodes, %d rooms, transport %s", len(self.config.tree),
                     sum(1 for _ in self.config.tree.rooms()), self.transport.name)

    async def stop(self) -> None:
        """Shut down in reverse order; what is still queued stays in the outbox for next time."""
        self.jobs.stop()
        await self.sender.stop()
        if self.cluster is not None:
            await self.cluster.stop()
        await self.transport.stop()
        for task in (self._intake, self._consumer):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        self._intake = self._consumer = None
        while not self._arrivals.empty():  # not stored, so not acknowledged: the sender learns it
            _, waiting = self._arrivals.get_nowait()
            if waiting is not None and not waiting.done():
                waiting.set_exception(RuntimeError("the bot stopped before the message was stored"))
            self._arrivals.task_done()
        await self.db.dispose()
        self.started = False

    async def __aenter__(self) -> "GridBot":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- events ------------------------------------------------------------------------------------

    async def handle_event(self, event: Event) -> None:
        """The transport's sink: returns once the message is stored (acknowledge it then, not before); it
        is handled afterwards, in arrival order. Raises if it could not be stored. Calls made together
        share one transaction, so a transport that does not wait for one call before the next keeps its pace."""
        if isinstance(event, IncomingMessage) and event.sender_id == self.transport.self_id:
            return  # the bot's own echo: neither stored nor handled
        if not isinstance(event, IncomingMessage):
            self._arrivals.put_nowait((event, None))  # membership changes keep their place in the order
            return
        stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._arrivals.put_nowait((event, stored))  # first, before any await: calls keep their order
        await stored

    async def idle(self) -> None:
        """Wait until every event received so far has been handled (for tests and replays)."""
        waiter = getattr(self.transport, "idle", None)
        if waiter is not None:
            await waiter()
        await self._arrivals.join()
        await self._inbound.join()

    async def settle(self, clock: VirtualClock, *, until: datetime | None = None, max_steps: int = 1_000_000) -> None:
        """On virtual time: handle everything received, run jobs and due sends as the clock moves,
        until nothing is left to send (or until `until`). Used by tests and `gridbot replay`."""
        for _ in range(max_steps):
            await self.idle()
            await asyncio.wait_for(self.sender.waiting.wait(), timeout=30)
            if not self._inbound.empty() or not self._arrivals.empty():
                continue
            if await self.jobs.run_due(clock.now()):
                continue
            pending = await self.db.run(lambda s: OutboxRepository(s).pending_count(), what="outbox count")
            wake = clock.next_wakeup()
            job_at = await self.jobs.next_due()
            if until is None:
                if not pending:
                    break
                job_at = None  # without a horizon, only sends move the clock
            if not pending:
                wake = None  # an idle sender's periodic look is not worth stepping the clock for
            candidates = [t for t in (wake, job_at) if t is not None]
            step = min(candidates) if candidates else None
            if step is None or (until is not None and step > until):
                break
            paused_until = self.sender.pause_until
            if paused_until is not None and paused_until <= step and self.sender.waiting.is_set():
                self.sender.waiting.clear()  # this advance wakes it; wait for it to pause again
            await clock.advance_to(step)
        if until is not None and clock.now() < until:
            await clock.advance_to(until)
            await self.idle()

    async def _take_in(self) -> None:
        """The inbox writer: what arrived together is stored in one short transaction, then acknowledged."""
        while True:
            batch = [await self._arrivals.get()]
            while len(batch) < self.intake_batch and not self._arrivals.empty():
                batch.append(self._arrivals.get_nowait())
            try:
                messages = [event for event, _ in batch if isinstance(event, IncomingMessage)]
                stored = iter(await self.store_arrivals(messages) if messages else ())
                for event, waiting in batch:
                    if not isinstance(event, IncomingMessage):
                        self._inbound.put_nowait(event)
                        continue
                    item = next(stored)
                    if isinstance(item, BaseException):
                        if waiting is not None and not waiting.done():
                            waiting.set_exception(item)
                        continue
                    self._inbound.put_nowait(item)
                    if waiting is not None and not waiting.done():
                        waiting.set_result(None)
            except Exception as exc:
                self.stats.errors += 1
                _LOGGER.exception("could not store %d event(s)", len(batch))
                for _, waiting in batch:
                    if waiting is not None and not waiting.done():
                        waiting.set_exception(exc)
            finally:
                for _ in batch:
                    self._arrivals.task_done()

    async def _consume(self) -> None:
        while True:
            batch = [await self._inbound.get()]
            while len(batch) < self.batch_size and not self._inbound.empty():
                batch.append(self._inbound.get_nowait())
            try:
                messages: list[_Stored] = []
                for event in batch:
                    if isinstance(event, _Stored):
                        messages.append(event)
                        continue
                    if messages:
                        await self.handle_stored(messages)
                        messages = []
                    if isinstance(event, MemberEvent):
                        await self.process_member(event)
                if messages:
                    await self.handle_stored(messages)
            except Exception:
                self.stats.errors += 1
                _LOGGER.exception("could not handle %d event(s)", len(batch))
            finally:
                for _ in batch:
                    self._inbound.task_done()

    def resolve_address(self, to: Address) -> Address:
        """Outbox rows may name a group by its configured key (topic); map it to the transport's id."""
        if not to.is_room or to.id in self._topics:
            return to
        room_id = self._room_ids.get(to.id)
        if room_id is None:
            room = self.config.tree.room(topic=to.id)
            room_id = room.id if room is not None and room.id else None
        return Address.room(room_id) if room_id else to

    def _learn_room(self, room_id: str, topic: str | None, key: str | None) -> None:
        if topic:
            self._topics[room_id] = topic
        if key:
            self._room_ids[key] = room_id

    def _room_key_and_node(self, room_id: str) -> tuple[str | None, str | None]:
        room = self.config.tree.room(room_id=room_id)
        if room is None:
            topic = self._topics.get(room_id)
            room = self.config.tree.room(topic=topic) if topic else None
        if room is None:
            return room_id, None
        return room.key, room.node_code

    async def process_message(self, msg: IncomingMessage) -> RouteResult | None:
        """Store, parse and route one message; queue the replies. None for the bot's own echoes."""
        return (await self.process_messages([msg]))[0]

    async def process_messages(self, messages: list[IncomingMessage]) -> list[RouteResult | None]:
        """Store the messages (the inbox), then handle them in arrival order (see `handle_stored`).
        None for the bot's own echoes; a message that could not even be stored raises."""
        todo = [m for m in messages if m.sender_id != self.transport.self_id]
        stored = iter(await self.store_arrivals(todo) if todo else ())
        items: list[_Stored | None] = []
        for m in messages:
            if m.sender_id == self.transport.self_id:
                items.append(None)
                continue
            item = next(stored)
            if isinstance(item, BaseException):
                raise item
            items.append(item)
        results = iter(await self.handle_stored([i for i in items if i is not None]))
        return [None if i is None else next(results) for i in items]

    def _locate(self, received: IncomingMessage) -> tuple[IncomingMessage, Any, Any, str | None]:
        """The message as handlers see it (cleaned), its configured group, node and room key (pure, fast)."""
        msg = clean_incoming(received)
        tree = self.config.tree
        room = None
        if msg.conversation.is_room:
            room = tree.room(room_id=msg.conversation.id, topic=msg.room_topic)
            self._learn_room(msg.conversation.id, msg.room_topic, room.key if room else None)
        node = tree.node(room.node_code) if room is not None else None
        room_key = room.key if room is not None else (msg.conversation.id if msg.conversation.is_room else None)
        return msg, room, node, room_key

    async def store_arrivals(self, messages: list[IncomingMessage]) -> list[_Stored | BaseException]:
        """Step one: each message's row, as received, in one short transaction (handler "inbox"). If the batch
        cannot be written, each message is tried alone: one that cannot be stored gets its exception, in its place."""
        located = [(m, *self._locate(m)) for m in messages]
        new_rooms: dict[str, tuple[str, str | None, str | None]] = {}

        async def work(session):  # type: ignore[no-untyped-def]
            new_rooms.clear()
            grid = GridRepository(session)
            for _, msg, _, node, room_key in located:
                if room_key is not None and room_key not in self._seen_rooms and room_key not in new_rooms:
                    new_rooms[room_key] = (msg.conversation.id, msg.room_topic, node.code if node else None)
                    await grid.room_seen(room_key, transport_id=msg.conversation.id, topic=msg.room_topic,
                                         node_code=node.code if node else None, now=self.clock.now())
            return await MessageRepository(session).store_arrivals(
                [(raw, room_key, node.code if node else None) for raw, _, _, node, room_key in located],
                account=self.account)

        try:
            rows = await self.db.run(work, what="storing messages")
        except Exception as exc:
            if len(messages) > 1:
                return [item for m in messages for item in await self.store_arrivals([m])]
            _LOGGER.error("could not store a message from %r: %s", messages[0].sender_name, exc)
            return [exc]
        self._seen_rooms.update(new_rooms)
        self.stats.received += len(rows)
        return [_Stored(msg, row, room, node, room_key) for (_, msg, room, node, room_key), row in zip(located, rows)]

    async def recover_inbox(self) -> int:
        """Handle the messages stored but not handled (the process died in between), oldest first."""
        count, after = 0, 0
        while True:
            rows = await self.db.run(lambda s: MessageRepository(s).inbox(account=self.account, after=after,
                                                                          limit=self.batch_size), what="inbox")
            if not rows:
                return count
            await self.handle_stored([self._from_row(row) for row in rows])
            count, after = count + len(rows), rows[-1].id

    def _from_row(self, row: PendingMessage) -> _Stored:
        """A stored message as the transport had delivered it (its text cleaned, as handlers always see it)."""
        is_room = row.conversation_kind == "room"
        config_room = self.config.tree.room(room_id=row.conversation_id, topic=row.room_key) if is_room else None
        try:
            kind = MessageType(row.msg_type)
        except ValueError:
            kind = MessageType.UNKNOWN
        mentions = tuple(row.mentions or ())
        msg = IncomingMessage(
            conversation=Address(row.conversation_kind, row.conversation_id), sender_id=row.sender_id,
            sender_name=row.sender_name, text=row.text, at=row.at, mentions=mentions, type=kind,
            message_id=row.transport_message_id, room_topic=config_room.topic if config_room else None,
            mentions_self=not is_room or self.transport.self_id in mentions)
        msg, room, node, room_key = self._locate(msg)
        return _Stored(msg, row, room, node, row.room_key if row.room_key is not None else room_key)

    def _prepare(self, item: _Stored) -> _Prepared:
        """What the parser makes of a message (pure, fast)."""
        msg = item.msg
        result = None
        if self.parser is not None and msg.text:
            room_key, node = item.room_key, item.node
            pending = room_key is not None and room_key in self._notice_rooms and (
                self._notice_rooms[room_key] >= self.clock.now() - self.config.notices.ack_window)
            try:
                result = self.parser(msg.text, room_tier=node.tier if node else None, notice_pending=pending)
            except Exception:  # the parser is built never to raise; if it does, the message still counts
                _LOGGER.exception("parser failed on a message; storing it unparsed")
        parts = self._report_parts(msg.text, result, item.node) if result is not None else ()
        return _Prepared(item, result, result.to_dict() if result is not None else None, parts)

    def _report_parts(self, text: str, result: Any, node: Any) -> tuple[tuple[str, Any], ...]:
        """Several problems in one report: one part each, only when every part is itself a report."""
        if getattr(result, "kind", None) != "report" or self.parser is None:
            return ()
        split = split_reports(text)
        if len(split.parts) < 2:
            return ()
        try:
            parsed = [(part, self.parser(part, room_tier=node.tier if node else None)) for part in split.parts]
        except Exception:
            _LOGGER.exception("parser failed on part of a message; keeping it whole")
            return ()
        if any(p.kind != "report" for _, p in parsed):
            return ()
        if not split.marked and len({p.category for _, p in parsed}) < len(parsed):
            return ()  # plain sentences about the same thing are one report told in two sentences
        return tuple(parsed)

    def _result_row(self, p: _Prepared) -> PendingMessage:
        """A fresh copy of the stored row for one attempt at handling (a retried attempt starts afresh)."""
        parse = p.parsed or {}
        return dataclasses.replace(p.stored.row, handler="", kind=parse.get("kind"), category=parse.get("category"),
                                   urgency=parse.get("urgency"), parse=p.parsed, ticket_id=None, attachment=None,
                                   error=None)

    async def _handle(self, session: Any, p: _Prepared) -> RouteResult:
        msg, item = p.msg, p.stored
        row = self._result_row(p)
        MessageRepository(session).add_handled(row)
        ctx = Context(session=session, config=self.config, directory=self.directory, now=self.clock.now(),
                      bot_id=self.transport.self_id, bot_name=getattr(self.transport, "bot_name", "微格助手"),
                      room=item.room, node=item.node, sender=self.directory.identify(msg.sender_id),
                      parse=p.result, message_row=row, recent_image=self._recent_image)
        if p.parts:
            ctx.extras["report_parts"] = p.parts
        if msg.type == MessageType.IMAGE and item.room_key is not None:
            self._images[(msg.sender_id, item.room_key)] = self.clock.now()
        if item.room is None and msg.conversation.is_room:
            routed = RouteResult("unknown_room")  # stored, not answered: config does not know this group
        else:
            routed = await self.router.route(msg, ctx)
        row.handler = routed.handler
        return routed

    def _recent_image(self, sender_id: str, room_key: str) -> bool:
        at = self._images.get((sender_id, room_key))
        if at is None:
            return False
        if at < self.clock.now() - self.config.tickets.photo_window:
            del self._images[(sender_id, room_key)]
            return False
        return True

    async def handle_stored(self, items: list[_Stored]) -> list[RouteResult]:
        """Step two: handle stored messages in arrival order in ONE unit of work (group commit under load),
        writing each row's handler with what its handling did, so a message is handled once.

        If the batch fails (a handler crashes, the database refuses something), it is rolled back and its
        messages are handled one by one, so only the failing one is marked "error", with the reason, and the
        others are answered as usual.
        """
        if not items:
            return []
        prepared = [self._prepare(item) for item in items]

        async def work(session):  # type: ignore[no-untyped-def]
            routed = [await self._handle(session, p) for p in prepared]
            await MessageRepository(session).flush_pending()  # every row's result in one executemany
            replies = [reply for r in routed for reply in r.replies]
            if replies:  # and every reply in one INSERT
                await OutboxRepository(session).enqueue(replies, now=self.clock.now())
            return routed

        try:
            results = await self.db.run(work, what="handling messages")
        except Exception as failed:
            if len(items) > 1:
                return [r for item in items for r in await self.handle_stored([item])]
            # one message: what its handling half did is rolled back, its row says why, the bot goes on
            results = [await self._mark_error(prepared[0], failed)]
        if any(r.handler == "bind" for r in results):
            await self.load_bindings()  # the table is the truth (a rolled-back binding must not linger)
        self.stats.handled += len(results)
        self.stats.errors += sum(1 for r in results if r.error)
        if any(r.replies for r in results):
            self.sender.wake()
        return results

    async def _mark_error(self, p: _Prepared, failed: Exception) -> RouteResult:
        if isinstance(failed, HandlerFailed):
            _LOGGER.error("handler failed on a message from %s: %s", p.msg.sender_name, failed,
                          exc_info=failed.__cause__)
            reason = str(failed)
        else:
            _LOGGER.error("could not handle a message from %s: %s", p.msg.sender_name, failed, exc_info=failed)
            reason = f"{type(failed).__name__}: {failed}"
        row = self._result_row(p)
        try:
            await self.db.run(lambda s: MessageRepository(s).mark_error(row, reason), what="marking a message")
        except Exception:  # its parse, even, was refused: keep the reason alone
            await self.db.run(lambda s: MessageRepository(s).mark_error(row, reason, with_parse=False),
                              what="marking a message")
        return RouteResult("error", [], reason)

    async def load_bindings(self) -> None:
        """The contact ids bound to people (`gridbot user bind`), into the directory that identifies senders."""
        bindings = await self.db.run(lambda s: IdentityRepository(s).bindings(), what="loading bindings")
        self.directory.load_bindings(bindings)

    async def process_member(self, event: MemberEvent) -> None:
        room = self.config.tree.room(room_id=event.room_id) or self.config.tree.room(
            topic=self._topics.get(event.room_id))
        room_key = room.key if room is not None else event.room_id
        await self.db.run(lambda s: MemberRepository(s).upsert(
            room_key, event.member_id, event.member_name, household=household_of(event.member_name),
            now=event.at, active=event.joined), what="membership change")

    async def _ticket_job(self, what: str, run: Callable[[TicketDesk], Any]) -> int:
        async def work(session):  # type: ignore[no-untyped-def]
            desk = TicketDesk(session, self.config, self.directory, self.clock.now())
            replies = await run(desk)
            if replies:
                await OutboxRepository(session).enqueue(replies, now=self.clock.now())
            return len(replies)

        count = await self.db.run(work, what=what)
        if count:
            self.sender.wake()
        return count

    async def _sent(self, row: Any) -> None:
        if row.kind == "notice":
            key, _ = self._room_key_and_node(row.to_id)
            self._notice_rooms[key or row.to_id] = self.clock.now()

    async def _failed(self, row: Any, error: str) -> None:
        async def work(session):  # type: ignore[no-untyped-def]
            replies = await NoticeDesk(session, self.config, self.directory, self.clock.now()).report_failure(row, error)
            if replies:
                await OutboxRepository(session).enqueue(replies, now=self.clock.now())

        await self.db.run(work, what="reporting a failed send")
        self.sender.wake()

    async def remind(self) -> int:
        async def work(session):  # type: ignore[no-untyped-def]
            desk = NoticeDesk(session, self.config, self.directory, self.clock.now(), self.transport.self_id)
            replies = await desk.remind()
            if replies:
                await OutboxRepository(session).enqueue(replies, now=self.clock.now())
            return len(replies)

        count = await self.db.run(work, what="notice reminders")
        if count:
            self.sender.wake()
        return count

    async def _next_reminder(self) -> datetime | None:
        return await self.db.run(lambda s: NoticeRepository(s).next_reminder(), what="next reminder")

    async def _next_deadline(self) -> datetime | None:
        return await self.db.run(lambda s: TicketRepository(s).next_check_time(), what="next deadline")

    async def _next_auto_close(self) -> datetime | None:
        oldest = await self.db.run(lambda s: TicketRepository(s).oldest_resolved_at(), what="next auto close")
        return None if oldest is None else oldest + self.config.tickets.auto_close_after

    async def gather_reviews(self) -> int:
        """Send each leader the held messages they have not been told of (at most one list per gather_every)."""
        async def work(session):  # type: ignore[no-untyped-def]
            replies = await ReviewDesk(session, self.config, self.directory, self.clock.now()).gather()
            if replies:
                await OutboxRepository(session).enqueue(replies, now=self.clock.now())
            return len(replies)

        count = await self.db.run(work, what="review lists")
        if count:
            self.sender.wake()
        return count

    async def _next_review(self) -> datetime | None:
        return await self.db.run(lambda s: ReviewRepository(s).earliest_unannounced(), what="next review list")

    async def check_deadlines(self) -> int:
        """Escalate tickets whose deadline passed (from stored state: a restart misses none, repeats none)."""
        return await self._ticket_job("deadline check", lambda desk: desk.check_deadlines())

    async def auto_close(self) -> int:
        return await self._ticket_job("auto close", lambda desk: desk.auto_close())

    async def send_digests(self) -> int:
        """Queue the daily and weekly digests that are due and not yet recorded (missed ones once, in grace)."""
        queued = await self.digests.run(self.clock.now())
        if queued:
            self.sender.wake()
        return len(queued)

    async def refresh_rooms(self) -> None:
        """Record the rooms the account is in; unknown ones are logged for the IT person to configure."""
        try:
            rooms = await self.transport.rooms()
        except Exception as exc:
            _LOGGER.warning("could not list rooms: %s", exc)
            return
        unknown: list[str] = []
        tree = self.config.tree
        members: list[tuple[str, str, str, str | None]] = []
        named: list[tuple[str, str, str, str | None]] = []  # members the transport named (group nicknames)
        known: list[str] = []  # configured groups this account is in

        async def work(session):  # type: ignore[no-untyped-def]
            for found in (unknown, members, named, known):  # a retried unit of work starts afresh
                found.clear()
            repo = GridRepository(session)
            for info in rooms:
                room = tree.room(room_id=info.id, topic=info.topic)
                key = room.key if room is not None else info.id
                await repo.room_seen(key, transport_id=info.id, topic=info.topic,
                                     node_code=room.node_code if room else None, now=self.clock.now())
                if room is None:
                    unknown.append(f"{info.topic} ({info.id})")
                else:
                    known.append(room.key)
                    self._learn_room(info.id, info.topic, room.key)
                    names = info.member_names or info.member_ids
                    listed = [(room.key, member, name, household_of(name))
                              for member, name in zip(info.member_ids, names) if member != self.transport.self_id]
                    members.extend(listed)
                    if info.member_names:
                        named.extend(listed)
            repo_members = MemberRepository(session)
            # a nickname set or changed since (WeChat announces none) renames the member and finds the household
            await repo_members.rename(named)
            await repo_members.add_missing(members, now=self.clock.now())

        await self.db.run(work, what="room refresh")
        if self.cluster is not None:
            await self.cluster.report_reach(known)
        if unknown:
            _LOGGER.warning("the bot is in %d group(s) config.yaml does not know; add them to a node's rooms: %s",
                            len(unknown), "; ".join(unknown[:20]))
