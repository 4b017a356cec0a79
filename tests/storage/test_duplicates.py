"""A batch's duplicate look-ups, answered from one read (storage.duplicates), answer what the query answers — for
every look-up, while the unit of work opens tickets, adds and removes reporters and changes states — on both
backends; and a batch of reports through the bot opens and joins the tickets that one message at a time does."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import event, select

from storage import duplicates
from storage.models import TicketReporterRow, TicketRow
from storage.ticket_repository import TicketRepository

ROOMS = [("一号楼群", "N1"), ("二号楼群", "N1"), ("三号楼群", "N2"), (None, "N2")]
KEYS = ["灯:坏", "电梯:坏", "水管:漏"]
PLACES = [None, "1", "2"]
STATES = ["new", "accepted", "resolved", "closed", "reopened", "cancelled"]


def _look(rng: random.Random, now):  # type: ignore[no-untyped-def]
    room_key, node = rng.choice(ROOMS)
    return {"room_key": room_key, "node_code": node, "problem_key": rng.choice(KEYS), "building": rng.choice(PLACES),
            "unit": rng.choice(PLACES), "room_no": rng.choice([None, "101"]),
            "since": now - timedelta(hours=rng.choice([2, 6, 12])), "me_too": False,
            "echo_since": now - timedelta(minutes=30)}


async def _both(repo: TicketRepository, look: dict):  # type: ignore[no-untyped-def,type-arg]
    """(the query's answer, the batch's answer) for one look-up, in the same unit of work."""
    expected = repo.session.info.pop(duplicates.EXPECTED)
    by_query = await repo.find_duplicate(**look)
    repo.session.info[duplicates.EXPECTED] = expected
    return by_query, await repo.find_duplicate(**look)


async def _open(repo: TicketRepository, rng: random.Random, at, n: int) -> TicketRow:  # type: ignore[no-untyped-def]
    room_key, node = rng.choice(ROOMS)
    fields = {"state": rng.choice(STATES), "category": "repair", "urgency": "normal", "node_code": node,
              "node_path": f"/JQS/{node}/", "text": f"报修{n}", "room_key": room_key,
              "problem_key": rng.choice(KEYS + [None]), "building": rng.choice(PLACES), "unit": rng.choice(PLACES),
              "room_no": rng.choice([None, "101", "102"])}
    return await repo.create(fields=fields, reporter_id=f"r{n}", reporter_name=f"住户{n}", message_id=None, at=at)


async def test_a_batch_s_look_ups_answer_what_the_query_answers_while_the_batch_changes_things(db, clock):
    rng = random.Random(17)
    start = clock.now()
    async with db.unit_of_work() as s:  # yesterday and today: tickets in every state, joined now and then
        repo = TicketRepository(s)
        for n in range(60):
            at = start - timedelta(hours=rng.uniform(0, 20))
            ticket = await _open(repo, rng, at, n)
            for extra in range(rng.choice([0, 0, 1, 2])):
                await repo.add_reporter(ticket, reporter_id=f"x{n}-{extra}", reporter_name="邻居", room_key=None,
                                        message_id=None, at=at + timedelta(minutes=rng.uniform(1, 300)))
    now = start + timedelta(minutes=5)
    checked = matched = 0
    async with db.unit_of_work() as s:
        repo = TicketRepository(s)
        looks = [_look(rng, now) for _ in range(40)]
        duplicates.expect_reports(s, [(lk["room_key"], lk["node_code"], lk["problem_key"]) for lk in looks])
        for step in range(120):
            # each message a little later than the one before: its merge window begins a little later too
            look = {**rng.choice(looks), "since": now - timedelta(hours=12) + timedelta(minutes=6 * step)}
            by_query, by_batch = await _both(repo, look)
            assert by_batch is by_query, (step, look)
            checked, matched = checked + 1, matched + (by_query is not None)
            change = rng.random()
            if by_query is not None and change < 0.25:  # someone joins the ticket found
                await repo.add_reporter(by_query, reporter_id=f"j{step}", reporter_name="又一户", room_key=None,
                                        message_id=None, at=now + timedelta(seconds=step))
            elif by_query is not None and change < 0.4:  # a leader closes it (not written yet)
                by_query.state = rng.choice(["closed", "resolved", "cancelled"])
            elif change < 0.55:  # a ticket opened in this unit of work
                await _open(repo, rng, now + timedelta(seconds=step), 100 + step)
            elif change < 0.65:  # one reopened, read by another statement of this unit of work, then let go
                ticket = await s.scalar(select(TicketRow).where(TicketRow.state == "resolved").limit(1))
                if ticket is not None:
                    ticket.state = "reopened"
                    await s.flush()
                    del ticket
            elif change < 0.7:  # a reporter taken off a ticket (#拆分)
                row = await s.scalar(select(TicketReporterRow).order_by(TicketReporterRow.at.desc()).limit(1))
                if row is not None and (ticket := await s.get(TicketRow, row.ticket_id)) is not None:
                    await repo.remove_reporter(ticket, row)
    assert checked == 120 and matched >= 30  # the look-ups found something often enough to mean something


async def test_one_read_serves_the_batch_and_look_ups_it_did_not_name_ask_the_query(db, clock):
    now = clock.now()
    async with db.unit_of_work() as s:
        repo = TicketRepository(s)
        rng = random.Random(3)
        for n in range(10):
            await _open(repo, rng, now - timedelta(hours=1), n)
    selects: list[str] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _statement(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "FROM TICKETS" in statement.upper():
            selects.append(statement)

    looks = [{**_look(random.Random(i), now), "since": now - timedelta(hours=12)} for i in range(8)]
    async with db.unit_of_work() as s:
        repo = TicketRepository(s)
        duplicates.expect_reports(s, [(lk["room_key"], lk["node_code"], lk["problem_key"]) for lk in looks])
        for look in looks:
            await repo.find_duplicate(**look)
        assert len(selects) == 1  # eight look-ups, one read
        await repo.find_duplicate(**{**looks[0], "problem_key": "门:坏"})  # not named: the query
        await repo.find_duplicate(**{**looks[0], "since": looks[0]["since"] - timedelta(days=1)})  # earlier: too
        assert len(selects) == 3
    async with db.unit_of_work() as s:  # one expected look-up is no batch: the query, as one message at a time
        duplicates.expect_reports(s, [(looks[0]["room_key"], looks[0]["node_code"], looks[0]["problem_key"])])
        await TicketRepository(s).find_duplicate(**looks[0])
        assert len(selects) == 4 and duplicates.CANDIDATES not in s.info
    event.remove(db.engine.sync_engine, "before_cursor_execute", _statement)


async def test_a_reporter_taken_off_a_ticket_no_longer_makes_it_the_latest_reported(db, clock):
    now = clock.now()
    fields = {"state": "new", "category": "repair", "urgency": "normal", "node_code": "N1", "node_path": "/JQS/N1/",
              "room_key": "一号楼群", "problem_key": "灯:坏"}
    look = {"room_key": "一号楼群", "node_code": "N1", "problem_key": "灯:坏", "building": None, "unit": None,
            "room_no": None, "since": now - timedelta(hours=12), "me_too": False, "echo_since": now}
    async with db.unit_of_work() as s:
        repo = TicketRepository(s)
        first = await repo.create(fields={**fields, "text": "灯坏了"}, reporter_id="a", reporter_name="甲",
                                  message_id=None, at=now - timedelta(hours=3))
        second = await repo.create(fields={**fields, "text": "灯又坏了"}, reporter_id="b", reporter_name="乙",
                                   message_id=None, at=now - timedelta(hours=2))
        await repo.add_reporter(first, reporter_id="c", reporter_name="丙", room_key=None, message_id=None,
                                at=now - timedelta(hours=1))
        first_id, second_id = first.id, second.id
    async with db.unit_of_work() as s:
        repo = TicketRepository(s)
        duplicates.expect_reports(s, [(look["room_key"], look["node_code"], look["problem_key"])] * 2)
        assert (await _both(repo, look))[1].id == first_id  # joined an hour ago: the latest reported
        row = await s.scalar(select(TicketReporterRow).where(TicketReporterRow.reporter_id == "c"))
        await repo.remove_reporter(await s.get(TicketRow, first_id), row)
        by_query, by_batch = await _both(repo, look)
        assert by_query is by_batch and by_batch.id == second_id


async def test_a_ticket_reopened_and_let_go_in_the_batch_is_joined_as_the_query_would(db, clock):
    import gc

    now = clock.now()
    look = {"room_key": "一号楼群", "node_code": "N1", "problem_key": "灯:坏", "building": None, "unit": None,
            "room_no": None, "since": now - timedelta(hours=12), "me_too": False, "echo_since": now}
    async with db.unit_of_work() as s:
        ticket = await TicketRepository(s).create(
            fields={"state": "closed", "category": "repair", "urgency": "normal", "node_code": "N1",
                    "node_path": "/JQS/N1/", "room_key": "一号楼群", "problem_key": "灯:坏", "text": "灯坏了"},
            reporter_id="a", reporter_name="甲", message_id=None, at=now - timedelta(hours=3))
        ticket_id = ticket.id
    del ticket
    async with db.unit_of_work() as s:
        repo = TicketRepository(s)
        duplicates.expect_reports(s, [(look["room_key"], look["node_code"], look["problem_key"])] * 2)
        assert await _both(repo, look) == (None, None)  # closed: nobody's duplicate; the batch has read it
        reopened = await s.get(TicketRow, ticket_id)
        reopened.state = "reopened"  # "还是不亮" after it closed: reopened by another handler, written, let go
        await s.flush()
        del reopened
        gc.collect()
        by_batch = await repo.find_duplicate(**look)  # before the query, which would read it afresh
        assert by_batch is not None and by_batch.id == ticket_id and by_batch.state == "reopened"
        assert (await _both(repo, look)) == (by_batch, by_batch)


async def test_a_repeat_from_someone_already_on_a_batch_s_candidate_writes_nothing(db, clock):
    now = clock.now()
    fields = {"state": "new", "category": "repair", "urgency": "normal", "node_code": "N1", "node_path": "/JQS/N1/",
              "room_key": "一号楼群", "problem_key": "灯:坏", "text": "灯坏了"}
    look = {"room_key": "一号楼群", "node_code": "N1", "problem_key": "灯:坏", "building": None, "unit": None,
            "room_no": None, "since": now - timedelta(hours=12), "me_too": False, "echo_since": now}
    async with db.unit_of_work() as s:
        repo = TicketRepository(s)
        old = await repo.create(fields=fields, reporter_id="a", reporter_name="甲", message_id=None,
                                at=now - timedelta(hours=3))
        await repo.add_reporter(old, reporter_id="b", reporter_name="乙", room_key=None, message_id=None,
                                at=now - timedelta(hours=2))
    writes: list[str] = []

    def written(_conn, _cursor, sql, *_args) -> None:  # type: ignore[no-untyped-def]
        if "INSERT INTO ticket_reporters" in sql:
            writes.append(sql)

    event.listen(db.engine.sync_engine, "before_cursor_execute", written)
    try:
        async with db.unit_of_work() as s:
            repo = TicketRepository(s)
            duplicates.expect_reports(s, [(look["room_key"], look["node_code"], look["problem_key"])] * 3)
            ticket = await repo.find_duplicate(**look)
            assert ticket is not None and ticket.id == old.id
            for person in ("a", "b", "a"):  # both were on it before the batch
                assert not await repo.add_reporter(ticket, reporter_id=person, reporter_name=person, room_key=None,
                                                   message_id=None, at=now)
            assert writes == []
            assert await repo.add_reporter(ticket, reporter_id="c", reporter_name="丙", room_key=None,
                                           message_id=None, at=now)
            assert not await repo.add_reporter(ticket, reporter_id="c", reporter_name="丙", room_key=None,
                                               message_id=None, at=now)
            assert len(writes) == 1  # the newcomer once; their repeat is known
            opened = await repo.create(fields={**fields, "room_key": "二号楼群"}, reporter_id="d", reporter_name="丁",
                                       message_id=None, at=now)
            writes.clear()
            assert not await repo.add_reporter(opened, reporter_id="d", reporter_name="丁", room_key=None,
                                               message_id=None, at=now)
            assert writes == []  # opened in the batch by the same person
            assert ticket.reporter_count == 3 and opened.reporter_count == 1
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", written)
    async with db.unit_of_work() as s:
        stored = await s.get(TicketRow, old.id)
        assert stored.reporter_count == 3
        assert {r.reporter_id for r in await TicketRepository(s).reporters(old.id)} == {"a", "b", "c"}


REPORTS = [("1-101 王芳", "3号楼楼道灯坏了"), ("1-202 李强", "3号楼楼道的灯也坏了"), ("1-301 赵敏", "电梯又坏了，停在5楼"),
           ("1-502 孙大爷", "电梯坏了 老人下不了楼"), ("1-601 周阿姨", "5号楼楼道灯坏了"), ("1-102 吴叔", "水管漏水了 地上一滩水"),
           ("1-203 郑姐", "楼道灯还是不亮"), ("1-302 钱哥", "2单元的水管也在漏水"), ("1-401 冯奶奶", "电梯还是坏的")]


async def _outcome(bot, sim, clock, batched: bool):  # type: ignore[no-untyped-def]
    """What the reports did: each message's handler and the ticket it opened or joined (by order of opening), and
    each ticket's text and reporters."""
    from tests.factories import make_message

    room = sim.room_by_topic("江桥花苑3号楼微网格")
    messages = [make_message(text, room=room.id, topic=room.topic, sender=who, at=clock.now())
                for who, text in REPORTS]
    since = clock.now()
    if batched:
        results = await bot.process_messages(messages)
    else:
        results = [r for m in messages for r in await bot.process_messages([m])]
    async with bot.db.unit_of_work() as s:
        tickets = list(await s.scalars(select(TicketRow).where(TicketRow.created_at >= since).order_by(TicketRow.id)))
        order = {t.id: i for i, t in enumerate(tickets)}
        joined = [order.get(r.ticket_id) for r in await s.scalars(
            select(TicketReporterRow).where(TicketReporterRow.at >= since).order_by(TicketReporterRow.id))]
    return [r.handler for r in results], joined, [(t.text, t.reporter_count) for t in tickets]


async def test_a_batch_of_reports_opens_and_joins_the_tickets_one_at_a_time_does(sim_bot, clock):
    bot, sim = sim_bot
    one_by_one = await _outcome(bot, sim, clock, batched=False)
    await clock.advance_to(clock.now() + bot.config.tickets.merge_window + timedelta(hours=1))  # nothing to join
    assert await _outcome(bot, sim, clock, batched=True) == one_by_one
    handlers, joined, tickets = one_by_one
    assert len(tickets) >= 3 and any(count > 1 for _, count in tickets)  # opened, and joined
