"""Honest figures: a ticket that missed its deadline stays overdue after escalation gave it a new one."""

from __future__ import annotations

from bot.digests import DigestDesk
from bot.domain.digest import calendar_period
from bot.replay import Replay, parse_events
from tests.tickets.test_scenarios import START, TZ, ev


async def test_an_escalated_gas_leak_still_counts_as_overdue(sample_config, db_spec):
    lines = [ev("2026-11-23T09:00:00+08:00", "江桥花苑3号楼微网格", "3-201 王芳", "楼道里好大的煤气味，谁家漏气了快来看看"),
             ev("+12m")]  # the urgent ticket's 10 minutes pass: it is escalated and given a new deadline
    events = list(parse_events(lines, tz=TZ, start=START))
    async with Replay(sample_config, db_spec.database(), START) as replay:
        for event in events:
            await replay.feed(event)
        await replay.finish(events[-1].at)
        [ticket] = (await replay.summary())["tickets"]
        assert ticket["urgency"] == "urgent" and ticket["escalated"]
        now = replay.clock.now()

        async def figures(session):  # type: ignore[no-untyped-def]
            period = calendar_period("day", now.astimezone(TZ).date(), TZ)
            return (await DigestDesk(session, sample_config, now).figures("JQS", period)).tickets

        tickets = await replay.bot.db.run(figures)
        assert tickets.open == 1 and tickets.overdue == 1  # not 0 because escalation moved its deadline
        for event in parse_events([ev("+1m", "江桥社区工作群", "li_hongmei", "#工单")], tz=TZ, start=now):
            await replay.feed(event)
        await replay.finish()
        overview = [m["text"] for m in replay.sent() if m["room"] == "江桥社区工作群" and "未办结" in m["text"]]
        assert overview and "⚠️超时" in overview[-1]
