"""The review queue end to end through replay (real parser, simulator, virtual clock), on both databases.

The thresholds are set in the config so that the real parser sends every likely report to review (ticket: 1.01, above any confidence);
that keeps the scenarios about the queue, not about where one message falls between the thresholds."""

from __future__ import annotations

import dataclasses
import json
import re

from bot.config import ReviewConfig
from bot.replay import Replay, parse_events
from tests.tickets.test_scenarios import START, TZ, ev

GROUP = "江桥花苑3号楼微网格"


def held_config(config, **review):
    # above any confidence: nothing opens a ticket by itself, every likely report is held for a leader
    return dataclasses.replace(config, review=ReviewConfig(**{"ticket": 1.01, "review": 0.05, **review}))


async def play(config, db_spec, lines, *, then=None):
    events = list(parse_events(lines, tz=TZ, start=START))
    async with Replay(config, db_spec.database(), START) as replay:
        for event in events:
            await replay.feed(event)
        await replay.finish(events[-1].at)
        sent, summary = replay.sent(), await replay.summary()
        more = None
        if then is not None:
            more = await then(replay, sent)
        return sent, summary, more


def dm(at, sender, text):
    return json.dumps({"at": at, "sender": sender, "text": text, "direct": True}, ensure_ascii=False)


def private(sent):
    return [m for m in sent if m["to"] is not None]


async def test_uncertain_report_is_held_then_registered_by_the_leader(sample_config, db_spec):
    config = held_config(sample_config)

    async def register(replay, sent):
        [listing] = [m for m in private(sent) if "待确认" in m["text"]]
        number = re.search(r"\[(\d+)\]", listing["text"]).group(1)
        for event in parse_events([dm("+5m", listing["to"], f"#登记 {number}")], tz=TZ,
                                  start=replay.clock.now()):
            await replay.feed(event)
        await replay.finish()
        return listing, replay.sent(), await replay.summary()

    sent, summary, (listing, after, final) = await play(config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", GROUP, "3-201 王芳", "楼道的灯坏了，晚上黑漆漆的"),
        ev("+2m"),
    ], then=register)
    assert summary["tickets"] == []
    assert not [m for m in sent if m["room"] == GROUP]  # nothing said in the group while held
    assert "楼道的灯坏了" in listing["text"] and "#登记" in listing["text"] and "#忽略" in listing["text"]
    [ticket] = final["tickets"]
    assert ticket["category"] == "repair" and ticket["node"].startswith("JQS-01")
    group = [m for m in after if m["room"] == GROUP]
    assert any("已登记为工单 #1001" in m["text"] and "@3-201 王芳" in m["text"] for m in group)
    assert any(m["to"] == listing["to"] and "登记为工单 #1001" in m["text"] for m in private(after))


async def test_dismissed_item_stays_quiet_and_cannot_be_decided_twice(sample_config, db_spec):
    config = held_config(sample_config)

    async def dismiss(replay, sent):
        [listing] = [m for m in private(sent) if "待确认" in m["text"]]
        number = re.search(r"\[(\d+)\]", listing["text"]).group(1)
        lines = [dm("+1m", listing["to"], f"#忽略 {number}"), dm("+1m", listing["to"], f"#登记 {number}"),
                 ev("+1m", GROUP, "3-201 王芳", f"#登记 {number}")]
        for event in parse_events(lines, tz=TZ, start=replay.clock.now()):
            await replay.feed(event)
        await replay.finish()
        return listing, replay.sent(), await replay.summary()

    _, _, (listing, after, final) = await play(config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", GROUP, "3-201 王芳", "楼道的灯坏了，晚上黑漆漆的"), ev("+2m"),
    ], then=dismiss)
    assert final["tickets"] == []
    answers = [m["text"] for m in private(after) if m["to"] == listing["to"]]
    assert any("已忽略" in t for t in answers) and any("已处理过" in t for t in answers)
    group = [m["text"] for m in after if m["room"] == GROUP]
    assert group and "负责人" in group[-1]  # the resident's own #登记 is refused, not carried out
    assert not any("已登记为工单" in t for t in group)


async def test_a_leader_gets_at_most_one_list_per_gather_window(sample_config, db_spec):
    config = held_config(sample_config)
    sent, _, _ = await play(config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", GROUP, "3-201 王芳", "楼道的灯坏了，晚上黑漆漆的"),
        ev("+5m", GROUP, "3-302 李强", "单元门的锁又坏了，关不上"),
        ev("+10m", GROUP, "3-401 赵六", "楼下垃圾桶满了两天没人收"),
        ev("+40m"),
    ])
    lists = [m for m in private(sent) if "待确认" in m["text"]]
    assert len(lists) == 2 and len({m["to"] for m in lists}) == 1
    first, second = lists
    assert "楼道的灯" in first["text"] and "单元门" not in first["text"]
    assert "单元门" in second["text"] and "垃圾桶" in second["text"]
    gap = (_at(second) - _at(first)).total_seconds()
    assert 30 * 60 <= gap <= 32 * 60


async def test_possibly_urgent_goes_to_the_leader_and_the_one_above_at_once(sample_config, db_spec):
    config = held_config(sample_config)
    sent, summary, _ = await play(config, db_spec, [
        ev("2026-11-23T23:30:00+08:00", GROUP, "3-201 王芳", "楼道里好大的煤气味，谁家漏气了快来看看"),
    ])
    assert summary["tickets"] == []
    alerts = [m for m in private(sent) if "可能紧急，请确认" in m["text"]]
    assert len(alerts) == 2 and len({m["to"] for m in alerts}) == 2
    assert all(m["at"].startswith("2026-11-23T23:30") for m in alerts)
    assert not [m for m in sent if m["room"] == GROUP]


async def test_a_possibly_urgent_item_once_told_is_not_listed_again(sample_config, db_spec):
    config = held_config(sample_config)
    sent, _, _ = await play(config, db_spec, [
        ev("2026-11-23T23:30:00+08:00", GROUP, "3-201 王芳", "楼道里好大的煤气味，谁家漏气了快来看看"),
        ev("2026-11-24T10:00:00+08:00"),  # long past every gathering of the night and the morning
    ])
    about = [m for m in private(sent) if "煤气味" in m["text"]]
    assert len(about) == 2 and all("可能紧急，请确认" in m["text"] for m in about)


def _at(message):
    from datetime import datetime
    return datetime.fromisoformat(message["at"])


async def test_the_daily_digest_lists_what_waits_for_review(sample_config, db_spec):
    from bot.digests import DigestDesk
    from bot.domain.digest import calendar_period, format_digest

    config = held_config(sample_config)

    async def digest(replay, sent):
        now = replay.clock.now()
        period = calendar_period("day", now.astimezone(config.tz).date(), config.tz)

        async def work(session):  # type: ignore[no-untyped-def]
            desk = DigestDesk(session, config, now)
            return [format_digest(await desk.figures(code, period), None, config.tz) for code in ("JQS", "JQS-02")]

        return await replay.bot.db.run(work)

    _, _, (community, other_grid) = await play(config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", GROUP, "3-201 王芳", "楼道的灯坏了，我电话13812345678"), ev("+2m"),
    ], then=digest)
    assert "待确认 1 条" in community and "楼道的灯坏了" in community and "13812345678" not in community
    assert "待确认" not in other_grid  # 第二网格 holds nothing
