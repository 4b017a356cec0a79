"""The inbound pipeline: a message from the transport is stored, then parsed, routed and answered.

Step one (`store_arrivals`): what arrives together is written to the durable inbox in one short transaction
(its row, handler "inbox"), and only then acknowledged to the transport. Step two (`handle_stored`): stored
messages are handled in arrival order, a batch in one unit of work — parsed, offered to the router, the
replies queued in the outbox, each row's handler written — retried while the database is unavailable. A
crash between the two loses nothing: at start-up every message still in the inbox is handled, once
(`recover_inbox`). A message that cannot be handled keeps its row, with handler "error" and the reason, and
never takes the rest of its batch with it. Membership changes keep their place in the order.
(Longer than most modules, on purpose: one job, the path every message takes, read best from end to end.)
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from bot.domain.grid import GridNode, Room
from bot.domain.parsing import ParseResult
from bot.domain.parsing.split import split_reports
from bot.domain.people import household_of
from bot.domain.problems import problem_key
from bot.messages import Address, IncomingMessage, MemberEvent, MessageType
from bot.rooms import RoomBook
from bot.transport.base import Event, Transport
from bot.work import Services, Work
from handlers.base import Context
from handlers.router import HandlerFailed, RouteResult, Router
from storage import deferred, memo
from storage.duplicates import expect_reports
from storage.message_repository import MessageRepository, PendingMessage, insert_arrivals
from storage.outbox_repository import OutboxRepository
from storage.repositories import GridRepository, MemberRepository
from storage.session import Database, Session

_LOGGER = logging.getLogger(__name__)


class Parser(Protocol):
    """The message parser as the pipeline calls it (bot.domain.parsing.parse with the deployment's words)."""

    def __call__(self, text: str, *, room_tier: str | None = None, notice_pending: bool = False) -> ParseResult:
        ...


@dataclass(frozen=True, slots=True)
class Stored:
    """A message in the inbox: as handlers see it (cleaned), its stored row, and where it came from."""

    msg: IncomingMessage
    row: PendingMessage
    room: Room | None
    node: GridNode | None
    room_key: str | None


@dataclass(frozen=True, slots=True)
class _Prepared:
    stored: Stored
    result: ParseResult | None
    parsed: dict[str, object] | None
    parts: tuple[tuple[str, ParseResult], ...] = ()  # several reports in one message: (text, parse) each

    @property
    def msg(self) -> IncomingMessage:
        return self.stored.msg


@dataclass
class Stats:
    received: int = 0
    handled: int = 0
    errors: int = 0


class Inbound:
    """The queues between the transport and the router, and the two steps every message takes."""

    def __init__(self, services: Services, rooms: RoomBook, router: Router, parser: Parser | None,
                 transport: Transport, *, account: str | None = None,
                 on_bound: Callable[[], Awaitable[None]] | None = None) -> None:
        """`on_bound`: called after a batch in which someone bound their contact (reload the bindings)."""
        self.services = services
        self.config = services.config
        self.rooms = rooms
        self.router = router
        self.parser = parser
        self.transport = transport
        self.account = account
        self.on_bound = on_bound
        self.stats = Stats()
        self.batch_size = 256  # messages waiting together are handled in one transaction
        self.intake_batch = 256  # and stored in one (short) transaction
        # arrivals: events to store (with the future their sender waits on); handling: stored, to handle
        self._arrivals: asyncio.Queue[tuple[Event, asyncio.Future[None] | None]] = asyncio.Queue()
        self._handling: asyncio.Queue[Stored | MemberEvent] = asyncio.Queue()
        # stored messages parsed ahead, while the handler waited on the database: row id → the parse and the notice
        # state it assumed (None: not parsed yet); the handler takes each out, and parses anew if the state changed
        self._ahead: dict[int, tuple[bool, _Prepared] | None] = {}
        self.intake_task: asyncio.Task[None] | None = None
        self.consumer_task: asyncio.Task[None] | None = None

    @property
    def db(self) -> Database:
        return self.services.db

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self.intake_task = asyncio.create_task(self._take_in(), name="gridbot-intake")
        self.consumer_task = asyncio.create_task(self._consume(), name="gridbot-inbound")

    async def stop(self) -> None:
        for task in (self.intake_task, self.consumer_task):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        self.intake_task = self.consumer_task = None
        self._ahead.clear()
        while not self._arrivals.empty():  # not stored, so not acknowledged: the sender learns it
            _, waiting = self._arrivals.get_nowait()
            if waiting is not None and not waiting.done():
                waiting.set_exception(RuntimeError("the bot stopped before the message was stored"))
            self._arrivals.task_done()

    # -- from the transport ----------------------------------------------------------------------

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
        """Wait until every event received so far has been handled."""
        await self._arrivals.join()
        await self._handling.join()

    def busy(self) -> bool:
        return not self._handling.empty() or not self._arrivals.empty()

    async def _take_in(self) -> None:
        """The inbox writer: what arrived together is stored in one short transaction, then acknowledged."""
        while True:
            batch = [await self._arrivals.get()]
            while len(batch) < self.intake_batch and not self._arrivals.empty():
                batch.append(self._arrivals.get_nowait())
            ahead: list[Stored] = []
            try:
                messages = [event for event, _ in batch if isinstance(event, IncomingMessage)]
                stored = iter(await self.store_arrivals(messages) if messages else ())
                for event, waiting in batch:
                    if not isinstance(event, IncomingMessage):
                        self._handling.put_nowait(event)
                        continue
                    item = next(stored)
                    if isinstance(item, BaseException):
                        if waiting is not None and not waiting.done():
                            waiting.set_exception(item)
                        continue
                    self._handling.put_nowait(item)
                    if self.parser is not None and item.row.id is not None:
                        self._ahead[item.row.id] = None
                        ahead.append(item)
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
            await self._parse_ahead(ahead)

    async def _parse_ahead(self, items: list[Stored]) -> None:
        """Parse what was just stored while the handler is still busy with earlier messages: its database waits
        leave the process idle, and the parse is the one step of handling that reads nothing stored. One message
        at a time, giving way in between (an idle handler takes the message first and parses it itself)."""
        for item in items:
            await asyncio.sleep(0)
            key = item.row.id
            if key is not None and key in self._ahead and self._ahead[key] is None:
                try:
                    pending = self.rooms.notice_pending(item.room_key, self.services.clock.now())
                    self._ahead[key] = (pending, self._parse(item, pending))
                except Exception:  # never the intake's end: the handler parses it itself (and says why it fails)
                    _LOGGER.debug("could not parse message %s ahead", key, exc_info=True)

    async def _consume(self) -> None:
        while True:
            batch = [await self._handling.get()]
            while len(batch) < self.batch_size and not self._handling.empty():
                batch.append(self._handling.get_nowait())
            try:
                messages: list[Stored] = []
                for event in batch:
                    if isinstance(event, Stored):
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
                    self._handling.task_done()

    # -- step one: the inbox -----------------------------------------------------------------------

    async def store_arrivals(self, messages: list[IncomingMessage]) -> list[Stored | BaseException]:
        """Each message's row, as received, in one short transaction (handler "inbox"). If the batch cannot
        be written, each message is tried alone: one that cannot be stored gets its exception, in its place."""
        located = [(m, *self.rooms.locate(m)) for m in messages]
        arrivals = [(raw, room_key, node.code if node else None) for raw, _, _, node, room_key in located]
        new_rooms: dict[str, tuple[str, str | None, str | None]] = {}
        now = self.services.clock.now()

        async def work(session: Session) -> list[PendingMessage]:
            new_rooms.clear()
            grid = GridRepository(session)
            for _, msg, _, node, room_key in located:
                if room_key is not None and room_key not in self.rooms.seen and room_key not in new_rooms:
                    new_rooms[room_key] = (msg.conversation.id, msg.room_topic, node.code if node else None)
                    await grid.room_seen(room_key, transport_id=msg.conversation.id, topic=msg.room_topic,
                                         node_code=node.code if node else None, now=now)
            return await MessageRepository(session).store_arrivals(arrivals, account=self.account)

        try:
            if self.db.is_sqlite or any(key is not None and key not in self.rooms.seen for *_, key in located):
                rows = await self.db.run(work, what="storing messages")
            else:  # PostgreSQL, every group known: the rows are one statement, committed as it runs
                rows = await self.db.run_statement(lambda conn: insert_arrivals(conn, arrivals, account=self.account),
                                                   what="storing messages")
        except Exception as exc:
            if len(messages) > 1:
                return [item for m in messages for item in await self.store_arrivals([m])]
            _LOGGER.error("could not store a message from %r: %s", messages[0].sender_name, exc)
            return [exc]
        self.rooms.seen.update(new_rooms)
        self.stats.received += len(rows)
        return [Stored(msg, row, room, node, room_key) for (_, msg, room, node, room_key), row in zip(located, rows)]

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

    def _from_row(self, row: PendingMessage) -> Stored:
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
        msg, room, node, room_key = self.rooms.locate(msg)
        return Stored(msg, row, room, node, row.room_key if row.room_key is not None else room_key)

    # -- step two: parse, route, answer ------------------------------------------------------------

    def _prepare(self, item: Stored) -> _Prepared:
        """What the parser makes of a message (pure, fast): parsed ahead if it was, and the group's notice state is
        still the one that parse assumed (a notice posted or expired in between: parsed again)."""
        pending = self.rooms.notice_pending(item.room_key, self.services.clock.now())
        early = self._ahead.pop(item.row.id, None) if item.row.id is not None else None
        if early is not None and early[0] == pending:
            return early[1]
        return self._parse(item, pending)

    def _parse(self, item: Stored, pending: bool) -> _Prepared:
        msg = item.msg
        result = None
        if self.parser is not None and msg.text:
            try:
                result = self.parser(msg.text, room_tier=item.node.tier if item.node else None,
                                     notice_pending=pending)
            except Exception:  # the parser is built never to raise; if it does, the message still counts
                _LOGGER.exception("parser failed on a message; storing it unparsed")
        parts = self._report_parts(msg.text, result, item.node) if result is not None else ()
        return _Prepared(item, result, result.to_dict() if result is not None else None, parts)

    def _report_parts(self, text: str, result: ParseResult, node: GridNode | None
                      ) -> tuple[tuple[str, ParseResult], ...]:
        """Several problems in one report: one part each, only when every part is itself a report."""
        if result.kind != "report" or self.parser is None:
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

    @staticmethod
    def _lookups(prepared: list[_Prepared]) -> list[tuple[str | None, str, str]]:
        """The duplicate look-ups the batch's reports will make (group, node, problem key; one per part of a message
        telling several problems), which storage.duplicates then answers from one read."""
        texts = [(p.stored, text) for p in prepared if p.result is not None and p.result.kind == "report"
                 for text in [part for part, _ in p.parts] or [p.msg.text]]
        return [(item.room_key, item.node.code, key) for item, text in texts
                if item.node is not None and (key := problem_key(text)) is not None]

    def _result_row(self, p: _Prepared) -> PendingMessage:
        """A fresh copy of the stored row for one attempt at handling (a retried attempt starts afresh)."""
        parse = p.parsed or {}
        return dataclasses.replace(p.stored.row, handler="", kind=parse.get("kind"), category=parse.get("category"),
                                   urgency=parse.get("urgency"), parse=p.parsed, ticket_id=None, attachment=None,
                                   error=None)

    async def _handle(self, session: Session, p: _Prepared) -> RouteResult:
        msg, item = p.msg, p.stored
        row = self._result_row(p)
        MessageRepository(session).add_handled(row)
        services, now = self.services, self.services.clock.now()
        ctx = Context(work=Work(session, services, now), bot_id=self.transport.self_id,
                      bot_name=getattr(self.transport, "bot_name", "微格助手"), room=item.room, node=item.node,
                      sender=services.directory.identify(msg.sender_id), parse=p.result, message_row=row)
        if p.parts:
            ctx.extras["report_parts"] = p.parts
        if msg.type == MessageType.IMAGE and item.room_key is not None:
            self.rooms.photo_posted(msg.sender_id, item.room_key, now)
        if item.room is None and msg.conversation.is_room:
            routed = RouteResult("unknown_room")  # stored, not answered: config does not know this group
        else:
            routed = await self.router.route(msg, ctx)
        row.handler = routed.handler
        return routed

    async def handle_stored(self, items: list[Stored]) -> list[RouteResult]:
        """Handle stored messages in arrival order in ONE unit of work (group commit under load), writing each
        row's handler with what its handling did, so a message is handled once.

        If the batch fails (a handler crashes, the database refuses something), it is rolled back and its
        messages are handled one by one, so only the failing one is marked "error", with the reason, and the
        others are answered as usual.
        """
        if not items:
            return []
        prepared = [self._prepare(item) for item in items]

        async def work(session: Session) -> list[RouteResult]:
            memo.expect_groups(session, {p.stored.room_key for p in prepared if p.stored.room_key is not None})
            expect_reports(session, self._lookups(prepared))
            routed = [await self._handle(session, p) for p in prepared]
            await MessageRepository(session).flush_pending()  # every row's result in one executemany
            await deferred.flush(session)  # and the timeline steps of every ticket they touched, in one more
            replies = [reply for r in routed for reply in r.replies]
            if replies:  # and every reply in one INSERT
                await OutboxRepository(session).enqueue(replies, now=self.services.clock.now())
            return routed

        try:
            results = await self.db.run(work, what="handling messages")
        except Exception as failed:
            if len(items) > 1:
                return [r for item in items for r in await self.handle_stored([item])]
            # one message: what its handling half did is rolled back, its row says why, the bot goes on
            results = [await self._mark_error(prepared[0], failed)]
        now = self.services.clock.now()
        for item, result in zip(items, results):
            if item.room_key is not None and any(r.kind == "notice_confirm" for r in result.replies):
                # a notice posted in this group: its members read it here too, and "收到" here answers it
                self.rooms.notice_sent(item.room_key, now)
        if self.on_bound is not None and any(r.handler == "bind" for r in results):
            await self.on_bound()  # the table is the truth (a rolled-back binding must not linger)
        self.stats.handled += len(results)
        self.stats.errors += sum(1 for r in results if r.error)
        if any(r.replies for r in results):
            self.services.wake()
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

    async def process_member(self, event: MemberEvent) -> None:
        """Someone joined or left a group: their membership row (and household, from the nickname)."""
        room = self.config.tree.room(room_id=event.room_id) or self.config.tree.room(
            topic=self.rooms.topic(event.room_id))
        room_key = room.key if room is not None else event.room_id
        await self.db.run(lambda s: MemberRepository(s).upsert(
            room_key, event.member_id, event.member_name, household=household_of(event.member_name),
            now=event.at, active=event.joined), what="membership change")

    async def process_messages(self, messages: list[IncomingMessage]) -> list[RouteResult | None]:
        """Store the messages (the inbox), then handle them in arrival order (see `handle_stored`).
        None for the bot's own echoes; a message that could not even be stored raises."""
        own = self.transport.self_id
        todo = [m for m in messages if m.sender_id != own]
        stored = iter(await self.store_arrivals(todo) if todo else ())
        items: list[Stored | None] = []
        for m in messages:
            if m.sender_id == own:
                items.append(None)
                continue
            item = next(stored)
            if isinstance(item, BaseException):
                raise item
            items.append(item)
        results = iter(await self.handle_stored([i for i in items if i is not None]))
        return [None if i is None else next(results) for i in items]
