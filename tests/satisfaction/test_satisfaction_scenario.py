"""Satisfaction through the whole bot: a closed ticket's reporter is asked once, where they reported; 不满意
reopens the ticket and passes it one level up with the reason; 满意 is recorded. Virtual clock, both databases."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.config.schema import SatisfactionConfig
from bot.digests import DigestDesk
from bot.domain.digest import calendar_period
from bot.replay import Replay, parse_events
from storage.models import SatisfactionRow, TicketEventRow, TicketRow

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
GROUP = "江桥花苑1号楼微网格"  # 微网格长 张阿姨 handles it; the grid above is 陈丽's
QUESTION = "对处理结果满意吗？回复 1满意 2一般 3不满意"


def ev(at, room=None, sender=None, text="", direct=False):
    data = {"at": at}
    if sender:
        data.update(sender=sender, text=text)
    if room:
        data["room"] = room
    if direct:
        data["direct"] = True
    return json.dumps(data, ensure_ascii=False)


async def play(config, db_spec, lines, *, digest_for=()):
    events = list(parse_events(lines, tz=TZ, start=START))
    replay = Replay(config, db_spec.database(), START)
    async with replay:
        for event in events:
            await replay.feed(event)
        await replay.finish(events[-1].at)

        async def stored(session):  # type: ignore[no-untyped-def]
            rows = list(await session.scalars(select(SatisfactionRow).order_by(SatisfactionRow.id)))
            tickets = list(await session.scalars(select(TicketRow).order_by(TicketRow.number)))
            events = [(e.action, e.note) for e in await session.scalars(select(TicketEventRow).order_by(TicketEventRow.id))]
            return rows, tickets, events

        rows, tickets, events = await replay.database.run(stored, what="test satisfaction")
        if digest_for:
            period = calendar_period("day", START.date(), TZ)

            async def digests(session):  # type: ignore[no-untyped-def]
                desk = DigestDesk(session, config, replay.clock.now())
                return [(await desk.compose(code, period))[0] for code in digest_for]

            return await replay.database.run(digests, what="test digest")
        return replay.sent(), rows, tickets, events


def fixed_and_confirmed(report_at="2026-11-23T09:00:00+08:00"):
    return [ev(report_at, GROUP, "1-101 王芳", "1号楼3楼楼道灯坏了，晚上很黑"),
            ev("+10m", GROUP, "张阿姨", "#受理 1001"),
            ev("+1h", GROUP, "张阿姨", "#办结 1001 已更换灯泡"),
            ev("+5m", GROUP, "1-101 王芳", "好了，谢谢")]


async def test_a_dissatisfied_reporter_reopens_the_ticket_one_level_up_with_the_reason(sample_config, db_spec):
    sent, [row], [ticket], events = await play(sample_config, db_spec, [
        *fixed_and_confirmed(),
        ev("+1h", GROUP, "1-101 王芳", "3 灯还是不亮"),
        ev("+5m")])
    asked = [m for m in sent if QUESTION in m["text"]]
    assert len(asked) == 1 and asked[0]["room"] == GROUP and asked[0]["text"].startswith("@1-101 王芳 您反映的")
    assert asked[0]["at"].startswith("2026-11-23T10:45")  # ask_after (30m) after the close at 10:15
    assert row.state == "answered" and row.score == 3 and row.reopened and row.answer == "3 灯还是不亮"
    assert ticket.state == "reopened" and ticket.escalation_level == 1 and ticket.assignee == "chen_li"
    assert ("reopen", "居民评价不满意（灯还是不亮）") in events
    assert any(action == "escalate" and "灯还是不亮" in (note or "") for action, note in events)
    told = [m for m in sent if m["room"] == GROUP and m["at"].startswith("2026-11-23T11:15")]
    assert len(told) == 1  # the reopen and who has it now, in one message
    assert "已重新打开" in told[0]["text"] and "已上报至第一网格（江桥花苑）（陈丽）" in told[0]["text"]
    assert any("wxid_chenli" in m["mentions"] and "灯还是不亮" in m["text"] for m in sent)


async def test_a_satisfied_reporter_is_recorded_and_nobody_is_asked_twice(sample_config, db_spec):
    sent, rows, [ticket], _ = await play(sample_config, db_spec, [
        *fixed_and_confirmed(),
        ev("+1h", GROUP, "1-101 王芳", "挺好的，谢谢张阿姨"),
        ev("+1m", GROUP, "1-101 王芳", "1"),  # answered already: not a second rating
        # reopened by someone else and closed again: the reporter is still not asked again
        ev("+1h", GROUP, "张阿姨", "#重开 1001"),
        ev("+5m", GROUP, "张阿姨", "#办结 1001 换了开关"),
        ev("+5m", GROUP, "1-101 王芳", "好了"),
        ev("+6h")])
    assert [(r.reporter_id, r.state, r.score) for r in rows] == [(rows[0].reporter_id, "answered", 1)]
    assert sum(QUESTION in m["text"] for m in sent) == 1
    assert any(m["text"] == "@1-101 王芳 感谢您的评价！有问题随时在群里说。" for m in sent)
    assert ticket.state == "closed"


async def test_a_private_reporter_is_asked_privately(sample_config, db_spec):
    sent, [row], [ticket], _ = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", None, "小李", "我家门口的垃圾好几天没人收了", direct=True),
        ev("+1m", None, "小李", "1号楼", direct=True),
        ev("+5m", GROUP, "张阿姨", "#办结 1001 已清运"),
        ev("+5m", None, "小李", "好了", direct=True),
        ev("+1h", None, "小李", "2", direct=True),
        ev("+5m")])
    asked = [m for m in sent if QUESTION in m["text"]]
    assert len(asked) == 1 and asked[0]["room"] is None and asked[0]["to"] == row.to_id
    assert not asked[0]["text"].startswith("@")
    assert row.to_kind == "contact" and row.score == 2 and not row.reopened and ticket.state == "closed"


async def test_a_merged_ticket_is_not_asked_about_its_reporters_are_asked_about_the_one_it_joined(
        sample_config, db_spec):
    sent, rows, _, _ = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", GROUP, "1-101 王芳", "1号楼电梯坏了"),
        ev("+1m", GROUP, "1-202 李强", "1号楼3楼楼道灯坏了"),
        ev("+5m", GROUP, "张阿姨", "#合并 1001 1002"),
        ev("+5m", GROUP, "张阿姨", "#关闭 1001"),
        ev("+2h")])
    # #1002 joined #1001: both reporters are asked about #1001 (each once), nobody about #1002
    asked = [m["text"] for m in sent if QUESTION in m["text"]]
    assert len(asked) == 2 and all("（#1001）" in t for t in asked)
    assert {t.split(" 您反映")[0] for t in asked} == {"@1-101 王芳", "@1-202 李强"}
    assert sorted((r.ticket_number, r.state) for r in rows) == [(1001, "asked"), (1001, "asked"), (1002, "skipped")]


async def test_nothing_is_asked_when_switched_off(sample_config, db_spec):
    off = dataclasses.replace(sample_config, satisfaction=SatisfactionConfig(enabled=False))
    sent, rows, _, _ = await play(off, db_spec, [*fixed_and_confirmed(), ev("+2h")])
    assert not rows and not any(QUESTION in m["text"] for m in sent)


async def test_the_digest_counts_the_answers_per_handler_and_node(sample_config, db_spec):
    other = "江桥花苑2号楼微网格"  # 刘叔's
    whole, one_grid = await play(sample_config, db_spec, [
        *fixed_and_confirmed(),
        ev("+1m", other, "2-301 钱多多", "2号楼门口下水道堵了"),
        ev("+5m", other, "刘叔", "#办结 1002 已疏通"),
        ev("+5m", other, "2-301 钱多多", "好了"),
        ev("+1h", GROUP, "1-101 王芳", "1"),
        ev("+1m", other, "2-301 钱多多", "不满意，臭味还在"),
        ev("+10m")], digest_for=("JQS", "JQS-01-02"))
    assert "😊 满意度：2 条评价，满意 50%" in whole
    assert "按负责人：刘叔 0%（1条）、张阿姨 100%（1条）" in whole
    assert "按网格：江桥花苑1号楼 100%（1条）、江桥花苑2号楼 0%（1条）" in whole
    assert "😊 满意度：1 条评价，满意 0%" in one_grid and "按负责人" not in one_grid
