"""Repositories: the only place that writes SQL. The caller owns the session and its transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.domain.grid import GridTree, Person
from bot.messages import Address, IncomingMessage, Reply
from storage.models import INBOX, MemberRow, MessageRow, NodeRow, OutboxRow, PersonRow, RoomRow

MAX_NAME = 200


def clean_text(text: str) -> tuple[str, str | None]:
    """Text every database accepts, plus an escaped copy of the original when cleaning changed it.

    Lone surrogates cannot be encoded as UTF-8 and PostgreSQL rejects NUL, so both become U+FFFD in
    `text`; `raw` then keeps the original losslessly, backslash-escaped (see `original_text`).
    """
    if "\x00" not in text:
        try:
            text.encode("utf-8")
            return text, None
        except UnicodeEncodeError:
            pass
    cleaned = "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text.replace("\x00", "\ufffd"))
    return cleaned, text.encode("unicode_escape").decode("ascii")


def original_text(text: str, raw: str | None) -> str:
    """The text exactly as received, from a stored (text, raw) pair."""
    return raw.encode("ascii").decode("unicode_escape") if raw is not None else text


def _name(text: str) -> str:
    return clean_text(text)[0][:MAX_NAME]


def _opt_name(text: str | None) -> str | None:
    return None if text is None else _name(text)


def clean_incoming(msg: IncomingMessage) -> IncomingMessage:
    """The message with every string cleaned as `clean_text` does (ids and names also cut to MAX_NAME), so that
    nothing a sender or a transport put in it (a NUL, a lone surrogate) can make a database refuse what is
    written from it. The stored row's `raw` keeps the original text."""
    def fine(value: str | None) -> bool:
        return value is None or (len(value) <= MAX_NAME and clean_text(value)[1] is None)

    if clean_text(msg.text)[1] is None and all(fine(v) for v in (
            msg.conversation.id, msg.sender_id, msg.sender_name, msg.message_id, msg.room_topic, *msg.mentions)):
        return msg
    return dataclasses.replace(
        msg, conversation=Address(msg.conversation.kind, _name(msg.conversation.id)), sender_id=_name(msg.sender_id),
        sender_name=_name(msg.sender_name), text=clean_text(msg.text)[0], message_id=_opt_name(msg.message_id),
        room_topic=_opt_name(msg.room_topic), mentions=tuple(_name(m) for m in msg.mentions))



def dialect_insert(session: AsyncSession) -> Callable[..., Any]:
    """The backend's INSERT, which knows ON CONFLICT (PostgreSQL and SQLite both do)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return postgresql.insert if dialect == "postgresql" else sqlite.insert

class GridRepository:
    """Nodes, rooms and people as configured, and rooms the bot found itself in."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sync(self, tree: GridTree, people: Mapping[str, Person], now: datetime) -> None:
        """Make the node, room and people tables match the config (bulk, for trees of any size).

        Several processes starting together take turns (a transaction lock on PostgreSQL)."""
        s = self.session
        if s.bind is not None and s.bind.dialect.name == "postgresql":
            await s.execute(text("SELECT pg_advisory_xact_lock(7242001)"))
        existing_nodes = {r.code: r for r in (await s.scalars(select(NodeRow))).all()}
        for node in tree:
            row = existing_nodes.pop(node.code, None)
            if row is None:
                s.add(NodeRow(code=node.code, name=node.name, tier=node.tier, depth=node.depth,
                              parent_code=node.parent, active=True))
            else:
                row.name, row.tier, row.depth, row.parent_code, row.active = (
                    node.name, node.tier, node.depth, node.parent, True)
        for row in existing_nodes.values():
            row.active = False

        existing_rooms = {r.room_key: r for r in (await s.scalars(select(RoomRow))).all()}
        for room in tree.rooms():
            row = existing_rooms.pop(room.key, None)
            if row is None:
                s.add(RoomRow(room_key=room.key, transport_id=room.id, topic=room.topic, node_code=room.node_code,
                              configured=True, active=True, first_seen=None, last_seen=None))
            else:
                row.transport_id = room.id or row.transport_id
                row.topic, row.node_code, row.configured, row.active = room.topic, room.node_code, True, True
        for row in existing_rooms.values():
            if row.configured:
                row.configured, row.node_code = False, None

        existing_people = {r.key: r for r in (await s.scalars(select(PersonRow))).all()}
        for person in people.values():
            row = existing_people.pop(person.key, None)
            if row is None:
                s.add(PersonRow(key=person.key, name=person.name, wechat_id=person.wechat_id, phone=person.phone))
            else:
                row.name, row.wechat_id, row.phone = person.name, person.wechat_id, person.phone
        await s.flush()

    async def room_seen(self, room_key: str, *, transport_id: str | None, topic: str | None,
                        node_code: str | None, now: datetime) -> RoomRow:
        """Record that the bot is in a room; unknown rooms are kept (configured=False) for the console."""
        row = await self.session.scalar(select(RoomRow).where(RoomRow.room_key == room_key))
        if row is None:
            # another process may be adding the same group at the same moment
            await self.session.execute(dialect_insert(self.session)(RoomRow).values(
                room_key=room_key, transport_id=transport_id, topic=topic and _name(topic), node_code=node_code,
                configured=node_code is not None, active=True, first_seen=now, last_seen=now,
            ).on_conflict_do_nothing(index_elements=["room_key"]))
            row = await self.session.scalar(select(RoomRow).where(RoomRow.room_key == room_key))
            assert row is not None
        else:
            row.transport_id = transport_id or row.transport_id
            row.topic = _name(topic) if topic else row.topic  # a renamed group is named as it is now
            row.last_seen = now
            row.first_seen = row.first_seen or now
        await self.session.flush()
        return row

    async def topics(self, room_keys: Sequence[str]) -> dict[str, str]:
        """Room key → the group's topic as the transport last listed it, for the keys it is known for."""
        keys = list(dict.fromkeys(room_keys))
        found: dict[str, str] = {}
        for start in range(0, len(keys), 1000):
            chunk = keys[start:start + 1000]
            rows = await self.session.execute(select(RoomRow.room_key, RoomRow.transport_id, RoomRow.topic).where(
                RoomRow.topic.is_not(None), or_(RoomRow.room_key.in_(chunk), RoomRow.transport_id.in_(chunk))))
            for room_key, transport_id, topic in rows.all():
                for key in (room_key, transport_id):
                    if key in chunk:
                        found.setdefault(key, topic)
        return found

    async def unknown_rooms(self) -> list[RoomRow]:
        rows = await self.session.scalars(
            select(RoomRow).where(RoomRow.configured.is_(False)).order_by(RoomRow.first_seen))
        return list(rows)

    async def node_count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(NodeRow).where(NodeRow.active)) or 0)


_ROOMS_BY_MEMBER = (select(MemberRow.member_id, MemberRow.room_key)
                    .where(MemberRow.member_id.in_(bindparam("ids", expanding=True)), MemberRow.active.is_(True)))
_ASKED: set[str] = set()  # contact ids rooms_of was asked about (the staff, in practice), read together
_MAX_ASKED = 500


class MemberRepository:
    """Who is in which room."""

    ROOMS = "member_rooms"  # session.info key: rooms_of answers in this unit of work, until a member row changes

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _changed(self) -> None:
        self.session.info.pop(self.ROOMS, None)

    async def upsert(self, room_key: str, member_id: str, display_name: str, *, household: str | None,
                     now: datetime, active: bool = True) -> MemberRow:
        self._changed()
        row = await self.session.scalar(
            select(MemberRow).where(MemberRow.room_key == room_key, MemberRow.member_id == member_id))
        if row is None:
            row = MemberRow(room_key=room_key, member_id=member_id, display_name=_name(display_name),
                            household=household, active=active, joined_at=now if active else None,
                            left_at=None if active else now)
            self.session.add(row)
        else:
            row.display_name = _name(display_name) or row.display_name
            row.household = household or row.household
            if active and not row.active:
                row.joined_at, row.left_at = now, None
            elif not active and row.active:
                row.left_at = now
            row.active = active
        await self.session.flush()
        return row

    async def add_missing(self, members: Sequence[tuple[str, str, str, str | None]], *, now: datetime) -> int:
        """Bulk: (room, member id, nickname, household) rows not stored yet are added as active members."""
        if not members:
            return 0
        self._changed()
        rooms = {room for room, _, _, _ in members}
        existing = set((await self.session.execute(
            select(MemberRow.room_key, MemberRow.member_id).where(MemberRow.room_key.in_(rooms)))).all())
        rows = [dict(room_key=room, member_id=member, display_name=_name(name), household=household, active=True,
                     joined_at=now) for room, member, name, household in members if (room, member) not in existing]
        for start in range(0, len(rows), 2000):
            await self.session.execute(insert(MemberRow), rows[start:start + 2000])
        return len(rows)

    async def rooms_of(self, member_ids: Sequence[str]) -> set[str]:
        """Keys of the rooms where any of these contact ids is an active member."""
        if not member_ids:
            return set()
        # Asked for every ticket's handler, and always about the same few people (the staff): the first question
        # in a unit of work reads the active memberships of every id asked about before in this process, in one
        # query, and later questions in the same unit of work are answered from it (a member write forgets it).
        cache: dict[str, set[str]] | None = self.session.info.get(self.ROOMS)
        wanted = set(member_ids)
        if cache is None or not wanted <= cache.keys():
            _ASKED.update(wanted)
            ids = wanted if len(_ASKED) > _MAX_ASKED else wanted | _ASKED
            if len(_ASKED) > _MAX_ASKED:
                _ASKED.clear()
            conn = await self.session.connection()
            rows = (await conn.execute(_ROOMS_BY_MEMBER, {"ids": list(ids)})).all()
            cache = self.session.info.setdefault(self.ROOMS, {})
            for member_id in ids:
                cache[member_id] = set()
            for member_id, room_key in rows:
                cache[member_id].add(room_key)
        return set().union(*(cache[member_id] for member_id in wanted))

    async def rename(self, members: Sequence[tuple[str, str, str, str | None]]) -> int:
        """Bulk: stored (room, member id) rows whose nickname changed take the new one and its household
        (a nickname that names no household keeps the one known before, as `upsert` does)."""
        if not members:
            return 0
        self._changed()
        rooms = {room for room, _, _, _ in members}
        stored = {(room, member): (row_id, name, household) for row_id, room, member, name, household in
                  (await self.session.execute(
                      select(MemberRow.id, MemberRow.room_key, MemberRow.member_id, MemberRow.display_name,
                             MemberRow.household).where(MemberRow.room_key.in_(rooms)))).all()}
        changes = []
        for room, member, name, household in members:
            found = stored.get((room, member))
            name = _name(name)
            if found is None or not name or (name, household or found[2]) == found[1:]:
                continue
            changes.append({"id": found[0], "display_name": name, "household": household or found[2]})
        for start in range(0, len(changes), 2000):
            await self.session.execute(update(MemberRow), changes[start:start + 2000])
        return len(changes)

    async def in_room(self, room_key: str, *, active_only: bool = True) -> list[MemberRow]:
        query = select(MemberRow).where(MemberRow.room_key == room_key)
        if active_only:
            query = query.where(MemberRow.active.is_(True))
        return list(await self.session.scalars(query.order_by(MemberRow.id)))


    async def memberships_of(self, member_id: str) -> list[MemberRow]:
        """The groups a person is an active member of, most recently joined first."""
        return list(await self.session.scalars(
            select(MemberRow).where(MemberRow.member_id == member_id, MemberRow.active.is_(True))
            .order_by(MemberRow.joined_at.desc(), MemberRow.id.desc())))


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
            await conn.execute(_UPDATE_RESULTS, [
                {"row_id": row.id, **{name: getattr(row, name) for name in _RESULT_FIELDS}} for row in handled])
        return len(rows or ()) + len(handled or ())

    async def store_arrivals(self, messages: Sequence[tuple[IncomingMessage, str | None, str | None]], *,
                             account: str | None = None) -> list["PendingMessage"]:
        """The durable inbox: (message as received, room key, node) rows inserted now, in one statement, with
        handler INBOX until `flush_pending` writes what handling made of them."""
        postgresql = self.session.bind is not None and self.session.bind.dialect.name == "postgresql"
        if messages and (postgresql or len(messages) == 1):
            # one statement, no reservation first: PostgreSQL gives the ids back in the order sent, and one
            # row's id is the driver's last row id (SQLite, one message at a time: the latency path)
            rows = [self.new_incoming(msg, room_key=room_key, node_code=node_code, handler=INBOX, account=account)
                    for msg, room_key, node_code in messages]
            values = [{name: getattr(row, name) for name in _PENDING_FIELDS if name != "id"} for row in rows]
            conn = await self.session.connection()
            if postgresql:
                ids = (await conn.execute(_INSERT_MESSAGES_RETURNING_ID, values)).scalars().all()
            else:
                ids = (await conn.execute(MessageRow.__table__.insert(), values[0])).inserted_primary_key
            for row, row_id in zip(rows, ids, strict=True):
                row.id = int(row_id)
            return rows
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

    def new_incoming(self, msg: IncomingMessage, *, room_key: str | None, node_code: str | None,
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


def outbox_values(reply: Reply, *, now: datetime, not_before: datetime | None = None,
                  account: str | None = None) -> dict[str, Any]:
    """The column values of a pending outbox row for `reply`: the one place outbox rows are built."""
    return dict(to_kind=reply.to.kind, to_id=reply.to.id, text=clean_text(reply.text)[0], mentions=list(reply.mentions),
                priority=reply.priority, kind=reply.kind, ref=reply.ref, status="pending", attempts=0,
                created_at=now, not_before=not_before, account=account, attachment=reply.image)


class OutboxRepository:
    """The durable send queue. A row is claimed (sending), then sent, retried later, or failed."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enqueue(self, replies: Sequence[Reply], *, now: datetime, account: str | None = None) -> int:
        """Queue replies with one Core executemany (a hot path: no ORM objects, no ids read back)."""
        if not replies:
            return 0
        rows = [outbox_values(r, now=now, account=account) for r in replies]
        await self.session.execute(OutboxRow.__table__.insert(), rows)
        return len(rows)

    async def claim(self, *, now: datetime, limit: int, account: str | None = None) -> list[OutboxRow]:
        """Take up to `limit` due rows, most urgent first, marking them 'sending'. Others skip locked rows.

        With `account` (several accounts share the database): only rows this account should send — groups it
        serves (rooms.served_by) and private chats — and each claimed row is marked with the account.
        """
        query = (
            select(OutboxRow)
            .where(OutboxRow.status == "pending")
            .where((OutboxRow.not_before.is_(None)) | (OutboxRow.not_before <= now))
            .order_by(OutboxRow.priority, OutboxRow.id)
            .limit(limit)
        )
        query = self._locked(_for_account(query, account))
        rows = list(await self.session.scalars(query))
        if not rows:
            return rows
        await self.session.execute(  # one UPDATE for the batch, not one per row
            update(OutboxRow).where(OutboxRow.id.in_([row.id for row in rows]))
            .values(status="sending", attempts=OutboxRow.attempts + 1, account=account)
            .execution_options(synchronize_session=False))
        for row in rows:  # what the UPDATE wrote, without another round trip
            set_committed_value(row, "status", "sending")
            set_committed_value(row, "attempts", row.attempts + 1)
            set_committed_value(row, "account", account)
        return rows

    async def mark_sent(self, row_id: int, *, at: datetime, transport_message_id: str | None) -> None:
        await self.session.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(
            status="sent", sent_at=at, transport_message_id=transport_message_id, last_error=None))

    async def mark_retry(self, row_id: int, *, error: str, not_before: datetime) -> None:
        await self.session.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(
            status="pending", last_error=error[:1000], not_before=not_before, account=None))

    async def mark_failed(self, row_id: int, *, error: str) -> None:
        await self.session.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(
            status="failed", last_error=error[:1000]))

    async def unclaim(self, row_ids: Sequence[int]) -> None:
        """Rows claimed but never tried go back to the queue (no attempt is counted)."""
        await self.session.execute(update(OutboxRow).where(OutboxRow.id.in_(list(row_ids)),
                                                           OutboxRow.status == "sending").values(
            status="pending", account=None, attempts=OutboxRow.attempts - 1))

    async def recover_inflight(self, account: str | None = None) -> int:
        """Put rows left 'sending' by a crash back to pending; these are the only possible duplicates."""
        query = update(OutboxRow).where(OutboxRow.status == "sending")
        if account is not None:  # only this account's: the others are still sending theirs
            query = query.where(OutboxRow.account == account)
        result = await self.session.execute(query.values(status="pending", account=None))
        return int(result.rowcount or 0)

    def _locked(self, query: Any) -> Any:
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            return query.with_for_update(skip_locked=True)
        return query

    async def expire_waiting(self, *, due_before: datetime, error: str, account: str | None = None,
                             limit: int = 500) -> list[OutboxRow]:
        """Pending rows (this account's) due since before `due_before`: marked failed with `error`, returned."""
        query = (select(OutboxRow).where(OutboxRow.status == "pending",
                                         func.coalesce(OutboxRow.not_before, OutboxRow.created_at) < due_before)
                 .order_by(OutboxRow.priority, OutboxRow.id).limit(limit))
        rows = list(await self.session.scalars(self._locked(_for_account(query, account))))
        if rows:
            await self.session.execute(update(OutboxRow).where(OutboxRow.id.in_([row.id for row in rows]))
                                       .values(status="failed", last_error=error[:1000]))
            for row in rows:  # what the UPDATE wrote, without a second write at commit
                set_committed_value(row, "status", "failed")
                set_committed_value(row, "last_error", error[:1000])
        return rows

    async def oldest_waiting(self, account: str | None = None) -> datetime | None:
        """When the longest-waiting pending row (this account's) became due."""
        due = func.coalesce(OutboxRow.not_before, OutboxRow.created_at)
        query = select(func.min(due)).where(OutboxRow.status == "pending")
        return await self.session.scalar(_for_account(query, account))

    async def seconds_until_due(self, now: datetime) -> float | None:
        """Seconds until the earliest pending row is due: 0 if one is due now, None if none is pending."""
        immediate = await self.session.scalar(select(OutboxRow.id).where(
            OutboxRow.status == "pending",
            (OutboxRow.not_before.is_(None)) | (OutboxRow.not_before <= now)).limit(1))
        if immediate is not None:
            return 0.0
        earliest = await self.session.scalar(
            select(func.min(OutboxRow.not_before)).where(OutboxRow.status == "pending"))
        if earliest is None:
            return None
        return max(0.0, (earliest - now).total_seconds())

    async def pending_count(self) -> int:
        """Rows still to send (pending or claimed)."""
        return int(await self.session.scalar(select(func.count()).select_from(OutboxRow).where(
            OutboxRow.status.in_(("pending", "sending")))) or 0)

    async def get(self, row_id: int) -> OutboxRow | None:
        return await self.session.get(OutboxRow, row_id)

    async def counts(self) -> dict[str, int]:
        rows = await self.session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
        return {status: int(n) for status, n in rows.all()}


def _for_account(query: Any, account: str | None) -> Any:
    """Only the outbox rows `account` should send: groups it serves (rooms.served_by) and private chats."""
    if account is None:
        return query
    served_keys = select(RoomRow.room_key).where(RoomRow.served_by == account)
    served_ids = select(RoomRow.transport_id).where(RoomRow.served_by == account)
    return query.where(or_(OutboxRow.account == account, and_(OutboxRow.account.is_(None), or_(
        OutboxRow.to_kind != "room", OutboxRow.to_id.in_(served_keys), OutboxRow.to_id.in_(served_ids)))))


def _incoming(msg: IncomingMessage, *, room_key: str | None, node_code: str | None,
              parse: dict[str, Any] | None) -> dict[str, Any]:
    """The stored columns of a received message (with what the parser made of it)."""
    clean, raw = clean_text(msg.text)
    parse = parse or {}
    return dict(
        direction="in", conversation_kind=msg.conversation.kind, conversation_id=_name(msg.conversation.id),
        room_key=_opt_name(room_key), node_code=node_code, sender_id=_name(msg.sender_id),
        sender_name=_name(msg.sender_name), text=clean, raw=raw, msg_type=msg.type.value,
        transport_message_id=_opt_name(msg.message_id), mentions=[_name(m) for m in msg.mentions], at=msg.at,
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
# what handling a stored message may change in its row
_RESULT_FIELDS = ("kind", "category", "urgency", "parse", "handler", "ticket_id", "attachment", "error")
_messages = MessageRow.__table__
_UPDATE_RESULTS = _messages.update().where(_messages.c.id == bindparam("row_id")).values(
    {name: bindparam(name, type_=_messages.c[name].type) for name in _RESULT_FIELDS})
