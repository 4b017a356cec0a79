"""Digests: the periods they cover, when they are due, who gets which subtree, and the text itself.

Pure: figures come in as plain dataclasses (gathered by storage/digest_repository.py), text goes
out. Every resident's words pass through `mask_personal` (bot.domain.privacy) before they reach a digest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.grid import GridTree
from bot.domain.privacy import mask_personal
from bot.domain.sla import format_duration
from bot.domain.tickets import CATEGORY_NAMES, STATE_NAMES

PERIOD_KINDS = ("day", "week")
PERIOD_NAMES = {"day": "日报", "week": "周报"}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")



# --- periods and schedules ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end): the stretch of time a digest covers."""

    kind: str  # day / week
    start: datetime
    end: datetime

    def previous(self) -> "Period":
        length = self.end - self.start
        return Period(self.kind, self.start - length, self.start)

    def label(self, tz: ZoneInfo) -> str:
        start, end = self.start.astimezone(tz), self.end.astimezone(tz)
        if self.kind == "day":
            if start.time() == time(0) and end - start == timedelta(days=1):
                return f"{start.month}月{start.day}日"
            return f"{start.month}月{start.day}日{start:%H:%M}至{end.month}月{end.day}日{end:%H:%M}"
        last = end - timedelta(seconds=1)
        return f"{start.month}月{start.day}日至{last.month}月{last.day}日"


def calendar_period(kind: str, day: date, tz: ZoneInfo) -> Period:
    """The calendar day, or the Monday-to-Sunday week, that contains `day` (local time)."""
    if kind not in PERIOD_KINDS:
        raise ValueError(f"period must be one of {', '.join(PERIOD_KINDS)}, not {kind!r}")
    first = day if kind == "day" else day - timedelta(days=day.weekday())
    start = datetime.combine(first, time(0), tz)
    end = datetime.combine(first + timedelta(days=1 if kind == "day" else 7), time(0), tz)
    return Period(kind, start, end)


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a digest goes out: every day at a time, or once a week on a weekday at a time."""

    kind: str  # day / week
    at: time
    weekday: int | None = None  # 0 = Monday, weeks only

    @classmethod
    def parse(cls, kind: str, text: str) -> "Schedule":
        """'18:00' (daily) or 'mon 08:00' (weekly)."""
        match = re.match(r"^\s*(?:([a-zA-Z]{3})[a-zA-Z]*\s+)?(\d{1,2}):(\d{2})\s*$", str(text))
        if not match:
            raise ValueError(f"not a schedule: {text!r}")
        day, hour, minute = match.group(1), int(match.group(2)), int(match.group(3))
        if hour > 23 or minute > 59:
            raise ValueError(f"not a time of day: {text!r}")
        weekday = None
        if kind == "week":
            if day is None or day.lower() not in WEEKDAYS:
                raise ValueError(f"a weekly schedule needs a weekday: {text!r}")
            weekday = WEEKDAYS.index(day.lower())
        elif day is not None:
            raise ValueError(f"a daily schedule has no weekday: {text!r}")
        return cls(kind, time(hour, minute), weekday)

    @property
    def length(self) -> timedelta:
        return timedelta(days=1 if self.kind == "day" else 7)

    def last_fire(self, now: datetime, tz: ZoneInfo) -> datetime:
        """The latest scheduled moment at or before `now`."""
        local = now.astimezone(tz)
        candidate = datetime.combine(local.date(), self.at, tz)
        if self.weekday is not None:
            candidate -= timedelta(days=(local.weekday() - self.weekday) % 7)
        while candidate > local:
            candidate -= self.length
        return candidate

    def next_fire(self, now: datetime, tz: ZoneInfo) -> datetime:
        """The first scheduled moment after `now`."""
        return self.last_fire(now, tz) + self.length

    def period_ending(self, fire: datetime) -> Period:
        """A scheduled digest covers the day (or week) up to the moment it goes out."""
        return Period(self.kind, fire - self.length, fire)


def due_fires(schedules: Iterable[Schedule], now: datetime, tz: ZoneInfo,
              grace: timedelta) -> list[tuple[Schedule, datetime]]:
    """Each schedule's latest moment that is still within its grace period (missed ones count once)."""
    due = []
    for schedule in schedules:
        fire = schedule.last_fire(now, tz)
        if now - fire <= grace:
            due.append((schedule, fire))
    return due


# --- recipients ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who gets a digest of which subtree, and where: a person privately, or a group."""

    key: str  # person key, or "room:<room key>"
    name: str
    node_code: str
    to_kind: str  # contact / room
    to_id: str  # WeChat id, or the group's room key


def recipients(tree: GridTree, people: Mapping[str, object], *, secretary_roles: Sequence[str],
               leader_roles: Sequence[str], room: str | None) -> list[Recipient]:
    """Secretaries of the top node (or its named group) for the whole community; leaders for their subtree.

    A person with no WeChat id cannot be written to privately and is skipped (the config check warns).
    """
    found: dict[tuple[str, str], Recipient] = {}
    for root in tree.roots:
        if room:
            found[(f"room:{room}", root)] = Recipient(f"room:{room}", room, root, "room", room)
        else:
            for role in secretary_roles:
                for key in tree.node(root).people_with(role):
                    person = people.get(key)
                    wechat_id = getattr(person, "wechat_id", None)
                    if wechat_id:
                        found.setdefault((key, root), Recipient(key, getattr(person, "name", key), root, "contact",
                                                                wechat_id))
    for node in tree:
        if node.parent is None:
            continue
        for role in leader_roles:
            for key in node.people_with(role):
                person = people.get(key)
                wechat_id = getattr(person, "wechat_id", None)
                if wechat_id:
                    found.setdefault((key, node.code), Recipient(key, getattr(person, "name", key), node.code,
                                                                 "contact", wechat_id))
    return list(found.values())


# --- figures ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UrgentTicket:
    number: int
    state: str
    node_name: str
    text: str


@dataclass(frozen=True, slots=True)
class NodeCount:
    code: str
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class TicketFigures:
    new: int = 0
    accepted: int = 0
    resolved: int = 0
    closed: int = 0
    open: int = 0  # not yet resolved, as of the digest
    overdue: int = 0  # open and past the current deadline, as of the digest
    by_category: Mapping[str, int] = field(default_factory=dict)  # new in the period
    most_open: Sequence[NodeCount] = ()
    most_overdue: Sequence[NodeCount] = ()
    urgent: Sequence[UrgentTicket] = ()  # urgent ones raised in the period
    accept_median: float | None = None  # seconds, over tickets accepted in the period
    resolve_median: float | None = None  # seconds, over tickets resolved in the period
    on_time: int = 0  # of `judged`: resolved in the period without a missed deadline
    judged: int = 0  # resolved in the period
    own_level: int = 0  # of `resolved`: never passed up
    escalated: int = 0  # of `resolved`: passed up at least once
    held: int = 0  # messages held for a leader to register or dismiss (the review queue), as of the digest
    held_sample: Sequence[tuple[int, str, str]] = ()  # (item id, sender, text) of the oldest few


@dataclass(frozen=True, slots=True)
class TierAcks:
    tier: str
    groups: int  # delivered copies (group × notice)
    expected: int  # households × notices
    acked: int  # households that replied, summed over notices

    @property
    def rate(self) -> float | None:
        return self.acked / self.expected if self.expected else None


@dataclass(frozen=True, slots=True)
class GroupAcks:
    name: str
    code: str
    rate: float


@dataclass(frozen=True, slots=True)
class NoticeFigures:
    sent: int = 0  # notices with at least one copy delivered in the period
    groups: int = 0  # delivered copies
    by_tier: Sequence[TierAcks] = ()
    lowest: Sequence[GroupAcks] = ()

    @property
    def rate(self) -> float | None:
        expected = sum(t.expected for t in self.by_tier)
        return sum(t.acked for t in self.by_tier) / expected if expected else None


@dataclass(frozen=True, slots=True)
class PersonFigures:
    key: str
    name: str
    handled: int  # resolved in the period by them (the ticket timeline's resolver; the assignee if none is kept)
    on_time: int
    open: int  # assigned to them and open now
    accepted: int = 0  # accepted in the period by them

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.handled if self.handled else None


@dataclass(frozen=True, slots=True)
class DigestFigures:
    node_code: str
    node_name: str
    period: Period
    tickets: TicketFigures
    notices: NoticeFigures
    people: Sequence[PersonFigures] = ()
    daily: Sequence[tuple[date, int, int]] = ()  # (day, new, resolved), for the chart
    satisfaction: "SatisfactionFigures | None" = None  # reporters' answers given in the period


@dataclass(frozen=True, slots=True)
class SatisfactionFigures:
    """Reporters' ratings given in the period (bot.domain.satisfaction): all of them, per handler, per node."""

    count: int
    share_satisfied: float | None
    by_handler: Sequence[tuple[str, int, float | None]] = ()  # (name, answers, share 满意), most answers first
    by_node: Sequence[tuple[str, int, float | None]] = ()

    def lines(self) -> list[str]:
        """'满意度：N 条评价，满意 X%' and, when there are several, the handlers and nodes behind it."""
        lines = [f"😊 满意度：{self.count} 条评价，满意 {_rate(self.share_satisfied)}"]
        for label, rows in (("按负责人", self.by_handler), ("按网格", self.by_node)):
            if len(rows) > 1:
                lines.append(f"{label}：" + "、".join(f"{name} {_rate(share)}（{n}条）" for name, n, share in rows[:5]))
        return lines


# --- text -------------------------------------------------------------------------------------------


def _pct(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "—"


def _rate(value: float | None) -> str:
    return f"{round(100 * value)}%" if value is not None else "—"


def _trend(now: float | None, before: float | None, *, unit: str = "",
           fmt: Callable[[float], str] | None = None) -> str:
    """' ↑3' / ' ↓2' / '' (same or nothing to compare)."""
    if now is None or before is None or now == before:
        return ""
    delta = now - before
    shown = fmt(abs(delta)) if fmt is not None else f"{abs(delta):g}{unit}"
    return f" {'↑' if delta > 0 else '↓'}{shown}"


def _duration(seconds: float | None) -> str:
    return format_duration(timedelta(seconds=round(seconds))) if seconds is not None else "—"


def format_digest(current: DigestFigures, previous: DigestFigures | None, tz: ZoneInfo, *,
                  generated_at: datetime | None = None, chart_link: str | None = None) -> str:
    """The digest as short lines for a phone screen, compared with the previous period."""
    t, p = current.tickets, (previous.tickets if previous is not None else None)
    n, pn = current.notices, (previous.notices if previous is not None else None)
    title = f"【{current.node_name}·{PERIOD_NAMES[current.period.kind]}】{current.period.label(tz)}"
    lines = [title]
    if generated_at is not None:
        lines[0] += f"（{generated_at.astimezone(tz):%H:%M}生成）"

    def trend(attr: str) -> str:
        return _trend(getattr(t, attr), getattr(p, attr) if p is not None else None)

    lines.append("📋 工单")
    lines.append(f"新增 {t.new}{trend('new')}｜受理 {t.accepted}｜办结 {t.resolved}｜关闭 {t.closed}")
    lines.append(f"目前未办结 {t.open}｜其中超时 {t.overdue}")
    if t.by_category:
        parts = [f"{CATEGORY_NAMES.get(c, c)} {k}" for c, k in sorted(t.by_category.items(), key=lambda i: (-i[1], i[0]))]
        lines.append("分类：" + "、".join(parts))
    lines.append("⏱ 时效")
    accept_trend = _trend(t.accept_median, p.accept_median if p else None, fmt=_duration)
    resolve_trend = _trend(t.resolve_median, p.resolve_median if p else None, fmt=_duration)
    lines.append(f"受理用时中位 {_duration(t.accept_median)}{accept_trend}")
    lines.append(f"办结用时中位 {_duration(t.resolve_median)}{resolve_trend}")
    on_time_now = t.on_time / t.judged if t.judged else None
    on_time_before = (p.on_time / p.judged) if p is not None and p.judged else None
    lines.append(f"按时办结 {_pct(t.on_time, t.judged)}（{t.on_time}/{t.judged}）"
                 f"{_trend(on_time_now, on_time_before, fmt=lambda d: f'{round(100 * d)}%')}")
    lines.append(f"本级办结 {t.own_level}（{_pct(t.own_level, t.resolved)}）｜上报办结 {t.escalated}"
                 f"（{_pct(t.escalated, t.resolved)}）")
    if t.urgent:
        lines.append("🚨 紧急")
        for item in t.urgent[:8]:
            lines.append(f"#{item.number} {item.node_name}：{_short(mask_personal(item.text))}——"
                         f"{STATE_NAMES.get(item.state, item.state)}")
        if len(t.urgent) > 8:
            lines.append(f"……另有 {len(t.urgent) - 8} 件")
    if t.held:
        lines.append(f"❓ 待确认 {t.held} 条（机器人没有把握，未在群里回复；#登记 编号 / #忽略 编号）")
        for item_id, sender, text in t.held_sample:
            lines.append(f"[{item_id}] {sender}：{_short(mask_personal(text))}")
    if t.most_open:
        lines.append("📍 未办结最多：" + "、".join(f"{c.name}({c.code}) {c.count}" for c in t.most_open))
    if t.most_overdue:
        lines.append("⚠️ 超时最多：" + "、".join(f"{c.name}({c.code}) {c.count}" for c in t.most_overdue))
    lines.append("📢 通知")
    rate_trend = _trend(n.rate, pn.rate if pn else None, fmt=lambda d: f"{round(100 * d)}%")
    lines.append(f"发出 {n.sent} 条｜送达 {n.groups} 群次｜回执率 {_rate(n.rate)}{rate_trend}")
    if n.by_tier:
        lines.append("按层级：" + "｜".join(f"{a.tier} {_rate(a.rate)}" for a in n.by_tier))
    if n.lowest:
        lines.append("回执最低：" + "、".join(f"{g.name}({g.code}) {_rate(g.rate)}" if g.code else f"{g.name} {_rate(g.rate)}"
                                         for g in n.lowest))
    if current.people:
        lines.append("👤 人员（办结｜按时｜在办｜受理）")
        for person in current.people[:10]:
            lines.append(f"{person.name} {person.handled}｜{_rate(person.on_time_share)}｜{person.open}｜"
                         f"{person.accepted}")
    if current.satisfaction is not None and current.satisfaction.count:
        lines.extend(current.satisfaction.lines())
    if chart_link:
        lines.append(f"📈 图表：{chart_link}")
    return mask_personal("\n".join(lines))


def is_empty(figures: DigestFigures) -> bool:
    """Nothing to read: no ticket raised, accepted, resolved or closed, no notice sent, nothing overdue and
    nothing held for a leader. A digest of such a period is skipped when `digests.skip_empty` is on."""
    t, n = figures.tickets, figures.notices
    return not (t.new or t.accepted or t.resolved or t.closed or t.overdue or t.held or n.sent)


def _short(text: str, limit: int = 20) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
