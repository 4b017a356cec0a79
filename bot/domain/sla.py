"""Deadlines: how long each stage of a ticket may take, and when reminders must keep quiet.

All times are passed in; nothing here reads the clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d)\s*$", re.I)
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_WORKING_DAYS = re.compile(r"^\s*(\d{1,3})\s*(?:wd|个?工作日)\s*$", re.I)


class WorkingDays(timedelta):
    """A limit counted in working days (weekends, public holidays skipped; 调休 days counted), e.g. `2wd`."""

    def __repr__(self) -> str:
        return f"WorkingDays({self.days})"


class Calendar(Protocol):
    """What deadlines and quiet hours need of a work calendar (bot.domain.calendar.WorkCalendar)."""

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime: ...

    def shift_out_of_quiet(self, at: datetime, quiet: "QuietHours", *, holidays_quiet: bool = False) -> datetime: ...


def parse_working_days(text: object) -> WorkingDays | None:
    """'2wd', '2 工作日', '2个工作日' → WorkingDays(2); anything else → None."""
    if not isinstance(text, str):
        return None
    match = _WORKING_DAYS.match(text)
    return WorkingDays(days=int(match.group(1))) if match else None


def parse_duration(text: str | int | float) -> timedelta:
    """'10m', '4h', '3d', '90s' (or a number of minutes) → timedelta; ValueError otherwise."""
    if isinstance(text, bool):
        raise ValueError("not a duration")
    if isinstance(text, (int, float)):
        return timedelta(minutes=float(text))
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (write e.g. 30m, 4h, 3d)")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2).lower()])


def format_duration(delta: timedelta) -> str:
    """A short Chinese rendering: 30分钟, 4小时, 3天, 1小时30分钟, 2个工作日."""
    if isinstance(delta, WorkingDays):
        return f"{delta.days}个工作日"
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 1)}分钟"
    hours, minutes = divmod(minutes, 60)
    if hours < 48 or hours % 24:
        return f"{hours}小时" + (f"{minutes}分钟" if minutes else "")
    return f"{hours // 24}天"


@dataclass(frozen=True, slots=True)
class Limits:
    """How long a ticket may wait to be accepted, and to be resolved."""

    accept: timedelta
    resolve: timedelta


DEFAULT_LIMITS: Mapping[str, Limits] = {
    "urgent": Limits(timedelta(minutes=10), timedelta(hours=4)),
    "normal": Limits(timedelta(minutes=30), timedelta(hours=24)),
    "low": Limits(timedelta(hours=4), timedelta(hours=72)),
}


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window (may cross midnight) in which non-urgent reminders wait."""

    start: time = time(22, 0)
    end: time = time(7, 0)
    timezone: str = "Asia/Shanghai"

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.timezone)).time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_end(self, moment: datetime) -> datetime:
        """The first moment at or after `moment` outside the window."""
        if not self.contains(moment):
            return moment
        tz = ZoneInfo(self.timezone)
        local = moment.astimezone(tz)
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end

    @classmethod
    def parse(cls, text: str, timezone: str = "Asia/Shanghai") -> "QuietHours":
        """'22:00-07:00' → QuietHours; 'off' → an empty window."""
        if text.strip().lower() in ("off", "none", "无"):
            return cls(time(0, 0), time(0, 0), timezone)
        match = re.match(r"^\s*(\d{1,2}):(\d{2})\s*[-–~到]\s*(\d{1,2}):(\d{2})\s*$", text)
        if not match:
            raise ValueError(f"not a time window: {text!r} (write e.g. 22:00-07:00)")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        return cls(time(h1 % 24, m1), time(h2 % 24, m2), timezone)


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """Limits per urgency, overridable per category, and the quiet hours.

    A limit may be `WorkingDays` (non-urgent tickets only: urgent ones always run on the clock); it is counted
    on `calendar`. With `holidays_quiet`, public holidays are quiet all day for non-urgent breaches."""

    limits: Mapping[str, Limits] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    by_category: Mapping[str, Mapping[str, timedelta]] = field(default_factory=dict)
    quiet: QuietHours = QuietHours()
    calendar: Calendar | None = None
    holidays_quiet: bool = False

    def limits_for(self, urgency: str, category: str | None = None) -> Limits:
        base = self.limits.get(urgency) or self.limits["normal"]
        override = dict(self.by_category.get(category or "", {}))
        if urgency == "urgent":  # a category's working-day limit is for its routine tickets, never urgent ones
            override = {k: v for k, v in override.items() if not isinstance(v, WorkingDays)}
        return Limits(override.get("accept", base.accept), override.get("resolve", base.resolve))

    def deadline(self, stage: str, urgency: str, category: str | None, since: datetime) -> datetime:
        """When the stage ('accept' or 'resolve') that started at `since` must be done."""
        limits = self.limits_for(urgency, category)
        return self.due(limits.accept if stage == "accept" else limits.resolve, since)

    def due(self, limit: timedelta, since: datetime) -> datetime:
        """`since` plus `limit`: on the calendar's working days for a WorkingDays limit, else on the clock."""
        if isinstance(limit, WorkingDays) and self.calendar is not None:
            return self.calendar.add_working_time(since, limit)
        return since + limit

    def quiet_end(self, moment: datetime) -> datetime:
        """The first moment at or after `moment` outside the quiet hours (and holidays, when they are quiet)."""
        if self.calendar is None:
            return self.quiet.next_end(moment)
        return self.calendar.shift_out_of_quiet(moment, self.quiet, holidays_quiet=self.holidays_quiet)

    def when_to_announce(self, urgency: str, moment: datetime) -> datetime:
        """Non-urgent breaches found in quiet hours (or holidays) are announced when they end; urgent ones at once."""
        return moment if urgency == "urgent" else self.quiet_end(moment)
