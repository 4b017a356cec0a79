"""The database: engine, sessions (one unit of work per message), migrations and retries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.exc import InterfaceError as SAInterfaceError
from sqlalchemy.ext.asyncio import (AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker,
                                    create_async_engine)
from sqlalchemy.orm import Session as SyncSession

from storage import deferred, sqlite_inline
from storage.errors import DatabaseUnavailable

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")
Session = AsyncSession  # what a unit of work hands to repositories; code above storage/ names it by this

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_PG_MIGRATION_LOCK = 726_001  # advisory lock key: one process migrates at a time
# PostgreSQL connections are replaced after this long, so none lives past a server's or a firewall's idle limit
POOL_RECYCLE = 300.0


class _UnitOfWorkSession(SyncSession):
    """Our sessions: what repositories deferred (storage.deferred) is written just before each commit."""


event.listen(_UnitOfWorkSession, "before_commit", deferred.flush_before_commit)


class Database:
    """An async engine and its session factory; SQLite gets WAL and immediate write locks."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 5, schema: str | None = None) -> None:
        self.url = url
        self.schema = schema
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            path = _ensure_sqlite_dir(url)
            if path is not None:  # a file: run statements inline (see storage/sqlite_inline.py)
                kwargs["async_creator"] = sqlite_inline.creator(path)
            else:
                kwargs["connect_args"] = {"timeout": 30}
        else:
            # No ping at every checkout (a round trip per unit of work): a connection that died since its last
            # use fails its first statement, the pool drops it and every older one, and `run` tries again at once
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_recycle=POOL_RECYCLE)
            if schema:  # a PostgreSQL schema of its own (tests, several deployments on one server)
                kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        # the same pool, its connections committing as they go (run_statement; never connected on SQLite)
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, sync_session_class=_UnitOfWorkSession)
        # SQLite has one writer: units of work of this process take turns instead of waiting in SQLite
        self._turn: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error."""
        if self._turn is None:
            async with self.sessions() as session:
                async with session.begin():
                    yield session
            return
        async with self._turn:
            async with self.sessions() as session:
                async with session.begin():
                    yield session

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]], *, what: str = "database work",
                  attempts: int | None = None, backoff: float = 0.5, max_backoff: float = 30.0,
                  sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> T:
        """Run `work` in one unit of work, retrying while the database is down or locked.

        With attempts=None it retries until it succeeds: the caller would rather wait than lose data. A
        connection found dead (the server restarted, or ended it) is retried at once, the first time: the pool
        has dropped it, and a fresh one usually answers.
        """
        async def once() -> T:
            async with self.unit_of_work() as session:
                return await work(session)

        return await self._retrying(once, what, attempts, backoff, max_backoff, sleep)

    async def run_statement(self, work: Callable[[AsyncConnection], Awaitable[T]], *, what: str = "database work",
                            attempts: int | None = None, backoff: float = 0.5, max_backoff: float = 30.0,
                            sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> T:
        """Run `work` — ONE statement, its own transaction (a multi-row INSERT is written whole or not at all) — on
        a connection that commits as it goes, retried as `run` retries. On PostgreSQL that is two round trips
        (BEGIN, COMMIT) and a session fewer than `run`, on the path every message takes first; on SQLite (whose
        statements run in this process: no round trip to save) it is a unit of work, writers taking turns."""
        async def once() -> T:
            if self.is_sqlite:
                async with self.unit_of_work() as session:
                    return await work(await session.connection())
            async with self._autocommit.connect() as conn:
                return await work(conn)

        return await self._retrying(once, what, attempts, backoff, max_backoff, sleep)

    async def _retrying(self, once: Callable[[], Awaitable[T]], what: str, attempts: int | None, backoff: float,
                        max_backoff: float, sleep: Callable[[float], Awaitable[None]]) -> T:
        delay = backoff
        attempt = 0
        while True:
            attempt += 1
            try:
                return await once()
            except (OperationalError, SAInterfaceError, DBAPIError, OSError, ConnectionError) as exc:
                if isinstance(exc, DBAPIError) and not _is_transient(exc):
                    raise
                if attempts is not None and attempt >= attempts:
                    raise DatabaseUnavailable(f"{what} failed after {attempt} attempts: {_short(exc)}") from exc
                if attempt == 1 and isinstance(exc, DBAPIError) and exc.connection_invalidated:
                    _LOGGER.info("a database connection had died during %s (%s); trying again", what, _short(exc))
                    continue
                _LOGGER.warning("database unavailable during %s (attempt %d): %s; retrying in %.1fs",
                                what, attempt, _short(exc), delay)
                await sleep(delay)
                delay = min(max_backoff, delay * 2)

    async def upgrade(self) -> None:
        """Apply Alembic migrations up to head (safe to call from several processes at once)."""
        async with self.engine.begin() as conn:
            if not self.is_sqlite:
                await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            await conn.run_sync(_upgrade_sync)

    async def ping(self) -> None:
        """`SELECT 1` on a connection of its own (the readiness probe); raises when the database cannot answer.
        A pooled connection found dead is dropped and the question asked once more, on a fresh one."""
        for attempt in (1, 2):
            try:
                async with self.engine.connect() as conn:
                    await conn.exec_driver_sql("SELECT 1")
                return
            except DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:
                    raise

    async def dispose(self) -> None:
        await self.engine.dispose()


def check_database_url(url: str) -> str | None:
    """Why SQLAlchemy cannot read this database URL (the error text), or None if it can."""
    try:
        make_url(url)
    except (ArgumentError, ValueError, TypeError) as exc:
        return str(exc)
    return None


def alembic_config(connection: Any = None) -> Any:
    """An Alembic Config pointing at our migrations, optionally bound to an open connection."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _upgrade_sync(connection: Any) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


def _ensure_sqlite_dir(url: str) -> str | None:
    """Create the folder of a SQLite file; its path, or None for an in-memory database."""
    path = url.split(":///", 1)[-1].split("?", 1)[0]
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return path
    return None


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL for concurrent readers, a busy timeout, and BEGIN IMMEDIATE so two processes never deadlock."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection.isolation_level is not None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(sqlite_inline.LOCK_WAIT * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _is_transient(exc: DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    text = str(exc.orig if exc.orig is not None else exc).lower()
    markers = ("locked", "busy", "connection", "could not connect", "terminating", "closed",
               "timeout", "unable to open", "server closed", "cannotconnectnow", "too many clients")
    return isinstance(exc, (OperationalError, SAInterfaceError)) or any(m in text for m in markers)


def _short(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
