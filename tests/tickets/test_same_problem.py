"""Only the same problem merges; leaders merge and split; "还是不亮" reopens; "看错了" withdraws (replay, both DBs)."""

from __future__ import annotations

from tests.tickets.test_scenarios import ev, play

ROOM = "江桥花苑3号楼微网格"  # JQS-01-03, 微网格长 黄敏 (huang_min)
UPPER = "江桥社区第一网格群"


def texts(sent, room=ROOM):
    return [m["text"] for m in sent if m["room"] == room]


def by_number(summary):
    return {t["number"]: t for t in summary["tickets"]}


async def test_another_problem_in_the_same_group_gets_its_own_ticket(sample_config, db_spec):
    sent, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", ROOM, "3-201 王芳", "3号楼停水了，一滴水都没有"),
        ev("+3m", ROOM, "3-302 李强", "我家也停水了，什么时候来水"),
        ev("+3m", ROOM, "3-1-201 马丽", "3号楼怎么又停水了，做饭都没法做"),
        ev("+5m", ROOM, "3-302 李强", "电梯又坏了，老人下不了楼"),
        ev("+2m", ROOM, "3-1-201 马丽", "+1"),  # right after the elevator report: joins it
    ])
    tickets = by_number(summary)
    assert sorted(tickets) == [1001, 1002]
    assert tickets[1001]["reporters"] == 3 and tickets[1002]["reporters"] == 2
    room = texts(sent)
    assert any("已登记为工单 #1002" in t and "李强" in t for t in room)
    assert not any("已有工单 #1001" in t and "共 4 人反映" in t for t in room)


async def test_a_plus_one_long_after_the_last_report_joins_nothing(sample_config, db_spec):
    _, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", ROOM, "3-201 王芳", "3号楼电梯又坏了，老人下不了楼"),
        ev("+45m", ROOM, "3-302 李强", "+1 我家也是"),
    ])
    assert summary["tickets"][0]["reporters"] == 1


async def test_leader_merges_two_tickets_and_splits_one_off(sample_config, db_spec):
    sent, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", ROOM, "3-201 王芳", "3号楼楼道灯坏了，晚上看不见"),
        ev("+5m", ROOM, "3-302 李强", "3号楼楼道里黑漆漆的，老人摔了一跤"),
        ev("+5m", ROOM, "黄敏", "#合并 1001 1002"),
    ])
    tickets = by_number(summary)
    assert tickets[1001]["reporters"] == 2 and tickets[1001]["state"] == "new"
    assert tickets[1002]["state"] == "closed"
    room = texts(sent)
    assert any("已合并到 #1001" in t and "共 2 人反映" in t and "查询 1001" in t for t in room)


async def test_leader_splits_off_the_last_reporter(sample_config, db_spec):
    sent, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", ROOM, "3-201 王芳", "3号楼电梯又坏了，老人下不了楼"),
        ev("+5m", ROOM, "3-302 李强", "+1 我家也是，好几天了"),  # joined by the bot; the leader knows better
        ev("+5m", ROOM, "3-1-201 马丽", "#拆分 1001"),  # a resident may not
        ev("+1m", ROOM, "黄敏", "#拆分 1001"),
    ])
    tickets = by_number(summary)
    assert tickets[1001]["reporters"] == 1 and tickets[1002]["reporters"] == 1
    room = texts(sent)
    assert any("只有网格负责人" in t for t in room)
    assert any("另立为工单 #1002" in t for t in room)
    assert any(t.startswith("@3-302 李强 已登记为工单 #1002") for t in room)


async def test_help_lists_merge_and_split(sample_config, db_spec):
    sent, _ = await play(sample_config, db_spec, [ev("2026-11-23T09:00:00+08:00", ROOM, "黄敏", "#帮助")])
    assert any("#合并 1024 1025" in t and "#拆分 1024" in t for t in texts(sent))


async def test_anyone_in_the_group_reopens_a_ticket_not_fixed(sample_config, db_spec):
    sent, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", ROOM, "3-201 王芳", "3号楼楼道灯坏了，晚上看不见"),
        ev("+5m", ROOM, "黄敏", "#受理 1001"),
        ev("+2h", ROOM, "黄敏", "#办结 1001 已换灯泡"),
        ev("+1d", ROOM, "3-302 李强", "还是不亮啊"),  # not the reporter
        ev("+3d"), ev("+1h"),
    ])
    [ticket] = summary["tickets"]
    assert ticket["state"] == "reopened" and ticket["reporters"] == 1
    room = [m for m in sent if m["room"] == ROOM]
    reopened = [m for m in room if "已重新打开" in m["text"]]
    assert reopened and "@黄敏" in reopened[-1]["text"] and "wxid_huangmin" in reopened[-1]["mentions"]
    assert not any("自动关闭" in m["text"] and "已关闭" in m["text"] for m in sent)


async def test_a_closed_ticket_reopens_within_the_window_and_auto_close_says_why(sample_config, db_spec):
    sent, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", ROOM, "3-201 王芳", "3号楼电梯又坏了，老人下不了楼"),
        ev("+5m", ROOM, "黄敏", "#办结 1001 电梯公司修好了"),
        ev("+10m", ROOM, "3-201 王芳", "好了，谢谢"),
        ev("+1d", ROOM, "3-1-201 马丽", "电梯又坏了"),  # a day after: the same ticket again, not a new one
        ev("+5m", ROOM, "3-302 李强", "3号楼楼道灯坏了"),
        ev("+5m", ROOM, "黄敏", "#办结 1002 换了灯泡"),
        ev("+3d"), ev("+1h"),
    ])
    tickets = by_number(summary)
    assert sorted(tickets) == [1001, 1002]
    assert tickets[1001]["state"] == "reopened" and tickets[1002]["state"] == "closed"
    assert any("#1002" in t and "3天无人回复，自动关闭" in t for t in texts(sent))


async def test_reopen_window_is_configurable(sample_config, db_spec):
    import dataclasses
    from datetime import timedelta

    config = dataclasses.replace(sample_config, tickets=dataclasses.replace(
        sample_config.tickets, reopen_window=timedelta(hours=12)))
    _, summary = await play(config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", ROOM, "3-201 王芳", "3号楼电梯又坏了，老人下不了楼"),
        ev("+5m", ROOM, "黄敏", "#办结 1001 电梯公司修好了"),
        ev("+10m", ROOM, "3-201 王芳", "好了，谢谢"),
        ev("+1d", ROOM, "3-1-201 马丽", "电梯又坏了，老人下不了楼"),
    ])
    tickets = by_number(summary)
    assert tickets[1001]["state"] == "closed" and 1002 in tickets


async def test_false_alarm_withdrawn_by_the_reporter(sample_config, db_spec):
    sent, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", ROOM, "3-201 王芳", "3号楼楼道里有个老人摔倒了，起不来，快来人帮忙"),
        ev("+3m", ROOM, "3-201 王芳", "不好意思 看错了，已经被朋友扶走了"),
    ])
    [ticket] = summary["tickets"]
    assert ticket["state"] == "cancelled"
    room = texts(sent)
    assert any("工单 #1001 已撤销" in t for t in room)
    assert any("#1001" in t and "不用再处理" in t for t in room + texts(sent, UPPER))
    assert any("不用再处理" in t for t in texts(sent, UPPER))


async def test_settled_after_acceptance_closes_and_late_words_do_not(sample_config, db_spec):
    sent, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", ROOM, "3-201 王芳", "3号楼停水了，一滴水都没有"),
        ev("+5m", ROOM, "黄敏", "#受理 1001"),
        ev("+30m", ROOM, "3-201 王芳", "已经好了，来水了，不用了"),
        ev("+1h", ROOM, "3-302 李强", "3号楼电梯坏了，老人下不了楼"),
        ev("+3h", ROOM, "3-302 李强", "没事了"),  # past withdraw_window (2h): nothing changes
    ])
    tickets = by_number(summary)
    assert tickets[1001]["state"] == "closed" and tickets[1002]["state"] == "new"
    assert sorted(tickets) == [1001, 1002]
