"""The duty roster (值班): who is on duty for a grid node at a given moment, and tonight's shifts.

Each node code may have a weekly pattern (ISO weekdays + a time range → person key) and exceptions (a day or
range of days + a time range → person key, e.g. holiday shifts). A range may cross midnight (20:00–08:00 runs
into the next morning and belongs to the day it starts on); "24:00" ends at midnight; from == to is a 24-hour
shift. Where an exception covers a moment it wins over the weekly pattern; outside it the pattern holds. Shifts
of one kind may not overlap (parse rejects it), so at most one person is on duty per node. Nothing here reads
the clock. (Longer than most modules, on purpose: one job, the roster — its checks and its answers together.)

API (moments timezone-aware; the roster's zone, Asia/Shanghai by default, decides days and times):

    roster = parse_roster([{"node": "JQS-04", "weekly": [{"days": "1-5", "from": "18:00", "to": "08:00",
                            "person": "zhang"}], "exceptions": [{"date": "2027-02-10", "from": "00:00",
                            "to": "24:00", "person": "li"}]}], people=known_keys, nodes=known_codes)
    roster.on_duty("JQS-04", at)                   # "zhang", or None
    roster.on_duty_or("JQS-04", at, "chen_li")     # the fallback when nobody is on duty
    roster.find_on_duty("JQS-04-02", at, parent_of)  # (node code, person) from the node up its ancestors, or None
    roster.nearest("JQS-04-02", parent_of)         # the node itself or its nearest ancestor that has a roster
    roster.schedule("JQS-04", start, end)          # [DutySlot(start, end, person)] overlapping [start, end)
    roster.tonight("JQS-04", day)                  # the slots overlapping `day` 18:00 → next day 08:00
    tonight_text(slots, day, name_of)              # "今晚值班：张三（20:00–次日08:00）"

`parent_of` maps a node code to its parent's code (None at the root), e.g. `lambda c: tree.node(c).parent`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.calendar import parse_days

_LOGGER = logging.getLogger(__name__)

_DAY = 1440  # minutes
_WEEK = 7 * _DAY
_TIME = re.compile(r"^\s*(\d{1,2})[:：](\d{2})\s*$")
_WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True, slots=True)
class WeeklyShift:
    """A shift on each of `days` (ISO weekdays, 1 = Monday), from `start` for `minutes` (≤ a day)."""

    days: frozenset[int]
    start: int  # minutes after midnight
    minutes: int
    person: str


@dataclass(frozen=True, slots=True)
class ExceptionShift:
    """A one-off shift from `start` to `end` (local wall-clock, naive) that wins over the weekly pattern."""

    start: datetime
    end: datetime
    person: str


@dataclass(frozen=True, slots=True)
class NodeRoster:
    """One node's weekly pattern and exceptions."""

    node_code: str
    weekly: tuple[WeeklyShift, ...] = ()
    exceptions: tuple[ExceptionShift, ...] = ()


@dataclass(frozen=True, slots=True)
class DutySlot:
    """Someone on duty from `start` to `end` (aware datetimes)."""

    start: datetime
    end: datetime
    person: str


class Roster:
    """The duty rosters of a deployment, by node code."""

    __slots__ = ("timezone", "_tz", "_nodes")

    def __init__(self, nodes: Iterable[NodeRoster] = (), *, timezone: str = "Asia/Shanghai") -> None:
        self.timezone = timezone
        self._tz = ZoneInfo(timezone)
        self._nodes: dict[str, NodeRoster] = {}
        for node in nodes:
            if node.node_code in self._nodes:
                raise ValueError(f"node {node.node_code!r} has two rosters")
            self._nodes[node.node_code] = node

    def __contains__(self, node_code: object) -> bool:
        return node_code in self._nodes

    def node_codes(self) -> tuple[str, ...]:
        """The codes of the nodes that have a roster."""
        return tuple(self._nodes)

    def on_duty(self, node_code: str, at: datetime) -> str | None:
        """The person key on duty for this node at `at`, or None (no roster, or nobody then)."""
        roster = self._nodes.get(node_code)
        if roster is None:
            return None
        local = _local(at, self._tz)
        for shift in roster.exceptions:
            if shift.start <= local < shift.end:
                return shift.person
        for day in (local.date() - timedelta(days=1), local.date()):
            for start, end, person in self._weekly_on(roster, day):
                if start <= local < end:
                    return person
        return None

    def on_duty_or(self, node_code: str, at: datetime, fallback: str) -> str:
        """The person on duty, else `fallback` (e.g. the node's 网格长)."""
        person = self.on_duty(node_code, at)
        return fallback if person is None else person

    def find_on_duty(
        self, node_code: str, at: datetime, parent_of: Callable[[str], str | None]
    ) -> tuple[str, str] | None:
        """(node code, person) of the first node, from `node_code` up to the root, with someone on duty at `at`.

        A node without a roster, or whose roster has nobody at that moment, passes the question to its parent.
        """
        code: str | None = node_code
        seen: set[str] = set()
        while code is not None and code not in seen:
            seen.add(code)
            person = self.on_duty(code, at)
            if person is not None:
                return code, person
            code = parent_of(code)
        return None

    def nearest(self, node_code: str, parent_of: Callable[[str], str | None]) -> str | None:
        """The node itself or its nearest ancestor that has a roster, e.g. to answer #值班 in a 楼道群."""
        code: str | None = node_code
        seen: set[str] = set()
        while code is not None and code not in seen:
            if code in self._nodes:
                return code
            seen.add(code)
            code = parent_of(code)
        return None

    def schedule(self, node_code: str, start: datetime, end: datetime) -> list[DutySlot]:
        """The shifts as they stand (exceptions cut into the weekly pattern) that overlap [start, end), whole."""
        roster = self._nodes.get(node_code)
        if roster is None:
            return []
        first, last = _local(start, self._tz), _local(end, self._tz)
        pieces: list[tuple[datetime, datetime, str]] = []
        day = first.date() - timedelta(days=1)
        while day <= last.date():
            for piece in self._weekly_on(roster, day):
                pieces.extend(_cut(piece, roster.exceptions))
            day += timedelta(days=1)
        pieces.extend((shift.start, shift.end, shift.person) for shift in roster.exceptions)
        pieces.sort()
        merged: list[tuple[datetime, datetime, str]] = []
        for piece in pieces:
            if merged and merged[-1][1] == piece[0] and merged[-1][2] == piece[2]:
                merged[-1] = (merged[-1][0], piece[1], piece[2])
            else:
                merged.append(piece)
        return [
            DutySlot(s.replace(tzinfo=self._tz), e.replace(tzinfo=self._tz), person)
            for s, e, person in merged
            if s < last and e > first
        ]

    def tonight(self, node_code: str, day: date, *, evening: time = time(18, 0),
                morning: time = time(8, 0)) -> list[DutySlot]:
        """The slots overlapping the night of `day`: `evening` on that day to `morning` the next."""
        start = datetime.combine(day, evening, self._tz)
        end = datetime.combine(day + timedelta(days=1), morning, self._tz)
        return self.schedule(node_code, start, end)

    @staticmethod
    def _weekly_on(roster: NodeRoster, day: date) -> Iterable[tuple[datetime, datetime, str]]:
        """The weekly shifts that start on `day`, as local naive (start, end, person)."""
        midnight = datetime.combine(day, time(0))
        for shift in roster.weekly:
            if day.isoweekday() in shift.days:
                begin = midnight + timedelta(minutes=shift.start)
                yield begin, begin + timedelta(minutes=shift.minutes), shift.person


def _local(moment: datetime, tz: ZoneInfo) -> datetime:
    """`moment` as naive local wall-clock time (Asia/Shanghai keeps no summer time, so wall-clock arithmetic holds)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"the moment must be timezone-aware, not {moment.isoformat()}")
    return moment.astimezone(tz).replace(tzinfo=None)


def _cut(piece: tuple[datetime, datetime, str], exceptions: Sequence[ExceptionShift]
         ) -> list[tuple[datetime, datetime, str]]:
    """What is left of a weekly shift outside the exceptions."""
    left = [piece]
    for shift in exceptions:
        kept: list[tuple[datetime, datetime, str]] = []
        for start, end, person in left:
            if shift.end <= start or shift.start >= end:
                kept.append((start, end, person))
                continue
            if start < shift.start:
                kept.append((start, shift.start, person))
            if shift.end < end:
                kept.append((shift.end, end, person))
        left = kept
    return left


# -- wording ----------------------------------------------------------------------------------

def tonight_text(slots: Sequence[DutySlot], day: date, name_of: Callable[[str], str], *,
                 node_name: str | None = None) -> str:
    """The #值班 reply: "今晚值班：张三（20:00–次日08:00）", times on other days marked 次日 / 昨日."""
    where = node_name or ""
    if not slots:
        return f"{where}今晚没有安排值班。"
    parts = [f"{name_of(slot.person)}（{_clock(slot.start, day)}–{_clock(slot.end, day, end=True)}）"
             for slot in slots]
    return f"{where}今晚值班：" + "、".join(parts)


def _clock(moment: datetime, day: date, *, end: bool = False) -> str:
    local = moment
    offset = (local.date() - day).days
    if end and local.time() == time(0) and offset >= 1:
        offset, text = offset - 1, "24:00"  # a shift ending at midnight ends at 24:00 of the day before
    else:
        text = local.strftime("%H:%M")
    prefix = {-1: "昨日", 0: "", 1: "次日"}.get(offset, f"{local.month}月{local.day}日")
    return prefix + text


# -- plain data → Roster ----------------------------------------------------------------------

def parse_roster(data: object, *, timezone: str = "Asia/Shanghai", people: Collection[str] | None = None,
                 nodes: Collection[str] | None = None, where: str = "duty") -> Roster:
    """A Roster from plain data as YAML gives it (a list of node entries, or one); ValueError naming the field.

    Entry: {"node": code, "weekly": [{"days": "1-5", "from": "18:00", "to": "08:00", "person": key}],
    "exceptions": [{"date": "2027-02-10" or "2027-02-06..2027-02-12", "from": "00:00", "to": "24:00",
    "person": key}]}. `days`: "1-5", "6,7", 3, [1, 2] or 每天 (1 = Monday). Times: "HH:MM" (to may be
    "24:00"), or the minutes YAML makes of an unquoted 18:00. `people` and `nodes`, when given, are the keys
    and codes that exist.
    """
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list):
        raise ValueError(f"{where}: expected a list of node rosters")
    rosters: list[NodeRoster] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(data):
        roster = _parse_node(entry, f"{where}[{i}]", people, nodes)
        if roster.node_code in seen:
            first = seen[roster.node_code]
            raise ValueError(f"{where}[{i}].node: {roster.node_code!r} already has a roster at {where}[{first}]")
        seen[roster.node_code] = i
        rosters.append(roster)
    return Roster(rosters, timezone=timezone)


def _parse_node(entry: object, field: str, people: Collection[str] | None,
                nodes: Collection[str] | None) -> NodeRoster:
    if not isinstance(entry, Mapping):
        raise ValueError(f"{field}: expected a mapping with node, weekly and/or exceptions")
    unknown = sorted(str(key) for key in entry if key not in ("node", "weekly", "exceptions"))
    if unknown:
        raise ValueError(f"{field}.{unknown[0]}: unknown field (known: node, weekly, exceptions)")
    code = entry.get("node")
    if not isinstance(code, str) or not code.strip():
        raise ValueError(f"{field}.node: expected a node code, e.g. JQS-04")
    code = code.strip()
    if nodes is not None and code not in nodes:
        raise ValueError(f"{field}.node: no node has the code {code!r}")
    weekly_raw = _list(entry.get("weekly"), f"{field}.weekly")
    weekly = tuple(_parse_weekly(item, f"{field}.weekly[{i}]", people) for i, item in enumerate(weekly_raw))
    _check_weekly_overlap(weekly, f"{field}.weekly")
    exceptions: list[tuple[ExceptionShift, int]] = []
    for i, item in enumerate(_list(entry.get("exceptions"), f"{field}.exceptions")):
        exceptions.extend((shift, i) for shift in _parse_exception(item, f"{field}.exceptions[{i}]", people))
    exceptions.sort(key=lambda pair: pair[0].start)
    latest: tuple[ExceptionShift, int] | None = None  # the exception ending last so far: it may span the next ones
    for shift, i in exceptions:
        if latest is not None and shift.start < latest[0].end:
            a, b = sorted((i, latest[1]))
            raise ValueError(f"{field}.exceptions[{b}] overlaps exceptions[{a}] at {shift.start:%Y-%m-%d %H:%M}")
        if latest is None or shift.end > latest[0].end:
            latest = (shift, i)
    if not weekly and not exceptions:
        raise ValueError(f"{field}: node {code!r} has neither weekly shifts nor exceptions")
    return NodeRoster(code, weekly, tuple(shift for shift, _ in exceptions))


def _list(value: object, field: str) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{field}: expected a list")
    return value


def _fields(item: object, field: str, first: str) -> Mapping[str, object]:
    if not isinstance(item, Mapping):
        raise ValueError(f"{field}: expected a mapping with {first}, from, to and person")
    known = (first, "from", "to", "person")
    unknown = sorted(str(key) for key in item if key not in known)
    if unknown:
        raise ValueError(f"{field}.{unknown[0]}: unknown field (known: {', '.join(known)})")
    for key in known:
        if item.get(key) is None:
            raise ValueError(f"{field}.{key}: missing")
    return item


def _parse_weekly(item: object, field: str, people: Collection[str] | None) -> WeeklyShift:
    item = _fields(item, field, "days")
    start, minutes = _range(item, field)
    return WeeklyShift(_days(item["days"], f"{field}.days"), start, minutes, _person(item, field, people))


def _parse_exception(item: object, field: str, people: Collection[str] | None) -> list[ExceptionShift]:
    item = _fields(item, field, "date")
    start, minutes = _range(item, field)
    person = _person(item, field, people)
    shifts = []
    for day in parse_days(item["date"], f"{field}.date"):
        begin = datetime.combine(day, time(0)) + timedelta(minutes=start)
        shifts.append(ExceptionShift(begin, begin + timedelta(minutes=minutes), person))
    return shifts


def _range(item: Mapping[str, object], field: str) -> tuple[int, int]:
    """(start minute, length in minutes) of from–to; to ≤ from runs into the next day."""
    start = _minutes(item["from"], f"{field}.from", allow_24=False)
    end = _minutes(item["to"], f"{field}.to", allow_24=True)
    return start, (end - start) % _DAY or _DAY


def _minutes(value: object, field: str, *, allow_24: bool) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{field}: not a time: {value!r} (write e.g. \"08:00\")")
    if isinstance(value, time):
        return value.hour * 60 + value.minute
    if isinstance(value, int):
        minutes = value  # YAML 1.1 reads an unquoted 18:00 as the sexagesimal 1080, minutes after midnight
    elif isinstance(value, str) and (match := _TIME.match(value)):
        hours, mins = int(match.group(1)), int(match.group(2))
        if mins >= 60:
            raise ValueError(f"{field}: not a time: {value!r} (write e.g. \"08:00\")")
        minutes = hours * 60 + mins
    else:
        raise ValueError(f"{field}: not a time: {value!r} (write e.g. \"08:00\")")
    if not 0 <= minutes <= _DAY or (minutes == _DAY and not allow_24):
        raise ValueError(f"{field}: not a time of day: {value!r} (00:00 to {'24:00' if allow_24 else '23:59'})")
    return minutes


def _days(value: object, field: str) -> frozenset[int]:
    hint = "write ISO weekdays 1-7 (1 = Monday), e.g. \"1-5\", \"6,7\" or 每天"
    if isinstance(value, bool):
        raise ValueError(f"{field}: not weekdays: {value!r} ({hint})")
    if isinstance(value, int):
        parts: list[object] = [value]
    elif isinstance(value, list):
        parts = list(value)
    elif isinstance(value, str):
        if value.strip() in ("每天", "daily", "*"):
            return frozenset(range(1, 8))
        parts = [p for p in re.split(r"[,，、\s]+", value.strip()) if p]
    else:
        raise ValueError(f"{field}: not weekdays: {value!r} ({hint})")
    days: set[int] = set()
    for part in parts:
        text = str(part).strip()
        match = re.fullmatch(r"(\d)\s*[-–~]\s*(\d)", text)
        if match:
            first, last = int(match.group(1)), int(match.group(2))
        elif text.isdigit():
            first = last = int(text)
        else:
            raise ValueError(f"{field}: not weekdays: {value!r} ({hint})")
        if not (1 <= first <= last <= 7):
            raise ValueError(f"{field}: not weekdays: {value!r} ({hint})")
        days.update(range(first, last + 1))
    if not days:
        raise ValueError(f"{field}: no weekdays given ({hint})")
    return frozenset(days)


def _person(item: Mapping[str, object], field: str, people: Collection[str] | None) -> str:
    person = item["person"]
    if not isinstance(person, str) or not person.strip():
        raise ValueError(f"{field}.person: expected a person key, e.g. zhang_ayi")
    person = person.strip()
    if people is not None and person not in people:
        raise ValueError(f"{field}.person: no person has the key {person!r}")
    return person


def _check_weekly_overlap(weekly: Sequence[WeeklyShift], field: str) -> None:
    """Two weekly shifts covering the same minute of the week make "who is on duty" ambiguous."""
    spans: list[tuple[int, int, int]] = []
    for i, shift in enumerate(weekly):
        for day in shift.days:
            begin = (day - 1) * _DAY + shift.start
            end = begin + shift.minutes
            spans.append((begin, min(end, _WEEK), i))
            if end > _WEEK:  # Sunday night runs into Monday morning
                spans.append((0, end - _WEEK, i))
    spans.sort()
    end_so_far, owner = -1, -1
    for begin, end, i in spans:
        if begin < end_so_far:
            day, minute = divmod(begin, _DAY)
            a, b = sorted((i, owner))
            raise ValueError(f"{field}[{b}] overlaps {field.rsplit('.', 1)[-1]}[{a}] on 周{_WEEKDAYS[day]}"
                             f" at {minute // 60:02d}:{minute % 60:02d}")
        if end > end_so_far:
            end_so_far, owner = end, i
