"""Repositories on SQLite and PostgreSQL alike (every test here runs on both)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.messages import Address, Reply
from storage.models import MessageRow, NodeRow, OutboxRow, RoomRow
from storage.message_repository import MessageRepository
from storage.outbox_repository import OutboxRepository
from storage.repositories import GridRepository, MemberRepository, clean_text, original_text
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


async def test_a_ticket_just_opened_is_the_session_s_own_and_a_change_to_it_is_written(db, clock):
    from storage.models import TicketRow
    from storage.ticket_repository import TicketRepository

    now = clock.now()
    async with db.unit_of_work() as s:
        repo = TicketRepository(s)
        ticket = await repo.create(fields={"state": "new", "category": "repair", "urgency": "normal",
                                           "node_code": "JQS-01-03", "node_path": "/JQS/JQS-01/JQS-01-03/",
                                           "text": "3号楼楼道灯坏了", "room_key": "3号楼"},
                                   reporter_id="r1", reporter_name="李阿姨", message_id=None, at=now, first_number=1001)
        assert ticket.number == 1001 and ticket.reporter_count == 1 and ticket.text == "3号楼楼道灯坏了"
        assert await s.get(TicketRow, ticket.id) is ticket  # as if read: the identity map's, nothing to load
        assert not s.dirty and ticket not in s.new
        ticket.state = "accepted"  # a change later in the same unit of work
        assert ticket in s.dirty
    async with db.unit_of_work() as s:
        stored = await TicketRepository(s).find_by_number(1001)
        assert (stored.state, stored.reporter_name, stored.created_at) == ("accepted", "李阿姨", now)


def test_opening_a_ticket_can_be_a_fresh_process_s_first_use_of_the_models(tmp_path):
    """The opened ticket is built without its constructor, so nothing else may have to configure the models first."""
    import subprocess
    import sys
    from pathlib import Path

    script = f"""
import asyncio
from datetime import datetime, timezone
from storage.session import Database
from storage.ticket_repository import TicketRepository

async def main():
    db = Database("sqlite+aiosqlite:///{tmp_path}/first.db")
    await db.upgrade()
    async with db.unit_of_work() as s:
        ticket = await TicketRepository(s).create(
            fields={{"state": "new", "category": "repair", "urgency": "normal", "node_code": "JQS-01-03",
                     "text": "3号楼楼道灯坏了"}}, reporter_id="r1", reporter_name="李阿姨", message_id=None,
            at=datetime.now(timezone.utc), first_number=1001)
        print(ticket.number)
    await db.dispose()

asyncio.run(main())
"""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "1001"


async def test_a_duplicate_is_the_session_s_own_ticket_and_sees_what_the_session_has_not_written_yet(db, clock):
    from storage.models import TicketRow
    from storage.ticket_repository import TicketRepository

    now = clock.now()
    fields = {"state": "new", "category": "repair", "urgency": "normal", "node_code": "JQS-01-03",
              "node_path": "/JQS/JQS-01/JQS-01-03/", "text": "3号楼楼道灯坏了", "room_key": "3号楼",
              "problem_key": "灯:坏"}
    async with db.unit_of_work() as s:
        await TicketRepository(s).create(fields=fields, reporter_id="r1", reporter_name="李阿姨", message_id=None,
                                         at=now, first_number=1001)
    look = {"room_key": "3号楼", "node_code": "JQS-01-03", "problem_key": "灯:坏", "building": None, "unit": None,
            "room_no": None, "since": now - timedelta(days=1), "me_too": False, "echo_since": now - timedelta(minutes=10)}
    async with db.unit_of_work() as s:
        repo = TicketRepository(s)
        found = await repo.find_duplicate(**look)
        assert found is not None and found.number == 1001 and found.created_at == now
        assert await s.get(TicketRow, found.id) is found and await repo.find_duplicate(**look) is found
        found.text = "改过的"  # held by the session, changed, not written: what a look-up returns is this object
        assert (await repo.find_duplicate(**look)).text == "改过的"
        found.state = "closed"  # not written yet either, and yet a closed ticket is nobody's duplicate
        assert await repo.find_duplicate(**look) is None
    async with db.unit_of_work() as s:
        assert await TicketRepository(s).find_duplicate(**look) is None
