"""Scheduled digests go out exactly once per period and recipient: missed ones once, within grace; never twice."""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path
from datetime import timedelta

from sqlalchemy import func, select

from bot.app import GridBot
from bot.clock import VirtualClock
from bot.config import DigestConfig
from bot.domain.digest import Schedule
from bot.transport.simulator import SimulatorTransport
from storage.models import DigestDeliveryRow
from tests.digests.fixture import at, build_day

SECRETARIES_AND_LEADERS = {"wxid_lihongmei", "wxid_wangjianguo", "wxid_chenli", "wxid_zhouqiang", "wxid_wusaifen"}


async def run_bot(config, db, start, until, *, sim_clock=None):
    """Start a bot at `start`, let virtual time run to `until`, stop it; returns the digests it sent."""
    clock = sim_clock or VirtualClock(start)
    sim = SimulatorTransport.from_config(config, clock)
    bot = GridBot(config, sim, clock=clock, database=db, scheduler=False)
    await bot.start()
    try:
        await bot.settle(clock, until=until)
        await bot.settle(clock)
    finally:
        await bot.stop()
    return [m for m in sim.sent if not m.conversation.is_room]


async def records(db):
    async with db.unit_of_work() as session:
        return int(await session.scalar(select(func.count()).select_from(DigestDeliveryRow)))


def daily_only(config):
    return dataclasses.replace(config, digests=dataclasses.replace(
        config.digests, schedules=(Schedule.parse("day", "18:00"),), skip_empty=False))  # delivery, not content


async def test_the_evening_digest_reaches_each_recipient_once(db, sample_config):
    config = daily_only(sample_config)
    await build_day(db, config)
    sent = await run_bot(config, db, at(22, 17), at(22, 18, 30))
    assert sorted(m.conversation.id for m in sent) == sorted(SECRETARIES_AND_LEADERS)
    by_id = {m.conversation.id: m.text for m in sent}
    assert by_id["wxid_lihongmei"].startswith("【江桥社区·日报】11月21日18:00至11月22日18:00")
    assert by_id["wxid_chenli"].startswith("【第一网格（江桥花苑）·日报】")
    assert all(m.at >= at(22, 18) for m in sent)
    # a restart the same evening sends nothing again: the records are in the database
    assert await run_bot(config, db, at(22, 19), at(22, 21)) == []
    assert await records(db) == 5


async def test_a_digest_missed_while_down_goes_out_once_when_back(db, sample_config):
    config = daily_only(sample_config)
    assert await run_bot(config, db, at(22, 10), at(22, 11)) == []  # up in the morning, down before 18:00
    sent = await run_bot(config, db, at(22, 20), at(22, 20, 30))  # back at 20:00
    assert len(sent) == 5 and all(m.at < at(22, 20, 5) for m in sent)
    assert await run_bot(config, db, at(22, 21), at(22, 22)) == []
    assert await records(db) == 5


async def test_a_digest_missed_beyond_the_grace_period_is_not_sent(db, sample_config):
    config = daily_only(sample_config)
    assert await run_bot(config, db, at(22, 10), at(22, 11)) == []
    assert await run_bot(config, db, at(23, 1), at(23, 2)) == []  # 7 h after 18:00, grace is 6 h
    assert await records(db) == 0


async def test_no_digest_for_a_period_before_the_first_start(db, sample_config):
    config = daily_only(sample_config)
    assert await run_bot(config, db, at(22, 19), at(22, 20)) == []  # installed at 19:00: 18:00 was never owed
    sent = await run_bot(config, db, at(23, 17, 55), at(23, 18, 5))
    assert len(sent) == 5


async def test_the_weekly_digest_links_its_chart(db, sample_config, tmp_path):
    config = dataclasses.replace(sample_config, digests=DigestConfig(
        schedules=(Schedule.parse("week", "mon 08:00"),), leader_roles=(), charts_dir=str(tmp_path / "charts")))
    await build_day(db, config)
    sent = await run_bot(config, db, at(23, 7), at(23, 8, 30))
    texts = [m for m in sent if m.image is None]
    assert sorted(m.conversation.id for m in texts) == ["wxid_lihongmei", "wxid_wangjianguo"]
    images = [m for m in sent if m.image is not None]  # the simulator sends pictures: the chart follows the text
    assert sorted(m.conversation.id for m in images) == ["wxid_lihongmei", "wxid_wangjianguo"]
    text = texts[0].text
    assert text.startswith("【江桥社区·周报】11月16日至11月23日")
    link = next(line for line in text.splitlines() if line.startswith("📈 图表："))
    name = link.rsplit("/", 1)[1]
    png = (tmp_path / "charts" / name).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (1200, 800)
    assert all(Path(m.image).name == name for m in images)
    async with db.unit_of_work() as session:
        charts = list(await session.scalars(select(DigestDeliveryRow.chart)))
    assert len(charts) == 2 and charts[0] == charts[1] and charts[0].endswith(name)  # one chart, drawn once


async def test_digests_are_off_when_no_schedule(db, sample_config):
    config = dataclasses.replace(sample_config, digests=DigestConfig(schedules=()))
    assert await run_bot(config, db, at(22, 17), at(23, 9) + timedelta(hours=1)) == []
