"""The daily 报平安 on the sample config (吴奶奶, 1-1-601): a day without an answer escalates step by step to an
urgent ticket; an answer stops everything; a stay away pauses it; `#走访` counts in the month's coverage.

Scenario tests through the replay machinery (simulator, virtual clock, real jobs), on both databases.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.care import Visit, coverage
from bot.replay import Event, Replay
from storage.care_repository import CareRepository
from storage.ticket_repository import TicketRepository

TZ = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 11, 23, 7, 0, tzinfo=TZ)  # a Monday
GRANNY = "wxid_wunainai"
SON = "wxid_wuqiang"
STAIRWAY = "wxid_qianlaoshi"  # 钱老师, 楼道长 of 1号楼1单元
GRID = "wxid_chenli"  # 陈丽, 网格长 of 第一网格
MICRO = "wxid_zhangayi"  # 张阿姨, 微网格长 of 1号楼, responsible for 吴奶奶


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    return (DAY + timedelta(days=day)).replace(hour=hour, minute=minute)


def local(message: dict) -> datetime:
    return datetime.fromisoformat(message["at"]).astimezone(TZ)


def to(sent: list[dict], contact: str) -> list[dict]:
    return [m for m in sent if m["to"] == contact]


def care_lines(sent: list[dict]) -> list[dict]:
    """What was said about 吴奶奶's check-in (the bot's other chatter, and the day's reminder of overdue visits
    (tests/care/test_visit_reminders.py), left out)."""
    return [m for m in sent if ("吴奶奶" in m["text"] or "独居老人" in m["text"]) and "该去看看了" not in m["text"]]


async def test_a_day_without_an_answer_goes_step_by_step_to_an_urgent_ticket(care_config, db_spec):
    async with Replay(care_config, db_spec.database(), DAY) as replay:
        await replay.finish(at(13, 0))
        sent = replay.sent()

        async def tickets(session):  # type: ignore[no-untyped-def]
            return await TicketRepository(session).all_by_number()

        opened = await replay.database.run(tickets, what="test tickets")
    [prompt] = to(sent, GRANNY)
    assert prompt["text"] == "吴奶奶，今天好吗？回复 1 报平安"
    assert at(9, 0) <= local(prompt) < at(9, 2)
    [look_in] = [m for m in to(sent, STAIRWAY) if "报平安" in m["text"]]
    assert at(11, 0) <= local(look_in) < at(11, 2)
    assert "吴奶奶（1号楼1单元 1-1-601）" in look_in["text"] and "上门" in look_in["text"]
    [son] = [m for m in to(sent, SON) if "报平安未回复" in m["text"]]
    [leader] = [m for m in to(sent, GRID) if "报平安未回复" in m["text"]]
    assert at(11, 30) <= local(son) < at(11, 32) and son["text"] == leader["text"]
    assert "已请钱老师上门查看" in son["text"]
    [ticket] = opened
    assert ticket.urgency == "urgent" and "独居老人无法联系" in ticket.text and "吴奶奶" in ticket.text
    assert ticket.node_code == "JQS-01"  # the grid leader's node: its groups are work groups
    told = [m for m in sent if f"#{ticket.number}" in m["text"]]
    assert told and min(local(m) for m in told) >= at(12, 0)
    assert any(m["to"] == SON and "紧急工单" in m["text"] for m in told)
    # nothing about her in any residents' group: only privately, or in the grid's and community's work groups
    rooms = {m["room"] for m in care_lines(sent) if m["room"]}
    assert rooms <= {"江桥社区第一网格群", "江桥社区工作群"}, rooms
    # each step once
    assert len(to(sent, GRANNY)) == 1 and len([m for m in care_lines(sent) if "上门或打个电话" in m["text"]]) == 1


async def test_an_answer_at_twenty_past_nine_ends_the_day(care_config, db_spec):
    async with Replay(care_config, db_spec.database(), DAY) as replay:
        await replay.feed(Event(at=at(9, 20)))
        await replay.sim.post_direct(GRANNY, "吴奶奶", "👍")
        await replay.finish(at(14, 0))
        sent = replay.sent()
    assert [m["text"] for m in to(sent, GRANNY)] == ["吴奶奶，今天好吗？回复 1 报平安", "收到，谢谢吴奶奶！祝您一天顺心。"]
    assert [m for m in care_lines(sent) if m["to"] != GRANNY] == []


async def test_a_late_answer_stands_the_helpers_down(care_config, db_spec):
    async with Replay(care_config, db_spec.database(), DAY) as replay:
        await replay.feed(Event(at=at(11, 10)))
        await replay.sim.post_direct(GRANNY, "吴奶奶", "1")
        await replay.finish(at(14, 0))
        sent = replay.sent()
    [down] = [m for m in to(sent, STAIRWAY) if "不用再跑" in m["text"]]
    assert down["text"] == "吴奶奶 11:10 已报平安，不用再跑了，谢谢您！"
    assert not [m for m in sent if "报平安未回复" in m["text"] or "紧急工单" in m["text"]]


async def test_the_stairway_leader_seeing_her_counts(care_config, db_spec):
    async with Replay(care_config, db_spec.database(), DAY) as replay:
        await replay.feed(Event(at=at(11, 15)))
        await replay.sim.post_direct(STAIRWAY, "钱老师", "见到了，在家挺好的")
        await replay.finish(at(14, 0))
        sent = replay.sent()
    assert [m["text"] for m in to(sent, STAIRWAY)][-1] == "谢谢您！已记下吴奶奶平安，其他人不用再跑了。"
    assert not [m for m in sent if "报平安未回复" in m["text"] or "紧急工单" in m["text"]]


async def test_no_one_at_the_door_is_no_answer(care_config, db_spec):
    async with Replay(care_config, db_spec.database(), DAY) as replay:
        await replay.feed(Event(at=at(11, 15)))
        await replay.sim.post_direct(STAIRWAY, "钱老师", "敲门没人开，电话也打不通")
        await replay.finish(at(11, 45))
        sent = replay.sent()
    assert [m for m in to(sent, SON) if "报平安未回复" in m["text"]]


async def test_a_week_at_her_daughters_pauses_then_it_resumes(care_config, db_spec):
    async with Replay(care_config, db_spec.database(), DAY) as replay:
        await replay.feed(Event(at=at(9, 5)))
        await replay.sim.post_direct(GRANNY, "吴奶奶", "我去女儿家住一周")
        await replay.feed(Event(at=at(9, 10, day=7)))
        await replay.sim.post_direct(GRANNY, "吴奶奶", "回来了")
        await replay.finish(at(10, 0, day=8))
        sent = replay.sent()
    print("\n".join(f"{m['at'][:16]} {m['to']} | {m['text']}" for m in sent))
    mine = to(sent, GRANNY)
    assert "11月23日到11月29日" in mine[1]["text"] and "不用报平安" in mine[1]["text"]
    prompts = [local(m).date() for m in mine if m["text"].endswith("回复 1 报平安")]
    assert prompts == [at(9).date(), at(9, day=7).date(), at(9, day=8).date()]  # none from the 24th to the 29th
    assert not [m for m in care_lines(sent) if m["to"] != GRANNY]  # a pause is no silence to worry about


async def test_a_visit_is_recorded_and_counted(care_config, db_spec):
    async with Replay(care_config, db_spec.database(), DAY) as replay:
        await replay.feed(Event(at=at(10), room="江桥花苑5幢微网格", sender="zhao_jie",
                                text="#走访 5-601 已上门，身体好，药够吃"))
        await replay.feed(Event(at=at(10, 5), room="江桥花苑5幢微网格", sender="1-101 王芳", text="#走访 5-601 看过了"))
        await replay.feed(Event(at=at(10, 10), sender="zhao_jie", text="#走访 9-901 在家"))
        await replay.finish(at(10, 30))
        sent = replay.sent()

        async def visits(session):  # type: ignore[no-untyped-def]
            return await CareRepository(session).visits(["lin_apo", "wu_nainai"])

        rows = await replay.database.run(visits, what="test visits")
    print("\n".join(f"{m['at'][:16]} {m['room'] or m['to']} | {m['text']}" for m in sent))
    [ack] = [m for m in to(sent, "wxid_zhaojie") if "已记录" in m["text"]]
    assert ack["text"] == "已记录 11月23日 走访：5-601 林阿婆（已上门，身体好，药够吃）。"
    assert not [m for m in sent if m["room"] and "林阿婆" in m["text"]]  # never echoed into the group
    assert [m["text"] for m in to(sent, "sim:1-101 王芳")][0].startswith("#走访 / #电访 是关爱责任人")
    assert "没有找到：9-901" in to(sent, "wxid_zhaojie")[-1]["text"]
    assert [(r.entry_key, r.by, r.kind) for r in rows] == [("lin_apo", "zhao_jie", "visit")]
    entries = [r.entry for r in care_config.care.residents]
    stored = [Visit(r.entry_key, r.at, r.kind, r.by, r.note) for r in rows]
    assert coverage(entries, stored, at(12).date()) == (2, 1)


async def test_a_restart_neither_repeats_nor_misses_a_step(care_config, db_spec):
    async with Replay(care_config, db_spec.database(), DAY) as replay:
        await replay.finish(at(11, 5))
        before = replay.sent()
    # the bot is down from 11:05 to 11:50: it comes back, asks nobody twice, and catches up on what is due
    async with Replay(care_config, db_spec.database(), at(11, 50)) as replay:
        await replay.finish(at(13, 0))
        after = replay.sent()
    assert len(to(before, GRANNY)) == 1 and len([m for m in to(before, STAIRWAY) if "报平安" in m["text"]]) == 1
    assert not to(after, GRANNY) and not [m for m in to(after, STAIRWAY) if "上门或打个电话" in m["text"]]
    [son] = [m for m in to(after, SON) if "报平安未回复" in m["text"]]
    assert at(11, 50) <= local(son) < at(11, 52)
    assert [m for m in to(after, SON) if "紧急工单" in m["text"]]


async def test_in_the_group_she_is_asked_there_and_her_answer_there_counts(care_config, db_spec):
    [wu, *others] = care_config.care.residents
    assert wu.check_in is not None
    group = dataclasses.replace(wu, check_in=dataclasses.replace(wu.check_in, channel="group"))
    config = dataclasses.replace(care_config, care=dataclasses.replace(care_config.care,
                                                                         residents=(group, *others)))
    async with Replay(config, db_spec.database(), DAY) as replay:
        await replay.feed(Event(at=at(9, 30)))
        room = replay.sim.find_room("1号楼1单元楼道群")
        await replay.sim.post(room.id, GRANNY, "好着呢", sender_name="1-1-601 吴奶奶")
        await replay.finish(at(13, 0))
        sent = replay.sent()
    [prompt] = [m for m in sent if m["room"] == "1号楼1单元楼道群"]
    assert prompt["text"] == "@1-1-601 吴奶奶 今天好吗？回复 1 报平安" and prompt["mentions"] == [GRANNY]
    assert not to(sent, GRANNY) and not to(sent, STAIRWAY)


async def test_the_evening_digest_tells_leaders_with_a_care_duty_the_months_visits(care_config, db_spec):
    async with Replay(care_config, db_spec.database(), DAY) as replay:
        await replay.feed(Event(at=at(10), sender="zhao_jie", text="#走访 5-601 已上门，身体好"))
        await replay.finish(at(18, 30))  # 吴奶奶 does not answer either: an urgent ticket makes the day's digest
        sent = replay.sent()
    digests = {m["to"]: m["text"] for m in sent if m["text"].startswith("【")}
    assert "本月应访 2 户，已访 1 户（50%）" in digests[GRID]  # 陈丽, 网格长 of 第一网格
    assert "1-1-601 吴奶奶：还没有走访记录" in digests[GRID]
    assert "本月应访 2 户，已访 1 户" in digests["wxid_lihongmei"]  # 社区书记
    # 周强 leads the second grid, where nobody is in the ledger: no care line, no names
    assert all("关爱" not in text and "吴奶奶" not in text for key, text in digests.items() if key == "wxid_zhouqiang")
