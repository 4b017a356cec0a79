"""Repositories on SQLite and PostgreSQL alike (every test here runs on both)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.messages import Address, Reply
from storage.models import MessageRow, NodeRow, OutboxRow, RoomRow
from storage.repositories import (
    GridRepository,
    MemberRepository,
    MessageRepository,
    OutboxRepository,
    clean_text,
    original_text,
)
from tests.factories import make_message


async def test_sync_config_into_tables_and_again_after_a_change(db, sample_config, clock):
    async with db.unit_of_work() as s:
        await GridRepository(s).sync(sample_config.tree, sample_config.people, clock.now())
    async with db.unit_of_work() as s:
        await GridRepository(s).sync(sample_config.tree, sample_config.people, clock.now())  # idempotent
        assert await GridRepository(s).node_count() == len(sample_config.tree)
        rooms = list(await s.scalars(select(RoomRow)))
        assert len(rooms) == 30 and all(r.configured for r in rooms)
        node = await s.get(NodeRow, "JQS-02-01-A")
        assert node.parent_code == "JQS-02-01" and node.tier == "房东群"


async def test_unknown_room_is_kept_for_the_console(db, clock):
    async with db.unit_of_work() as s:
        repo = GridRepository(s)
        await repo.room_seen("r-x", transport_id="r-x", topic="陌生群", node_code=None, now=clock.now())
        await repo.room_seen("r-x", transport_id="r-x", topic="陌生群", node_code=None, now=clock.now())
    async with db.unit_of_work() as s:
        unknown = await GridRepository(s).unknown_rooms()
        assert [(r.room_key, r.topic) for r in unknown] == [("r-x", "陌生群")]
        assert unknown[0].first_seen == clock.now()


async def test_messages_keep_time_zone_and_text(db, clock):
    msg = make_message("3号楼楼道灯坏了😭", at=clock.now())
    async with db.unit_of_work() as s:
        row = await MessageRepository(s).add_incoming(msg, room_key="k", node_code="JQS-01-03")
        row_id = row.id
    async with db.unit_of_work() as s:
        row = await MessageRepository(s).get(row_id)
        assert row.text == "3号楼楼道灯坏了😭" and row.raw is None
        assert row.at == clock.now() and row.at.utcoffset() == timedelta(0)


async def test_invalid_unicode_and_nul_are_stored_losslessly(db, clock):
    text = "坏了\ud800\x00尾"
    async with db.unit_of_work() as s:
        row = await MessageRepository(s).add_incoming(make_message(text, at=clock.now()), room_key=None, node_code=None)
        row_id = row.id
    async with db.unit_of_work() as s:
        row = await s.get(MessageRow, row_id)
    assert row.text == "坏了\ufffd\ufffd尾"
    assert original_text(row.text, row.raw) == text


def test_clean_text_leaves_good_text_alone():
    assert clean_text("正常文字 ok") == ("正常文字 ok", None)


async def test_outbox_claim_orders_by_priority_and_respects_not_before(db, clock):
    now = clock.now()
    async with db.unit_of_work() as s:
        repo = OutboxRepository(s)
        assert await repo.enqueue([Reply(Address.room("r1"), "普通"), Reply(Address.room("r2"), "紧急", priority=0)],
                                  now=now) == 2
        urgent_id = await s.scalar(select(OutboxRow.id).where(OutboxRow.to_id == "r2"))
        await repo.mark_retry(urgent_id, error="x", not_before=now + timedelta(seconds=30))
    async with db.unit_of_work() as s:
        claimed = await OutboxRepository(s).claim(now=now, limit=10)
        assert [r.text for r in claimed] == ["普通"]
        assert await OutboxRepository(s).seconds_until_due(now) == 30.0
    async with db.unit_of_work() as s:
        claimed = await OutboxRepository(s).claim(now=now + timedelta(seconds=31), limit=10)
        assert [r.text for r in claimed] == ["紧急"] and claimed[0].attempts == 1


async def test_inflight_rows_return_to_pending_after_a_crash(db, clock):
    async with db.unit_of_work() as s:
        await OutboxRepository(s).enqueue([Reply(Address.room("r1"), "a"), Reply(Address.room("r1"), "b")],
                                          now=clock.now())
    async with db.unit_of_work() as s:
        await OutboxRepository(s).claim(now=clock.now(), limit=1)
    async with db.unit_of_work() as s:
        assert await OutboxRepository(s).counts() == {"sending": 1, "pending": 1}
        assert await OutboxRepository(s).recover_inflight() == 1
        assert await OutboxRepository(s).counts() == {"pending": 2}


async def test_members_join_leave_and_households(db, clock):
    async with db.unit_of_work() as s:
        repo = MemberRepository(s)
        await repo.upsert("k", "m1", "3-201 王芳", household="3-201", now=clock.now())
        await repo.upsert("k", "m2", "3-201 王芳老公", household="3-201", now=clock.now())
        await repo.upsert("k", "m1", "3-201 王芳", household="3-201", now=clock.now(), active=False)
    async with db.unit_of_work() as s:
        members = await MemberRepository(s).in_room("k")
        assert [m.member_id for m in members] == ["m2"]
        everyone = await MemberRepository(s).in_room("k", active_only=False)
        assert {m.household for m in everyone} == {"3-201"}
