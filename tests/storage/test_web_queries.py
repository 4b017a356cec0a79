"""The queries the web app asks of storage (notice lists and progress, the readiness probe), on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from storage.models import NoticeRow, OutboxRow
from storage.notice_repository import NoticeRepository
from storage.session import Database


async def _notice(repo: NoticeRepository, number: int, clock) -> NoticeRow:
    return await repo.create(number=number, sender_key="li_hongmei", node_code="JQS", text=f"通知 {number}",
                             room_count=3, created_at=clock.now())


async def test_recent_notices_newest_first_and_limited(db, clock):
    async with db.unit_of_work() as s:
        repo = NoticeRepository(s)
        for number in (1, 2, 3):
            await _notice(repo, number, clock)
    async with db.unit_of_work() as s:
        assert [n.number for n in await NoticeRepository(s).recent(2)] == [3, 2]


async def test_progress_counts_sent_groups_and_acks_per_notice(db, clock):
    async with db.unit_of_work() as s:
        repo = NoticeRepository(s)
        first, second, quiet = [await _notice(repo, n, clock) for n in (1, 2, 3)]
        await repo.enqueue_deliveries(first, ["g1", "g2", "g3"], first.text, now=clock.now())
        await repo.enqueue_deliveries(second, ["g1"], second.text, now=clock.now())
        # two of the first notice's groups delivered, the third still pending; the second's delivered too
        await s.execute(update(OutboxRow).where(OutboxRow.ref == f"notice:{first.id}", OutboxRow.to_id != "g3")
                        .values(status="sent"))
        await s.execute(update(OutboxRow).where(OutboxRow.ref == f"notice:{second.id}").values(status="sent"))
        for member in ("m1", "m2"):
            await repo.record_ack(first, room_key="g1", member_id=member, member_name=member, household=None,
                                  at=clock.now())
        ids = (first.id, second.id, quiet.id)
    async with db.unit_of_work() as s:
        progress = await NoticeRepository(s).progress(list(ids))
        assert progress == {ids[0]: (2, 2), ids[1]: (1, 0), ids[2]: (0, 0)}
        assert await NoticeRepository(s).progress([]) == {}


async def test_ping_answers_and_fails_on_a_dead_database(db):
    await db.ping()
    dead = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        with pytest.raises(OSError):
            await dead.ping()
    finally:
        await dead.dispose()
