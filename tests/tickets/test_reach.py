"""Tickets a grid leader can trust: the assignee is reached where they are, no one handles a dispute against
themselves, urgent replies say what to do first and who else knows, escalations come paced and batched.

Scenario tests through the replay machinery (real parser, simulator, virtual clock), on both databases.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.config import load_config
from bot.domain.people import Directory
from bot.replay import Replay, parse_events
from storage.models import TicketEventRow

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)


def ev(at, room=None, sender=None, text="", type=None):
    data = {"at": at}
    if room:
        data.update(room=room, sender=sender, text=text)
    if type:
        data["type"] = type
    return json.dumps(data, ensure_ascii=False)


async def play(config, db_spec, lines, *, unbound=False):
    """Replay the events; `unbound`: people without a wechat_id get no simulator binding either (as on WeChat
    before they bind), so they can be reached only where the bot sees them in a group."""
    events = list(parse_events(lines, tz=TZ, start=START))
    replay = Replay(config, db_spec.database(), START)
    if unbound:
        replay.bot.directory = Directory(config.tree, config.people, config.roles)
    async with replay:
        for event in events:
            await replay.feed(event)
        await replay.finish(events[-1].at)

        async def timeline(session):  # type: ignore[no-untyped-def]
            return [(e.action, e.note) for e in await session.scalars(select(TicketEventRow).order_by(TicketEventRow.id))]

        events_out = await replay.database.run(timeline, what="test timeline")
        return replay.sent(), await replay.summary(), events_out


FIGHT = "1号楼楼下有人打架，拿着刀，快来人"


async def test_the_police_officer_is_reached_in_a_group_he_is_in_not_the_residents_one(sample_config, db_spec):
    sent, summary, _ = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", "江桥花苑1号楼微网格", "1-101 王芳", FIGHT)])
    [ticket] = summary["tickets"]
    assert ticket["assignee"] == "police_he"
    resident = [m for m in sent if m["room"] == "江桥花苑1号楼微网格"]
    assert resident and all("wxid_hejingguan" not in m["mentions"] and "@何警官" not in m["text"] for m in resident)
    assert "何警官（民警）负责" in resident[0]["text"]
    told = [m for m in sent if "wxid_hejingguan" in m["mentions"]]
    assert told and told[0]["room"] in ("江桥社区工作群", "江桥社区第一网格群")
    assert "@何警官" in told[0]["text"] and "#1001" in told[0]["text"] and "#受理 1001" in told[0]["text"]


async def test_a_handler_in_no_group_gets_a_private_message(sample_config, db_spec):
    sent, summary, _ = await play(sample_config, db_spec, [
        # the officer sits in the community's and every grid's group: he leaves them all
        ev("2026-11-23T09:00:00+08:00", "江桥社区工作群", "police_he", type="leave"),
        ev("+1m", "江桥社区第一网格群", "police_he", type="leave"),
        ev("+1m", "江桥社区第二网格群", "police_he", type="leave"),
        ev("+1m", "江桥社区第三网格群", "police_he", type="leave"),
        ev("+1m", "江桥花苑1号楼微网格", "1-101 王芳", FIGHT)])
    assert summary["tickets"][0]["assignee"] == "police_he"
    private = [m for m in sent if m["to"] == "wxid_hejingguan"]
    assert len(private) == 1 and "#1001" in private[0]["text"] and not private[0]["text"].startswith("@")
    assert not any("wxid_hejingguan" in m["mentions"] for m in sent)


async def test_an_unreachable_handler_is_passed_over_and_the_ticket_says_why(sample_config, db_spec):
    people = dict(sample_config.people)
    people["police_he"] = dataclasses.replace(people["police_he"], wechat_id=None)
    config = dataclasses.replace(sample_config, people=people)
    sent, summary, timeline = await play(config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", "江桥花苑1号楼微网格", "1-101 王芳", FIGHT)], unbound=True)
    [ticket] = summary["tickets"]
    assert ticket["assignee"] == "zhang_ayi"  # the micro-grid's own handler, in the residents' group
    assert any(action == "reroute" and "何警官" in note and "无法联系" in note and "张阿姨" in note
               for action, note in timeline)
    assert "@张阿姨（微网格长）负责" in sent[0]["text"] and "wxid_zhangayi" in sent[0]["mentions"]


async def test_a_tenants_dispute_with_her_landlord_goes_one_level_up(sample_config, db_spec):
    sent, summary, timeline = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", "东头12号房东租客群", "201 小刘",
           "房东陈老板不退我押金，已经搬走一个月了，怎么说都不给，麻烦社区帮忙协调")])
    [ticket] = summary["tickets"]
    assert ticket["category"] == "dispute" and ticket["assignee"] == "xu_dama"
    assert not any("wxid_chenlaoban" in m["mentions"] or "@陈老板" in m["text"] for m in sent)
    assert "@徐大妈（微网格长）负责" in sent[0]["text"]
    assert any(action == "reroute" and "陈老板（房东）" in note and "回避" in note for action, note in timeline)
    # its next escalation goes on up, never back to the landlord
    sent, summary, _ = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", "东头12号房东租客群", "201 小刘",
           "房东陈老板不退我押金，已经搬走一个月了，怎么说都不给，麻烦社区帮忙协调"), ev("+31m")])
    assert summary["tickets"][0]["assignee"] == "zhou_qiang"
    assert not any("wxid_chenlaoban" in m["mentions"] for m in sent)


async def test_a_dispute_not_about_the_landlord_stays_with_him(sample_config, db_spec):
    _, summary, _ = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", "东头12号房东租客群", "201 小刘",
           "楼上302天天半夜吵架摔东西，跟他们说了好几次也不听，影响我们休息")])
    [ticket] = summary["tickets"]
    assert ticket["assignee"] == "fd_chen"


async def test_urgent_replies_say_what_to_do_first_and_who_else_knows(sample_config, db_spec):
    sent, _, _ = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", "江桥花苑3号楼微网格", "3-201 王芳", "3号楼2单元燃气味很重，臭鸡蛋味"),
        ev("+1m", "江桥花苑1号楼微网格", "1-101 王芳", FIGHT)])
    gas = next(m for m in sent if m["room"] == "江桥花苑3号楼微网格")
    assert "开窗通风，不要开关电器，打燃气抢修或119" in gas["text"] and "已同时通知 陈丽（网格长）" in gas["text"]
    fight = next(m for m in sent if m["room"] == "江桥花苑1号楼微网格")
    assert "请先打110" in fight["text"] and "已同时通知 陈丽（网格长）" in fight["text"]


async def test_safety_advice_is_configurable(sample_config, db_spec):
    tickets = dataclasses.replace(sample_config.tickets, safety_advice={"燃气": "先关总阀，马上离开"})
    config = dataclasses.replace(sample_config, tickets=tickets)
    sent, _, _ = await play(config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", "江桥花苑3号楼微网格", "3-201 王芳", "3号楼2单元燃气味很重，臭鸡蛋味")])
    assert "先关总阀，马上离开" in sent[0]["text"] and "119" not in sent[0]["text"]


BREACHES = [
    ev("2026-11-23T09:00:00+08:00", "江桥花苑1号楼微网格", "1-101 王芳", "1号楼楼道的灯坏了好几天了，晚上黑漆漆的"),
    ev("+1m", "江桥花苑2号楼微网格", "2-301 钱多多", "2号楼楼道的灯坏了好几天了，晚上黑漆漆的"),
    ev("+1m", "江桥花苑3号楼微网格", "3-201 王芳", "3号楼楼道的灯坏了好几天了，晚上黑漆漆的"),
    ev("+1m", "江桥花苑5幢微网格", "5-601 林阿婆", "5幢楼下的垃圾桶好几天没人清了，臭得很"),
    ev("2026-11-23T09:45:00+08:00"),
]


def alerts_to_chen_li(sent):
    return [m for m in sent if "wxid_chenli" in m["mentions"] and "已升级到您" in m["text"]]


async def test_breaches_minutes_apart_come_to_the_handler_as_one_list(sample_config, db_spec):
    sent, summary, _ = await play(sample_config, db_spec, BREACHES)
    assert [t["escalation_level"] for t in summary["tickets"]] == [1, 1, 1, 1]
    alerts = alerts_to_chen_li(sent)
    assert len(alerts) == 2  # the first at once, the rest in one message at the end of the window
    assert "#1001" in alerts[0]["text"]
    assert all(f"#{n}" in alerts[1]["text"] for n in (1002, 1003, 1004)) and "3 张工单超时" in alerts[1]["text"]
    # every reporter still hears of their own ticket's escalation, once
    assert sum("已上报至" in m["text"] for m in sent) == 4


async def test_without_batching_each_breach_is_its_own_message(sample_config, db_spec):
    tickets = dataclasses.replace(sample_config.tickets, escalation_batch=timedelta(0))
    config = dataclasses.replace(sample_config, tickets=tickets)
    sent, _, _ = await play(config, db_spec, BREACHES)
    assert len(alerts_to_chen_li(sent)) == 4


def test_config_reads_safety_advice_and_batching_and_warns_of_unreachable_handlers(tmp_path):
    base = (Path(__file__).resolve().parents[2] / "config.yaml").read_text(encoding="utf-8")
    base = base.replace("police_he:    {name: 何警官, wechat_id: wxid_hejingguan}", "police_he:    {name: 何警官}")
    base = base.replace("  escalation_batch: 5m ", "  escalation_batch: 10m\n  safety_advice: {燃气: \"先关阀门\", 漏水: \"先关总闸\"}\n  # ")
    path = tmp_path / "config.yaml"
    path.write_text(base, encoding="utf-8")
    config = load_config(path, cache=False)
    assert config.tickets.escalation_batch.total_seconds() == 600
    assert config.tickets.safety_advice["燃气"] == "先关阀门" and config.tickets.safety_advice["漏水"] == "先关总闸"
    assert config.tickets.safety_advice["打架"] == "请先打110"  # the defaults stay
    assert any("何警官 (police_he) handle tickets but can be reached nowhere" in w for w in config.warnings)
