"""The duplicate look-up: which open ticket a new report repeats — one query per report, or one per batch.

Every report asks it (bot.tickets.desk: the same problem in the same place since the merge window began, newest
first). One message at a time, it is one query (`duplicate_query`, by the report's shape). A batch of messages
handled in one unit of work asks it for each of its reports, and there it is answered from one read: the unit of
work names the look-ups it expects (`expect_reports`: each report's group, node and problem key), and the first of
them reads every ticket any of them could join (`Candidates`); each look-up then picks from those in memory, by the
same rule the query applies. The tickets are the session's own objects, held for the unit of work, so what it
changes on them (a ticket closed, a reporter added) is what the next look-up sees, as the query would after a
flush. Their reporters are read with them, so that a repeat from someone already on a ticket (most "+1"s in a busy
group) writes nothing. A ticket another process opens during the batch, or a reporter it adds, is seen by the next
batch (one query per report sees it a few milliseconds sooner). Look-ups the unit of work did not name, and "+1"
echoes that name no problem, ask the query.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, event, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.domain.tickets import ACTIVE_VALUES
from storage.models import TicketReporterRow, TicketRow
from storage.rows import own

EXPECTED = "duplicate_lookups"  # session.info: (look-ups expected, how many reports ask them) — `expect_reports`
CANDIDATES = "duplicate_candidates"  # session.info: the `Candidates` read for them
BATCH = 2  # from this many expected look-ups on, they are answered from one read

_reporters = TicketReporterRow.__table__
_tickets = TicketRow.__table__
_QUERIES: dict[tuple[bool, ...], Any] = {}
_last_seen = (select(func.max(_reporters.c.at)).where(_reporters.c.ticket_id == _tickets.c.id)
              .correlate(_tickets).scalar_subquery())
# every ticket of these groups or nodes with one of these problems, opened since then, whatever its state (one
# reopened earlier in the batch counts), with the time its latest reporter came (the order duplicates are tried in)
_CANDIDATE_QUERY = select(_tickets, _last_seen.label("last_seen")).where(
    or_(_tickets.c.room_key.in_(bindparam("room_keys", expanding=True)),
        _tickets.c.node_code.in_(bindparam("node_codes", expanding=True))),
    _tickets.c.problem_key.in_(bindparam("problem_keys", expanding=True)),
    _tickets.c.created_at >= bindparam("since", type_=_tickets.c.created_at.type))
# who has reported them: a "+1" from someone already on the ticket (most repeats are) then writes nothing
_REPORTERS_QUERY = select(_reporters.c.ticket_id, _reporters.c.reporter_id).where(
    _reporters.c.ticket_id.in_(bindparam("ids", expanding=True)))


def expect_reports(session: AsyncSession, lookups: Iterable[tuple[str | None, str, str]]) -> None:
    """The duplicate look-ups this unit of work's reports will make: (group, node, problem key) each. From `BATCH`
    of them on, the first reads the candidates of all of them at once."""
    wanted = list(lookups)
    session.info[EXPECTED] = (frozenset(wanted), len(wanted))
    session.info.pop(CANDIDATES, None)


def duplicate_query(has_room: bool, has_building: bool, has_unit: bool, has_room_no: bool, has_key: bool,
                    echo: bool) -> Any:
    """The duplicate look-up for one shape of report, with bound parameters for the values (None: a report naming
    no known thing, and no "+1" echo, joins nothing)."""
    shape = (has_room, has_building, has_unit, has_room_no, has_key, echo)
    if shape not in _QUERIES:  # built once per shape, then only the values change (a hot path)
        _QUERIES[shape] = _build(*shape)
    return _QUERIES[shape]


def _build(has_room: bool, has_building: bool, has_unit: bool, has_room_no: bool, has_key: bool,
           echo: bool) -> Any:
    room_key, node_code = bindparam("room_key"), bindparam("node_code")
    place = or_(TicketRow.room_key == room_key, TicketRow.node_code == node_code) if has_room else (
        TicketRow.node_code == node_code)

    def agrees(column: Any, known: bool, name: str) -> ColumnElement[bool]:
        return true() if not known else or_(column.is_(None), column == bindparam(name))

    recent = select(_reporters.c.id).where(_reporters.c.ticket_id == TicketRow.id,
                                           _reporters.c.room_key == room_key,
                                           _reporters.c.at >= bindparam("echo_since")).exists()
    if has_key:  # the same thing in the same state, nowhere else
        same_problem = and_(TicketRow.problem_key == bindparam("problem_key"),
                            agrees(TicketRow.building, has_building, "building"),
                            agrees(TicketRow.unit, has_unit, "unit"), agrees(TicketRow.room_no, has_room_no, "room_no"))
    elif echo:  # "+1 我家也是" naming nothing: the group's report of the last few minutes
        same_problem = and_(TicketRow.room_key == room_key, recent)
    else:
        return None
    # newest reporter first, then newest ticket, then the larger id (as `Candidates.pick` breaks a tie)
    return (select(TicketRow).where(place, TicketRow.state.in_(ACTIVE_VALUES),
                                    TicketRow.created_at >= bindparam("since"), same_problem)
            .order_by(_last_seen.desc(), TicketRow.created_at.desc(), TicketRow.id.desc()).limit(1))


class Candidates:
    """The tickets a batch's expected look-ups could join, read once, and kept up to date by this unit of work: what
    it writes through the repository (`opened`, `reported`) is told here, and what it changes on a ticket object is
    read from that object (the session's own, as the query would read it after a flush)."""

    def __init__(self, session: AsyncSession, since: datetime) -> None:
        self.session = session
        self.since = since
        self.rows: dict[int, Any] = {}  # id → the row as read (a ticket nobody in this unit of work has touched)
        self.objects: dict[int, TicketRow] = {}  # id → the session's object, once there is one (held from then on)
        # problem key → group or node → ticket ids (a ticket's group and node never change): a look-up reads the
        # tickets of its own group and node, not every ticket of the batch with the same problem
        self.by_place: dict[tuple[str, str | None, str | None], list[int]] = {}
        self.last_seen: dict[int, datetime | None] = {}
        self.reporters: dict[int, set[str]] = {}  # id → everyone who has reported it (read with it, or added since)
        event.listen(session.sync_session, "after_flush", self._flushed)

    def _flushed(self, session: Any, _context: Any) -> None:
        # a ticket changed and written may then be let go by the session: hold it, so that later look-ups read it
        for obj in session.dirty:
            if isinstance(obj, TicketRow) and obj.id in self.rows:
                self.objects[obj.id] = obj

    @classmethod
    async def of(cls, session: AsyncSession, since: datetime) -> Candidates | None:
        """This unit of work's candidates, read now if need be; None when its look-ups are not a batch's, or ask
        from before what was read (then the query answers)."""
        expected = session.info.get(EXPECTED)
        if expected is None or expected[1] < BATCH:
            return None
        held: Candidates | None = session.info.get(CANDIDATES)
        if held is not None:
            return held if since >= held.since else None
        wanted: frozenset[tuple[str | None, str, str]] = expected[0]
        await session.flush()  # what the session holds goes first, as the query would see it
        conn = await session.connection()
        rows = (await conn.execute(_CANDIDATE_QUERY, {
            "room_keys": sorted({r for r, _, _ in wanted if r is not None}),
            "node_codes": sorted({n for _, n, _ in wanted}), "problem_keys": sorted({k for _, _, k in wanted}),
            "since": since})).mappings().all()
        found = session.info[CANDIDATES] = cls(session, since)
        for row in rows:  # kept as rows: a ticket becomes an object only when a look-up picks it
            ticket_id = row["id"]
            found.rows[ticket_id] = row
            found._place(ticket_id, row["problem_key"], row["room_key"], row["node_code"])
            found.last_seen[ticket_id] = row["last_seen"]
            found.reporters[ticket_id] = set()
        if rows:
            for ticket_id, reporter_id in (await conn.execute(_REPORTERS_QUERY, {"ids": list(found.rows)})).all():
                found.reporters[ticket_id].add(reporter_id)
        return found

    @staticmethod
    def expects(session: AsyncSession, room_key: str | None, node_code: str, problem_key: str) -> bool:
        expected = session.info.get(EXPECTED)
        return expected is not None and (room_key, node_code, problem_key) in expected[0]

    def opened(self, ticket: TicketRow, at: datetime) -> None:
        """A ticket this unit of work has just opened."""
        if ticket.problem_key is not None:
            self.objects[ticket.id] = ticket
            self._place(ticket.id, ticket.problem_key, ticket.room_key, ticket.node_code)
            self.last_seen[ticket.id] = at
            self.reporters[ticket.id] = {ticket.reporter_id}

    def _place(self, ticket_id: int, problem_key: str, room_key: str | None, node_code: str | None) -> None:
        if room_key is not None:
            self.by_place.setdefault((problem_key, room_key, None), []).append(ticket_id)
        self.by_place.setdefault((problem_key, None, node_code), []).append(ticket_id)

    def met(self, ticket_id: int, reporter_id: str) -> None:
        """The person is one of the ticket's reporters (if its reporters are held)."""
        if ticket_id in self.reporters:
            self.reporters[ticket_id].add(reporter_id)

    def reported(self, ticket_id: int, reporter_id: str, at: datetime) -> None:
        """Someone joined a ticket: it is now the most recently reported."""
        self.met(ticket_id, reporter_id)
        if ticket_id in self.last_seen:
            last = self.last_seen[ticket_id]
            self.last_seen[ticket_id] = at if last is None or at > last else last

    def has_reported(self, ticket_id: int, reporter_id: str) -> bool:
        """Whether the person is known to be one of the ticket's reporters (False: not known to be)."""
        return reporter_id in self.reporters.get(ticket_id, ())

    def pick(self, *, room_key: str | None, node_code: str, problem_key: str, building: str | None,
             unit: str | None, room_no: str | None, since: datetime) -> TicketRow | None:
        """What the query answers for a report with a problem key, from the tickets held."""
        best: int | None = None
        best_rank: tuple[Any, ...] = ()
        held = self.session.identity_map
        in_room = self.by_place.get((problem_key, room_key, None), ()) if room_key is not None else ()
        at_node = self.by_place.get((problem_key, None, node_code), ())
        for ticket_id in {*in_room, *at_node}:  # the rank decides, not the order (a tie goes to the larger id)
            obj = self.objects.get(ticket_id) or held.get((TicketRow, (ticket_id,), None))
            if obj is not None:  # the session's own object: what this unit of work has made of it
                self.objects[ticket_id] = obj
                ticket = (obj.state, obj.created_at, obj.building, obj.unit, obj.room_no)
            else:
                row = self.rows[ticket_id]
                ticket = (row["state"], row["created_at"], row["building"], row["unit"], row["room_no"])
            state, created_at, t_building, t_unit, t_room_no = ticket
            # (the same group or node: what the index held for this look-up)
            if (state not in ACTIVE_VALUES or created_at < since
                    or not _agrees(t_building, building) or not _agrees(t_unit, unit)
                    or not _agrees(t_room_no, room_no)):
                continue
            last = self.last_seen.get(ticket_id)
            rank = (last is not None, last, created_at, ticket_id)  # no reporter: last, as SQLite sorts NULL
            if best is None or rank > best_rank:
                best, best_rank = ticket_id, rank
        if best is None:
            return None
        if best not in self.objects:  # first picked: the session's object from here on
            values = dict(self.rows[best])
            del values["last_seen"]
            self.objects[best] = own(self.session, TicketRow, values)
        return self.objects[best]


def _agrees(value: str | None, known: str | None) -> bool:
    return known is None or value is None or value == known
