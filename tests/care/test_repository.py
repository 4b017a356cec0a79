"""The care tables on both backends: a step is recorded once a day, whoever tries again."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from storage.care_repository import CareRepository

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
DAY = date(2026, 11, 23)


async def test_a_step_is_recorded_once_per_day_and_the_transaction_goes_on(db):
    async def work(session):  # type: ignore[no-untyped-def]
        repo = CareRepository(session)
        first = await repo.record_step("wu", DAY, "prompt", NOW)
        again = await repo.record_step("wu", DAY, "prompt", NOW + timedelta(minutes=1))
        tomorrow = await repo.record_step("wu", DAY + timedelta(days=1), "prompt", NOW + timedelta(days=1))
        await repo.add_reply("wu", at=NOW + timedelta(minutes=20), kind="emoticon", text="", by_subject=True,
                             sender_id="wx")  # the session is still usable after the refused insert
        return first, again, tomorrow

    first, again, tomorrow = await db.run(work, what="test steps")
    assert first is not None and again is None and tomorrow is not None

    async def read(session):  # type: ignore[no-untyped-def]
        repo = CareRepository(session)
        return await repo.steps(["wu"], [DAY, DAY + timedelta(days=1)]), await repo.replies(["wu"], NOW)

    steps, replies = await db.run(read, what="test read")
    assert steps[("wu", DAY)]["prompt"].done_at == NOW and set(steps) == {("wu", DAY), ("wu", DAY + timedelta(days=1))}
    assert [(r.kind, r.by_subject) for r in replies] == [("emoticon", True)]


async def test_pauses_are_found_until_they_end(db):
    async def work(session):  # type: ignore[no-untyped-def]
        repo = CareRepository(session)
        await repo.add_pause("wu", start=DAY, end=DAY + timedelta(days=6), said_on=DAY, reason="去女儿家住",
                             text="我去女儿家住一周", sender_id="wx", at=NOW)
        return ([p.end_day for p in await repo.pauses(["wu"], DAY + timedelta(days=6))],
                await repo.pauses(["wu"], DAY + timedelta(days=7)))

    during, after = await db.run(work, what="test pauses")
    assert during == ["2026-11-29"] and after == []
