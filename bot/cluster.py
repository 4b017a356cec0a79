"""Several bot processes (one per WeChat account) on one PostgreSQL database.

- Heartbeat: every process writes its account's heartbeat every few seconds; an account whose heartbeat
  is older than `dead_after` is gone.
- Leadership: a session-level PostgreSQL advisory lock, held on a connection of its own. Whoever holds it
  runs the scheduled jobs (deadlines, reminders, digests, rebalancing); when that process dies its
  connection closes, the lock is free, and another process takes it at its next tick (`tick` seconds).
  On SQLite there is one process and it always leads.
- Rebalancing (the leader): which account serves each group, from what every account's transport lists;
  groups of a dead account move to a live one that is also in them, and what it had claimed goes back.
- Wake-ups: a trigger NOTIFYs on every outbox insert; each process LISTENs and wakes its sender at once.
  Senders also look every few seconds anyway, so a lost notification only delays, never loses.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from bot.clock import Clock
from bot.domain.cluster import reassign
from storage.cluster_repository import ClusterRepository
from storage.leadership import Leadership, lock_key
from storage.session import Database, Session

__all__ = ["Cluster", "Leadership", "lock_key"]

_LOGGER = logging.getLogger(__name__)


class Cluster:
    """This process's part in a deployment of several accounts."""

    def __init__(self, db: Database, account: str, clock: Clock, *, tick: float = 5.0,
                 dead_after: timedelta = timedelta(seconds=20), on_wake: Callable[[], None] | None = None) -> None:
        self.db = db
        self.account = account
        self.clock = clock
        self.tick = tick
        self.dead_after = dead_after
        self.on_wake = on_wake
        self.leadership = Leadership(db)
        self.rebalanced = 0  # groups moved by this process as leader
        self.released = 0  # claimed rows of dead accounts put back
        self._listener: Any = None

    @property
    def is_leader(self) -> bool:
        return self.leadership.is_leader

    async def start(self) -> None:
        await self.db.run(lambda s: ClusterRepository(s).heartbeat(
            self.account, self.clock.now(), pid=os.getpid(), host=socket.gethostname(), started=True),
            what="account start")
        await self.leadership.check()
        await self._listen()

    async def stop(self) -> None:
        await self.leadership.release()
        if self._listener is not None:
            conn, self._listener = self._listener, None
            try:
                await conn.close()
            except Exception:
                pass

    async def heartbeat(self) -> None:
        """Every `tick`: say we are alive, and keep or take the lead."""
        await self.db.run(lambda s: ClusterRepository(s).heartbeat(
            self.account, self.clock.now(), pid=os.getpid(), host=socket.gethostname()), what="heartbeat")
        await self.leadership.check()

    async def report_reach(self, room_keys: Sequence[str]) -> None:
        """The groups this account's transport lists now."""
        await self.db.run(lambda s: ClusterRepository(s).record_reach(self.account, room_keys, self.clock.now()),
                          what="recording groups")

    async def rebalance(self) -> int:
        """(Leader) point every group at a live account that is in it; free what dead accounts held."""
        if not self.is_leader:
            return 0
        now = self.clock.now()

        async def work(session: Session) -> tuple[dict[str, str | None], list[str], list[str]]:
            repo = ClusterRepository(session)
            accounts = await repo.accounts()
            live = [a.name for a in accounts if now - a.heartbeat_at <= self.dead_after]
            dead = [a.name for a in accounts if now - a.heartbeat_at > self.dead_after]
            changes = reassign(await repo.reach(), live, await repo.served())
            await repo.serve(changes)
            released = await repo.release(dead)
            return changes, released, dead

        changes, released, dead = await self.db.run(work, what="rebalancing groups")
        if changes:
            moved = sum(1 for account in changes.values() if account is not None)
            _LOGGER.info("rebalanced %d group(s) (%d without a live account); dead accounts: %s",
                         moved, len(changes) - moved, ", ".join(dead) or "none")
            self.rebalanced += len(changes)
        if released:
            _LOGGER.warning("%d message(s) claimed by dead account(s) %s go back to the queue (possible repeats)",
                            released, ", ".join(dead))
            self.released += released
        if (changes or released) and self.on_wake is not None:
            self.on_wake()
        return len(changes)

    async def _listen(self) -> None:
        """LISTEN for outbox inserts (PostgreSQL): new notices wake the sender at once."""
        if self.db.is_sqlite or self.on_wake is None:
            return
        try:
            conn = await self.db.engine.connect()
            raw = await conn.get_raw_connection()
            channel = "gridbot_outbox_" + (self.db.schema or "public")
            await raw.driver_connection.add_listener(channel, lambda *_: self.on_wake and self.on_wake())
            await conn.commit()
            self._listener = conn
        except Exception as exc:  # polling still works; say so
            _LOGGER.warning("LISTEN for outbox wake-ups failed (%s); senders poll instead", exc)

