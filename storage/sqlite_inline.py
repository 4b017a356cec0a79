"""SQLite on the event loop's own thread, for SQLAlchemy's aiosqlite dialect.

aiosqlite runs every statement on a helper thread and hands the result back to the loop. On a small
machine that hand-off costs about half a millisecond per statement (measured here: 0.49 ms for
`SELECT 1`), while the statements themselves take microseconds — so a message needing a dozen
statements was bound to ~85 messages a second. This shim gives the dialect the same awaitable API,
but runs each statement inline: the coroutines finish without ever suspending.

The price is that a statement waiting on a lock held by *another process* blocks the loop, so the
busy timeout is kept short (`LOCK_WAIT`) and Database.run retries with an asynchronous back-off.
Within one process, Database serialises units of work on SQLite with an asyncio lock, so tasks of
the same bot never wait on each other inside SQLite.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

LOCK_WAIT = 0.25  # seconds SQLite may block the loop waiting for another process's lock


class InlineCursor:
    """An aiosqlite-like cursor whose coroutines complete at once."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    async def execute(self, sql: str, parameters: Any = ()) -> "InlineCursor":
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> "InlineCursor":
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size) if size is not None else self._cursor.fetchmany()

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class InlineConnection:
    """An aiosqlite-like connection over a plain sqlite3 connection, in autocommit (we BEGIN ourselves)."""

    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, timeout=LOCK_WAIT, isolation_level=None, check_same_thread=False)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        return InlineCursor(self._conn.execute(sql, parameters))

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        self._conn.close()


def creator(path: str) -> Callable[[], Any]:
    """An `async_creator` for create_async_engine that opens `path` inline."""

    async def connect() -> InlineConnection:
        return InlineConnection(path)

    return connect
