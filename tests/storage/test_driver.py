"""storage.driver: a statement asyncpg runs itself behaves, for its caller, as SQLAlchemy's execute would
(PostgreSQL only: SQLite's statements never take this path)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func, insert, select, text

from storage import driver
from storage.errors import is_conflict
from storage.models import CounterRow, MessageRow

_INSERT_MESSAGE = insert(MessageRow).returning(MessageRow.id)
_INSERT_COUNTER = insert(CounterRow).returning(CounterRow.value)


def _message(text_: str) -> dict[str, object]:
    shanghai = timezone(timedelta(hours=8))
    return {"direction": "in", "conversation_kind": "room", "conversation_id": "r1", "room_key": "3号楼",
            "node_code": "JQS-01", "sender_id": "u1", "sender_name": "王芳", "text": text_, "raw": None,
            "msg_type": "text", "transport_message_id": "m1", "mentions": ["bot", "u2"],
            "at": datetime(2026, 12, 2, 8, 30, tzinfo=shanghai), "kind": "report", "category": "water",
            "urgency": "normal", "parse": {"kind": "report", "parts": [1, "二"]}, "handler": "inbox",
            "ticket_id": None, "attachment": None, "error": None, "account": None}


async def test_values_are_written_as_sqlalchemy_writes_them(pg_spec):
    """The same row through both paths reads back the same: JSON, a time zone made UTC, NULLs."""
    db = pg_spec.database()
    try:
        async with db.unit_of_work() as s:
            conn = await s.connection()
            ours = (await driver.fetch(conn, _INSERT_MESSAGE, _message("水管漏水")))[0][0]
            theirs = (await conn.execute(_INSERT_MESSAGE, _message("水管漏水"))).scalar_one()
        async with db.unit_of_work() as s:
            rows = {r.id: r for r in await s.scalars(select(MessageRow))}
        columns = [c.key for c in MessageRow.__table__.columns if c.key != "id"]
        assert [getattr(rows[ours], c) for c in columns] == [getattr(rows[theirs], c) for c in columns]
        assert rows[ours].parse == {"kind": "report", "parts": [1, "二"]} and rows[ours].at.utcoffset() == timedelta(0)
    finally:
        await db.dispose()


async def test_the_statement_is_part_of_the_unit_of_work_and_rolls_back_with_it(pg_spec):
    """First on its connection, it still runs inside the transaction (started for it): a failed unit of work
    takes it back, and within the unit of work everything else sees it."""
    db = pg_spec.database()
    try:
        with pytest.raises(RuntimeError):
            async with db.unit_of_work() as s:
                conn = await s.connection()
                await driver.fetch(conn, _INSERT_COUNTER, {"name": "rolled", "value": 7})
                assert await conn.scalar(select(CounterRow.value).where(CounterRow.name == "rolled")) == 7
                raise RuntimeError("the handler failed")
        async with db.unit_of_work() as s:
            conn = await s.connection()
            assert await conn.scalar(select(func.count()).select_from(CounterRow)) == 0
            assert (await driver.fetch(conn, _INSERT_COUNTER, {"name": "kept", "value": 8}))[0]["value"] == 8
        async with db.unit_of_work() as s:
            assert await s.scalar(select(CounterRow.value).where(CounterRow.name == "kept")) == 8
    finally:
        await db.dispose()


async def test_the_engines_listeners_hear_it(pg_spec):
    db = pg_spec.database()
    heard: list[tuple[str, bool]] = []

    @event.listens_for(db.engine.sync_engine, "before_cursor_execute")
    def _statement(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        heard.append((statement.split()[0], executemany))

    try:
        async with db.unit_of_work() as s:
            conn = await s.connection()
            await driver.fetch(conn, _INSERT_COUNTER, {"name": "a", "value": 1})
            await driver.execute_many(conn, insert(CounterRow), [{"name": "b", "value": 2}, {"name": "c", "value": 3}])
        assert heard == [("INSERT", False), ("INSERT", True)]
        async with db.unit_of_work() as s:
            assert await s.scalar(select(func.sum(CounterRow.value))) == 6
    finally:
        await db.dispose()


async def test_a_refused_statement_raises_sqlalchemys_error(pg_spec):
    db = pg_spec.database()
    try:
        with pytest.raises(Exception) as refused:
            async with db.unit_of_work() as s:
                conn = await s.connection()
                await driver.fetch(conn, _INSERT_COUNTER, {"name": "twice", "value": 1})
                await driver.fetch(conn, _INSERT_COUNTER, {"name": "twice", "value": 2})
        assert is_conflict(refused.value)  # an IntegrityError, as SQLAlchemy raises it
        with pytest.raises(Exception) as refused:
            async with db.unit_of_work() as s:
                await driver.execute_many(await s.connection(), insert(CounterRow),
                                          [{"name": "x", "value": 1}, {"name": "x", "value": 2}])
        assert is_conflict(refused.value)
        async with db.unit_of_work() as s:
            assert await s.scalar(select(func.count()).select_from(CounterRow)) == 0
    finally:
        await db.dispose()


async def test_on_a_connection_the_server_ended_it_is_retried_at_once(pg_spec):
    """The dead connection is invalidated and its error says so: `Database.run` tries again on a fresh one at
    once, and what was written is written once."""
    db = pg_spec.database()
    admin = pg_spec.database()
    try:
        first = await db.run(lambda s: s.scalar(text("SELECT pg_backend_pid()")))
        async with admin.engine.begin() as conn:
            assert (await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})).scalar()
        tries: list[int] = []
        slept: list[float] = []

        async def work(session):  # type: ignore[no-untyped-def]
            tries.append(1)
            conn = await session.connection()
            await driver.fetch(conn, _INSERT_COUNTER, {"name": "after", "value": 1})
            return await conn.scalar(text("SELECT pg_backend_pid()"))

        async def sleep(seconds: float) -> None:
            slept.append(seconds)

        # (bounded: on a connection left as it is, the retry would hang)
        second = await asyncio.wait_for(db.run(work, what="after a restart", sleep=sleep), 30)
        assert second != first and len(tries) == 2 and slept == []
        async with db.unit_of_work() as s:
            assert await s.scalar(select(func.count()).select_from(CounterRow)) == 1
    finally:
        await db.dispose()
        await admin.dispose()
