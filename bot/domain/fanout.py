"""Notices down the tree: what a leader's `#通知` says, and which groups it goes to (pure).

Syntax after `#通知` (options first, in any order, then the text):

    #通知 只发房东群 截止 明天18点 本周六上午停水，请提前储水
    #通知 只发 JQS-02,JQS-03 ……        only these children (and everything under them)
    #通知 只发 JQS-02-0* ……            only groups whose node code starts with JQS-02-0
    #通知 紧急 ……                       goes ahead of routine notices

Deadlines: 截止 12月20日 [18点|18:00], 截止 明天18点, 截止 今晚8点, 截止 后天, 截止 11-30 18:00, 截止 周五.
A date without a time means the end of that day (23:59).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
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
_DEADLINE = re.compile(
    r"^截止[:：]?\s*(今天|今晚|明天|明晚|后天|周[一二三四五六日天]|星期[一二三四五六日天]|"
    r"\d{1,2}月\d{1,2}[日号]?|\d{1,2}[-/.]\d{1,2})\s*(?:(上午|下午|晚上)?\s*(\d{1,2})(?:[:：点时](\d{1,2})?分?)?)?\s*")
_WEEKDAYS = "一二三四五六日"


def parse_draft(rest: str, *, now: datetime, tz: Any, tiers: Sequence[str]) -> Draft:
    """Options then text, from what follows `#通知`."""
    text = rest.strip()
    target = Target()
    deadline = None
    urgent = False
    while text:
        m = _ONLY.match(text)
        if m:
            target = _target(m.group(1), target, tiers)
            text = text[m.end():]
            continue
        m = _DEADLINE.match(text)
        if m:
            deadline = _deadline(m, now.astimezone(tz))
            text = text[m.end():]
            continue
        m = _URGENT.match(text)
        if m:
            urgent = True
            text = text[m.end():]
            continue
        break
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


def _deadline(m: re.Match[str], now: datetime) -> datetime:
    day_word, half, hour, minute = m.groups()
    today = now.date()
    if day_word in ("今天", "今晚"):
        day = today
    elif day_word in ("明天", "明晚"):
        day = today + timedelta(days=1)
    elif day_word == "后天":
        day = today + timedelta(days=2)
    elif day_word.startswith(("周", "星期")):
        wanted = _WEEKDAYS.index(day_word[-1].replace("天", "日"))
        day = today + timedelta(days=(wanted - today.weekday()) % 7 or 7)
    else:
        month, dom = (int(x) for x in re.findall(r"\d+", day_word)[:2])
        year = today.year + (1 if (month, dom) < (today.month, today.day) else 0)
        day = today.replace(year=year, month=month, day=dom)
    if hour is None:
        at = time(20, 0) if day_word in ("今晚", "明晚") else time(23, 59)
    else:
        h = int(hour)
        if (half in ("下午", "晚上") or day_word in ("今晚", "明晚")) and h < 12:
            h += 12
        at = time(h % 24, int(minute or 0))
    return datetime.combine(day, at, tzinfo=now.tzinfo)


def plan_fanout(tree: GridTree, origin: str, target: Target, *, include_origin: bool) -> list[Delivery]:
    """Every group under `origin` that the target admits, in tree order (pre-order).

    The origin's own groups are left out when the notice was posted in one of them (everyone there saw it).
    Raises NoticeSyntaxError if a named child is not in the origin's subtree.
    """
    for code in target.children:
        if code not in tree or not tree.is_within(code, origin) or code == origin:
            raise NoticeSyntaxError(f"“{code}”不在您负责的范围内（{origin} 以下）。")
    roots = target.children or (origin,)
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


def by_tier(deliveries: Sequence[Delivery], tiers: Sequence[str]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for d in deliveries:
        counts[d.tier] = counts.get(d.tier, 0) + 1
    return [(t, counts[t]) for t in tiers if t in counts]


def chunk_mentions(names: Sequence[tuple[str, str]], size: int) -> list[list[tuple[str, str]]]:
    """(id, name) pairs in chunks of `size`: WeChat @s only so many people per message."""
    return [list(names[i:i + size]) for i in range(0, len(names), size)]
