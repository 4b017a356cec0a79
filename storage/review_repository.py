"""The review queue: messages that may be reports, waiting for a leader's 登记 or 忽略."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage import deferred
from storage.models import ReviewRow
from storage.repositories import MAX_NAME, clean_text
from storage.rows import as_read
from storage.ticket_repository import in_subtree

PENDING = "pending"
_REVIEW_DEFAULTS: dict[str, Any] = {c.name: None for c in ReviewRow.__table__.columns if c.name != "id"} | {
    "state": PENDING, "urgent": False, "confidence": 0.0}
_INSERT_REVIEW = ReviewRow.__table__.insert()
# PostgreSQL: an item's id is taken from the table's sequence ahead, a block at a time for each engine, so that its
# INSERT waits for the end of the unit of work (storage.deferred) with the other items the batch holds; the unused
# ids of a block are lost when the process stops (an id is a name, not a count: gaps are harmless)
_ID_BLOCK = 20
_RESERVE_IDS = text(f"SELECT nextval(pg_get_serial_sequence('{ReviewRow.__tablename__}', 'id')) "
                    "FROM generate_series(1, :count)")
_reserved: WeakKeyDictionary[Engine, list[int]] = WeakKeyDictionary()
UNWRITTEN = "review_unwritten"  # session.info: ids of the items this unit of work holds whose INSERT waits


def _in_subtree(prefix: str) -> Any:
    return in_subtree(prefix, ReviewRow.node_path)


class ReviewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **fields: Any) -> ReviewRow:
        """A new pending item (a hot path: one in seven messages the writers send is held), handed back as loaded:
        a Core INSERT, on PostgreSQL written with the unit of work's other held items before anything reads them
        (`_written`) and at the latest before the commit."""
        values = _REVIEW_DEFAULTS | fields
        unknown = values.keys() - _REVIEW_DEFAULTS.keys()
        if unknown:
            raise TypeError(f"not a review column: {', '.join(sorted(unknown))}")
        values["text"] = clean_text(values["text"])[0]
        values["sender_name"] = clean_text(values["sender_name"])[0][:MAX_NAME]
        conn = await self.session.connection()
        if conn.dialect.name == "postgresql":
            row_id = await _reserve_id(conn)
            deferred.defer(self.session, _INSERT_REVIEW, {"id": row_id, **values})
            self.session.info.setdefault(UNWRITTEN, set()).add(row_id)
        else:
            await self.session.flush()  # what the session holds goes first, as an ORM flush would have it
            row_id = (await conn.execute(_INSERT_REVIEW, values)).inserted_primary_key[0]
        return as_read(self.session, ReviewRow, {"id": int(row_id), **values})  # every column set: as loaded

    async def _written(self) -> None:
        """The items this unit of work holds are in the table before it is read."""
        if self.session.info.pop(UNWRITTEN, None):
            await deferred.flush(self.session)

    async def get(self, item_id: int) -> ReviewRow | None:
        if item_id in self.session.info.get(UNWRITTEN, ()) and (ReviewRow, (item_id,), None) not in (
                self.session.identity_map):
            await self._written()  # held here and let go by the session: read back from the table
        return await self.session.get(ReviewRow, item_id)

    async def for_message(self, message_id: int) -> ReviewRow | None:
        await self._written()
        result = await self.session.execute(select(ReviewRow).where(ReviewRow.message_id == message_id))
        return result.scalars().first()

    async def unannounced(self) -> list[ReviewRow]:
        """Pending items whose leader has not been told yet, oldest first."""
        await self._written()
        result = await self.session.execute(
            select(ReviewRow).where(ReviewRow.state == PENDING, ReviewRow.notified_at.is_(None))
            .order_by(ReviewRow.id))
        return list(result.scalars())

    async def last_told(self, leader_keys: Sequence[str]) -> dict[str, datetime]:
        """When each leader was last sent a review list."""
        await self._written()
        if not leader_keys:
            return {}
        result = await self.session.execute(
            select(ReviewRow.leader_key, func.max(ReviewRow.notified_at))
            .where(ReviewRow.leader_key.in_(list(leader_keys)), ReviewRow.notified_at.is_not(None))
            .group_by(ReviewRow.leader_key))
        return {key: at for key, at in result.all() if at is not None}

    async def earliest_unannounced(self) -> datetime | None:
        await self._written()
        result = await self.session.execute(
            select(func.min(ReviewRow.created_at)).where(ReviewRow.state == PENDING, ReviewRow.notified_at.is_(None)))
        return result.scalar_one_or_none()

    async def mark_told(self, item_ids: Sequence[int], at: datetime) -> None:
        await self._written()
        if item_ids:
            await self.session.execute(update(ReviewRow).where(ReviewRow.id.in_(list(item_ids)))
                                       .values(notified_at=at))

    async def pending_in(self, node_path_prefix: str, *, limit: int = 200) -> list[ReviewRow]:
        """Pending items in a subtree, urgent first, then oldest first."""
        await self._written()
        result = await self.session.execute(
            select(ReviewRow).where(ReviewRow.state == PENDING, _in_subtree(node_path_prefix))
            .order_by(ReviewRow.urgent.desc(), ReviewRow.id).limit(limit))
        return list(result.scalars())

    async def count_in(self, node_path_prefix: str, *, since: datetime | None = None,
                       state: str | None = PENDING) -> int:
        await self._written()
        statement = select(func.count()).select_from(ReviewRow).where(_in_subtree(node_path_prefix))
        if state is not None:
            statement = statement.where(ReviewRow.state == state)
        if since is not None:
            statement = statement.where(ReviewRow.created_at >= since)
        return int((await self.session.execute(statement)).scalar_one())


async def _reserve_id(conn: AsyncConnection) -> int:
    """The next id of this engine's block of review ids (a new block read when it is used up)."""
    block = _reserved.setdefault(conn.sync_engine, [])
    if not block:
        taken = (await conn.execute(_RESERVE_IDS, {"count": _ID_BLOCK})).scalars().all()
        block.extend(sorted((int(i) for i in taken), reverse=True))
    return block.pop()
