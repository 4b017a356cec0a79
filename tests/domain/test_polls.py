"""微议事: the #议事 command, residents' votes in their own words, the tally by household, and what the bot says."""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from bot.domain import polls_wording as wording
from bot.domain.polls import (DEFAULT_OPTIONS, PollDraft, PollError, Quorum, Vote, command_kind, interpret_vote,
                              parse_poll_command, tally)

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)  # a Monday morning
EXAMPLE = "#议事 楼道里的旧家具周六统一清走吗？ 1.同意 2.不同意 3.再商量 截止 周五20点"


def _draft(text: str) -> PollDraft:
    draft = parse_poll_command(text, NOW)
    assert isinstance(draft, PollDraft), draft
    return draft


# --- the command ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, kind", [
    ("#议事 装门禁吗", "open"), ("＃议事 装门禁吗", "open"), ("#微议事 装门禁吗", "open"), ("#议事\n装门禁吗", "open"),
    ("#议事结果", "result"), ("#议事 结果", "result"), ("#结束议事", "close"), ("#议事结束", "close"),
    ("议事 装门禁吗", None), ("#通知 明天停水", None), ("今天议事吗", None), ("#议事楼道家具清走吗", "open"),
])
def test_command_kind(text, kind) -> None:
    assert command_kind(text) == kind


def test_the_example_command() -> None:
    draft = _draft(EXAMPLE)
    assert draft.question == "楼道里的旧家具周六统一清走吗？"
    assert draft.options == ("同意", "不同意", "再商量")
    assert draft.deadline == datetime(2026, 11, 27, 20, 0, tzinfo=TZ)
    assert draft.deadline_given and draft.quorum is None and draft.ticket_no is None


def test_defaults_when_nothing_but_a_question() -> None:
    draft = _draft("#议事 要不要在单元门口加装雨棚？")
    assert draft.question == "要不要在单元门口加装雨棚？"
    assert draft.options == DEFAULT_OPTIONS == ("同意", "不同意", "再商量")
    assert draft.deadline == NOW + timedelta(days=3) and not draft.deadline_given
    assert parse_poll_command("#议事 加雨棚？", NOW, default_duration=timedelta(hours=24)).deadline == NOW + timedelta(1)


@pytest.mark.parametrize("text, question, options", [
    ("#议事 清理时间？ 1、周六上午 2、周六下午 3、周日", "清理时间？", ("周六上午", "周六下午", "周日")),
    ("#议事 装门禁吗 A.装 B.不装", "装门禁吗", ("装", "不装")),
    ("#议事 换物业？①换 ②不换 ③再看看", "换物业？", ("换", "不换", "再看看")),
    ("#议事 换物业？ (1)换 (2)不换", "换物业？", ("换", "不换")),
    ("#议事 垃圾桶放哪？ 一、东门 二、北门", "垃圾桶放哪？", ("东门", "北门")),
    ("#议事 清理时间选哪个？\n周六上午\n周六下午\n周日", "清理时间选哪个？", ("周六上午", "周六下午", "周日")),
    ("#议事 清理时间选哪个？\n1. 周六上午；\n2. 周日。", "清理时间选哪个？", ("周六上午", "周日")),
    ("#议事 停车位怎么划 选项：划线/不划线/再说", "停车位怎么划", ("划线", "不划线", "再说")),
    ("#议事 绿化带留1.5米宽可以吗？ 1.可以 2.太窄", "绿化带留1.5米宽可以吗？", ("可以", "太窄")),
    ("#议事 1、2号楼之间的空地做停车位吗？", "1、2号楼之间的空地做停车位吗？", DEFAULT_OPTIONS),
])
def test_option_forms(text, question, options) -> None:
    draft = _draft(text)
    assert (draft.question, draft.options) == (question, options)


@pytest.mark.parametrize("phrase, deadline", [
    ("截止 周五20点", datetime(2026, 11, 27, 20, 0)),
    ("截止 明天18:00", datetime(2026, 11, 24, 18, 0)),
    ("截止 12月5日 20:00", datetime(2026, 12, 5, 20, 0)),
    ("截止 今晚8点", datetime(2026, 11, 23, 20, 0)),
    ("截止：3天后", datetime(2026, 11, 26, 9, 0)),
    ("截至 三天内", datetime(2026, 11, 26, 9, 0)),
    ("截止 48小时后", datetime(2026, 11, 25, 9, 0)),
    ("周五20点截止", datetime(2026, 11, 27, 20, 0)),
    ("明天下午6点半截止", datetime(2026, 11, 24, 18, 30)),
])
def test_deadline_forms(phrase, deadline) -> None:
    draft = _draft(f"#议事 楼道装感应灯吗？ 1.装 2.不装 {phrase}")
    assert draft.deadline == deadline.replace(tzinfo=TZ)
    assert draft.question == "楼道装感应灯吗？" and draft.options == ("装", "不装")


@pytest.mark.parametrize("phrase, quorum", [
    ("过半数", Quorum(share=Fraction(1, 2), strict=True)),
    ("需过半数住户参与", Quorum(share=Fraction(1, 2), strict=True)),
    ("半数以上", Quorum(share=Fraction(1, 2))),
    ("三分之二以上", Quorum(share=Fraction(2, 3))),
    ("2/3以上户参与", Quorum(share=Fraction(2, 3))),
    ("至少20户", Quorum(min_households=20)),
    ("不少于二十户参与才有效", Quorum(min_households=20)),
    ("15户以上", Quorum(min_households=15)),
    ("超过20户", Quorum(min_households=21)),
    ("过半数同意", Quorum(share=Fraction(1, 2), strict=True, support=True)),
])
def test_quorum_forms(phrase, quorum) -> None:
    draft = _draft(f"#议事 装门禁吗？ {phrase} 截止 周五20点")
    assert draft.quorum == quorum
    assert draft.question == "装门禁吗？"


def test_ticket_link_and_everything_at_once() -> None:
    draft = _draft("#议事 3号楼道堆放的旧家具统一清走吗？ 关联 #1023 至少20户 1.同意 2.不同意 截止 明天18:00")
    assert draft.ticket_no == 1023 and draft.quorum == Quorum(min_households=20)
    assert draft.question == "3号楼道堆放的旧家具统一清走吗？" and draft.options == ("同意", "不同意")
    assert _draft("#议事 清走吗 关联工单1024").ticket_no == 1024


def test_question_words_that_only_look_like_options() -> None:
    draft = _draft("#议事 楼道已经过半个月没人扫了，要不要请保洁？")
    assert draft.quorum is None and draft.question == "楼道已经过半个月没人扫了，要不要请保洁？"


@pytest.mark.parametrize("text, says", [
    ("#议事 ", "问题是空的"),
    ("#议事 截止 周五20点", "问题是空的"),
    ("#议事 装吗 1.装", None),  # one marked option: no options list, defaults apply (checked below)
    ("#议事 装吗 选项：装", "至少要两个选项"),
    ("#议事 装吗 1.装 2.装", "重复"),
    ("#议事 装吗 选项：" + "/".join("abcdefghij"), "最多 9 个"),
    ("#议事 装吗 截止 25点", "不是有效的时间"),
    ("#议事 装吗 截止 2月30日", "没有 2月30日"),
    ("#议事 装吗 截止 今天8点", "已经过了"),
    ("#议事 装吗 截止 下礼拜吧", "没看懂截止时间"),
    ("#议事结果", "不是发起议事"),
])
def test_refusals_say_what_is_wrong(text, says) -> None:
    result = parse_poll_command(text, NOW)
    if says is None:
        assert isinstance(result, PollDraft) and result.options == DEFAULT_OPTIONS
        return
    assert isinstance(result, PollError) and says in result.message, result


# --- votes ---------------------------------------------------------------------------------------------------------

YES_VOTES = [
    "1", "1。", " 1 ", "①", "1️⃣", "选1", "我选1", "我家选1号", "投1", "第一个", "1.同意", "1 同意", "3-201 1", "3-201 同意",
    "同意", "同意！", "同意同意👍", "我家同意", "我们家同意的", "我家没意见", "没什么意见", "没啥意见，早点弄走", "赞成",
    "举双手赞成！！", "支持", "坚决支持👍👍", "双手支持社区", "不反对", "我家不反对", "没有不同意", "附议", "可以", "可以可以",
    "行", "行吧", "中", "要得", "莫得意见", "冇问题", "没问题", "早该清了，都堆半年了", "赶紧清走吧，堵得慌", "好",
    "本来想反对，后来想想还是同意吧", "同意，几点开始清？", "同意。顺便问下周六几点", "我们老两口都同意", "那肯定同意啊",
    "这个好，支持支持", "同意+1", "我也同意", "嗯嗯同意", "同意[强]", "太好了早该弄了", "3号楼202同意",
]
NO_VOTES = [
    "2", "二", "我家选第二个", "选2", "②", "2 不同意", "不同意", "不同意，太吵", "不同意!!!", "我家不同意🙅", "反对", "坚决反对", "强烈反对！",
    "不行", "不行不行", "不太同意", "不是很赞成", "不怎么支持", "我有意见", "唔同意", "使不得", "要不得", "不赞成，东西还有用",
    "👎", "我投反对票", "不同意 家具是我家的还要用", "不要清，我家的柜子还要用", "我觉得不妥", "不咋同意",
    "我家里人都不同意", "我反对！！楼道又不是你家的",
]
LATER_VOTES = ["3", "选3", "第三个", "再商量", "再商量商量", "再议", "考虑考虑", "再想想吧", "还是再商量下吧", "以后再说",
               "3 再商量"]
NOT_VOTES = [
    "今天好冷", "大家吃了吗", "收到", "好的", "好的收到", "OK", "👍", "👌", "[强]", "哈哈哈", "谁家的猫跑丢了", "3楼漏水了",
    "2号楼电梯又坏了", "12", "5", "4", "大家同意吗？", "同不同意啊", "有人反对吗", "听说有人反对", "同意楼上", "楼上说得对",
    "冷得不行", "楼道不干净", "不是这个意思", "几点清啊？", "家具是谁家的？", "我妈说再看", "1楼", "1.5米够吗", "1 2 3",
    "3 不同意", "谢谢网格长", "今天下午3点开会", "", "+1", "同上", "我也是", "[强][强]", "不清楚，问问我儿子",
]


@pytest.mark.parametrize("text", YES_VOTES)
def test_yes_in_residents_words(text) -> None:
    assert interpret_vote(text, DEFAULT_OPTIONS) == 1


@pytest.mark.parametrize("text", NO_VOTES)
def test_no_in_residents_words(text) -> None:
    assert interpret_vote(text, DEFAULT_OPTIONS) == 2


@pytest.mark.parametrize("text", LATER_VOTES)
def test_later_in_residents_words(text) -> None:
    assert interpret_vote(text, DEFAULT_OPTIONS) == 3


@pytest.mark.parametrize("text", NOT_VOTES)
def test_ordinary_chat_is_not_a_vote(text) -> None:
    assert interpret_vote(text, DEFAULT_OPTIONS) is None


def test_a_stance_counts_only_when_one_option_stands_for_it() -> None:
    assert interpret_vote("再商量", ("同意", "不同意")) is None  # no "later" option
    assert interpret_vote("弃权", ("同意", "不同意", "弃权")) == 3
    assert interpret_vote("都行", ("同意", "不同意", "弃权")) == 3
    assert interpret_vote("赞成", ("同意周六清", "同意周日清", "不同意")) is None  # which yes?
    assert interpret_vote("同意周日清", ("同意周六清", "同意周日清", "不同意")) == 2
    assert interpret_vote("反对", ("同意周六清", "同意周日清", "不同意")) == 3
    assert interpret_vote("不太同意周六清", ("同意周六清", "不同意周六清")) == 2


@pytest.mark.parametrize("text, option", [
    ("周六上午吧", 1), ("周日", 3), ("我家周日有空，周六上午不行", 3), ("B", 2), ("选c", 3), ("2号", 2),
    ("周六下午不方便", None), ("周六上午还是周日？", None), ("周六上午周日都行", None), ("4", None), ("选D", None),
    ("下周再说吧", None),
])
def test_own_options(text, option) -> None:
    assert interpret_vote(text, ("周六上午", "周六下午", "周日")) == option


def test_letter_options_answered_with_letters_or_words() -> None:
    options = ("装", "不装")
    assert [interpret_vote(t, options) for t in ("A", "a", "b。", "装", "不装", "还是不装了", "B不装", "A不装")] == \
        [1, 1, 2, 1, 2, 2, 2, None]


# --- tally ---------------------------------------------------------------------------------------------------------

def _at(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def test_one_vote_per_household_the_latest_counts() -> None:
    votes = [Vote("3-201", 1, _at(5)), Vote("3-202", 2, _at(6)), Vote("3-201", 2, _at(30)), ("3-301", 1, _at(7)),
             Vote("3-202", 1, _at(1))]  # 3-202's earlier vote, given later in the list: still the earlier one
    result = tally(votes, 40, None, options=DEFAULT_OPTIONS)
    assert result.counts == (1, 2, 0) and result.voted == 3
    assert result.turnout == "3/40 户" and result.winner == 2 and result.tied == () and result.quorum_met is True


def test_late_and_impossible_votes_are_left_out() -> None:
    votes = [Vote("3-201", 1, _at(5)), Vote("3-201", 2, _at(90)), Vote("3-202", 7, _at(5)), Vote("3-203", 0, _at(5))]
    result = tally(votes, None, None, options=DEFAULT_OPTIONS, closes_at=_at(60))
    assert result.counts == (1, 0, 0) and result.voted == 1 and result.turnout == "1 户"


def test_tie_and_no_votes() -> None:
    tie = tally([Vote("a", 1, NOW), Vote("b", 2, NOW), Vote("c", 3, NOW), Vote("d", 3, NOW), Vote("e", 1, NOW)], 10,
                None, options=DEFAULT_OPTIONS)
    assert tie.winner is None and tie.tied == (1, 3) and not tie.decided
    empty = tally([], 10, None, options=DEFAULT_OPTIONS)
    assert empty.winner is None and empty.tied == () and empty.counts == (0, 0, 0) and empty.turnout == "0/10 户"


@pytest.mark.parametrize("quorum, voters, met, needed", [
    (Quorum(share=Fraction(1, 2), strict=True), 20, False, 21),  # 过半数: 20 of 40 is half, not more
    (Quorum(share=Fraction(1, 2), strict=True), 21, True, 21),
    (Quorum(share=Fraction(1, 2)), 20, True, 20),  # 半数以上: half is enough
    (Quorum(share=Fraction(2, 3)), 26, False, 27),
    (Quorum(min_households=20), 19, False, 20),
    (Quorum(min_households=20), 20, True, 20),
])
def test_quorum_by_turnout(quorum, voters, met, needed) -> None:
    votes = [Vote(f"h{i}", 1 + i % 2, NOW) for i in range(voters)]
    result = tally(votes, 40, quorum, options=("同意", "不同意"))
    assert (result.quorum_met, result.needed) == (met, needed)
    assert result.shortfall == (0 if met else needed - voters)


def test_quorum_of_support_counts_the_winner() -> None:
    votes = [Vote(f"h{i}", 1, NOW) for i in range(18)] + [Vote(f"n{i}", 2, NOW) for i in range(10)]
    result = tally(votes, 40, Quorum(share=Fraction(1, 2), strict=True, support=True), options=("同意", "不同意"))
    assert result.voted == 28 and result.winner == 1 and result.quorum_met is False and result.shortfall == 3


def test_share_quorum_without_a_household_count_is_unknown() -> None:
    result = tally([Vote("a", 1, NOW)], None, Quorum(share=Fraction(1, 2), strict=True), options=DEFAULT_OPTIONS)
    assert result.quorum_met is None and result.needed is None and result.decided


# --- wording -------------------------------------------------------------------------------------------------------

def test_announcement() -> None:
    draft = _draft(EXAMPLE + " 过半数 关联 #1023")
    text = wording.announcement(draft, 12)
    assert text.splitlines()[:4] == ["【微议事 第12号】楼道里的旧家具周六统一清走吗？", "1. 同意", "2. 不同意", "3. 再商量"]
    assert "回复数字（1/2/3）" in text and "每户一票" in text and "以最后一次为准" in text
    assert "截止时间：11月27日（周五）20:00" in text and "需过半数住户参与" in text and "关联工单 #1023" in text
    assert "#议事结果" in text


def test_vote_ack_is_quiet_unless_changed() -> None:
    assert wording.vote_ack(1, DEFAULT_OPTIONS) is None
    assert wording.vote_ack(2, DEFAULT_OPTIONS, previous=2) is None
    assert wording.vote_ack(2, DEFAULT_OPTIONS, previous=1) == "您家这一票已改为「不同意」（原为「同意」），以最后一次为准。"
    assert "已经截止" in wording.late_vote(12)


def test_interim_answer() -> None:
    draft = _draft(EXAMPLE + " 过半数")
    result = tally([Vote("3-201", 1, NOW), Vote("3-202", 1, NOW), Vote("3-301", 2, NOW)], 40, draft.quorum,
                   options=draft.options)
    text = wording.interim(draft, 12, result, NOW)
    assert "进行中" in text and "1. 同意 2 户（67%）" in text and "2. 不同意 1 户（33%）" in text
    assert "3. 再商量 0 户" in text and "已参与 3/40 户" in text and "还差 18 户" in text
    assert "已截止" in wording.interim(draft, 12, result, draft.deadline)


def test_final_results() -> None:
    draft = _draft(EXAMPLE + " 至少3户 关联 #1023")
    won = tally([Vote("a", 1, NOW), Vote("b", 1, NOW), Vote("c", 2, NOW)], 40, draft.quorum, options=draft.options)
    group = wording.final_for_group(draft, 12, won)
    assert "共 3/40 户参与" in group and "结果：「同意」得票最多" in group and "已达到“至少 3 户参与”" in group
    leader = wording.final_for_leader(draft, 12, won)
    assert "同意 2 · 不同意 1 · 再商量 0（参与 3/40 户）" in leader and "请按结果安排处理" in leader

    short = tally([Vote("a", 1, NOW)], 40, draft.quorum, options=draft.options)
    assert "仅供参考" in wording.final_for_group(draft, 12, short)
    assert "需 3 户，实际 1 户" in wording.final_for_leader(draft, 12, short)
    assert "暂无明确结论" in wording.final_for_leader(draft, 12, short)

    tie = tally([Vote("a", 1, NOW), Vote("b", 2, NOW), Vote("c", 3, NOW)], 40, None, options=draft.options)
    assert "「同意」、「不同意」、「再商量」票数相同（各 1 户）" in wording.final_for_group(draft, 12, tie)
    assert "没有住户参与投票" in wording.final_for_group(draft, 12, tally([], 40, None, options=draft.options))
