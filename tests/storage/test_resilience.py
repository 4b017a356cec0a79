"""A locked or unreachable database is waited for, not fatal; two processes share one SQLite file."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.errors import DatabaseUnavailable
from storage.models import MessageRow
from storage.message_repository import MessageRepository
from storage.session import Database
from tests.factories import make_message

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sqlite_db_path(tmp_path, sqlite_template):
    import shutil

    path = tmp_path / "shared.db"
    shutil.copy(sqlite_template, path)
    return path


async def test_locked_database_is_retried_until_free(sqlite_db_path, caplog):
    db = Database(f"sqlite+aiosqlite:///{sqlite_db_path}")
    locker = sqlite3.connect(sqlite_db_path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")

    # a short busy timeout so the test does not wait 30 s per attempt
    from sqlalchemy import event

    @event.listens_for(db.engine.sync_engine, "connect")
    def short(dbapi_connection, _):
        dbapi_connection.cursor().execute("PRAGMA busy_timeout=50")

    async def release_later():
        await asyncio.sleep(0.5)
        locker.execute("COMMIT")
        locker.close()

    async def store(session):
        await MessageRepository(session).add_incoming(make_message("锁住时发的"), room_key=None, node_code=None)

    caplog.set_level(logging.WARNING)
    releaser = asyncio.create_task(release_later())
    await db.run(store, what="storing a test message", backoff=0.05)
    await releaser
    async with db.unit_of_work() as s:
        assert await s.scalar(select(func.count()).select_from(MessageRow)) == 1
    assert any("database unavailable during storing a test message" in r.getMessage() for r in caplog.records)
    await db.dispose()


async def test_unreachable_postgres_gives_clear_error_after_limited_attempts():
    db = Database("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    with pytest.raises(DatabaseUnavailable, match="failed after 2 attempts"):
        await db.run(lambda s: s.execute(select(1)), what="probe", attempts=2, backoff=0.01)
    await db.dispose()


def test_two_processes_write_one_sqlite_file_without_corruption(sqlite_db_path):
    script = textwrap.dedent(f"""
        import asyncio, sys
        sys.path.insert(0, {str(ROOT)!r})
        from storage.session import Database
        from storage.message_repository import MessageRepository
        from tests.factories import make_message

        async def main(tag):
            db = Database("sqlite+aiosqlite:///{sqlite_db_path}")
            for i in range(150):
                async def work(s, i=i):
                    await MessageRepository(s).add_incoming(make_message(f"{{tag}}-{{i}}"), room_key=tag, node_code=None)
                await db.run(work, what="write")
            await db.dispose()
        asyncio.run(main(sys.argv[1]))
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, tag]) for tag in ("a", "b")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    conn = sqlite3.connect(sqlite_db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    counts = dict(conn.execute("SELECT room_key, count(*) FROM messages GROUP BY room_key").fetchall())
    assert counts == {"a": 150, "b": 150}
    conn.close()


async def _kill_backend(spec, pid: int) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    admin = Database(spec.url)
    async with admin.engine.begin() as conn:
        assert (await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})).scalar()
    await admin.dispose()


async def test_a_connection_the_server_ended_is_retried_at_once_on_a_fresh_one(pg_spec):
    """The pool does not ping at every checkout: a pooled connection the server ended (a restart,
    pg_terminate_backend) fails its first statement, and the unit of work is tried again at once."""
    from sqlalchemy import text

    db = pg_spec.database()
    try:
        first = await db.run(lambda s: s.scalar(text("SELECT pg_backend_pid()")))
        await _kill_backend(pg_spec, first)
        tries: list[int] = []
        slept: list[float] = []

        async def work(session):  # type: ignore[no-untyped-def]
            tries.append(1)
            await MessageRepository(session).add_incoming(make_message("断线后"), room_key=None, node_code=None)
            return await session.scalar(text("SELECT pg_backend_pid()"))

        async def sleep(seconds: float) -> None:
            slept.append(seconds)

        second = await db.run(work, what="storing after a restart", sleep=sleep)
        assert second != first and len(tries) == 2 and slept == []  # the dead one failed, a fresh one answered
        async with db.unit_of_work() as s:
            assert await s.scalar(select(func.count()).select_from(MessageRow)) == 1  # stored once
        await _kill_backend(pg_spec, second)
        await db.ping()  # the readiness probe, too, asks again on a fresh connection
    finally:
        await db.dispose()


async def test_the_inbox_statement_commits_as_it_runs_and_alone_on_postgresql(db_spec):
    """`run_statement`: on PostgreSQL each statement is its own transaction (no BEGIN, no COMMIT), and what it
    wrote is there for every other connection the moment it returns."""
    from sqlalchemy import text

    from storage.message_repository import insert_arrivals

    db, other = db_spec.database(), db_spec.database()
    try:
        several = db_spec.backend == "postgresql"
        arrivals = [(make_message("楼道灯坏了"), "3号楼", None)] + ([(make_message("收到"), "5号楼", None)] * several)
        rows = await db.run_statement(lambda conn: insert_arrivals(conn, arrivals), what="storing")
        assert [r.room_key for r in rows] == ["3号楼", "5号楼"][:len(arrivals)] and all(r.handler == "inbox" for r in rows)
        async with other.unit_of_work() as s:
            stored = (await s.execute(select(MessageRow.id, MessageRow.text).order_by(MessageRow.id))).all()
        assert [tuple(r) for r in stored] == [(r.id, r.text) for r in rows]
        if several:
            async def two_ids(conn):  # type: ignore[no-untyped-def]
                return [await conn.scalar(text("SELECT txid_current()")) for _ in range(2)]

            first, second = await db.run_statement(two_ids, what="probe")
            assert first != second  # each statement its own transaction
            first, second = await db.run(lambda s: two_ids(s), what="probe")
            assert first == second  # (a unit of work's share one)
    finally:
        await db.dispose()
        await other.dispose()


async def test_a_statement_on_a_connection_the_server_ended_is_retried_at_once(pg_spec):
    from sqlalchemy import text

    db = pg_spec.database()
    try:
        first = await db.run_statement(lambda conn: conn.scalar(text("SELECT pg_backend_pid()")))
        await _kill_backend(pg_spec, first)
        slept: list[float] = []

        async def sleep(seconds: float) -> None:
            slept.append(seconds)

        second = await db.run_statement(lambda conn: conn.scalar(text("SELECT pg_backend_pid()")), sleep=sleep)
        assert second != first and slept == []
    finally:
        await db.dispose()
    unreachable = Database("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    with pytest.raises(DatabaseUnavailable, match="failed after 2 attempts"):
        await unreachable.run_statement(lambda conn: conn.execute(select(1)), what="probe", attempts=2, backoff=0.01)
    await unreachable.dispose()
