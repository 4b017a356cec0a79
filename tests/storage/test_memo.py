"""What a unit of work asks of every group message in a batch (storage.memo) is read once per group, yet never
stale within it: a poll it opens, an answer it records, a later message's own window are all seen; and a new unit
of work reads afresh."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event

from storage.memo import expect_groups
from storage.models import NoticeRow, OutboxRow, SatisfactionRow, TicketRow
from storage.notice_repository import NoticeRepository
from storage.poll_repository import PollRepository
from storage.satisfaction_repository import ANSWERED, ASKED, SatisfactionRepository
from storage.ticket_repository import TicketRepository


@contextmanager
def counting(db) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def statement(_conn, _cursor, sql, *_args) -> None:  # type: ignore[no-untyped-def]
        if sql.lstrip().upper().startswith("SELECT"):
            seen.append(sql)

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)


def _poll(room_key: str, now):  # type: ignore[no-untyped-def]
    return {"room_key": room_key, "room_id": "sim-" + room_key, "node_code": "JQS-01-03", "starter_key": "wang",
            "starter_name": "王网格员", "question": "楼道装感应灯吗", "options": ["同意", "不同意"], "quorum": None,
            "opened_at": now, "closes_at": now + timedelta(days=2)}


async def test_the_newest_poll_is_read_once_per_group_and_a_poll_opened_meanwhile_is_seen(db, clock):
    now = clock.now()
    async with db.unit_of_work() as s:
        repo = PollRepository(s)
        with counting(db) as selects:
            for _ in range(5):
                assert await repo.latest_in("3号楼") is None
            assert await repo.latest_in("5号楼") is None
        assert len([q for q in selects if "FROM polls" in q]) == 2  # one per group, not one per message
        opened = await repo.create(**_poll("3号楼", now))
        assert await repo.latest_in("3号楼") is opened  # what this unit of work wrote, it sees
        opened.state = "closed"
        assert (await repo.latest_in("3号楼")).state == "closed"
    async with db.unit_of_work() as s:
        assert (await PollRepository(s).latest_in("3号楼")).number == opened.number  # a new unit of work reads


async def _ticket(s, now) -> TicketRow:  # type: ignore[no-untyped-def]
    ticket = TicketRow(number=1001, state="closed", category="repair", urgency="normal", node_code="JQS-01-03",
                       text="楼道灯不亮", reporter_id="r1", reporter_name="李阿姨", created_at=now, updated_at=now)
    s.add(ticket)
    await s.flush()
    return ticket


async def test_waiting_questions_are_read_once_and_an_answer_or_a_later_window_is_seen(db, clock):
    now = clock.now()
    async with db.unit_of_work() as s:
        ticket = await _ticket(s, now)
        repo = SatisfactionRepository(s)
        asked = await repo.add(ticket, reporter_id="r1", reporter_name="李阿姨", state=ASKED, to_kind="room",
                               to_id="3号楼", at=now - timedelta(hours=3))
        other = await repo.add(ticket, reporter_id="r2", reporter_name="赵叔", state=ASKED, to_kind="room",
                               to_id="3号楼", at=now - timedelta(hours=1))
    async with db.unit_of_work() as s:
        repo = SatisfactionRepository(s)
        with counting(db) as selects:
            assert (await repo.waiting_for("r1", "room", "3号楼", now - timedelta(days=1))).id == asked.id
            assert (await repo.waiting_for("r2", "room", "3号楼", now - timedelta(days=1))).id == other.id
            assert await repo.waiting_for("r3", "room", "3号楼", now - timedelta(days=1)) is None
            # a later message's window has left the first question behind
            assert await repo.waiting_for("r1", "room", "3号楼", now - timedelta(hours=2)) is None
        assert len([q for q in selects if "FROM satisfaction" in q]) == 1
        row = await repo.waiting_for("r2", "room", "3号楼", now - timedelta(days=1))
        row.state = ANSWERED  # answered in this unit of work: no longer waiting
        assert await repo.waiting_for("r2", "room", "3号楼", now - timedelta(days=1)) is None
        # an earlier window than the one read is read afresh, not answered from what was kept
        assert (await repo.waiting_for("r1", "room", "3号楼", now - timedelta(days=2))).id == asked.id
    async with db.unit_of_work() as s:
        assert {r.state for r in await SatisfactionRepository(s).for_ticket(ticket.id)} == {ASKED, ANSWERED}
        assert isinstance(await s.get(SatisfactionRow, asked.id), SatisfactionRow)


async def test_the_batch_s_groups_are_read_together_and_a_poll_opened_meanwhile_is_seen(db, clock):
    now = clock.now()
    async with db.unit_of_work() as s:
        earlier = await PollRepository(s).create(**_poll("7号楼", now))
    async with db.unit_of_work() as s:
        repo = PollRepository(s)
        expect_groups(s, ["3号楼", "5号楼", "7号楼"])
        with counting(db) as selects:
            assert await repo.latest_in("3号楼") is None
            assert await repo.latest_in("5号楼") is None
            assert (await repo.latest_in("7号楼")).number == earlier.number
        assert len([q for q in selects if "FROM polls" in q]) == 1  # one statement for the batch's three groups
        opened = await repo.create(**_poll("5号楼", now))
        assert await repo.latest_in("5号楼") is opened
        with counting(db) as selects:
            assert await repo.latest_in("9号楼") is None  # a group the batch did not name is read too
        assert len([q for q in selects if "FROM polls" in q]) == 1


async def test_waiting_questions_of_the_batch_s_groups_are_read_together(db, clock):
    now = clock.now()
    async with db.unit_of_work() as s:
        ticket = await _ticket(s, now)
        repo = SatisfactionRepository(s)
        here = await repo.add(ticket, reporter_id="r1", reporter_name="李阿姨", state=ASKED, to_kind="room",
                              to_id="3号楼", at=now - timedelta(hours=3))
        there = await repo.add(ticket, reporter_id="r2", reporter_name="赵叔", state=ASKED, to_kind="room",
                               to_id="5号楼", at=now - timedelta(hours=1))
        private = await repo.add(ticket, reporter_id="r3", reporter_name="孙姐", state=ASKED, to_kind="contact",
                                 to_id="r3", at=now - timedelta(hours=1))
    async with db.unit_of_work() as s:
        repo = SatisfactionRepository(s)
        expect_groups(s, ["3号楼", "5号楼"])
        with counting(db) as selects:
            assert (await repo.waiting_for("r1", "room", "3号楼", now - timedelta(days=1))).id == here.id
            assert (await repo.waiting_for("r2", "room", "5号楼", now - timedelta(days=1))).id == there.id
            assert (await repo.waiting_for("r3", "contact", "r3", now - timedelta(days=1))).id == private.id
        assert len([q for q in selects if "FROM satisfaction" in q]) == 2  # the groups together, the chat alone
        with counting(db) as selects:  # an earlier window: only that group afresh
            assert (await repo.waiting_for("r2", "room", "5号楼", now - timedelta(days=2))).id == there.id
            assert (await repo.waiting_for("r1", "room", "3号楼", now - timedelta(hours=2))) is None
        assert len([q for q in selects if "FROM satisfaction" in q]) == 1


async def test_the_latest_notice_delivery_of_the_batch_s_groups_is_read_together(db, clock):
    now = clock.now()
    async with db.unit_of_work() as s:
        first, second = (NoticeRow(number=n, sender_key="wang", node_code="JQS-01", text=f"停水通知{n}", created_at=now)
                         for n in (1, 2))
        s.add_all([first, second])
        await s.flush()
        s.add_all([OutboxRow(to_kind="room", to_id=room, text=notice.text, kind="notice", ref=f"notice:{notice.id}",
                             status="sent", created_at=at, sent_at=at)
                   for room, notice, at in [("3号楼", first, now - timedelta(hours=5)),
                                            ("3号楼", second, now - timedelta(hours=1)),
                                            ("5号楼", first, now - timedelta(hours=4))]])
    async with db.unit_of_work() as s:
        repo = NoticeRepository(s)
        expect_groups(s, ["3号楼", "5号楼", "7号楼"])
        with counting(db) as selects:
            assert (await repo.delivered_to("3号楼", now - timedelta(days=1))).number == 2  # its latest
            assert (await repo.delivered_to("5号楼", now - timedelta(days=1))).number == 1
            assert await repo.delivered_to("7号楼", now - timedelta(days=1)) is None
            assert await repo.delivered_to("5号楼", now - timedelta(hours=2)) is None  # older than this window
        assert len([q for q in selects if "FROM outbox" in q]) == 1  # the three groups in one statement


async def _reported(s, room_key: str, reporter: str, now) -> TicketRow:  # type: ignore[no-untyped-def]
    fields = {"state": "new", "category": "repair", "urgency": "normal", "node_code": "JQS-01-03",
              "node_path": "/JQS/JQS-01/JQS-01-03/", "room_key": room_key, "text": "楼道灯不亮"}
    return await TicketRepository(s).create(fields=fields, reporter_id=reporter, reporter_name=reporter,
                                            message_id=None, at=now)


async def test_a_group_without_a_resolved_ticket_asks_nothing_more_and_one_resolved_meanwhile_is_seen(db, clock):
    now = clock.now()
    async with db.unit_of_work() as s:
        done = await _reported(s, "3号楼", "r1", now)
        done.state, done.resolved_at = "resolved", now
        await _reported(s, "5号楼", "r2", now)  # open, not resolved
    async with db.unit_of_work() as s:
        repo = TicketRepository(s)
        expect_groups(s, ["3号楼", "5号楼", "7号楼"])
        with counting(db) as selects:
            assert (await repo.awaiting_confirmation("r1", "3号楼")).id == done.id
            for reporter, room in [("r2", "5号楼"), ("r1", "5号楼"), ("r3", "7号楼"), ("r2", "5号楼")]:
                assert await repo.awaiting_confirmation(reporter, room) is None
        # the batch's groups in one statement, then only the group holding a resolved ticket asks whose it is
        assert len([q for q in selects if "FROM tickets" in q]) == 2
        open_one = await repo.awaiting_confirmation("r1", None)  # a private chat: asked as before
        assert open_one is not None and open_one.id == done.id
        mine = (await repo.latest_for_reporter("r2"))[0]
        mine.state, mine.resolved_at = "resolved", now  # resolved in this unit of work: its reporter may confirm
        assert (await repo.awaiting_confirmation("r2", "5号楼")).id == mine.id
    async with db.unit_of_work() as s:
        assert (await TicketRepository(s).awaiting_confirmation("r2", "5号楼")).id == mine.id  # read afresh


async def test_a_ticket_the_unit_of_work_holds_is_found_by_its_number_without_asking(db, clock):
    now = clock.now()
    async with db.unit_of_work() as s:
        older = await _reported(s, "3号楼", "r1", now)
    async with db.unit_of_work() as s:
        repo = TicketRepository(s)
        opened = await _reported(s, "5号楼", "r2", now)
        with counting(db) as selects:
            assert await repo.find_by_number(opened.number) is opened
        assert [q for q in selects if "FROM tickets" in q] == []
        with counting(db) as selects:
            found = await repo.find_by_number(older.number)  # not held: read
            assert found is not None and found.id == older.id
            assert await repo.find_by_number(older.number) is found  # held from then on
            assert await repo.find_by_number(9999) is None
        assert len([q for q in selects if "FROM tickets" in q]) == 2
