"""Tickets a grid leader can trust: accept by answering, private reports, several problems, deadlines, wording."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.replay import Replay, parse_events

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)


async def play(config, db_spec, lines):
    events = list(parse_events(lines, tz=TZ, start=START))
    async with Replay(config, db_spec.database(), START) as replay:
        for event in events:
            await replay.feed(event)
        await replay.finish(events[-1].at)
        return replay.sent(), await replay.summary()


def ev(at, room=None, sender=None, text="", direct=False):
    data = {"at": at}
    if room or sender:
        data.update(room=room, sender=sender, text=text)
    if direct:
        data["direct"] = True
    return json.dumps(data, ensure_ascii=False)


async def test_an_earlier_deadline_wakes_the_deadline_job(sample_config, db_spec):
    sent, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", "老村南街微网格", "南街7号 刘婶", "南街的垃圾桶满了三天没人收"),  # due 09:30
        ev("+5m", "西巷3号房东群", "301 小杨", "楼道里好大的煤气味，谁家漏气了快来看看"),  # urgent: due 09:15
        ev("+30m"),
    ])
    urgent = next(t for t in summary["tickets"] if t["urgency"] == "urgent")
    assert urgent["escalated"]
    number = urgent["number"]
    escalations = [m for m in sent if f"#{number}" in m["text"] and "已上报" in m["text"]]
    assert escalations and escalations[0]["at"] < "2026-11-23T09:17", escalations


async def test_others_answers_do_not_accept(sample_config, db_spec):
    sent, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", "江桥花苑3号楼微网格", "3-201 王芳", "3号楼电梯又坏了，老人下不了楼"),
        ev("+1m", "江桥花苑3号楼微网格", "3-302 李强", "收到"),          # a resident: not an acceptance
        ev("+1m", "江桥花苑3号楼微网格", "钱老师", "好的我去看看"),       # not this ticket's handler
    ])
    assert summary["tickets"][0]["state"] == "new"
    opened = next(m for m in sent if "已登记为工单 #1001" in m["text"])
    handler = summary["tickets"][0]["assignee"]
    name = sample_config.people[handler].name
    assert f"@{name}" in opened["text"]


async def test_the_handler_accepts_by_answering_in_the_group(sample_config, db_spec):
    handler = "huang_min"
    sent, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", "江桥花苑3号楼微网格", "3-201 王芳", "3号楼电梯又坏了，老人下不了楼"),
        ev("+2m", "江桥花苑3号楼微网格", handler, "收到 马上去"),
        ev("+40m"),
    ])
    [ticket] = summary["tickets"]
    assert ticket["state"] == "accepted" and not ticket["escalated"]
    assert any("#1001" in m["text"] and "已受理" in m["text"] for m in sent)


async def test_the_handler_accepts_by_a_quote_reply(sample_config, db_spec):
    quote = "「微格助手：@王芳 已登记为工单 #1001（维修·一般）。」\n- - - - - - - - - - - - - - -\n马上到"
    _, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", "江桥花苑3号楼微网格", "3-201 王芳", "3号楼电梯又坏了，老人下不了楼"),
        ev("+2m", "江桥花苑3号楼微网格", "huang_min", quote),
    ])
    assert summary["tickets"][0]["state"] == "accepted"


async def test_the_handler_accepts_by_answering_privately(sample_config, db_spec):
    sent, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", "江桥花苑3号楼微网格", "3-201 王芳", "3号楼电梯又坏了，老人下不了楼"),
        ev("+2m", None, "huang_min", "好的，我这就去", direct=True),
    ])
    assert summary["tickets"][0]["state"] == "accepted"
    assert any(m["to"] == "wxid_huangmin" and "已受理" in m["text"] for m in sent), sent


def test_acceptance_words():
    from bot.domain.tickets import is_acceptance, quoted_ticket, split_quote

    for text in ("收到 马上去", "好的我去看看", "马上到", "收到", "OK 这就去", "@微格助手 好的"):
        assert is_acceptance(text), text
    for text in ("好了", "已经修好了", "马上到吗？", "去不了", "楼道灯坏了", "好的" * 20):
        assert not is_acceptance(text), text
    quoted, answer = split_quote("「微格助手：工单 #1024 …」\n- - - - -\n收到")
    assert answer == "收到" and quoted_ticket(quoted) == 1024
    assert split_quote("收到") == (None, "收到")


async def test_several_problems_become_several_tickets_in_one_reply(sample_config, db_spec):
    sent, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", "江桥花苑3号楼微网格", "3-201 王芳",
           "反映两个事：一是3号楼电梯又坏了，老人下不了楼；二是楼下的垃圾桶满了三天没人收"),
    ])
    assert len(summary["tickets"]) == 2
    assert {t["category"] for t in summary["tickets"]} >= {"repair"}
    answers = [m for m in sent if m["room"] == "江桥花苑3号楼微网格" and "@3-201 王芳" in m["text"]]
    assert len(answers) == 1 and "#1001" in answers[0]["text"] and "#1002" in answers[0]["text"]


async def test_one_report_in_two_sentences_stays_one_ticket(sample_config, db_spec):
    _, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", "东头12号房东租客群", "201 小刘", "3楼楼道的灯坏了好几天了。晚上黑漆漆的，灯一直不亮。"),
    ])
    assert len(summary["tickets"]) == 1


def test_split_reports_on_the_text():
    from bot.domain.parsing.split import split_reports

    assert split_reports("反映两个事：一是3号楼灯坏了，二是垃圾没人收").parts == ("3号楼灯坏了", "垃圾没人收")
    assert split_reports("电梯坏了，还有楼道灯也不亮").marked
    assert split_reports("电梯坏了。另外门口垃圾没人收").parts == ("电梯坏了", "门口垃圾没人收")
    assert split_reports("3楼楼道的灯坏了好几天了，晚上黑漆漆的").parts == ("3楼楼道的灯坏了好几天了，晚上黑漆漆的",)


async def test_a_private_report_becomes_a_ticket_at_the_residents_node(sample_config, db_spec):
    sent, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", None, "3-302 李强", "3号楼电梯又坏了，老人下不了楼", direct=True),
        ev("+5m", "江桥花苑3号楼微网格", "huang_min", "#受理 1001"),
    ])
    [ticket] = summary["tickets"]
    assert ticket["node"] == "JQS-01-03" or ticket["node"].startswith("JQS-01-03"), ticket
    assert ticket["state"] == "accepted"
    private = [m for m in sent if m["room"] is None and m["to"] == sent[0]["to"]]
    assert sent[0]["room"] is None and "已登记为工单 #1001" in sent[0]["text"]
    assert any("已受理" in m["text"] for m in private)  # what happens to it goes to them privately
    assert not any(m["room"] == "江桥花苑3号楼微网格" and "李强" in m["text"] for m in sent)


async def test_a_private_report_from_a_stranger_asks_one_question(sample_config, db_spec):
    sent, summary = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", None, "路过的老张", "小区门口的路灯坏了，晚上很黑", direct=True),
        ev("+2m", None, "路过的老张", "江桥花苑5幢", direct=True),
    ])
    assert sent[0]["text"] == "请问您住哪栋楼/哪个群？", sent
    assert len(summary["tickets"]) == 1, sent
    [ticket] = summary["tickets"]
    assert sample_config.tree.node(ticket["node"]).name == "江桥花苑5幢"
    assert any("已登记为工单 #1001" in m["text"] and m["room"] is None for m in sent[1:])


async def test_a_notice_keeps_the_writers_punctuation(sample_config, db_spec):
    sent, _ = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", "江桥社区工作群", "li_hongmei",
           "#通知 只发房东群 各位房东：请把楼道杂物清理干净，做好消防检查准备！"),
        ev("+10m"),
    ])
    notices = [m for m in sent if "【通知" in m["text"]]
    assert notices and all("各位房东：请把楼道杂物清理干净，做好消防检查准备！" in m["text"] for m in notices)


async def test_wording_has_no_contradictions(sample_config, db_spec):
    sent, _ = await play(sample_config, db_spec, [
        ev("2026-11-23T09:00:00+08:00", "江桥花苑3号楼微网格", "3-201 王芳", "3号楼电梯又坏了，老人下不了楼"),
        ev("+1m", "江桥花苑3号楼微网格", "3-302 李强", "+1 我家也是，电梯不动了"),
        ev("+2m", "江桥花苑3号楼微网格", "3-201 王芳", "查询 1001"),
        ev("+2m", "江桥花苑3号楼微网格", "huang_min", "#受理 1001"),
        ev("+2m", "江桥花苑3号楼微网格", "3-201 王芳", "我报的电梯修了没"),
        ev("+60m", "江桥花苑3号楼微网格", "huang_min", "#办结 1001 已联系电梯公司修好"),
        ev("+10m", "江桥花苑3号楼微网格", "3-201 王芳", "好了，谢谢"),
    ])
    texts = [m["text"] for m in sent]
    merged = next(t for t in texts if "已把您加入" in t)
    assert "待受理" in merged and "正在跟进" not in merged
    answers = [t for t in texts if t.startswith("@3-201 王芳") and "工单 #1001：" in t]
    assert answers[0].startswith("@3-201 王芳 还没受理")
    assert any(t.startswith("@3-201 王芳 还没修好。已受理，黄敏负责") for t in answers[1:]), answers
    closed = next(t for t in texts if "已确认解决并关闭" in t)
    assert "（系统）" not in closed and "王芳" in closed
