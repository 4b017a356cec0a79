"""Asking a reporter once whether they are satisfied with a closed ticket, and reading the answer (pure).

API:

    question(ticket_no, summary) -> str             "您反映的“…”（#1023）已处理完毕。对处理结果满意吗？回复 1满意 2一般 3不满意"
    interpret_satisfaction(text) -> Score | None    1/2/3 or the resident's own words; None for unrelated chat
    is_dissatisfied(score) -> bool                  3: the ticket is reopened with `reason(text)` as its note
    reason(text) -> str                             the reply minus its score ("3 灯还是不亮" → "灯还是不亮"), or ""
    answer(score, ticket_no, reopened) -> str       what the bot says back
    should_ask(ticket_no, reporter, asked) / to_ask(ticket_no, reporters, asked)     once per ticket and reporter, ever
    awaiting(asked_at, now, window) -> bool          is a reply still taken as the answer
    satisfaction_summary(scores) -> Summary(count, mean, share_satisfied);  summary_by(pairs) per handler or node

Reading an answer: a number first ("1", "3不满意", "②"); then rating words, turned round by a negation ("不太满意" and
"不是很满意" are 3, "没有不满意" is 1), where "满意，就是慢了点" is 2 (content, with a reservation); then what the resident
says happened: the problem still there ("没修好", "还是不行", "又坏了", "怎么还在漏？") is 3 even in a question, a fix
with a complaint about the service ("修好了，就是等了一个礼拜") is 2, thanks or a fix alone ("谢谢挺好", "灯亮了") is 1.
"收到" / "好的" / "嗯" acknowledge the question and are not an answer; a number and words that disagree are not either.
`mean` is on the 1–3 scale as asked (lower is better); `share_satisfied` is the share of 1s.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Hashable, Iterable
from datetime import datetime, timedelta
from enum import IntEnum
from typing import NamedTuple, TypeVar

from bot.domain.parsing.lexicon import normalize

K = TypeVar("K", bound=Hashable)


class Score(IntEnum):
    SATISFIED = 1
    NEUTRAL = 2
    DISSATISFIED = 3

    @property
    def label(self) -> str:
        return {1: "满意", 2: "一般", 3: "不满意"}[self.value]


class Summary(NamedTuple):
    """Answers about one handler or node: how many, their mean (1–3, lower is better), the share of 满意."""

    count: int
    mean: float | None
    share_satisfied: float | None


_SUMMARY_LIMIT = 16
_NEGATORS = ("不是很", "不是太", "不怎么", "不咋", "谈不上", "说不上", "不太", "不大", "不算", "不是", "并不", "没有", "不", "没")
_RATINGS: tuple[tuple[Score, re.Pattern[str]], ...] = tuple((score, re.compile(p)) for score, p in (
    (Score.DISSATISFIED, r"不满意|差评|(?:太|很|非常|特别)差|极差|差劲|(?<!态度)不好(?!意思)|(?<!得)不行"),
    (Score.NEUTRAL, r"一般般?|还行|还可以|凑合|马马虎虎|将就|过得去|就那样|中规中矩|勉强|还好"),
    (Score.SATISFIED, r"满意|好评|五星|点赞|非常好|很好|挺好|蛮好|不错|真棒|很棒|给力|没毛病|👍"),
))
# the problem is still there: dissatisfied whatever else is said
_PERSISTS = re.compile(
    r"没(?:有)?(?:修好|修|弄好|解决|处理|人来|人管|来过?|变化|效果)|还是(?:不行|不亮|漏|坏|堵|臭|黑|没|老样子|一样|那样)|"
    r"又(?:坏|漏|堵|不亮|停|出问题|开始|来了)|还(?:在|没)(?:漏|坏|堵|好|修|响|臭)|根本没|白修|一点用都没有|没什么用|"
    r"还是?有点?(?:漏|滴水|堵|臭|响|不亮)|不亮|不通|还在漏|修了跟没修一样")
# complaints about the service, not the result
_SERVICE = re.compile(r"敷衍|糊弄|应付|态度(?:很|太)?(?:差|不好)|太慢|慢了|等了.{0,5}(?:天|周|礼拜|星期|个月)|太久|拖了|好几天|才来")
_FIXED = re.compile(r"(?:修|弄|搞|处理|换|清理?|装|通)好了|解决了|亮了|通了|不漏了|能用了|没问题了|谢谢|感谢|辛苦|多谢|"
                    r"麻烦(?:你们|您)了|效率(?:很|挺)?高|很及时|挺快|很快")
_TURN = re.compile(r"但是|不过|就是|只是|可是|但")
_ACK_ONLY = frozenset({"好的", "好滴", "好嘞", "收到", "嗯", "嗯嗯", "ok", "知道了"})
_HOUSE = re.compile(r"^\s*\d{1,4}(?:-\d{1,5}){1,2}(?:室|号)?\s*[:,]?\s*")
_NUMBER = re.compile(r"^(?:选|打)?\s*([1-3])(?!\d|\s*(?:楼|栋|幢|单元|层|室|号|点|分|天|个|人|块|元|-|/|\.\d))")
_LEAD = re.compile(r"^[\s,，.。!！~～、:：]*(?:(?:选|打)?\s*[1-3１-３①-③](?![\d０-９])|(?:非常|很|挺|比较)?(?:不太|不是很|没有)?"
                   r"(?:不满意|满意|一般般?|还行|还可以)[吧啊呀哈的了呢]*)[\s,，.。!！~～、:：]*")
_TAIL = re.compile(r"[\s,，.。!！~～、:：]*(?:(?:非常|很|挺|比较)?(?:不太|不是很)?(?:不满意|满意|一般般?|还行))?[\s,，.。!！~～、:：]*$")


def question(ticket_no: int, summary: str) -> str:
    """The one question asked of a reporter after their ticket closes."""
    summary = (summary or "").strip()
    if len(summary) > _SUMMARY_LIMIT:
        summary = summary[:_SUMMARY_LIMIT] + "…"
    what = f"“{summary}”（#{ticket_no}）" if summary else f"#{ticket_no}"
    return f"您反映的{what}已处理完毕。对处理结果满意吗？回复 1满意 2一般 3不满意"


def _clean(text: str) -> str:
    return _HOUSE.sub("", normalize(text or "").replace("[强]", "👍"), count=1).strip()  # WeChat's thumbs-up code


def _ratings(text: str) -> list[tuple[int, Score]]:
    """(position, score) of the rating words outside questions, longest first, turned round by a negation."""
    found = []
    for score, pattern in _RATINGS:
        for m in pattern.finditer(text):
            found.append((m.start(), m.end(), score))
    found.sort(key=lambda f: (f[0] - f[1], f[0]))
    kept: list[tuple[int, int, Score]] = []
    for start, end, score in found:
        if not any(start < e and s < end for s, e, _ in kept):
            kept.append((start, end, score))
    marks = []
    for start, end, score in sorted(kept):
        tail = text[end:end + 2]
        if tail.startswith(("吗", "?", "么")) or re.match(r"[^,.!;~。]{0,4}\?", text[end:]):
            continue  # "满意吗？" echoes the question
        if text[:start].endswith(_NEGATORS) and score != Score.NEUTRAL:
            score = Score.SATISFIED if score == Score.DISSATISFIED else Score.DISSATISFIED
        marks.append((start, score))
    return marks


def _by_words(text: str) -> Score | None:
    if _PERSISTS.search(text):
        return Score.DISSATISFIED
    ratings = _ratings(text)
    if ratings:
        last = ratings[-1][1]
        if len({s for _, s in ratings}) > 1:
            turns = [t.end() for t in _TURN.finditer(text)]
            after = [s for pos, s in ratings if turns and pos >= turns[-1]]
            last = after[-1] if after else max(s for _, s in ratings)  # no turn: the less content one
        if last == Score.SATISFIED and (_SERVICE.search(text) or re.search(r"(?:但是|不过|就是|只是|可是)\S{2,}", text)):
            return Score.NEUTRAL  # "满意，就是慢了点"
        return last
    service, fixed = _SERVICE.search(text), _FIXED.search(text)
    if service:
        return Score.NEUTRAL if fixed else Score.DISSATISFIED
    if fixed:
        return Score.SATISFIED
    return None


def interpret_satisfaction(text: str) -> Score | None:
    """The reporter's rating in a reply (1 满意, 2 一般, 3 不满意), or None when the reply is not one."""
    cleaned = _clean(text)
    core = re.sub(r"[\W_]+", "", cleaned)
    if not core and "👍" not in cleaned or core in _ACK_ONLY:
        return None
    m = _NUMBER.match(cleaned)
    by_number = Score(int(m.group(1))) if m else None
    if by_number is not None and re.match(r"\s*[\d]", cleaned[m.end():]):
        return None  # "1 2 3"
    by_words = _by_words(cleaned[m.end():] if m else cleaned)
    if by_number is not None and by_words is not None and by_number != by_words:
        return None
    return by_number or by_words


def is_dissatisfied(score: Score | None) -> bool:
    """True for 不满意: the ticket goes back to its handler."""
    return score == Score.DISSATISFIED


def reason(text: str) -> str:
    """What the reply says besides its score, to carry on the reopened ticket ('3，灯还是不亮' → '灯还是不亮')."""
    rest = _HOUSE.sub("", (text or "").strip(), count=1)
    while True:
        stripped = _TAIL.sub("", _LEAD.sub("", rest, count=1), count=1)
        if stripped == rest:
            return rest
        rest = stripped


def answer(score: Score, ticket_no: int, *, reopened: bool = False) -> str:
    """The bot's reply to a rating."""
    if score == Score.SATISFIED:
        return "感谢您的评价！有问题随时在群里说。"
    if score == Score.NEUTRAL:
        return "收到您的评价，我们会继续改进。"
    if reopened:
        return f"抱歉没让您满意，工单 #{ticket_no} 已重新打开，会尽快有人跟进。"
    return "抱歉没让您满意，已转告负责的同志跟进。"


def should_ask(ticket_no: int, reporter: str | None, asked: Collection[tuple[int, str]]) -> bool:
    """Ask a reporter about a ticket only once, ever (a ticket reopened and closed again is not asked again)."""
    return bool(reporter) and (ticket_no, reporter) not in asked


def to_ask(ticket_no: int, reporters: Iterable[str | None], asked: Collection[tuple[int, str]]) -> list[str]:
    """The reporters of a closed ticket (its joined reporters too) still to be asked, each once, in order."""
    seen: set[str] = set()
    result = []
    for reporter in reporters:
        if reporter and reporter not in seen and should_ask(ticket_no, reporter, asked):
            seen.add(reporter)
            result.append(reporter)
    return result


def awaiting(asked_at: datetime, now: datetime, window: timedelta = timedelta(days=3)) -> bool:
    """Whether the reporter's messages are still read as the answer (a later '1' is an ack of something else)."""
    return asked_at <= now < asked_at + window


def satisfaction_summary(scores: Iterable[Score | int]) -> Summary:
    """Count, mean (1–3) and share of 满意 of some answers; mean and share are None when there are none."""
    values = [int(s) for s in scores]
    if not values:
        return Summary(0, None, None)
    return Summary(len(values), sum(values) / len(values), sum(1 for v in values if v == Score.SATISFIED) / len(values))


def summary_by(pairs: Iterable[tuple[K, Score | int]]) -> dict[K, Summary]:
    """One Summary per key (a handler's person key, a node code) from (key, score) pairs."""
    groups: dict[K, list[int]] = {}
    for key, score in pairs:
        groups.setdefault(key, []).append(int(score))
    return {key: satisfaction_summary(values) for key, values in groups.items()}
