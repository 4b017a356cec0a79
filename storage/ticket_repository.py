"""Tickets, their reporters and timelines; the short numbers people type.

(Longer than most modules, on purpose: one job, all SQL about tickets — every question the bot and the console ask
of the ticket tables, with the statements built once for the hot ones — so that a reader finds each of them here.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String, and_, bindparam, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from storage import deferred, driver
from storage.counters import NEXT_NUMBER, CounterRepository
from storage.duplicates import CANDIDATES, Candidates, duplicate_query
from storage.errors import NotFound
from storage.memo import remember_for_group
from storage.message_repository import MessageRepository
from storage.rows import as_read, held_objects, own
from bot.domain.search import terms
from bot.domain.tickets import OPEN_VALUES, WAITING_STATES, State, state_values
from storage.models import INBOX, MessageRow, TicketEventRow, TicketReporterRow, TicketRow, TicketTermRow


def overdue_now(now: datetime) -> Any:
    """Open tickets past their deadline — measured against the original one: a ticket whose deadline passed stays
    overdue after escalation gave it a new one (`breached`). Combine with a state filter for open tickets."""
    return or_(TicketRow.breached.is_(True), and_(TicketRow.due_at.is_not(None), TicketRow.due_at < now))


def in_subtree(prefix: str, column: Any = TicketRow.node_path) -> Any:
    """Rows whose node_path `column` (tickets' by default) starts with `prefix` ("/JQS/JQS-01/"), as a range both
    backends answer from the node_path index (SQLite does not use an index for LIKE 'prefix%', which is
    case-insensitive there)."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(column >= prefix, column < upper)


# a reporter joins a ticket once: one INSERT … SELECT … WHERE NOT EXISTS, then the count goes up
_reporters = TicketReporterRow.__table__
_ADD_REPORTER = _reporters.insert().from_select(
    ["ticket_id", "reporter_id", "reporter_name", "room_key", "message_id", "at"],
    select(bindparam("ticket_id", type_=BigInteger), bindparam("reporter_id", type_=String),
           bindparam("reporter_name", type_=String), bindparam("room_key", type_=String),
           bindparam("message_id", type_=BigInteger), bindparam("at", type_=_reporters.c.at.type))
    .where(~select(_reporters.c.id).where(_reporters.c.ticket_id == bindparam("ticket_id"),
                                          _reporters.c.reporter_id == bindparam("reporter_id")).exists()))
_tickets = TicketRow.__table__
_TICKET_COLUMNS = tuple(c.name for c in _tickets.columns if c.name != "id")
_TICKET_DEFAULTS = {name: None for name in _TICKET_COLUMNS} | {
    "reporter_count": 1, "escalation_level": 0, "escalated": False, "breached": False}
_INSERT_TICKET = _tickets.insert()
_INSERT_REPORTER = _reporters.insert()
# plain strings and ids, thirty-odd rows a ticket: the driver's executemany, without per-row parameter processing
_INSERT_TERMS_SQLITE = f"INSERT INTO {TicketTermRow.__tablename__} (term, ticket_id) VALUES (?, ?)"
_INSERT_EVENT = TicketEventRow.__table__.insert()


def _create_on_postgresql() -> Any:
    """PostgreSQL: the ticket's number, the ticket, its first reporter, its search terms and its "open" step in one
    statement (one round trip)."""
    binds = {name: bindparam(name, type_=_tickets.c[name].type) for name in _TICKET_COLUMNS}
    number = NEXT_NUMBER.columns(value=BigInteger).cte("next_number")
    ticket = _tickets.insert().from_select(
        list(_TICKET_COLUMNS), select(*(number.c.value if name == "number" else binds[name]
                                        for name in _TICKET_COLUMNS))
    ).returning(_tickets.c.id, _tickets.c.number).cte("new_ticket")
    reporter = _reporters.insert().from_select(
        ["ticket_id", "reporter_id", "reporter_name", "room_key", "message_id", "at"],
        select(ticket.c.id, binds["reporter_id"], binds["reporter_name"], binds["room_key"],
               bindparam("message_id", type_=BigInteger), binds["created_at"])).cte("new_reporter")
    postings = TicketTermRow.__table__.insert().from_select(
        ["term", "ticket_id"], select(func.unnest(bindparam("terms", type_=ARRAY(String))), ticket.c.id)
    ).cte("new_terms")
    events = TicketEventRow.__table__
    opened = events.insert().from_select(
        ["ticket_id", "at", "actor", "action", "from_state", "to_state", "note"],
        select(ticket.c.id, binds["created_at"], binds["reporter_name"], bindparam("action", type_=String),
               bindparam("from_state", type_=String), binds["state"], bindparam("note", type_=events.c.note.type))
    ).cte("new_event")
    return select(ticket.c.id, ticket.c.number).add_cte(reporter).add_cte(postings).add_cte(opened)


_CREATE_PG = _create_on_postgresql()
_COUNT_REPORTER = (update(TicketRow).where(TicketRow.id == bindparam("ticket_id"))
                   .values(reporter_count=TicketRow.reporter_count + 1,
                           updated_at=bindparam("at", type_=TicketRow.__table__.c.updated_at.type)))
# PostgreSQL: the reporter added and the count raised in one statement (the count only if the reporter was new)
# (plain text: as a Core UPDATE of tickets, its bound names that are also ticket columns — reporter_id, room_key —
# would be taken as values to SET; the condition is `_ADD_REPORTER`'s, restated)
_ADD_AND_COUNT_PG = text(
    f"WITH added AS (INSERT INTO {_reporters.name} (ticket_id, reporter_id, reporter_name, room_key, message_id, at) "
    "SELECT CAST(:ticket_id AS BIGINT), CAST(:reporter_id AS VARCHAR), CAST(:reporter_name AS VARCHAR), "
    "CAST(:room_key AS VARCHAR), CAST(:message_id AS BIGINT), :at "
    f"WHERE NOT EXISTS (SELECT 1 FROM {_reporters.name} WHERE ticket_id = CAST(:ticket_id AS BIGINT) "
    "AND reporter_id = CAST(:reporter_id AS VARCHAR)) RETURNING ticket_id) "
    f"UPDATE {_tickets.name} SET reporter_count = reporter_count + 1, updated_at = :at "
    "WHERE id IN (SELECT ticket_id FROM added) RETURNING id").bindparams(bindparam("at", type_=_reporters.c.at.type))


_RESOLVED = State.RESOLVED.value
_ROOMS_WITH_RESOLVED = select(TicketRow.room_key).distinct().where(
    TicketRow.state == _RESOLVED, TicketRow.room_key.in_(bindparam("rooms", expanding=True)))

_BUILT: dict[tuple[Any, ...], Any] = {}


def _built(key: tuple[Any, ...], build: Any) -> Any:
    """A statement of the per-message look-ups, built once (then only its bound values change): building a select
    cost more than running it, for the questions nearly every message asks."""
    statement = _BUILT.get(key)
    if statement is None:
        statement = _BUILT[key] = build()
    return statement


def _reported_by(*also: Any) -> Any:
    """The ids of the tickets `:reporter_id` reported (with `also`'s conditions on the reporter rows)."""
    return select(TicketReporterRow.ticket_id).where(TicketReporterRow.reporter_id == bindparam("reporter_id"), *also)


class TicketRepository:
    """All SQL about tickets."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all_by_number(self) -> list[TicketRow]:
        """Every ticket, oldest number first (a replay's summary)."""
        return list(await self.session.scalars(select(TicketRow).order_by(TicketRow.number)))

    async def create(self, *, fields: dict[str, Any], reporter_id: str, reporter_name: str, message_id: int | None,
                     at: datetime, first_number: int = 1, note: str | None = None) -> TicketRow:
        """A new ticket numbered by the "ticket" counter (from `first_number`), with its first reporter, its search
        terms and its "open" step (by the reporter, with `note`)."""
        values = _TICKET_DEFAULTS | {"number": None, "reporter_id": reporter_id, "reporter_name": reporter_name,
                                     "created_at": at, "updated_at": at} | fields
        unknown = values.keys() - _TICKET_DEFAULTS.keys()
        if unknown:
            raise TypeError(f"not a ticket column: {', '.join(sorted(unknown))}")
        words = terms(values["text"])  # for finding it by a word later (bot.domain.search)
        opened = {"at": at, "actor": reporter_name, "action": "open", "from_state": None, "to_state": values["state"],
                  "note": note}
        await self.session.flush()  # what the session holds goes first, as an ORM flush would have it
        # Core statements, not an ORM flush of the ticket and its reporter: the unit of work's bookkeeping
        # cost more than the INSERTs (the ticket-opening path is the bot's hottest)
        conn = await self.session.connection()
        if conn.dialect.name == "postgresql":
            (ticket_id, number), = await driver.fetch(conn, _CREATE_PG, {
                **values, "name": "ticket", "start": first_number, "message_id": message_id, "terms": words,
                "action": opened["action"], "from_state": None, "note": note})
            values["number"] = int(number)
        else:
            values["number"] = await CounterRepository(self.session).next("ticket", start=first_number)
            ticket_id = (await conn.execute(_INSERT_TICKET, values)).inserted_primary_key[0]
            await conn.execute(_INSERT_REPORTER, {"ticket_id": ticket_id, "reporter_id": reporter_id,
                                                  "reporter_name": reporter_name, "room_key": values["room_key"],
                                                  "message_id": message_id, "at": at})
            for term in words:  # read only by the console's word search, which writes them first
                deferred.defer(self.session, _INSERT_TERMS_SQLITE, (term, ticket_id))
            deferred.defer(self.session, _INSERT_EVENT, {"ticket_id": ticket_id, **opened})
        ticket = as_read(self.session, TicketRow, {"id": int(ticket_id), **values})
        held = self.session.info.get(CANDIDATES)
        if held is not None:  # a batch's duplicate look-ups find it too
            held.opened(ticket, at)
        return ticket

    async def by_number(self, number: int) -> TicketRow:
        ticket = await self.find_by_number(number)
        if ticket is None:
            raise NotFound(f"ticket {number}")
        return ticket

    async def find_by_number(self, number: int) -> TicketRow | None:
        """The ticket with this number: the session's own if this unit of work holds it (the one just opened, the
        one a match has found — numbers are unique and never change), else read."""
        deleted = self.session.deleted
        for ticket in held_objects(self.session, TicketRow):
            if ticket.__dict__.get("number") == number and ticket not in deleted:
                return ticket
        statement = _built(("by_number",), lambda: select(TicketRow).where(TicketRow.number == bindparam("number")))
        return await self.session.scalar(statement, {"number": number})

    async def find_duplicate(self, *, room_key: str | None, node_code: str, problem_key: str | None,
                             building: str | None, unit: str | None, room_no: str | None, since: datetime,
                             me_too: bool, echo_since: datetime) -> TicketRow | None:
        """The newest active ticket a new report repeats, found in one query; None when unsure.

        Same room or node, since `since`, and the same problem key with no conflicting building, unit or
        room (unknown matches anything); or — for a "+1 我家也是" that names nothing — the ticket of this
        room someone reported since `echo_since`. A report naming no known thing joins nothing.
        """
        if problem_key is not None and Candidates.expects(self.session, room_key, node_code, problem_key):
            held = await Candidates.of(self.session, since)  # a batch's look-ups: answered from one read
            if held is not None:
                return held.pick(room_key=room_key, node_code=node_code, problem_key=problem_key, building=building,
                                 unit=unit, room_no=room_no, since=since)
        statement = duplicate_query(room_key is not None, building is not None, unit is not None,
                                    room_no is not None, problem_key is not None, me_too and room_key is not None)
        if statement is None:
            return None
        return await self._first(statement, {
            "room_key": room_key, "node_code": node_code, "problem_key": problem_key, "building": building,
            "unit": unit, "room_no": room_no, "since": since, "echo_since": echo_since})

    async def _first(self, statement: Any, params: dict[str, Any]) -> TicketRow | None:
        """The first ticket a query of whole rows finds, as the session's own (`session.scalar` answers the same:
        pending changes flushed first, an object the session holds returned as it is) for half the work, on the
        path every report takes."""
        await self.session.flush()
        conn = await self.session.connection()
        row = (await conn.execute(statement, params)).mappings().first()
        if row is None:
            return None
        return own(self.session, TicketRow, dict(row))

    async def get(self, ticket_id: int) -> TicketRow:
        ticket = await self.session.get(TicketRow, ticket_id)
        if ticket is None:
            raise NotFound(f"ticket id {ticket_id}")
        return ticket

    async def add_reporter(self, ticket: TicketRow, *, reporter_id: str, reporter_name: str,
                           room_key: str | None, message_id: int | None, at: datetime) -> bool:
        """Add a reporter; False if they had already reported this ticket.

        A hot path ("+1 我家也是"): plain statements on the connection, and the ticket object told what they
        wrote, instead of a unit-of-work flush."""
        held = self.session.info.get(CANDIDATES)
        if held is not None and held.has_reported(ticket.id, reporter_id):
            return False  # a batch's candidate, read with its reporters: nothing to write
        conn = await self.session.connection()
        reporter = {"ticket_id": ticket.id, "reporter_id": reporter_id, "reporter_name": reporter_name,
                    "room_key": room_key, "message_id": message_id, "at": at}
        if conn.dialect.name == "postgresql":
            added = bool(await driver.fetch(conn, _ADD_AND_COUNT_PG, reporter))
        else:
            added = bool((await conn.execute(_ADD_REPORTER, reporter)).rowcount)
            if added:
                await conn.execute(_COUNT_REPORTER, {"ticket_id": ticket.id, "at": at})
        if not added:
            if held is not None:
                held.met(ticket.id, reporter_id)
            return False
        set_committed_value(ticket, "reporter_count", (ticket.reporter_count or 1) + 1)
        set_committed_value(ticket, "updated_at", at)
        if held is not None:
            held.reported(ticket.id, reporter_id, at)
        return True

    async def reporters(self, ticket_id: int) -> list[TicketReporterRow]:
        return list(await self.session.scalars(
            select(TicketReporterRow).where(TicketReporterRow.ticket_id == ticket_id).order_by(TicketReporterRow.id)))

    async def add_event(self, ticket: TicketRow, *, at: datetime, actor: str, action: str, from_state: str | None,
                        to_state: str | None, note: str | None = None) -> None:
        """One step of the timeline, written with the others of this unit of work (in order, before anyone reads
        the timeline, and before the commit: storage.deferred)."""
        deferred.defer(self.session, _INSERT_EVENT, {"ticket_id": ticket.id, "at": at, "actor": actor,
                                                     "action": action, "from_state": from_state, "to_state": to_state,
                                                     "note": note})

    async def timeline(self, ticket_id: int) -> list[TicketEventRow]:
        await deferred.flush(self.session)
        return list(await self.session.scalars(
            select(TicketEventRow).where(TicketEventRow.ticket_id == ticket_id).order_by(TicketEventRow.id)))

    async def last_event_id(self, ticket_id: int) -> int:
        """The id of the ticket's latest timeline step (0 for none): a step taken shows as a larger one."""
        await deferred.flush(self.session)
        return int(await self.session.scalar(
            select(func.max(TicketEventRow.id)).where(TicketEventRow.ticket_id == ticket_id)) or 0)

    async def attachment(self, ticket_id: int, message_id: int) -> MessageRow | None:
        """One of the ticket's photos by its message id; None when that message is no photo of this ticket."""
        return await self.session.scalar(
            select(MessageRow).where(MessageRow.id == message_id, MessageRow.ticket_id == ticket_id,
                                     MessageRow.attachment.is_not(None)))

    async def due_for_check(self, now: datetime, *, limit: int = 200) -> list[TicketRow]:
        """Open tickets whose deadline job time has come, oldest first."""
        return list(await self.session.scalars(
            select(TicketRow).where(TicketRow.state.in_(OPEN_VALUES), TicketRow.next_check_at.is_not(None),
                                    TicketRow.next_check_at <= now)
            .order_by(TicketRow.next_check_at).limit(limit)))

    async def last_escalation_to(self, person_key: str, since: datetime) -> datetime | None:
        """When a non-urgent ticket now held by this person was last escalated to them, if after `since`."""
        await deferred.flush(self.session)
        return await self.session.scalar(
            select(func.max(TicketEventRow.at)).join(TicketRow, TicketRow.id == TicketEventRow.ticket_id).where(
                TicketRow.assignee == person_key, TicketRow.urgency != "urgent",
                TicketEventRow.action == "escalate", TicketEventRow.at > since))

    async def next_check_time(self) -> datetime | None:
        return await self.session.scalar(select(func.min(TicketRow.next_check_at)).where(
            TicketRow.state.in_(OPEN_VALUES), TicketRow.next_check_at.is_not(None)))

    async def resolved_before(self, cutoff: datetime, *, limit: int = 200) -> list[TicketRow]:
        return list(await self.session.scalars(
            select(TicketRow).where(TicketRow.state == State.RESOLVED.value, TicketRow.resolved_at <= cutoff)
            .order_by(TicketRow.resolved_at).limit(limit)))

    async def oldest_resolved_at(self) -> datetime | None:
        return await self.session.scalar(
            select(func.min(TicketRow.resolved_at)).where(TicketRow.state == State.RESOLVED.value))

    async def open_in_subtree(self, path_prefix: str, *, now: datetime, limit: int = 10) -> tuple[list[TicketRow], int]:
        """Open tickets under a node, overdue first then oldest; and how many there are in all."""
        where = and_(in_subtree(path_prefix), TicketRow.state.in_(OPEN_VALUES))
        overdue_first = overdue_now(now).desc()
        rows = list(await self.session.scalars(
            select(TicketRow).where(where).order_by(overdue_first, TicketRow.created_at).limit(limit)))
        total = int(await self.session.scalar(select(func.count()).select_from(TicketRow).where(where)) or 0)
        return rows, total

    async def latest_for_reporter(self, reporter_id: str, *, limit: int = 3) -> list[TicketRow]:
        statement = _built(("latest_for_reporter", limit), lambda: select(TicketRow).where(
            TicketRow.id.in_(_reported_by())).order_by(TicketRow.created_at.desc()).limit(limit))
        return list(await self.session.scalars(statement, {"reporter_id": reporter_id}))

    async def awaiting_confirmation(self, reporter_id: str, room_key: str | None) -> TicketRow | None:
        """The reporter's most recent resolved ticket in this room, waiting for their word."""
        if room_key is not None and not await self._may_hold_resolved(room_key):
            return None  # nearly every "好了 / 谢谢" in a group: no resolved ticket there to confirm

        def build() -> Any:
            query = select(TicketRow).where(TicketRow.id.in_(_reported_by()), TicketRow.state == State.RESOLVED.value)
            if room_key is not None:
                query = query.where(TicketRow.room_key == bindparam("room_key"))
            return query.order_by(TicketRow.resolved_at.desc()).limit(1)

        statement = _built(("awaiting_confirmation", room_key is not None), build)
        return await self.session.scalar(statement, {"reporter_id": reporter_id, "room_key": room_key})

    async def _may_hold_resolved(self, room_key: str) -> bool:
        """Whether the group has a resolved ticket: read once for all of the unit of work's groups (storage.memo),
        together with the tickets this unit of work has resolved (state is set on the objects, never by a statement).
        A ticket another process resolves meanwhile is seen by the next unit of work."""
        async def load(rooms: list[str]) -> dict[str, bool]:
            return {room: True for room in await self.session.scalars(_ROOMS_WITH_RESOLVED, {"rooms": rooms})}

        if await remember_for_group(self.session, ("resolved",), room_key, load, False):
            return True
        for ticket in held_objects(self.session, TicketRow):
            known = ticket.__dict__  # not its attributes: an expired one would be loaded
            if known.get("room_key", room_key) == room_key and known.get("state", _RESOLVED) == _RESOLVED:
                return True
        return False

    async def awaiting_acceptance(self, assignee: str, *, limit: int = 20) -> list[TicketRow]:
        """The person's tickets nobody has accepted yet (new or reopened), most recently changed first."""
        statement = _built(("awaiting_acceptance", limit), lambda: select(TicketRow).where(
            TicketRow.assignee == bindparam("assignee"), TicketRow.state.in_(state_values(WAITING_STATES)))
            .order_by(TicketRow.updated_at.desc(), TicketRow.id.desc()).limit(limit))
        return list(await self.session.scalars(statement, {"assignee": assignee}))

    async def recent_by_reporter_in_room(self, reporter_id: str, room_key: str, since: datetime) -> TicketRow | None:
        def build() -> Any:
            ids = _reported_by(TicketReporterRow.at >= bindparam("since"),
                               TicketReporterRow.room_key == bindparam("room_key"))
            return select(TicketRow).where(TicketRow.id.in_(ids)).order_by(TicketRow.created_at.desc()).limit(1)

        statement = _built(("recent_by_reporter_in_room",), build)
        return await self.session.scalar(statement, {"reporter_id": reporter_id, "since": since, "room_key": room_key})

    async def loose_images(self, sender_id: str, room_key: str, since: datetime) -> list[MessageRow]:
        """Images the sender posted in the room since `since` that belong to no ticket yet."""
        await MessageRepository(self.session).flush_pending()  # this batch's photos count too
        return list(await self.session.scalars(
            select(MessageRow).where(MessageRow.sender_id == sender_id, MessageRow.room_key == room_key,
                                     MessageRow.msg_type == "image", MessageRow.ticket_id.is_(None),
                                     MessageRow.at >= since,
                                     or_(MessageRow.handler.is_(None), MessageRow.handler != INBOX))
            .order_by(MessageRow.id)))  # photos still in the inbox are attached when they are handled

    async def attachments(self, ticket_id: int) -> list[MessageRow]:
        return list(await self.session.scalars(
            select(MessageRow).where(MessageRow.ticket_id == ticket_id, MessageRow.attachment.is_not(None))
            .order_by(MessageRow.id)))

    async def counts_by_state(self, numbers: Sequence[int] | None = None) -> dict[str, int]:
        query = select(TicketRow.state, func.count()).group_by(TicketRow.state)
        if numbers is not None:
            query = query.where(TicketRow.number.in_(numbers))
        return {state: int(n) for state, n in (await self.session.execute(query)).all()}

    async def resolved_in_room_since(self, room_key: str, since: datetime, *, limit: int = 5) -> list[TicketRow]:
        """Tickets of a group handled (办结) since `since` and not reopened: resolved, or closed after that."""
        statement = _built(("resolved_in_room_since", limit), lambda: select(TicketRow).where(
            TicketRow.room_key == bindparam("room_key"),
            TicketRow.state.in_((State.RESOLVED.value, State.CLOSED.value)),
            TicketRow.resolved_at.is_not(None), TicketRow.resolved_at >= bindparam("since"))
            .order_by(TicketRow.resolved_at.desc()).limit(limit))
        return list(await self.session.scalars(statement, {"room_key": room_key, "since": since}))

    async def open_for_reporter_since(self, reporter_id: str, room_key: str | None,
                                      since: datetime) -> TicketRow | None:
        """The newest open ticket this person reported (from this room) since `since`."""
        def build() -> Any:
            ids = _reported_by(TicketReporterRow.at >= bindparam("since"))
            if room_key is not None:
                ids = ids.where(TicketReporterRow.room_key == bindparam("room_key"))
            return (select(TicketRow).where(TicketRow.id.in_(ids), TicketRow.state.in_(OPEN_VALUES))
                    .order_by(TicketRow.created_at.desc()).limit(1))

        statement = _built(("open_for_reporter_since", room_key is not None), build)
        return await self.session.scalar(statement, {"reporter_id": reporter_id, "since": since, "room_key": room_key})

    async def remove_reporter(self, ticket: TicketRow, row: TicketReporterRow) -> None:
        """Take one reporter off a ticket (a #拆分)."""
        await self.session.delete(row)
        self.session.info.pop(CANDIDATES, None)  # its latest reporter may have gone: a batch's look-ups read afresh
        ticket.reporter_count = max(1, (ticket.reporter_count or 1) - 1)
        await self.session.flush()

    async def message(self, message_id: int | None) -> MessageRow | None:
        return await self.session.get(MessageRow, message_id) if message_id is not None else None
