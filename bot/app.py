"""The app: config → database → scheduler → transport → router → sender → web, and back down.

`GridBot` wires the parts; the order of start-up and shut-down is written once, here. Events
from the transport go through one queue so messages are handled in the order they arrived; each
one is a single unit of work (message stored, parsed, handled, replies queued in the outbox)
that is retried while the database is unavailable, so nothing that arrived is dropped.
"""

from __future__ import annotations

import asyncio
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
from storage.repositories import GridRepository, MemberRepository, MessageRepository, OutboxRepository
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
        ConfirmationHandler,
        ImageHandler,
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
    tickets = Router("tickets", [ImageHandler(), ConfirmationHandler(), AckHandler(), TicketQueryHandler(),
                                 ReviewHandler(), ReportHandler()])
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
class _Prepared:
    msg: IncomingMessage
    room: Any
    node: Any
    room_key: str | None
    result: Any
    parsed: dict[str, Any] | None


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
        self._inbound: asyncio.Queue[Event] = asyncio.Queue()
        self._consumer: asyncio.Task[None] | None = None
        self.batch_size = 64  # messages waiting together are handled in one transaction
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
        if self._consumer is not None:
            self._consumer.cancel()
            try:
                await self._consumer
            except asyncio.CancelledError:
                pass
            self._consumer = None
        await self.db.dispose()
        self.started = False

    async def __aenter__(self) -> "GridBot":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- events ------------------------------------------------------------------------------------

    async def handle_event(self, event: Event) -> None:
        """The transport's sink: queue the event; it is handled in arrival order."""
        await self._inbound.put(event)

    async def idle(self) -> None:
        """Wait until every event received so far has been handled (for tests and replays)."""
        waiter = getattr(self.transport, "idle", None)
        if waiter is not None:
            await waiter()
        await self._inbound.join()

    async def settle(self, clock: VirtualClock, *, until: datetime | None = None, max_steps: int = 1_000_000) -> None:
        """On virtual time: handle everything received, run jobs and due sends as the clock moves,
        until nothing is left to send (or until `until`). Used by tests and `gridbot replay`."""
        for _ in range(max_steps):
            await self.idle()
            await asyncio.wait_for(self.sender.waiting.wait(), timeout=30)
            if not self._inbound.empty():
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

    async def _consume(self) -> None:
        while True:
            batch = [await self._inbound.get()]
            while len(batch) < self.batch_size and not self._inbound.empty():
                batch.append(self._inbound.get_nowait())
            try:
                messages: list[IncomingMessage] = []
                for event in batch:
                    if isinstance(event, IncomingMessage):
                        messages.append(event)
                        continue
                    if messages:
                        await self.process_messages(messages)
                        messages = []
                    if isinstance(event, MemberEvent):
                        await self.process_member(event)
                if messages:
                    await self.process_messages(messages)
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

    def _prepare(self, msg: IncomingMessage) -> _Prepared:
        """What is known of a message before the database: its group, node and parse (pure, fast)."""
        tree = self.config.tree
        room = None
        if msg.conversation.is_room:
            room = tree.room(room_id=msg.conversation.id, topic=msg.room_topic)
            self._learn_room(msg.conversation.id, msg.room_topic, room.key if room else None)
        node = tree.node(room.node_code) if room is not None else None
        room_key = room.key if room is not None else (msg.conversation.id if msg.conversation.is_room else None)
        result = None
        if self.parser is not None and msg.text:
            pending = room_key is not None and room_key in self._notice_rooms and (
                self._notice_rooms[room_key] >= self.clock.now() - self.config.notices.ack_window)
            try:
                result = self.parser(msg.text, room_tier=node.tier if node else None, notice_pending=pending)
            except Exception:  # the parser is built never to raise; if it does, the message still counts
                _LOGGER.exception("parser failed on a message; storing it unparsed")
        return _Prepared(msg, room, node, room_key, result, result.to_dict() if result is not None else None)

    async def _store(self, session: Any, p: _Prepared, handler: str, row_id: int | None = None) -> Any:
        """The message's row: with a reserved id it waits to be inserted with its batch, else it is added now."""
        if p.room_key is not None and p.room_key not in self._seen_rooms:
            await GridRepository(session).room_seen(
                p.room_key, transport_id=p.msg.conversation.id, topic=p.msg.room_topic,
                node_code=p.node.code if p.node else None, now=self.clock.now())
            self._seen_rooms.add(p.room_key)
        messages = MessageRepository(session)
        node_code = p.node.code if p.node else None
        if row_id is None:
            row = await messages.add_incoming(p.msg, room_key=p.room_key, node_code=node_code, parse=p.parsed,
                                              flush=False)
        else:
            row = messages.new_incoming(p.msg, room_key=p.room_key, node_code=node_code, parse=p.parsed,
                                        row_id=row_id)
            messages.add_pending(row)
        row.handler = handler
        return row

    async def _handle(self, session: Any, p: _Prepared, row_id: int | None = None) -> RouteResult:
        msg = p.msg
        row = await self._store(session, p, "", row_id)
        ctx = Context(session=session, config=self.config, directory=self.directory, now=self.clock.now(),
                      bot_id=self.transport.self_id, bot_name=getattr(self.transport, "bot_name", "微格助手"),
                      room=p.room, node=p.node, sender=self.directory.identify(msg.sender_id),
                      parse=p.result, message_row=row, recent_image=self._recent_image)
        if msg.type == MessageType.IMAGE and p.room_key is not None:
            self._images[(msg.sender_id, p.room_key)] = self.clock.now()
        if p.room is None and msg.conversation.is_room:
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

    async def process_messages(self, messages: list[IncomingMessage]) -> list[RouteResult | None]:
        """Handle messages in arrival order in ONE unit of work (group commit under load).

        If a handler crashes, the batch is rolled back and its messages are handled one by one, so
        only the crashing one is stored as an error and the others are answered as usual.
        """
        prepared = [self._prepare(m) if m.sender_id != self.transport.self_id else None for m in messages]
        todo = [p for p in prepared if p is not None]
        self.stats.received += len(todo)
        if not todo:
            return [None] * len(messages)

        async def work(session):  # type: ignore[no-untyped-def]
            messages = MessageRepository(session)
            ids = await messages.reserve_ids(len(todo))
            routed = [await self._handle(session, p, row_id) for p, row_id in zip(todo, ids)]
            await messages.flush_pending()  # every message of the batch in one INSERT
            replies = [reply for r in routed for reply in r.replies]
            if replies:  # and every reply in one more
                await OutboxRepository(session).enqueue(replies, now=self.clock.now())
            return routed

        try:
            results = await self.db.run(work, what="handling messages")
        except HandlerFailed as failed:
            if len(todo) > 1:
                self._seen_rooms.difference_update(p.room_key for p in todo if p.room_key)
                self.stats.received -= len(todo)
                return [await self.process_message(m) for m in messages]
            # a bug in one handler: what it half did is rolled back, the message is kept, the bot goes on
            _LOGGER.error("handler failed on a message from %s: %s", todo[0].msg.sender_name, failed,
                          exc_info=failed.__cause__)
            self._seen_rooms.discard(todo[0].room_key or "")
            await self.db.run(lambda s: self._store(s, todo[0], "error"), what="storing a message")
            results = [RouteResult("error", [], str(failed))]
        if any(r.handler == "bind" for r in results):
            await self.load_bindings()  # the table is the truth (a rolled-back binding must not linger)
        self.stats.handled += len(results)
        self.stats.errors += sum(1 for r in results if r.error)
        if any(r.replies for r in results):
            self.sender.wake()
        out: list[RouteResult | None] = []
        it = iter(results)
        for p in prepared:
            out.append(None if p is None else next(it))
        return out

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
        known: list[str] = []  # configured groups this account is in

        async def work(session):  # type: ignore[no-untyped-def]
            for found in (unknown, members, known):  # a retried unit of work starts afresh
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
                    members.extend((room.key, member, name, household_of(name))
                                   for member, name in zip(info.member_ids, names) if member != self.transport.self_id)
            await MemberRepository(session).add_missing(members, now=self.clock.now())

        await self.db.run(work, what="room refresh")
        if self.cluster is not None:
            await self.cluster.report_reach(known)
        if unknown:
            _LOGGER.warning("the bot is in %d group(s) config.yaml does not know; add them to a node's rooms: %s",
                            len(unknown), "; ".join(unknown[:20]))
