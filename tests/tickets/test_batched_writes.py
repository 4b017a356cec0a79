"""Tickets opened together in one unit of work (a burst of reports): numbered in order, each timeline whole and in
order, its steps written in one statement with the batch (storage.deferred), on both backends."""

from __future__ import annotations

from sqlalchemy import event, select

from storage.models import CounterRow, TicketEventRow, TicketRow, TicketTermRow
from tests.factories import make_message

ROOM = "江桥花苑3号楼微网格"
REPORTS = ["3号楼楼道灯坏了", "垃圾堆了好几天没人收", "燃气味很重 快来人", "有人在撬电动车"]


def _reports(sim, clock, texts):  # type: ignore[no-untyped-def]
    room = sim.room_by_topic(ROOM)
    return [make_message(text, room=room.id, topic=ROOM, sender=f"{i + 1}-201 住户{i}", at=clock.now())
            for i, text in enumerate(texts)]


def _count_inserts(db, table: str) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _statement(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT INTO " + table.upper()):
            seen.append(statement)

    return seen


async def test_a_burst_of_reports_numbers_its_tickets_in_order_and_writes_their_steps_together(ticket_bot, db, clock):
    bot, sim = ticket_bot
    inserts = _count_inserts(db, "ticket_events")
    results = await bot.process_messages(_reports(sim, clock, REPORTS))
    assert [r.handler for r in results] == ["report"] * len(REPORTS)
    # one batch, one unit of work: every ticket's "open" step in one statement (it was one per step), or in
    # the ticket's own statement on PostgreSQL
    assert len(inserts) <= 1
    async with db.unit_of_work() as s:
        tickets = list(await s.scalars(select(TicketRow).order_by(TicketRow.id)))
        events = list(await s.scalars(select(TicketEventRow).order_by(TicketEventRow.id)))
        counter = await s.scalar(select(CounterRow.value).where(CounterRow.name == "ticket"))
        terms = set((await s.execute(select(TicketTermRow.ticket_id))).scalars())
    first = bot.config.tickets.first_number
    assert [t.number for t in tickets] == list(range(first, first + len(REPORTS)))
    assert [t.text for t in tickets] == REPORTS
    assert counter == tickets[-1].number  # the counter row holds the last number taken
    assert terms == {t.id for t in tickets}  # every ticket can be found by a word
    by_ticket = {t.id: [(e.action, e.actor, e.to_state) for e in events if e.ticket_id == t.id] for t in tickets}
    for t in tickets:
        assert by_ticket[t.id][0] == ("open", t.reporter_name, "new")

    # the next unit of work goes on from there (the counter was written before the commit)
    more = await bot.process_messages(_reports(sim, clock, ["5号楼楼道灯坏了"]))
    assert [r.handler for r in more] == ["report"]
    async with db.unit_of_work() as s:
        numbers = list(await s.scalars(select(TicketRow.number).order_by(TicketRow.id)))
    assert numbers == list(range(first, first + len(REPORTS) + 1))


async def test_steps_taken_in_one_unit_of_work_are_read_back_in_it_in_order(ticket_bot, db, clock):
    bot, sim = ticket_bot
    await bot.process_messages(_reports(sim, clock, REPORTS[:1]))
    from bot.work import Work
    from bot.domain.tickets import Action

    async with db.unit_of_work() as s:
        work = Work(s, bot.services, clock.now())
        ticket = await work.tickets.repo.find_by_number(bot.config.tickets.first_number)
        assert ticket is not None
        before = await work.tickets.repo.last_event_id(ticket.id)
        await work.tickets.repo.add_event(ticket, at=clock.now(), actor="张阿姨", action=Action.ACCEPT.value,
                                          from_state="new", to_state="accepted")
        await work.tickets.repo.add_event(ticket, at=clock.now(), actor="张阿姨", action=Action.RESOLVE.value,
                                          from_state="accepted", to_state="resolved")
        assert await work.tickets.repo.last_event_id(ticket.id) > before  # what the console's "done?" asks
        steps = [e.action for e in await work.tickets.repo.timeline(ticket.id)]
    assert steps == ["open", "accept", "resolve"]
