"""Digests people keep reading: no digest for a period with nothing in it; people credited for what they did."""

from __future__ import annotations

import dataclasses
from datetime import date

from sqlalchemy import select

from bot.digests import DigestDesk
from bot.domain.digest import Schedule, calendar_period, is_empty
from storage.models import TicketEventRow, TicketRow
from tests.digests.fixture import NOW, TZ, at, build_day
from tests.digests.test_delivery import records, run_bot


def daily(config, **changes):
    return dataclasses.replace(config, digests=dataclasses.replace(
        config.digests, schedules=(Schedule.parse("day", "18:00"),), **changes))


async def test_a_day_with_nothing_in_it_sends_no_digest_but_is_settled(db, sample_config):
    assert sample_config.digests.skip_empty is True  # the default
    assert await run_bot(daily(sample_config), db, at(22, 17), at(22, 18, 30)) == []
    assert await records(db) == 5  # recorded as done: not owed again after a restart
    assert await run_bot(daily(sample_config), db, at(22, 19), at(22, 19, 30)) == []


async def test_skip_empty_off_sends_it_anyway(db, sample_config):
    sent = await run_bot(daily(sample_config, skip_empty=False), db, at(22, 17), at(22, 18, 30))
    assert len(sent) == 5 and all("新增 0" in m.text for m in sent)


async def test_a_busy_day_is_not_empty(db, sample_config):
    await build_day(db, sample_config)
    async with db.unit_of_work() as session:
        figures = await DigestDesk(session, sample_config, NOW).figures("JQS", calendar_period("day", date(2026, 11, 22), TZ))
        backlog = await DigestDesk(session, sample_config, NOW).figures("JQS", calendar_period("day", date(2026, 11, 10), TZ))
        quiet = await DigestDesk(session, sample_config, NOW).figures("JQS-01", calendar_period("day", date(2026, 11, 10), TZ))
    assert not is_empty(figures) and is_empty(quiet)
    assert not is_empty(backlog)  # nothing happened that day, but tickets are overdue now: worth reading


async def test_people_are_credited_for_what_they_did_not_for_the_node_they_hold(db, sample_config):
    await build_day(db, sample_config)
    async with db.unit_of_work() as session:
        first = await session.scalar(select(TicketRow).where(TicketRow.number == 1))
        # ticket 1 is assigned to 陈丽 (网格长) but 张阿姨 (微网格长) accepted and resolved it
        session.add_all([
            TicketEventRow(ticket_id=first.id, at=at(22, 8, 10), actor="张阿姨", action="accept",
                           from_state="new", to_state="accepted"),
            TicketEventRow(ticket_id=first.id, at=at(22, 12), actor="张阿姨", action="resolve",
                           from_state="accepted", to_state="resolved")])
    async with db.unit_of_work() as session:
        result = await DigestDesk(session, sample_config, NOW).figures("JQS", calendar_period("day", date(2026, 11, 22), TZ))
    people = {p.key: (p.accepted, p.handled, p.on_time, p.open) for p in result.people}
    assert people == {"chen_li": (1, 2, 1, 0), "zhang_ayi": (1, 1, 1, 0), "zhou_qiang": (1, 0, 0, 2),
                      "wu_saifen": (0, 0, 0, 1)}
