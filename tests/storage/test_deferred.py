"""Rows a unit of work defers (storage.deferred) are written before it commits, or not at all: an error there
rolls the whole unit of work back, and a savepoint that fails inside it does not take them along."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storage import deferred
from storage.models import CounterRow, MessageRow, TicketEventRow
from storage.message_repository import MessageRepository
from tests.factories import make_message

_COUNTER = CounterRow.__table__.insert()


async def _counters(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    async with db.unit_of_work() as s:
        return {name: value for name, value in (await s.execute(select(CounterRow.name, CounterRow.value))).all()}


async def test_deferred_rows_are_written_at_the_commit_in_order(db):
    async with db.unit_of_work() as s:
        for i in range(3):
            deferred.defer(s, _COUNTER, {"name": f"c{i}", "value": i})
        assert await s.scalar(select(CounterRow.value).where(CounterRow.name == "c0")) is None  # not yet
    assert await _counters(db) == {"c0": 0, "c1": 1, "c2": 2}


async def test_a_deferred_row_the_database_refuses_rolls_the_whole_unit_of_work_back(db, clock):
    with pytest.raises(IntegrityError):
        async with db.unit_of_work() as s:
            await MessageRepository(s).add_incoming(make_message("写了一半"), room_key=None, node_code=None)
            deferred.defer(s, _COUNTER, {"name": "kept?", "value": 1})
            deferred.defer(s, TicketEventRow.__table__.insert(), {  # no such ticket: the foreign key refuses it
                "ticket_id": 987654, "at": clock.now(), "actor": "张阿姨", "action": "accept", "from_state": "new",
                "to_state": "accepted", "note": None})
    async with db.unit_of_work() as s:
        assert list(await s.scalars(select(MessageRow.id))) == []
    assert await _counters(db) == {}


async def test_a_failed_savepoint_does_not_take_the_deferred_rows_with_it(db):
    async with db.unit_of_work() as s:
        s.add(CounterRow(name="taken", value=1))
        await s.flush()
    async with db.unit_of_work() as s:
        deferred.defer(s, _COUNTER, {"name": "kept", "value": 7})
        with pytest.raises(IntegrityError):  # as storage.care_repository.record_step meets a row already there
            async with s.begin_nested():
                s.add(CounterRow(name="taken", value=2))
    assert await _counters(db) == {"taken": 1, "kept": 7}


def _held(now, message_id: int, text: str) -> dict:  # type: ignore[type-arg]
    return {"created_at": now, "message_id": message_id, "room_key": "3号楼", "room_id": "sim-3号楼",
            "node_code": "JQS-01-03", "node_path": "/JQS/JQS-01/JQS-01-03/", "sender_id": "r1", "sender_name": "李阿姨",
            "text": text, "parse": {"kind": "report"}, "category": "repair", "leader_key": "wang"}


async def test_items_held_in_a_unit_of_work_are_written_together_before_anything_reads_them(db, clock):
    from sqlalchemy import event

    from storage.review_repository import ReviewRepository

    inserts: list[str] = []

    def statement(_conn, _cursor, sql, *_args) -> None:  # type: ignore[no-untyped-def]
        if sql.lstrip().upper().startswith("INSERT INTO REVIEW_ITEMS"):
            inserts.append(sql)

    now = clock.now()
    event.listen(db.engine.sync_engine, "before_cursor_execute", statement)
    try:
        async with db.unit_of_work() as s:
            repo = ReviewRepository(s)
            first = await repo.add(**_held(now, 11, "楼道里好像有烟味"))
            second = await repo.add(**_held(now, 12, "电梯里有点异响"))
            assert second.id > first.id and await repo.get(first.id) is first
            deferred_here = not db.is_sqlite
            assert len(inserts) == (0 if deferred_here else 2)  # PostgreSQL: nothing written yet
            found = await repo.for_message(12)
            assert found is not None and found.id == second.id  # written before the read
            assert [i.id for i in await repo.pending_in("/JQS/JQS-01/")] == [first.id, second.id]
            assert len(inserts) == (1 if deferred_here else 2)  # both in one statement
            third = await repo.add(**_held(now, 13, "门口地面有点滑"))
        assert len(inserts) == (2 if deferred_here else 3)  # the last one at the commit
        async with db.unit_of_work() as s:
            repo = ReviewRepository(s)
            assert [i.id for i in await repo.unannounced()] == [first.id, second.id, third.id]
            assert (await repo.get(third.id)).text == "门口地面有点滑"
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", statement)
