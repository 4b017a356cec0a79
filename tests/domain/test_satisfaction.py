"""Satisfaction after a ticket closes: the question, the answer in residents' words, reopening, asking once, digests."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.satisfaction import (Score, Summary, answer, awaiting, interpret_satisfaction, is_dissatisfied,
                                     question, reason, satisfaction_summary, should_ask, summary_by, to_ask)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_question_wording() -> None:
    assert question(1023, "3号楼楼道灯不亮") == "您反映的“3号楼楼道灯不亮”（#1023）已处理完毕。对处理结果满意吗？回复 1满意 2一般 3不满意"
    long = question(7, "3号楼2单元楼道里的声控灯晚上一直不亮好几天了")
    assert "“3号楼2单元楼道里的声控灯晚上一…”（#7）" in long
    assert question(7, "").startswith("您反映的#7已处理完毕。")


SATISFIED = [
    "1", "1 ", "①", "１", "1满意", "1，谢谢", "选1", "满意", "满意！", "很满意", "非常满意👍", "满意满意", "挺满意的",
    "谢谢挺好", "挺好的，辛苦了", "不错不错", "给力！", "五星好评", "👍", "谢谢", "谢谢师傅！！", "灯亮了，谢谢师傅",
    "修好了，感谢网格员", "没有不满意", "[强]", "满意的，谢谢你们", "搞好了搞好了", "修得挺快的", "非常感谢！！！", "不好意思刚看到，满意", "3-201 满意", "师傅态度很好", "水管不漏了，辛苦你们了",
]
NEUTRAL = [
    "2", "②", "2 一般", "一般", "一般般吧", "还行", "还可以吧，下次快点", "凑合", "马马虎虎", "将就吧", "过得去",
    "满意，就是慢了点", "满意是满意，不过等得有点久", "修好了，就是等了一个礼拜", "弄好了，但是师傅态度不好",
]
DISSATISFIED = [
    "3", "③", "3不满意", "3，灯还是不亮", "选3", "不满意", "很不满意！！", "非常不满意😡", "不太满意", "不是很满意",
    "不怎么满意", "谈不上满意", "没修好", "根本没修好啊", "还是不行", "还是老样子", "又坏了", "又坏了，这都第三回了",
    "又漏了", "怎么还在漏？", "说是修好了其实还是不亮", "没人来过啊", "太慢了", "敷衍了事", "差评", "态度太差",
    "修了跟没修一样", "不咋满意", "咋还没修好", "灯又不亮了", "唉，还是漏水", "谢谢，但是还是有点滴水",
]
NOT_ANSWERS = [
    "今天好冷", "收到", "好的", "嗯", "知道了", "满意吗？", "谁家的快递放门口了", "明天几点停水？", "1 2 3", "1 不满意",
    "3 满意", "2号楼电梯", "1楼", "12", "大家早上好", "", "   ", "哈哈",
]


@pytest.mark.parametrize("text", SATISFIED)
def test_satisfied(text) -> None:
    assert interpret_satisfaction(text) == Score.SATISFIED


@pytest.mark.parametrize("text", NEUTRAL)
def test_neutral(text) -> None:
    assert interpret_satisfaction(text) == Score.NEUTRAL


@pytest.mark.parametrize("text", DISSATISFIED)
def test_dissatisfied(text) -> None:
    assert interpret_satisfaction(text) == Score.DISSATISFIED
    assert is_dissatisfied(interpret_satisfaction(text))


@pytest.mark.parametrize("text", NOT_ANSWERS)
def test_unrelated_chat_is_no_answer(text) -> None:
    assert interpret_satisfaction(text) is None


def test_is_dissatisfied_only_for_3() -> None:
    assert [is_dissatisfied(s) for s in (Score.SATISFIED, Score.NEUTRAL, Score.DISSATISFIED, None)] == \
        [False, False, True, False]
    assert [s.label for s in Score] == ["满意", "一般", "不满意"]


@pytest.mark.parametrize("text, why", [
    ("3，灯还是不亮", "灯还是不亮"),
    ("3-201 不满意，楼道灯还是不亮", "楼道灯还是不亮"),
    ("３ 师傅根本没来", "师傅根本没来"),
    ("不满意！又漏了 不满意", "又漏了"),
    ("没修好，晚上楼道还是黑的", "没修好，晚上楼道还是黑的"),  # the words that rate are the reason itself
    ("不太满意，水压还是很小", "水压还是很小"),
    ("3", ""),
    ("不满意", ""),
    ("还可以吧，下次快点", "下次快点"),
])
def test_reason_is_the_reply_minus_its_score(text, why) -> None:
    assert reason(text) == why


def test_answers() -> None:
    assert "感谢" in answer(Score.SATISFIED, 1023)
    assert "改进" in answer(Score.NEUTRAL, 1023)
    assert answer(Score.DISSATISFIED, 1023, reopened=True) == "抱歉没让您满意，工单 #1023 已重新打开，会尽快有人跟进。"
    assert "#1023" not in answer(Score.DISSATISFIED, 1023)


def test_asked_once_per_ticket_and_reporter_ever() -> None:
    asked = {(1023, "wx_wang")}
    assert not should_ask(1023, "wx_wang", asked)  # reopened and closed again: not asked again
    assert should_ask(1023, "wx_li", asked)  # a joined reporter of the same ticket
    assert should_ask(1024, "wx_wang", asked)  # another ticket
    assert not should_ask(1025, None, asked) and not should_ask(1025, "", asked)  # nobody to ask
    assert to_ask(1023, ["wx_wang", "wx_li", None, "wx_li", "wx_zhao"], asked) == ["wx_li", "wx_zhao"]
    assert to_ask(1023, ["wx_wang"], asked) == []


def test_answer_window() -> None:
    assert awaiting(NOW, NOW + timedelta(hours=5))
    assert not awaiting(NOW, NOW + timedelta(days=3))
    assert awaiting(NOW, NOW + timedelta(days=6), window=timedelta(days=7))
    assert not awaiting(NOW, NOW - timedelta(minutes=1))


def test_summary() -> None:
    assert satisfaction_summary([]) == Summary(0, None, None)
    count, mean, share = satisfaction_summary([Score.SATISFIED, Score.SATISFIED, Score.NEUTRAL, Score.DISSATISFIED])
    assert (count, mean, share) == (4, 1.75, 0.5)
    assert satisfaction_summary([1, 1, 1]) == Summary(3, 1.0, 1.0)
    by = summary_by([("chen_li", Score.SATISFIED), ("huang_min", Score.DISSATISFIED), ("chen_li", Score.NEUTRAL)])
    assert by == {"chen_li": Summary(2, 1.5, 0.5), "huang_min": Summary(1, 3.0, 0.0)}
