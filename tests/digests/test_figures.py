"""Digest figures against a hand-built day whose answers were worked out by hand (tests/digests/fixture.py)."""

from __future__ import annotations

from datetime import date

from bot.digests import DigestDesk
from bot.domain.digest import NodeCount, calendar_period
from tests.digests.fixture import NOW, TZ, build_day


async def figures(db, config, node="JQS", day=date(2026, 11, 22), kind="day"):
    period = calendar_period(kind, day, TZ)
    async with db.unit_of_work() as session:
        return await DigestDesk(session, config, NOW).figures(node, period, daily=True)


async def test_ticket_figures_for_the_whole_community(db, sample_config):
    await build_day(db, sample_config)
    t = (await figures(db, sample_config)).tickets
    assert (t.new, t.accepted, t.resolved, t.closed) == (5, 3, 3, 1)  # the cancelled one is not "closed"
    assert (t.open, t.overdue) == (3, 2)
    assert dict(t.by_category) == {"repair": 1, "safety": 2, "sanitation": 2}
    assert [u.number for u in t.urgent] == [2, 7]
    assert t.accept_median == 1800  # of 600, 1800, 7200 s
    assert t.resolve_median == 21600  # of 14400, 21600, 82800 s
    assert (t.on_time, t.judged) == (2, 3)  # #2 missed a deadline
    assert (t.own_level, t.escalated) == (2, 1)
    assert list(t.most_open) == [NodeCount("JQS-02-01", "老村东片自建房", 2), NodeCount("JQS-03-01", "通仙路北段", 1)]
    assert [c.code for c in t.most_overdue] == ["JQS-02-01", "JQS-03-01"]


async def test_people_and_daily_series(db, sample_config):
    await build_day(db, sample_config)
    result = await figures(db, sample_config)
    people = {p.key: (p.handled, p.on_time, p.open) for p in result.people}
    assert people == {"chen_li": (3, 2, 0), "zhou_qiang": (0, 0, 2), "wu_saifen": (0, 0, 1)}
    assert list(result.daily) == [(date(2026, 11, 22), 5, 3)]
    week = await figures(db, sample_config, kind="week")
    assert [d for d, _, _ in week.daily] == [date(2026, 11, 16 + i) for i in range(7)]
    assert {d: (n, r) for d, n, r in week.daily if n or r} == {date(2026, 11, 21): (2, 0), date(2026, 11, 22): (5, 3)}


async def test_notice_figures_count_households_by_tier(db, sample_config):
    await build_day(db, sample_config)
    n = (await figures(db, sample_config)).notices
    assert (n.sent, n.groups) == (1, 2)
    assert [(a.tier, a.groups, a.expected, a.acked) for a in n.by_tier] == [("微网格", 1, 2, 1), ("房东群", 1, 2, 0)]
    assert n.rate == 0.25
    assert [(g.code, g.rate) for g in n.lowest] == [("JQS-02-01-A", 0.0), ("JQS-01-03", 0.5)]
    before = (await figures(db, sample_config, day=date(2026, 11, 21))).notices
    assert (before.sent, before.rate) == (1, 1.0)


async def test_a_subtree_sees_only_its_own(db, sample_config):
    await build_day(db, sample_config)
    grid = await figures(db, sample_config, node="JQS-01")
    t = grid.tickets
    assert (t.new, t.resolved, t.open, t.overdue) == (2, 3, 0, 0)
    assert [u.number for u in t.urgent] == [2]
    assert [(a.tier, a.groups) for a in grid.notices.by_tier] == [("微网格", 1)]
    landlord = await figures(db, sample_config, node="JQS-02-01-A")
    assert landlord.tickets.new == 0 and landlord.notices.groups == 1


async def test_digest_text_compares_and_masks(db, sample_config):
    await build_day(db, sample_config)
    async with db.unit_of_work() as session:
        text, _ = await DigestDesk(session, sample_config, NOW).compose(
            "JQS", calendar_period("day", date(2026, 11, 22), TZ))
    assert text.startswith("【江桥社区·日报】11月22日")
    assert "新增 5 ↑3" in text  # 2 the day before
    assert "目前未办结 3｜其中超时 2" in text
    assert "受理用时中位 30分钟" in text and "按时办结 67%（2/3）" in text
    assert "本级办结 2（67%）｜上报办结 1（33%）" in text
    assert "#2 江桥花苑3号楼" in text and "13812345678" not in text
    assert "回执率 25% ↓75%" in text and "房东群 0%" in text
    assert "陈丽 3｜67%｜0" in text
