"""Small INSERTs a unit of work collects and writes together, in one executemany per statement.

A ticket's timeline steps (and its search terms on SQLite) are written by nobody but their repository and read
back by few: they can wait until the unit of work ends, so that a batch of messages writes them in one
statement instead of one per step. They are written, in the order they were deferred, when a reader needs them
(`flush` before reading those tables) and, at the latest, just before the unit of work commits
(`Database` calls `flush_before_commit`); an error there rolls the whole unit of work back, like any other.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as SyncSession

KEY = "deferred_inserts"  # session.info: statement → the rows waiting for it, in order


def defer(session: AsyncSession | SyncSession, statement: Any, values: dict[str, Any] | tuple[Any, ...]) -> None:
    """Keep one row for `statement` (an INSERT), to be written with the others of this unit of work: a Core
    statement with a dict of values, or the driver's own SQL (a str) with a tuple (no per-row parameter
    processing, for many small rows of plain values)."""
    session.info.setdefault(KEY, {}).setdefault(statement, []).append(values)


def _write(conn: Any, statement: Any, rows: list[Any]) -> Any:
    return conn.exec_driver_sql(statement, rows) if isinstance(statement, str) else conn.execute(statement, rows)


async def flush(session: AsyncSession) -> None:
    """Write every deferred row now (before reading a table they go to)."""
    waiting: dict[Any, list[dict[str, Any]]] | None = session.info.pop(KEY, None)
    if not waiting:
        return
    conn = await session.connection()
    for statement, rows in waiting.items():
        await _write(conn, statement, rows)


def flush_before_commit(session: SyncSession) -> None:
    """The same, from the session's before_commit event (synchronous: inside SQLAlchemy's greenlet)."""
    if session.in_nested_transaction():  # a savepoint being released: the rows belong to the outer transaction
        return
    waiting: dict[Any, list[dict[str, Any]]] | None = session.info.pop(KEY, None)
    if not waiting:
        return
    conn = session.connection()
    for statement, rows in waiting.items():
        _write(conn, statement, rows)
