"""The queries the web app asks of storage (notice lists and counts, the readiness probe), on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from storage.models import MemberRow, NoticeRow, OutboxRow
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


async def test_room_counts_group_members_and_replies_per_delivered_group(db, clock):
    """The grouped count behind `#回执`: everyone active (staff too), households as `household_key` says."""
    async with db.unit_of_work() as s:
        repo = NoticeRepository(s)
        first, second = [await _notice(repo, n, clock) for n in (1, 2)]
        await repo.enqueue_deliveries(first, ["g1", "g2", "g3"], first.text, now=clock.now())
        await repo.enqueue_deliveries(second, ["g1"], second.text, now=clock.now())
        # g1 and g2 delivered, g3 still pending
        await s.execute(update(OutboxRow).where(OutboxRow.ref == f"notice:{first.id}", OutboxRow.to_id != "g3")
                        .values(status="sent"))
        for room, member, household, active in (("g1", "a", "1-101", True), ("g1", "b", "1-101", True),
                                                ("g1", "c", None, True), ("g1", "d", "", True), ("g1", "k", "", True),
                                                ("g1", "e", "1-102", False), ("g2", "f", None, True),
                                                ("g3", "h", "3-301", True)):
            s.add(MemberRow(room_key=room, member_id=member, display_name=member, household=household, active=active,
                            joined_at=clock.now()))
        await s.flush()
        for room, member in (("g1", "b"), ("g1", "d"), ("g1", "e"), ("g3", "h")):
            await repo.record_ack(first, room_key=room, member_id=member, member_name=member, household=None,
                                  at=clock.now())
        await repo.record_ack(second, room_key="g1", member_id="a", member_name="a", household=None, at=clock.now())
        ids = (first.id, second.id)
    async with db.unit_of_work() as s:
        repo = NoticeRepository(s)
        # g1: a, b (one household 1-101), c, d and k (no house number: households of one each, an empty one too);
        # e left the group, so its reply is not counted; replies from b (1-101) and d → 5 members, 2 replied,
        # 4 households, 2 replied
        assert await repo.room_counts(ids[0]) == {"g1": (5, 2, 4, 2), "g2": (1, 0, 1, 0)}  # g3 was not delivered
        assert await repo.room_counts(ids[0], ["g2"]) == {"g2": (1, 0, 1, 0)}
        assert await repo.room_counts(ids[1]) == {}  # its copy is still pending


async def test_ping_answers_and_fails_on_a_dead_database(db):
    await db.ping()
    dead = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        with pytest.raises(OSError):
            await dead.ping()
    finally:
        await dead.dispose()
