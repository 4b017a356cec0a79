"""Notices down the tree: what a leader's `#通知` says, and which groups it goes to (pure).

Syntax after `#通知` (options first, in any order, then the text; a deadline may also end the text):

    #通知 只发房东群 截止 明天18点 本周六上午停水，请提前储水     only one tier
    #通知 只发 JQS-02,JQS-03 ……        only these nodes (codes or names, in the sender's subtree) and below
    #通知 只发 JQS-02-0* ……            only groups whose node code starts with JQS-02-0
    #通知 紧急 ……                       goes ahead of routine notices; its reminder ignores quiet hours
    #通知 请各户检查燃气软管，截止 周五18点

Deadlines (截止 or 截至, optionally followed by 前): a day — 今天/今晚/明天/明晚/明早/后天, 周五/星期五/本周五/下周五,
12月20日, 2027年1月5日, 12-20, 12/20 — and/or a time — 18点, 18:00, 下午6点, 6点半, 十点一刻, 晚上8点, 中午1点, 凌晨2点.
A day alone means the end of that day (23:59; 上午 12:00, 下午 18:00, 今晚 20:00); a time alone means its next occurrence.
A phrase that starts like a date but is not one (2月30日, 25点) is refused with the accepted forms; "截至目前" is text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.domain.grid import GridTree


class NoticeSyntaxError(ValueError):
    """The command cannot be understood; the message says how to write it."""


@dataclass(frozen=True, slots=True)
class Target:
    """Which part of the subtree a notice goes to; empty means all of it."""

    children: tuple[str, ...] = ()
    tier: str | None = None
    prefix: str | None = None

    def describe(self) -> str:
        parts = []
        if self.children:
            parts.append("只发 " + "、".join(self.children))
        if self.tier:
            parts.append(f"只发{self.tier}")
        if self.prefix:
            parts.append(f"编码以 {self.prefix} 开头")
        return "，".join(parts) or "全部下级群"

    def to_dict(self) -> dict[str, Any]:
        return {"children": list(self.children), "tier": self.tier, "prefix": self.prefix}


@dataclass(frozen=True, slots=True)
class Draft:
    text: str
    target: Target = field(default_factory=Target)
    deadline: datetime | None = None
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class Delivery:
    """One group a notice goes to."""

    node_code: str
    room_key: str
    tier: str


_ONLY = re.compile(r"^只发\s*([^\s]+)\s*")
_URGENT = re.compile(r"^(紧急|加急|【紧急】)\s*")
_CN_DIGITS = "零一二三四五六七八九"
_HOUR = r"(\d{1,2}|[零一二两三四五六七八九十]{1,3})"
_DAY = (r"(今天|今日|今晚|明天|明日|明晚|明早|后天|(?:本|这|下)?(?:周|星期|礼拜)[一二三四五六日天]|"
        r"(?:\d{4}年)?\d{1,2}月\d{1,2}[日号]?|(?:\d{4}[-/.])?\d{1,2}[-/.]\d{1,2})")
_PERIOD = r"(上午|早上|早晨|早|中午|下午|傍晚|晚上|夜里|晚|凌晨)"
_WHEN = (rf"{_DAY}?\s*{_PERIOD}?\s*(?:{_HOUR}\s*(?:[:：]\s*(\d{{1,2}})|[点时]\s*(半|一刻|三刻|\d{{1,2}}分?)?))?"
         r"\s*(?:之?前|以前|为止)?")
# "截止" (or the more correct "截至") then a day and/or a time; "截至目前" is text, not a deadline
_DEADLINE = re.compile(rf"^截[止至][:：]?\s*{_WHEN}\s*[，,。;；]?\s*")
_DEADLINE_TAIL = re.compile(rf"[\s，,。;；(（]+截[止至][:：]?\s*{_WHEN}\s*[)）]?[。.!！]?\s*$")
_LOOKS_LIKE_WHEN = re.compile(r"^截[止至][:：]?\s*(?:\d|[今明后本这下周星礼上早中傍晚夜凌]|[一二两三四五六七八九十]+[点时])")
_WEEKDAYS = "一二三四五六日"
DEADLINE_HELP = ("截止时间的写法：截止 12月20日、截止 12月20日18点、截止 明天18点、截止 明天下午6点半、截止 今晚8点、"
                 "截止 周五、截止 11-30 18:00（只写日期表示当天 23:59）。")


def parse_draft(rest: str, *, now: datetime, tz: Any, tiers: Sequence[str]) -> Draft:
    """Options then text, from what follows `#通知`; a deadline may also close the text."""
    text = rest.strip()
    target = Target()
    deadline = None
    urgent = False
    local_now = now.astimezone(tz)
    while text:
        m = _ONLY.match(text)
        if m:
            target = _target(unicodedata.normalize("NFKC", m.group(1)), target, tiers)  # the body keeps its own marks
            text = text[m.end():]
            continue
        m = _DEADLINE.match(text)
        if m and any(m.groups()):
            deadline = _deadline(m, local_now)
            text = text[m.end():]
            continue
        if _LOOKS_LIKE_WHEN.match(text):
            raise NoticeSyntaxError("没看懂截止时间。" + DEADLINE_HELP)
        m = _URGENT.match(text)
        if m:
            urgent = True
            text = text[m.end():]
            continue
        break
    if deadline is None:
        m = _DEADLINE_TAIL.search(text)
        if m and any(m.groups()):
            deadline = _deadline(m, local_now)
            text = text[:m.start()]
    text = text.strip()
    if not text:
        raise NoticeSyntaxError("通知内容是空的。写法：#通知 [只发房东群] [截止 明天18点] 通知正文")
    if deadline is not None and deadline <= now:
        raise NoticeSyntaxError("截止时间已经过了，请检查。")
    return Draft(text, target, deadline, urgent)


def _target(value: str, target: Target, tiers: Sequence[str]) -> Target:
    value = value.strip("，,")
    tier = next((t for t in tiers if value in (t, t + "群", t.rstrip("群") + "群")), None)
    if tier is not None:
        return Target(target.children, tier, target.prefix)
    if value.endswith("*"):
        return Target(target.children, target.tier, value[:-1])
    codes = tuple(c for c in re.split(r"[,，、]", value) if c)
    return Target(codes, target.tier, target.prefix)


def _number(word: str) -> int:
    """18, 十八, 两, 二十三 → int."""
    if word.isdigit():
        return int(word)
    word = word.replace("两", "二")
    if "十" in word:
        tens, _, ones = word.partition("十")
        return (_CN_DIGITS.index(tens) if tens else 1) * 10 + (_CN_DIGITS.index(ones) if ones else 0)
    return _CN_DIGITS.index(word) if len(word) == 1 else -1


def _day(word: str, today: date) -> date:
    if word in ("今天", "今日", "今晚"):
        return today
    if word in ("明天", "明日", "明晚", "明早"):
        return today + timedelta(days=1)
    if word == "后天":
        return today + timedelta(days=2)
    if word[-1] in _WEEKDAYS + "天" and ("周" in word or "星期" in word or "礼拜" in word):
        wanted = _WEEKDAYS.index(word[-1].replace("天", "日"))
        if word.startswith("下"):  # 下周五: the Friday of next week
            return today + timedelta(days=7 - today.weekday() + wanted)
        ahead = (wanted - today.weekday()) % 7
        if word.startswith(("本", "这")):
            return today + timedelta(days=ahead)
        return today + timedelta(days=ahead or 7)  # a bare 周五 said on a Friday means next Friday
    numbers = [int(x) for x in re.findall(r"\d+", word)]
    year = numbers.pop(0) if len(numbers) == 3 else None
    month, dom = numbers
    if year is None:
        year = today.year + (1 if (month, dom) < (today.month, today.day) else 0)
    try:
        return date(year, month, dom)
    except ValueError:
        raise NoticeSyntaxError(f"没有 {month}月{dom}日 这一天。" + DEADLINE_HELP) from None


def _deadline(m: re.Match[str], now: datetime) -> datetime:
    """The moment a matched `截止 …` phrase names, in the deployment's time zone."""
    day_word, period, hour_word, colon_minute, point_minute = m.groups()
    day = _day(day_word, now.date()) if day_word else now.date()
    evening = period in ("下午", "傍晚", "晚上", "夜里", "晚") or (day_word or "").endswith("晚")
    if hour_word is None:
        if period in ("上午", "早上", "早晨", "早", "中午") or (day_word or "").endswith("早"):
            at = time(12, 0)
        elif period in ("下午", "傍晚"):
            at = time(18, 0)
        elif evening:
            at = time(20, 0)
        else:
            at = time(23, 59)  # a date alone: the end of that day
    else:
        hour = _number(hour_word)
        minute = {"半": 30, "一刻": 15, "三刻": 45}.get(point_minute or "", None)
        if minute is None:
            minute = int(re.sub(r"\D", "", colon_minute or point_minute or "") or 0)
        if not 0 <= hour <= 24 or not 0 <= minute <= 59 or (hour == 24 and minute):
            raise NoticeSyntaxError(f"“{m.group(0).strip()}”不是有效的时间。" + DEADLINE_HELP)
        if period == "凌晨" and hour == 12:
            hour = 0
        if hour == 24 or (evening and hour == 12):
            at = time(23, 59)  # 晚上12点 / 24点: the end of that day, not its noon
        else:
            if (evening or (period == "中午" and hour < 6)) and hour < 12:
                hour += 12
            at = time(hour, minute)
    moment = datetime.combine(day, at, tzinfo=now.tzinfo)
    if day_word is None and moment <= now:
        moment += timedelta(days=1)  # "截止 18点" said at 19:00 means tomorrow
    return moment


_WHEN_AT = re.compile(_WHEN)


def match_when(text: str, pos: int, now: datetime) -> tuple[datetime, int] | None:
    """A day and/or time phrase of the deadline grammar above ('周五20点', '明天18:00', '今晚8点') starting at
    `text[pos]`: the moment (in `now`'s time zone, so pass a local `now`) and where the phrase ends; None when no
    such phrase starts there. Raises NoticeSyntaxError for an impossible one (25点, 2月30日)."""
    m = _WHEN_AT.match(text, pos)
    if m is None or not any(m.groups()):
        return None
    return _deadline(m, now), m.end()


def plan_fanout(tree: GridTree, origin: str, target: Target, *, include_origin: bool) -> list[Delivery]:
    """Every group under `origin` that the target admits, in tree order (pre-order).

    The origin's own groups are left out when the notice was posted in one of them (everyone there saw it).
    Raises NoticeSyntaxError if a named child is not in the origin's subtree.
    """
    roots = tuple(_resolve_child(tree, origin, code) for code in target.children) or (origin,)
    deliveries: list[Delivery] = []
    for root in roots:
        for code in tree.descendant_codes(root):
            if code == origin and not include_origin:
                continue
            node = tree.node(code)
            if target.tier and node.tier != target.tier:
                continue
            if target.prefix and not code.startswith(target.prefix):
                continue
            deliveries.extend(Delivery(code, room.key, node.tier) for room in node.rooms)
    return deliveries


def _resolve_child(tree: GridTree, origin: str, word: str) -> str:
    """A node below `origin` named by code (JQS-02) or by name (江桥社区第二网格, 第二网格群)."""
    if word in tree:
        if tree.is_within(word, origin) and word != origin:
            return word
        raise NoticeSyntaxError(f"“{word}”不在您负责的范围内（{origin} 以下）。")
    name = word.removesuffix("群")
    found = [n.code for n in tree.descendants(origin, include_self=False) if n.name in (word, name)]
    if not found:
        found = [n.code for n in tree.descendants(origin, include_self=False) if n.name.endswith(name)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise NoticeSyntaxError(f"“{word}”对应多个节点（{'、'.join(found[:5])}），请写编码。")
    raise NoticeSyntaxError(f"“{word}”不在您负责的范围内（{origin} 以下）。")


def by_tier(deliveries: Sequence[Delivery], tiers: Sequence[str]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for d in deliveries:
        counts[d.tier] = counts.get(d.tier, 0) + 1
    return [(t, counts[t]) for t in tiers if t in counts]


def chunk_mentions(names: Sequence[tuple[str, str]], size: int) -> list[list[tuple[str, str]]]:
    """(id, name) pairs in chunks of `size`: WeChat @s only so many people per message."""
    return [list(names[i:i + size]) for i in range(0, len(names), size)]


_TITLE = re.compile(r"^[《【\[]([^》】\]]{1,30})[》】\]]")
_CLAUSE = re.compile(r"[，,。.！!？?；;：:\n\s]")


def notice_title(text: str, limit: int = 12) -> str:
    """What a reminder calls a notice: its 《title》, else its first words (up to the first punctuation).

    '《燃气安全检查》请各户……' → '燃气安全检查'; '燃气安全检查，请各户在家' → '燃气安全检查'.
    """
    text = text.strip()
    titled = _TITLE.match(text)
    if titled:
        return titled.group(1).strip()
    head = _CLAUSE.split(text, maxsplit=1)[0] or text
    return head if len(head) <= limit else head[:limit] + "…"
