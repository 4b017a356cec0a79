"""The hottest PostgreSQL statements, sent by the driver itself: compiled once, their values processed as
SQLAlchemy would process them, then run by asyncpg on the unit of work's own connection and transaction.

SQLAlchemy's path from `execute` to the wire (its execution context, parameter processing, result set-up,
the greenlet hand-over) cost as much CPU as asyncpg's own work on the statements nearly every report runs;
this path costs about half. Only for statements whose results are plain values (ids, numbers): no result
processing happens here. Everything else stays as it was for a caller:

- the statement runs in the connection's transaction (started first if nothing has run on it yet, as the
  dialect starts it), so a rollback takes it back;
- the engine's `before_cursor_execute` listeners hear it (statement counts, logging);
- an error comes back as SQLAlchemy's own (`IntegrityError`, `DBAPIError`…); a connection that died is
  invalidated and its error says so, so `Database.run` retries at once on a fresh one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the bound names, in the order of $1, $2…
    processors: tuple[Any, ...]  # each name's bind processor, or None


_COMPILED: dict[tuple[int, str, tuple[str, ...]], tuple[Any, _Compiled]] = {}


def _compiled(statement: Any, dialect: Any, keys: tuple[str, ...]) -> _Compiled:
    """`statement` compiled for the values named `keys` (an INSERT's columns are those given), once."""
    key = (id(statement), dialect.name, keys)
    held = _COMPILED.get(key)
    if held is not None and held[0] is statement:
        return held[1]
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup or ())
    processors = compiled._bind_processors  # what SQLAlchemy applies to each value before the driver sees it
    made = _Compiled(compiled.string, names, tuple(processors.get(name) for name in names))
    _COMPILED[key] = (statement, made)  # the statement kept alive: its id is not reused while it is cached
    return made


def _arguments(compiled: _Compiled, params: Mapping[str, Any]) -> list[Any]:
    return [value if process is None or value is None else process(value)
            for value, process in zip((params[name] for name in compiled.names), compiled.processors)]


async def fetch(conn: AsyncConnection, statement: Any, params: Mapping[str, Any]) -> list[Any]:
    """Run one statement with `params` and return its rows (asyncpg records: index or name them)."""
    compiled = _compiled(statement, conn.dialect, tuple(params))
    args = _arguments(compiled, params)

    async def run(adapted: Any) -> list[Any]:
        prepared, _ = await adapted._prepare(compiled.sql, adapted._invalidate_schema_cache_asof)
        return list(await prepared.fetch(*args))

    return await _on_driver(conn, compiled, args, False, run)


async def execute_many(conn: AsyncConnection, statement: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run one statement once per row of values (every row naming the same values), in one pipelined
    executemany (no results). On another driver (SQLite's), SQLAlchemy's own executemany."""
    if not rows:
        return
    if conn.dialect.driver != "asyncpg":
        await conn.execute(statement, list(rows))
        return
    compiled = _compiled(statement, conn.dialect, tuple(rows[0]))
    args = [_arguments(compiled, row) for row in rows]

    async def run(adapted: Any) -> None:
        await adapted._connection.executemany(compiled.sql, args)

    await _on_driver(conn, compiled, args, True, run)


async def _on_driver(conn: AsyncConnection, compiled: _Compiled, args: Any, many: bool,
                     run: Callable[[Any], Awaitable[T]]) -> T:
    """`run` on the adapted connection, as the dialect's cursor runs a statement: one at a time on the connection,
    in its transaction (started first if need be), errors translated."""
    adapted = await _adapted(conn, compiled, args, many)
    async with adapted._execute_mutex:
        try:
            if not adapted._started:
                await adapted._start_transaction()
            return await run(adapted)
        except Exception as error:
            raise await _translated(conn, adapted, compiled, args, error) from error


async def _adapted(conn: AsyncConnection, compiled: _Compiled, args: Any, many: bool) -> Any:
    """The dialect's adapted asyncpg connection under `conn`, after the engine's listeners heard the statement."""
    sync = conn.sync_connection
    if sync is None:
        raise sa_exc.ResourceClosedError("the connection is closed")
    if sync._has_events or sync.engine._has_events:
        sync.dispatch.before_cursor_execute(sync, None, compiled.sql, args, None, many)
    return (await conn.get_raw_connection()).dbapi_connection


async def _translated(conn: AsyncConnection, adapted: Any, compiled: _Compiled, args: Any,
                      error: Exception) -> Exception:
    """`error` as SQLAlchemy would have raised it; a dead connection invalidated first."""
    try:
        adapted._handle_exception(error)  # raises the dialect's DBAPI-level error (asyncpg's, translated)
    except Exception as dbapi_error:
        error = dbapi_error
    dialect = conn.dialect
    if not isinstance(error, dialect.loaded_dbapi.Error):
        return error  # not the driver's: as it is
    invalidated = bool(dialect.is_disconnect(error, adapted, None))
    if invalidated:
        failed = error

        def drop(sync: Any) -> None:  # as SQLAlchemy does on a disconnect: this connection and every older one
            if sync._dbapi_connection is not None and not sync.invalidated:
                sync.engine.pool._invalidate(sync._dbapi_connection, failed)
                sync.invalidate(failed)

        await conn.run_sync(drop)
    return sa_exc.DBAPIError.instance(compiled.sql, args, error, dialect.loaded_dbapi.Error,
                                      connection_invalidated=invalidated, dialect=dialect)
