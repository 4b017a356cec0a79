"""Every message in and out: the durable inbox a received message is stored in first, what handling made of it,
and what the bot said. The caller owns the session and its transaction."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.messages import Address, IncomingMessage
from storage import driver
from storage.models import INBOX, MessageRow
from storage.repositories import clean_name, clean_opt_name, clean_text


class MessageRepository:
    """Every message in and out."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def direction_counts(self) -> dict[str, int]:
        """How many messages came in and went out ("in" / "out")."""
        rows = await self.session.execute(select(MessageRow.direction, func.count()).group_by(MessageRow.direction))
        return {direction: int(count) for direction, count in rows.all()}

    async def recent_direct_from(self, sender_id: str, since: datetime, *, limit: int = 5) -> list[MessageRow]:
        """The sender's latest private messages to the bot since `since`, newest first — handled ones only: rows
        still in the inbox (this batch's, stored before they are handled) have no handler to tell yet."""
        return list(await self.session.scalars(
            select(MessageRow).where(MessageRow.direction == "in", MessageRow.conversation_kind == "contact",
                                     MessageRow.sender_id == sender_id, MessageRow.at >= since,
                                     MessageRow.handler.is_not(None), MessageRow.handler.not_in(("", "inbox")))
            .order_by(MessageRow.id.desc()).limit(limit)))

    PENDING = "pending_messages"  # session.info key: rows with reserved ids, inserted together

    async def reserve_ids(self, count: int) -> list[int]:
        """Ids for `count` new messages, taken now in one statement (the rows are inserted later, together).

        SQLite: the unit of work holds the write lock (BEGIN IMMEDIATE), so max(id)+1… is ours; PostgreSQL:
        the table's sequence hands out a block."""
        if count <= 0:
            return []
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            rows = await self.session.execute(text(
                "SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, :n)"), {"n": count})
            return [int(r[0]) for r in rows.all()]
        highest = int(await self.session.scalar(select(func.max(MessageRow.id))) or 0)
        highest = max(highest, max((row.id for row in self.session.info.get(self.PENDING, ())), default=0))
        return list(range(highest + 1, highest + 1 + count))

    HANDLED = "handled_messages"  # session.info key: stored rows whose handling result is written together

    def add_pending(self, row: "PendingMessage") -> None:
        """Keep a row with a reserved id to be inserted with the others by `flush_pending`."""
        self.session.info.setdefault(self.PENDING, []).append(row)

    def add_handled(self, row: "PendingMessage") -> None:
        """Keep a stored row whose handling result (handler, parse, ticket…) `flush_pending` writes with the others."""
        self.session.info.setdefault(self.HANDLED, []).append(row)

    async def flush_pending(self) -> int:
        """Insert the pending rows in one statement and write the handled rows' results in one more (before
        reading messages back, and at the end of the work)."""
        rows = self.session.info.pop(self.PENDING, None)
        handled = self.session.info.pop(self.HANDLED, None)
        if rows:
            fields = _PENDING_FIELDS  # a shallow read: asdict would deep-copy every parse
            await self.session.execute(MessageRow.__table__.insert(),
                                       [{name: getattr(row, name) for name in fields} for row in rows])
        if handled:  # one executemany (Core: the ORM's bulk UPDATE cost more than the statement)
            conn = await self.session.connection()
            await driver.execute_many(conn, _UPDATE_RESULTS, [
                {"row_id": row.id, **{name: getattr(row, name) for name in _RESULT_FIELDS}} for row in handled])
        return len(rows or ()) + len(handled or ())

    async def store_arrivals(self, messages: Sequence[tuple[IncomingMessage, str | None, str | None]], *,
                             account: str | None = None) -> list["PendingMessage"]:
        """The durable inbox: (message as received, room key, node) rows inserted now, in one statement, with
        handler INBOX until `flush_pending` writes what handling made of them."""
        postgresql = self.session.bind is not None and self.session.bind.dialect.name == "postgresql"
        if messages and (postgresql or len(messages) == 1):
            return await insert_arrivals(await self.session.connection(), messages, account=account)
        ids = await self.reserve_ids(len(messages))
        rows = [self.new_incoming(msg, room_key=room_key, node_code=node_code, row_id=row_id, handler=INBOX,
                                  account=account) for (msg, room_key, node_code), row_id in zip(messages, ids)]
        for row in rows:
            self.add_pending(row)
        await self.flush_pending()
        return rows

    async def inbox(self, *, account: str | None, after: int = 0, limit: int = 100) -> list["PendingMessage"]:
        """Stored messages not handled yet (a crash came between storing and handling), oldest first."""
        query = select(MessageRow).where(MessageRow.handler == INBOX, MessageRow.id > after)
        query = query.where(MessageRow.account == account if account is not None else MessageRow.account.is_(None))
        rows = await self.session.scalars(query.order_by(MessageRow.id).limit(limit))
        return [PendingMessage(**{name: getattr(row, name) for name in _PENDING_FIELDS}) for row in rows]

    async def mark_error(self, row: "PendingMessage", reason: str, *, with_parse: bool = True) -> None:
        """A message that could not be handled keeps its row, with handler "error" and the reason."""
        values: dict[str, Any] = {"handler": "error", "error": clean_text(reason)[0][:2000]}
        if with_parse:
            values.update(kind=row.kind, category=row.category, urgency=row.urgency, parse=row.parse)
        await self.session.execute(update(MessageRow).where(MessageRow.id == row.id).values(**values)
                                   .execution_options(synchronize_session=False))

    @staticmethod
    def new_incoming(msg: IncomingMessage, *, room_key: str | None, node_code: str | None,
                     parse: dict[str, Any] | None = None, row_id: int = 0, handler: str | None = None,
                     account: str | None = None) -> "PendingMessage":
        """A received message with a reserved id, as a plain object until its batch is inserted."""
        row = PendingMessage(**_incoming(msg, room_key=room_key, node_code=node_code, parse=parse), id=row_id)
        row.handler, row.account = handler, account
        return row

    async def add_incoming(self, msg: IncomingMessage, *, room_key: str | None, node_code: str | None,
                           parse: dict[str, Any] | None = None, flush: bool = True) -> MessageRow:
        """Store a received message (with what the parser made of it); flush=False defers the INSERT."""
        row = MessageRow(**_incoming(msg, room_key=room_key, node_code=node_code, parse=parse))
        self.session.add(row)
        if flush:
            await self.session.flush()
        return row

    async def add_outgoing(self, to: Address, text: str, mentions: Sequence[str], *, at: datetime,
                           sender_id: str, sender_name: str, room_key: str | None = None,
                           node_code: str | None = None, transport_message_id: str | None = None) -> MessageRow:
        clean, raw = clean_text(text)
        row = MessageRow(
            direction="out", conversation_kind=to.kind, conversation_id=to.id, room_key=room_key,
            node_code=node_code, sender_id=sender_id, sender_name=sender_name, text=clean, raw=raw,
            msg_type="text", transport_message_id=transport_message_id, mentions=list(mentions), at=at,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def recent(self, conversation_id: str, *, limit: int = 100) -> list[MessageRow]:
        """The latest messages of a conversation, oldest first."""
        rows = await self.session.scalars(
            select(MessageRow).where(MessageRow.conversation_id == conversation_id)
            .order_by(MessageRow.id.desc()).limit(limit))
        return list(reversed(rows.all()))

    async def get(self, message_id: int) -> MessageRow | None:
        return await self.session.get(MessageRow, message_id)

    async def images_since(self, since: datetime) -> list[tuple[str, str, datetime]]:
        """(sender, room, time) of photos received since `since`."""
        rows = await self.session.execute(
            select(MessageRow.sender_id, MessageRow.room_key, MessageRow.at)
            .where(MessageRow.msg_type == "image", MessageRow.at >= since, MessageRow.room_key.is_not(None)))
        return [(sender, room, at) for sender, room, at in rows.all()]

    async def count(self, **filters: Any) -> int:
        query = select(func.count()).select_from(MessageRow)
        for key, value in filters.items():
            query = query.where(getattr(MessageRow, key) == value)
        return int(await self.session.scalar(query) or 0)


def _incoming(msg: IncomingMessage, *, room_key: str | None, node_code: str | None,
              parse: dict[str, Any] | None) -> dict[str, Any]:
    """The stored columns of a received message (with what the parser made of it)."""
    clean, raw = clean_text(msg.text)
    parse = parse or {}
    return dict(
        direction="in", conversation_kind=msg.conversation.kind, conversation_id=clean_name(msg.conversation.id),
        room_key=clean_opt_name(room_key), node_code=node_code, sender_id=clean_name(msg.sender_id),
        sender_name=clean_name(msg.sender_name), text=clean, raw=raw, msg_type=msg.type.value,
        transport_message_id=clean_opt_name(msg.message_id), mentions=[clean_name(m) for m in msg.mentions], at=msg.at,
        kind=parse.get("kind"), category=parse.get("category"), urgency=parse.get("urgency"), parse=parse or None,
        handler=None, ticket_id=None, attachment=None, error=None, account=None)


@dataclass(slots=True)
class PendingMessage:
    """A received message waiting for its batch's INSERT: a plain object, no ORM bookkeeping on the hot path.
    Handlers use it like a MessageRow (id, sender, room, and the handler / ticket / attachment they set)."""

    id: int
    direction: str
    conversation_kind: str
    conversation_id: str
    room_key: str | None
    node_code: str | None
    sender_id: str
    sender_name: str
    text: str
    raw: str | None
    msg_type: str
    transport_message_id: str | None
    mentions: list[str]
    at: datetime
    kind: str | None
    category: str | None
    urgency: str | None
    parse: dict[str, Any] | None
    handler: str | None
    ticket_id: int | None
    attachment: str | None
    error: str | None = None
    account: str | None = None


_PENDING_FIELDS = tuple(field.name for field in dataclasses.fields(PendingMessage))
_INSERT_MESSAGES_RETURNING_ID = MessageRow.__table__.insert().returning(MessageRow.id, sort_by_parameter_order=True)
_INSERT_MESSAGE_RETURNING_ID = MessageRow.__table__.insert().returning(MessageRow.id)
# what handling a stored message may change in its row
_RESULT_FIELDS = ("kind", "category", "urgency", "parse", "handler", "ticket_id", "attachment", "error")
_messages = MessageRow.__table__
_UPDATE_RESULTS = _messages.update().where(_messages.c.id == bindparam("row_id")).values(
    {name: bindparam(name, type_=_messages.c[name].type) for name in _RESULT_FIELDS})


async def insert_arrivals(conn: AsyncConnection, messages: Sequence[tuple[IncomingMessage, str | None, str | None]],
                          *, account: str | None = None) -> list[PendingMessage]:
    """The inbox rows of `messages` (as `MessageRepository.store_arrivals`) in ONE statement, no id reserved first:
    PostgreSQL gives the ids back in the order sent, and one row's id is the driver's last row id (SQLite, one
    message at a time: the latency path). One statement, so it may run on its own, committing as it goes
    (`Database.run_statement`)."""
    postgresql = conn.dialect.name == "postgresql"
    if not messages or (len(messages) > 1 and not postgresql):
        raise ValueError("one statement stores one message, or on PostgreSQL several")
    rows = [MessageRepository.new_incoming(msg, room_key=room_key, node_code=node_code, handler=INBOX, account=account)
            for msg, room_key, node_code in messages]
    values = [{name: getattr(row, name) for name in _PENDING_FIELDS if name != "id"} for row in rows]
    if postgresql and len(values) == 1:  # the latency path: one plain INSERT, sent by the driver itself
        ids = [(await driver.fetch(conn, _INSERT_MESSAGE_RETURNING_ID, values[0]))[0][0]]
    elif postgresql:
        ids = (await conn.execute(_INSERT_MESSAGES_RETURNING_ID, values)).scalars().all()
    else:
        ids = (await conn.execute(MessageRow.__table__.insert(), values[0])).inserted_primary_key
    for row, row_id in zip(rows, ids, strict=True):
        row.id = int(row_id)
    return rows
