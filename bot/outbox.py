"""The sender: drains the outbox through the transport under the account's send budget.

One row is claimed at a time (status 'sending'), sent, then marked 'sent' together with the
outgoing message record. A crash between the send and the mark leaves exactly one row 'sending';
on restart it goes back to pending and is sent again: at most one duplicate per account process.
Transport errors are retried with backoff; after `max_attempts` the row is marked failed and
reported through `on_failed(row, detail)`.

While the transport is disconnected nothing is claimed or tried, so an outage costs no attempts: the
sender waits (woken by the transport when the link comes back) and the queue goes out in its usual order
(priority, then id) afterwards. Rows that have waited `offline_max_age` by then are marked failed with
the outage as their cause and reported like any other failure. What is stored as a row's error, and so
shown in reports, is the Chinese cause (`TransportError.cause`); the technical detail goes to the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import Clock
from bot.domain.budget import SendLimiter
from bot.messages import Address
from bot.transport.base import CAUSE_UNKNOWN, Transport, TransportError, can_send_images, outage_cause
from storage.models import OutboxRow
from storage.message_repository import MessageRepository
from storage.outbox_repository import OutboxRepository
from storage.session import Database, Session

_LOGGER = logging.getLogger(__name__)

FailureCallback = Callable[[OutboxRow, str], Awaitable[None]]


def retry_delay(attempts: int) -> float:
    """Backoff before attempt `attempts + 1`: 5 s, 10 s, 20 s ... capped at 5 minutes."""
    return min(300.0, 5.0 * 2 ** max(0, attempts - 1))


class OutboxSender:
    """Sends what the outbox holds, never faster than the limiter allows."""

    def __init__(self, db: Database, transport: Transport, limiter: SendLimiter, clock: Clock, *,
                 max_attempts: int = 5, account: str | None = None, bot_name: str = "微格助手",
                 on_failed: FailureCallback | None = None, room_keys: Callable[[str], tuple[str | None, str | None]]
                 | None = None, resolve: Callable[[Address], Address] | None = None,
                 on_sent: Callable[[OutboxRow], Awaitable[None]] | None = None,
                 offline_max_age: timedelta = timedelta(hours=24)) -> None:
        self.db = db
        self.transport = transport
        self.limiter = limiter
        self.clock = clock
        self.max_attempts = max_attempts
        self.account = account
        self.bot_name = bot_name
        self.on_failed = on_failed
        self.room_keys = room_keys or (lambda room_id: (room_id, None))
        self.resolve = resolve or (lambda address: address)
        self.on_sent = on_sent
        self._wake = asyncio.Event()
        self.waiting = asyncio.Event()  # set while the sender sleeps (for virtual-clock drivers)
        self.pause_until: datetime | None = None
        self._pause_wakeable = False
        self._task: asyncio.Task[None] | None = None
        self.sent_count = 0
        self.failed_count = 0
        self.batch = 1  # rows claimed at a time (several accounts: a few, so claims cost less per message)
        self.idle_poll = 60.0  # seconds between looks at an empty outbox when nobody wakes us
        self._claimed: deque[OutboxRow] = deque()
        self.offline_max_age = offline_max_age
        # While disconnected, look again this often at the latest (the transport also wakes us on reconnect).
        self.offline_poll = 3600.0
        self.offline_waits = 0  # pauses spent waiting for the connection, for tests and the console
        watch = getattr(transport, "watch_connection", None)
        if callable(watch):
            watch(self._connection_changed)
        else:  # a transport that cannot tell us: look often
            self.offline_poll = 5.0

    @property
    def connected(self) -> bool:
        return bool(getattr(self.transport, "connected", True))

    def _connection_changed(self, connected: bool) -> None:
        if connected:
            _LOGGER.info("connection back: sending what the outbox holds")
        self.wake()

    def wake(self) -> None:
        """New rows were enqueued: look at the outbox now."""
        self._wake.set()
        if self._pause_wakeable:
            self.waiting.clear()  # it is about to work, whatever the loop has not run yet

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        if self._claimed:  # claimed, never tried: back to the queue for whoever serves the group
            ids = [row.id for row in self._claimed]
            self._claimed.clear()
            try:
                await self.db.run(lambda s: OutboxRepository(s).unclaim(ids), what="outbox unclaim", attempts=3)
            except Exception:
                _LOGGER.warning("could not put %d claimed message(s) back; they go back at the next start", len(ids))

    async def recover(self) -> int:
        """After a restart: rows a crash left 'sending' go back to pending."""
        count = await self.db.run(lambda s: OutboxRepository(s).recover_inflight(self.account),
                                  what="outbox recovery")
        if count:
            _LOGGER.warning("%d message(s) were in flight at the last stop; they will be sent again", count)
        return count

    async def send_one(self) -> bool:
        """Send one due row (claiming a batch when none is held), honouring the budget; False when none is due."""
        now = self.clock.now()
        wait = self.limiter.delay(now.timestamp())
        if wait > 0:
            await self._pause(wait, wakeable=False)
            now = self.clock.now()
        if not self._claimed:  # a batch is what the budget lets out in the next ~10 s: claims held briefly
            limit = max(1, min(self.batch, int(10.0 / self.limiter.spacing) + 1))
            self._claimed.extend(await self.db.run(
                lambda s: OutboxRepository(s).claim(now=now, limit=limit, account=self.account), what="outbox claim"))
            if not self._claimed:
                return False
        if not self.connected:  # lost while the batch was held: no attempt was made
            await self._unclaim_held()
            return True  # the run loop now waits for the connection
        row = self._claimed.popleft()
        to = self.resolve(Address(row.to_kind, row.to_id))
        try:
            if row.attachment and can_send_images(self.transport):
                message_id = await self.transport.send_image(to, Path(row.attachment))  # type: ignore[attr-defined]
            else:
                message_id = await self.transport.send(to, row.text, tuple(row.mentions or ()))
        except TransportError as exc:
            self.limiter.record(self.clock.now().timestamp())  # a failed try still costs the account
            if not self.connected:  # the link went down under this send: it waits with the rest, uncounted
                _LOGGER.warning("send to %s interrupted by a lost connection (%s); it waits", row.to_id, exc)
                self._claimed.appendleft(row)
                await self._unclaim_held()
                return True
            await self._failed_attempt(row, exc.cause, retryable=exc.retryable, detail=str(exc))
            return True
        except Exception as exc:  # an unexpected transport bug: treat as a retryable failure
            _LOGGER.exception("transport crashed sending outbox row %s", row.id)
            self.limiter.record(self.clock.now().timestamp())
            await self._failed_attempt(row, CAUSE_UNKNOWN, retryable=True, detail=f"{type(exc).__name__}: {exc}")
            return True
        sent_at = self.clock.now()
        self.limiter.record(sent_at.timestamp())
        room_key, node_code = self.room_keys(to.id) if to.is_room else (None, None)

        async def mark(session: Session) -> None:
            await OutboxRepository(session).mark_sent(row.id, at=sent_at, transport_message_id=message_id)
            await MessageRepository(session).add_outgoing(
                to, row.text, row.mentions or [], at=sent_at, sender_id=self.transport.self_id,
                sender_name=self.bot_name, room_key=room_key, node_code=node_code,
                transport_message_id=message_id)

        await self.db.run(mark, what="outbox mark sent")
        self.sent_count += 1
        if self.on_sent is not None:
            await self.on_sent(row)
        return True

    async def _failed_attempt(self, row: OutboxRow, error: str, *, retryable: bool, detail: str = "") -> None:
        """`error`: the cause in Chinese (stored, reported); `detail`: the technical text (logged only)."""
        detail = detail or error
        if retryable and row.attempts < self.max_attempts:
            delay = retry_delay(row.attempts)
            not_before = self.clock.now() + timedelta(seconds=delay)
            _LOGGER.warning("send to %s failed (attempt %d/%d): %s; retrying in %.0fs",
                            row.to_id, row.attempts, self.max_attempts, detail, delay)
            await self.db.run(lambda s: OutboxRepository(s).mark_retry(row.id, error=error, not_before=not_before),
                              what="outbox retry")
            return
        _LOGGER.error("giving up sending to %s after %d attempt(s): %s", row.to_id, row.attempts, detail)
        await self.db.run(lambda s: OutboxRepository(s).mark_failed(row.id, error=error), what="outbox fail")
        row.last_error = error
        await self._report(row, detail)

    async def _report(self, row: OutboxRow, detail: str) -> None:
        """`on_failed(row, detail)`: the row (its stored `last_error` is the Chinese cause) and the detail."""
        self.failed_count += 1
        if self.on_failed is not None:
            try:
                await self.on_failed(row, detail)
            except Exception:
                _LOGGER.exception("reporting a failed send crashed")

    async def _unclaim_held(self) -> None:
        ids = [row.id for row in self._claimed]
        self._claimed.clear()
        if ids:
            await self.db.run(lambda s: OutboxRepository(s).unclaim(ids), what="outbox unclaim")

    async def wait_offline(self) -> None:
        """Disconnected: fail what has waited `offline_max_age`, then sleep until the link is back (we are
        woken) or the next row would reach that age."""
        if self._claimed:
            await self._unclaim_held()
        now = self.clock.now()
        cause = outage_cause(self.offline_max_age)
        expired = await self.db.run(lambda s: OutboxRepository(s).expire_waiting(
            due_before=now - self.offline_max_age, error=cause, account=self.account), what="outbox expiry")
        if expired:
            _LOGGER.error("%d message(s) waited %s for the connection; reported as failed",
                          len(expired), self.offline_max_age)
        for row in expired:
            await self._report(row, cause)
        if expired:
            return  # the reports were queued: look again (more may be as old)
        oldest = await self.db.run(lambda s: OutboxRepository(s).oldest_waiting(self.account), what="outbox oldest")
        pause = self.offline_poll
        if oldest is not None:
            pause = min(pause, max(0.05, (oldest + self.offline_max_age - now).total_seconds() + 0.001))
        self.offline_waits += 1
        await self._pause(pause, wakeable=True)

    async def _run(self) -> None:
        while True:
            try:
                if not self.connected:
                    await self.wait_offline()
                    continue
                if await self.send_one():
                    continue
                due = await self.db.run(lambda s: OutboxRepository(s).seconds_until_due(self.clock.now()),
                                        what="outbox due")
                await self._pause(self.idle_poll if due is None else max(0.05, min(due, self.idle_poll)),
                                  wakeable=True)
            except asyncio.CancelledError:
                raise
            except Exception:  # keep sending whatever happens to one row
                _LOGGER.exception("outbox sender error; continuing")
                await self._pause(1.0, wakeable=False)

    async def _pause(self, seconds: float, *, wakeable: bool) -> None:
        """Sleep on the clock; a wakeable pause ends early when new rows are enqueued."""
        if wakeable and self._wake.is_set():
            self._wake.clear()
            return
        self.pause_until = self.clock.now() + timedelta(seconds=seconds)
        self._pause_wakeable = wakeable
        self.waiting.set()
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        waiter = asyncio.ensure_future(self._wake.wait()) if wakeable else None
        try:
            await asyncio.wait({t for t in (sleeper, waiter) if t is not None}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.waiting.clear()
            self._pause_wakeable = False
            for task in (sleeper, waiter):
                if task is not None and not task.done():
                    task.cancel()
            if wakeable:
                self._wake.clear()
