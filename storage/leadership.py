"""Leadership among several processes: a session-level PostgreSQL advisory lock on a connection of its own.

Whoever holds the lock runs the scheduled jobs; when that process dies its connection closes and the lock is
free for another (see bot/cluster.py). On SQLite there is one process and it always leads.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from storage.session import Database

_LOGGER = logging.getLogger(__name__)


def lock_key(schema: str | None) -> int:
    """The advisory lock of one deployment (its schema): a signed 64-bit number."""
    digest = hashlib.blake2b(f"gridbot-leader:{schema or 'public'}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class Leadership:
    """Who runs the scheduled jobs: the holder of an advisory lock (PostgreSQL), or the only process (SQLite)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.is_leader = db.is_sqlite
        self._conn: Any = None
        self.key = lock_key(db.schema)

    async def check(self) -> bool:
        """Keep the lock if held (the connection still answers), else try to take it."""
        if self.db.is_sqlite:
            return True
        if self._conn is not None:
            try:
                await self._conn.execute(text("SELECT 1"))
                return True
            except Exception as exc:  # the connection died: whatever we held is gone
                _LOGGER.warning("lost the leader connection: %s", exc)
                await self._drop()
        try:
            conn, got = await self._try_lock()
        except Exception as exc:
            _LOGGER.warning("could not try for leadership: %s", exc)
            return False
        if got:
            self._conn, self.is_leader = conn, True
            _LOGGER.info("this process now leads: it runs the scheduled jobs")
        else:
            await conn.close()
        return got

    async def _try_lock(self) -> tuple[Any, bool]:
        """A connection of its own and whether it took the lock; a pooled connection found dead (the pool does
        not ping) is dropped and the lock tried once more on a fresh one."""
        for attempt in (1, 2):
            conn = await self.db.engine.connect()
            try:
                got = bool((await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})).scalar())
                await conn.commit()  # the session-level lock outlives the transaction
                return conn, got
            except DBAPIError as exc:
                await conn.close()
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    async def _drop(self) -> None:
        conn, self._conn, self.is_leader = self._conn, None, False
        if conn is not None:
            try:
                await conn.close()
            except Exception:
                pass

    async def release(self) -> None:
        if self._conn is not None:
            try:
                await self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            except Exception:
                pass
        await self._drop()
