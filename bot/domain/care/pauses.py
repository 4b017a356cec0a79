"""Pauses of the daily check-in: "我去女儿家住一周", "明天起住院，大概五天", read from the resident's (or a
relative's) own words into the days no 报平安 is asked for.

A pause runs from `start` to `end`, both included. It ends early when the resident writes again on a day
after they announced it (see `checkin.active_pause`): someone who answers needs no pause. When the words
give no length, a strong cue (住院, 不在家, 回老家, 旅游...) pauses for `DEFAULT_DAYS`, short on purpose:
a missed prompt costs a neighbour a knock on the door, a pause too long may cost much more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

DEFAULT_DAYS = 3
MAX_DAYS = 92  # longer than a season is a move, not a pause: the ledger should say so instead

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5,
             "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")

_NUM = r"(\d{1,3}|[零〇一二两三四五六七八九十]{1,3})"
_WEEK = r"(?:周|星期|礼拜)"

# Words that say the resident will not be at home, strongest first; `strong` ones pause without a length.
_CUES: tuple[tuple[re.Pattern[str], bool], ...] = (
    (re.compile(r"住院|住医院|在医院住|做手术"), True),
    (re.compile(r"(?:去|到|回|在)[\u4e00-\u9fff]{0,5}?(?:家|那里|那儿|那边|老家)(?:里)?[\u4e00-\u9fff]{0,2}?住"), True),
    (re.compile(r"回老家|走亲戚|探亲|出远门|出差"), True),
    (re.compile(r"(?:出门|出去|外出)?(?:旅游|旅行|游玩|跟团)"), True),
    (re.compile(r"(?:出门|出去)玩|不在家|出门|外出|出去"), False),  # "今天下午不在家" is no pause: these need a length
)
_NEGATED = re.compile(r"不去|不住院|不用住|不出门|不走了|取消|不回老家|没去成|已经回|回来了|出院了")
_QUESTION = re.compile(r"[?？吗]\s*$")


@dataclass(frozen=True, slots=True)
class Pause:
    """Days without a check-in: from `start` to `end` included, announced on `said_on`."""

    start: date
    end: date
    reason: str
    said_on: date
    text: str = ""

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def holiday_pause(day: date) -> Pause:
    """A public holiday as a one-day pause (so one code path says why nothing was asked)."""
    return Pause(day, day, "节假日", day)


def _number(text: str) -> int | None:
    """'15', '十五', '二十', '五', '两' → int."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, units = text.partition("十")
        value = (_CN_DIGITS.get(tens, 0) if tens else 1) * 10
        return value + (_CN_DIGITS.get(units, 0) if units else 0)
    if len(text) == 1 and text in _CN_DIGITS:
        return _CN_DIGITS[text]
    return None


def _day_of_month(day: int, after: date) -> date | None:
    """The next date on or after `after` whose day of the month is `day`."""
    year, month = after.year, after.month
    for _ in range(3):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= after:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _weekday(today: date, which: str, next_week: bool) -> date:
    """'下周一' (next_week) or '周五' (the coming one, today included)."""
    wanted = _WEEKDAYS[which]
    if next_week:
        return today + timedelta(days=7 - today.weekday() + wanted)
    return today + timedelta(days=(wanted - today.weekday()) % 7)


def _month_end(day: date) -> date:
    nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def _start(text: str, today: date) -> tuple[date, str]:
    """When the absence begins (today unless the words say otherwise), and the text without those words."""
    patterns: tuple[tuple[str, object], ...] = (
        (r"大后天(?:起|开始)?(?!就?才?回)", 3), (r"(?<!大)后天(?:起|开始)?(?!就?才?回)", 2),
        (r"(?:明天|明日)(?:起|开始)?(?!就?才?回)", 1),
        (rf"下{_WEEK}([一二三四五六日天1-7])(?:起|开始)", "next"),
        (rf"{_NUM}(?:号|日)(?:起|开始)", "dom"),
    )
    for pattern, how in patterns:
        match = re.search(pattern, text)
        if not match:
            continue
        rest = text[:match.start()] + " " + text[match.end():]
        if isinstance(how, int):
            return today + timedelta(days=how), rest
        if how == "next":
            return _weekday(today, match.group(1), True), rest
        number = _number(match.group(1))
        found = _day_of_month(number, today) if number else None
        if found is not None:
            return found, rest
    return today, text


def _end(text: str, today: date, start: date) -> date | None:
    """The last day away, from a return date ("下周一回来": the day before), an end date ("到15号": that day) or
    a length ("住一周", "大概五天") counted from `start`; None when the words give none."""
    back = r"(?:才)?(?:回来|回家|回|返回|到家)"
    # an explicit month and day: 3月15号回来 / 到3月15日
    match = re.search(rf"{_NUM}月{_NUM}(?:号|日)?(?:({back})|)", text)
    if match:
        month, day = _number(match.group(1)), _number(match.group(2))
        if month and day and 1 <= month <= 12:
            try:
                found = date(today.year, month, day)
            except ValueError:
                found = None
            if found is not None:
                if found < today:
                    found = date(today.year + 1, month, day)
                return found - timedelta(days=1) if match.group(3) else found
    match = re.search(rf"(下|这|本)?{_WEEK}([一二三四五六日天末1-7])(?:{back})", text)
    if match:
        return _weekday(today, match.group(2), match.group(1) == "下") - timedelta(days=1)
    match = re.search(rf"到(下|这|本)?{_WEEK}([一二三四五六日天末1-7])", text)
    if match:
        return _weekday(today, match.group(2), match.group(1) == "下")
    match = re.search(rf"{_NUM}(?:号|日)(?:{back})", text)
    if match:
        number = _number(match.group(1))
        found = _day_of_month(number, start) if number else None
        if found is not None:
            return found - timedelta(days=1)
    match = re.search(rf"到{_NUM}(?:号|日)", text)
    if match:
        number = _number(match.group(1))
        found = _day_of_month(number, start) if number else None
        if found is not None:
            return found
    if re.search(r"到月底|月底(?:才)?回", text):
        return _month_end(start)
    if re.search(r"明天(?:就)?回", text):
        return today
    if re.search(r"后天(?:就)?回", text):
        return today + timedelta(days=1)
    days = _length(text)
    if days:
        return start + timedelta(days=days - 1)
    if re.search(rf"(这|本){_WEEK}", text):
        return start + timedelta(days=6 - start.weekday())
    if re.search(rf"下{_WEEK}(?![一二三四五六日天1-7])", text):
        return start + timedelta(days=13 - start.weekday())
    return None


def _length(text: str) -> int | None:
    """A length in days: '五天', '10天', '一周', '一个星期', '两礼拜', '半个月', '一个月', '几天', '十来天'."""
    if re.search(rf"半年|{_NUM}年", text):
        return 365  # beyond MAX_DAYS: refused, not shortened to a default
    if re.search(r"半个?月", text):
        return 15
    match = re.search(rf"{_NUM}个?多?月", text)
    if match and (number := _number(match.group(1))):
        return 30 * number
    match = re.search(rf"{_NUM}个?多?{_WEEK}(?![一二三四五六日天末1-7])", text)
    if match and (number := _number(match.group(1))):
        return 7 * number
    if re.search(r"十来天|十几天", text):
        return 10
    if re.search(r"三五天", text):
        return 5
    if re.search(r"几天|两三天|这几天|一两天", text):
        return 3
    match = re.search(rf"{_NUM}(?:天|日)", text)
    if match and (number := _number(match.group(1))):
        return number
    return None


def parse_pause(text: str, today: date) -> Pause | None:
    """The pause a message announces ('出门旅游到15号' → today to the 15th), or None when it announces none."""
    clean = (text or "").translate(_FULL_WIDTH).strip()
    if not clean or _QUESTION.search(clean) or _NEGATED.search(clean):
        return None
    cue, strong = None, False
    for pattern, is_strong in _CUES:
        match = pattern.search(clean)
        if match:
            cue, strong = match, is_strong
            break
    if cue is None:
        return None
    start, rest = _start(clean, today)
    end = _end(rest, today, start)
    if end is None:
        if not strong:
            return None
        end = start + timedelta(days=DEFAULT_DAYS - 1)
    if end < start or (end - start).days >= MAX_DAYS:
        return None
    reason = cue.group(0)
    return Pause(start=start, end=end, reason=reason, said_on=today, text=text.strip())
