"""Working days in China: public holidays, 调休 make-up working days, and a deployment's own extra days.

The State Council's yearly schedule comes from the `chinese-calendar` package (import `chinese_calendar`); a
deployment may add extra holidays (a community's own day off, or next year's schedule before the package has it)
and extra working days. An extra day always wins over the package. Nothing here reads the clock.

API (all times timezone-aware; the calendar's zone, Asia/Shanghai by default, decides which day a moment is on):

    cal = WorkCalendar(extra_holidays={date(2027, 2, 6): "春节"}, extra_workdays=[date(2027, 2, 14)])
    cal = parse_calendar({"extra_holidays": ["2027-02-06..2027-02-12"], "extra_workdays": ["2027-02-14"]})
    cal.is_workday(d)          # a day people work: Mon–Fri outside holidays, or a 调休 weekend day
    cal.is_holiday(d)          # a day of a public holiday period (春节, 国庆节 …) or an extra holiday; not a plain weekend
    cal.holiday_name(d)        # "春节", "国庆节" …, or None (also None for a 调休 working day)
    cal.makeup_for(d)          # on a 调休 working day, the holiday it makes up for ("春节"), else None
    cal.covered_years()        # range of years the package has data for, e.g. range(2004, 2027)
    cal.coverage_warning(today)  # Chinese + English text when today's year (or, in December, next year) has no data
    cal.add_working_time(start, timedelta(hours=8), workday_hours=(time(8, 30), time(17, 30)))
    cal.add_working_days(start, 2)   # "2个工作日": 48 hours of working days, holidays and weekends not counted
    cal.shift_out_of_quiet(at, quiet, holidays_quiet=True)  # first moment outside quiet hours (and holidays)

Outside the covered years only the weekday rule and the extra days apply: the bot keeps working, and
`coverage_warning` says so, to be shown to the operator (e.g. by `gridbot check` and a daily job).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar

from bot.domain.sla import QuietHours

_LOGGER = logging.getLogger(__name__)

UNNAMED_HOLIDAY = "休息日"  # the name of an extra holiday given as a bare date
_MAX_DAYS = 3660  # a walk over the calendar that finds no working day in ten years has bad input
_DAY_HINT = "write e.g. 2027-02-10 or 2027-02-06..2027-02-12"
_RANGE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*(?:\.\.|~|至)\s*(\d{4}-\d{2}-\d{2})\s*$")

# The package keys its data by the English name; people read the Chinese one.
_CHINESE = {holiday.value: holiday.chinese for holiday in chinese_calendar.Holiday}


class WorkCalendar:
    """Which days are worked, from the package's schedule plus a deployment's extra holidays and working days."""

    __slots__ = ("timezone", "_tz", "_extra_holidays", "_extra_workdays", "_years")

    def __init__(
        self,
        *,
        extra_holidays: Mapping[date, str | None] | Iterable[date] = (),
        extra_workdays: Iterable[date] = (),
        timezone: str = "Asia/Shanghai",
    ) -> None:
        self.timezone = timezone
        self._tz = ZoneInfo(timezone)
        if isinstance(extra_holidays, Mapping):
            holidays = {day: name or UNNAMED_HOLIDAY for day, name in extra_holidays.items()}
        else:
            holidays = {day: UNNAMED_HOLIDAY for day in extra_holidays}
        workdays = frozenset(extra_workdays)
        both = sorted(set(holidays) & workdays)
        if both:
            raise ValueError(f"{both[0].isoformat()} is both an extra holiday and an extra working day")
        self._extra_holidays: Mapping[date, str] = holidays
        self._extra_workdays = workdays
        known = [*chinese_calendar.holidays, *chinese_calendar.workdays]
        self._years = range(min(known).year, max(known).year + 1)

    # -- days ---------------------------------------------------------------------------------

    def covered_years(self) -> range:
        """The years the installed chinese-calendar package has a holiday schedule for."""
        return self._years

    def covers(self, day: date) -> bool:
        """True when the package knows this day's year."""
        return day.year in self._years

    def is_workday(self, day: date) -> bool:
        """A day people work: a weekday outside holidays, or a 调休 weekend day."""
        if day in self._extra_workdays:
            return True
        if day in self._extra_holidays:
            return False
        if self.covers(day):
            return chinese_calendar.is_workday(day)
        return day.weekday() < 5

    def is_day_off(self, day: date) -> bool:
        """Not a working day: a weekend or a holiday."""
        return not self.is_workday(day)

    def is_holiday(self, day: date) -> bool:
        """A day of a public holiday period or an extra holiday; a plain weekend is not one."""
        return self.holiday_name(day) is not None

    def holiday_name(self, day: date) -> str | None:
        """The Chinese name of the holiday this day belongs to (春节, 国庆节 …), else None."""
        if day in self._extra_workdays:
            return None
        if day in self._extra_holidays:
            return self._extra_holidays[day]
        if not self.covers(day):
            return None
        name = chinese_calendar.holidays.get(day)
        return None if name is None else _CHINESE.get(name, name)

    def makeup_for(self, day: date) -> str | None:
        """On a 调休 working day (a weekend day worked), the Chinese name of the holiday it makes up for."""
        if day in self._extra_holidays or not self.covers(day):
            return None
        name = chinese_calendar.workdays.get(day)
        return None if name is None else _CHINESE.get(name, name)

    def coverage_warning(self, today: date) -> str | None:
        """A text for the operator when today's year, or in December next year, is beyond the package's data."""
        last = self._years.stop - 1
        if today.year in self._years and not (today.month == 12 and today.year + 1 not in self._years):
            return None
        year = today.year if today.year not in self._years else today.year + 1
        return (
            f"节假日数据只到 {last} 年，{year} 年的法定节假日和调休尚未收录：工作日暂按周一至周五计算。"
            f"请升级 chinesecalendar，或在配置里写出 {year} 年的放假和调休日期。"
            f" / Holiday data ends in {last}: {year}'s public holidays and make-up working days are unknown, so"
            f" working days are counted Monday to Friday. Upgrade chinesecalendar, or list {year}'s days off and"
            f" make-up working days in the config."
        )

    # -- working time -------------------------------------------------------------------------

    def add_working_time(
        self, start: datetime, duration: timedelta, *, workday_hours: tuple[time, time] | None = None
    ) -> datetime:
        """`start` plus `duration` counted only on working days, and only within `workday_hours` when given.

        A deadline that falls exactly at the end of a working period stays there (17:30, not the next
        morning). A zero duration returns `start` itself.
        """
        _aware(start, "start")
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        if workday_hours is not None and not workday_hours[0] < workday_hours[1]:
            raise ValueError("workday_hours must start before they end on the same day, e.g. (08:30, 17:30)")
        if duration == timedelta(0):
            return start
        left = duration
        moment = start.astimezone(timezone.utc)  # arithmetic in UTC: a zone's wall clock may jump
        day = start.astimezone(self._tz).date()
        for _ in range(_MAX_DAYS + duration.days):
            if self.is_workday(day):
                open_, close = self._period(day, workday_hours)
                begin = max(open_, moment)
                if begin < close:
                    if close - begin >= left:
                        return (begin + left).astimezone(start.tzinfo)
                    left -= close - begin
            day += timedelta(days=1)
        raise ValueError("no working day found within ten years: check the extra holidays")

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """`start` plus `days` whole working days: the same time of day on the `days`-th working day after it.

        Started on a day off, the count begins when the next working day does, so the deadline is the end
        of the `days`-th working day (midnight, the start of the day after).
        """
        if days < 0:
            raise ValueError("days must not be negative")
        return self.add_working_time(start, timedelta(days=days))

    def next_working_moment(self, at: datetime, *, workday_hours: tuple[time, time] | None = None) -> datetime:
        """`at` itself when it is working time, else the start of the next working period."""
        _aware(at, "at")
        moment = at.astimezone(timezone.utc)
        day = at.astimezone(self._tz).date()
        for _ in range(_MAX_DAYS):
            if self.is_workday(day):
                open_, close = self._period(day, workday_hours)
                if moment < close:
                    return max(open_, moment).astimezone(at.tzinfo)
            day += timedelta(days=1)
        raise ValueError("no working day found within ten years: check the extra holidays")

    def shift_out_of_quiet(self, at: datetime, quiet: QuietHours, *, holidays_quiet: bool = False) -> datetime:
        """The first moment at or after `at` outside the nightly quiet hours and, when `holidays_quiet`, outside
        holidays (a plain weekend is not quiet; a 调休 working day is not a holiday)."""
        _aware(at, "at")
        moment = at
        for _ in range(_MAX_DAYS):
            local = moment.astimezone(self._tz)
            if holidays_quiet and self.is_holiday(local.date()):
                moment = datetime.combine(local.date() + timedelta(days=1), time(0), self._tz)
                continue
            later = quiet.next_end(moment)
            if later == moment:
                return moment.astimezone(at.tzinfo)
            moment = later
        raise ValueError("no moment outside quiet hours within ten years: check the extra holidays")

    def _period(self, day: date, hours: tuple[time, time] | None) -> tuple[datetime, datetime]:
        """The working period of a day, in UTC: the whole day, or its working hours."""
        open_, close = hours if hours is not None else (time(0), None)
        begin = datetime.combine(day, open_, self._tz)
        end = (datetime.combine(day + timedelta(days=1), time(0), self._tz) if close is None
               else datetime.combine(day, close, self._tz))
        return begin.astimezone(timezone.utc), end.astimezone(timezone.utc)


def _aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (e.g. Asia/Shanghai), not {moment.isoformat()}")


# -- plain data → WorkCalendar ----------------------------------------------------------------

def parse_calendar(data: Mapping[str, object] | None, *, timezone: str = "Asia/Shanghai",
                   where: str = "calendar") -> WorkCalendar:
    """A WorkCalendar from plain data as YAML gives it; ValueError naming the field on bad input.

    `extra_holidays`: a list of days, or a mapping day → name (春节, 社区活动日); `extra_workdays`: a list of
    days. A day is a date, "2027-02-06", or a range "2027-02-06..2027-02-12" (both ends included).
    """
    if data is None:
        return WorkCalendar(timezone=timezone)
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected a mapping with extra_holidays and/or extra_workdays")
    unknown = sorted(str(key) for key in data if key not in ("extra_holidays", "extra_workdays"))
    if unknown:
        raise ValueError(f"{where}.{unknown[0]}: unknown field (known: extra_holidays, extra_workdays)")
    holidays: dict[date, str | None] = {}
    raw = data.get("extra_holidays") or []
    if isinstance(raw, Mapping):
        for key, name in raw.items():
            if name is not None and not isinstance(name, str):
                raise ValueError(f"{where}.extra_holidays[{key}]: the name must be text, not {name!r}")
            for day in parse_days(key, f"{where}.extra_holidays[{key}]"):
                holidays[day] = name
    elif isinstance(raw, list):
        for i, item in enumerate(raw):
            for day in parse_days(item, f"{where}.extra_holidays[{i}]"):
                holidays[day] = None
    else:
        raise ValueError(f"{where}.extra_holidays: expected a list of days or a mapping day → name")
    workdays: list[date] = []
    raw = data.get("extra_workdays") or []
    if not isinstance(raw, list):
        raise ValueError(f"{where}.extra_workdays: expected a list of days")
    for i, item in enumerate(raw):
        workdays.extend(parse_days(item, f"{where}.extra_workdays[{i}]"))
    try:
        return WorkCalendar(extra_holidays=holidays, extra_workdays=workdays, timezone=timezone)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def parse_days(value: object, field: str) -> list[date]:
    """A date, "YYYY-MM-DD" or "YYYY-MM-DD..YYYY-MM-DD" → the days; ValueError naming `field` otherwise."""
    if isinstance(value, datetime):
        raise ValueError(f"{field}: expected a day, not a moment ({value.isoformat()})")
    if isinstance(value, date):
        return [value]
    if isinstance(value, str):
        match = _RANGE.match(value)
        try:
            if match is None:
                return [date.fromisoformat(value.strip())]
            first, last = date.fromisoformat(match.group(1)), date.fromisoformat(match.group(2))
        except ValueError:
            raise ValueError(f"{field}: not a day: {value!r} ({_DAY_HINT})") from None
        if last < first:
            raise ValueError(f"{field}: the range {value!r} ends before it starts")
        if (last - first).days > 366:
            raise ValueError(f"{field}: the range {value!r} is longer than a year")
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]
    raise ValueError(f"{field}: not a day: {value!r} ({_DAY_HINT})")
