"""Pauses of the daily 报平安 read from what a resident or a relative writes."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.care import parse_pause

WED = date(2025, 3, 5)  # a Wednesday; next Monday is 3月10日


@pytest.mark.parametrize(("text", "start", "end", "reason"), [
    ("我去女儿家住一周", WED, date(2025, 3, 11), "去女儿家住"),
    ("明天起住院，大概五天", date(2025, 3, 6), date(2025, 3, 10), "住院"),
    ("这周不在家 下周一回来", WED, date(2025, 3, 9), "不在家"),
    ("出门旅游到15号", WED, date(2025, 3, 15), "出门旅游"),
    # a relative writing for her
    ("我妈明天起住院，大概五天", date(2025, 3, 6), date(2025, 3, 10), "住院"),
    ("我带我妈去我那边住半个月", WED, date(2025, 3, 19), "去我那边住"),
    # other ways of saying it
    ("下周一起去儿子那边住两个星期", date(2025, 3, 10), date(2025, 3, 23), "去儿子那边住"),
    ("去儿子家住到3月20号", WED, date(2025, 3, 20), "去儿子家住"),
    ("去儿子家住，3月20号回来", WED, date(2025, 3, 19), "去儿子家住"),
    ("去女儿家住，周日回来", WED, date(2025, 3, 8), "去女儿家住"),
    ("回老家过几天", WED, date(2025, 3, 7), "回老家"),
    ("后天开始出差10天", date(2025, 3, 7), date(2025, 3, 16), "出差"),
    ("出去玩三天", WED, date(2025, 3, 7), "出去玩"),
    ("我住院了", WED, date(2025, 3, 7), "住院"),  # no length: a short default
    ("跟团旅游到２号", WED, date(2025, 4, 2), "跟团"),  # the 2nd has passed: next month's
])
def test_pauses_people_announce(text: str, start: date, end: date, reason: str) -> None:
    pause = parse_pause(text, WED)
    assert pause is not None, text
    assert (pause.start, pause.end, pause.reason, pause.said_on) == (start, end, reason, WED)


@pytest.mark.parametrize("text", [
    "我去超市",
    "今天下午不在家",             # out for an afternoon is no pause
    "明天去医院复查",
    "你去旅游吗？",
    "我去女儿家吃饭",
    "不去女儿家住了",
    "我已经回来了",
    "出院了，谢谢大家",
    "去女儿家住半年",            # a move, not a pause
    "以后去儿子家住三年",
    "",
])
def test_words_that_are_no_pause(text: str) -> None:
    assert parse_pause(text, WED) is None
