"""Groups and their members, and the cleaning every stored text and name goes through. The caller owns the session
and its transaction (messages: storage.message_repository; the outbox: storage.outbox_repository)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.grid import GridTree, Person
from bot.messages import Address, IncomingMessage
from storage.models import MemberRow, NodeRow, PersonRow, RoomRow

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


def clean_name(text: str) -> str:
    """A name or id as stored: cleaned (`clean_text`) and cut to MAX_NAME."""
    return clean_text(text)[0][:MAX_NAME]


def clean_opt_name(text: str | None) -> str | None:
    return None if text is None else clean_name(text)


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
        msg, conversation=Address(msg.conversation.kind, clean_name(msg.conversation.id)),
        sender_id=clean_name(msg.sender_id), sender_name=clean_name(msg.sender_name), text=clean_text(msg.text)[0],
        message_id=clean_opt_name(msg.message_id), room_topic=clean_opt_name(msg.room_topic),
        mentions=tuple(clean_name(m) for m in msg.mentions))



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
                room_key=room_key, transport_id=transport_id, topic=topic and clean_name(topic), node_code=node_code,
                configured=node_code is not None, active=True, first_seen=now, last_seen=now,
            ).on_conflict_do_nothing(index_elements=["room_key"]))
            row = await self.session.scalar(select(RoomRow).where(RoomRow.room_key == room_key))
            assert row is not None
        else:
            row.transport_id = transport_id or row.transport_id
            row.topic = clean_name(topic) if topic else row.topic  # a renamed group is named as it is now
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
            row = MemberRow(room_key=room_key, member_id=member_id, display_name=clean_name(display_name),
                            household=household, active=active, joined_at=now if active else None,
                            left_at=None if active else now)
            self.session.add(row)
        else:
            row.display_name = clean_name(display_name) or row.display_name
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
        rows = [dict(room_key=room, member_id=member, display_name=clean_name(name), household=household, active=True,
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
            name = clean_name(name)
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
