"""Working days from the published holiday schedule (via chinese-calendar), 调休, extra days, and coverage."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
import yaml

from bot.domain.calendar import WorkCalendar, parse_calendar
from bot.domain.sla import QuietHours

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()
OFFICE = (time(8, 30), time(17, 30))


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


# -- the published schedule ------------------------------------------------------------------

def test_covered_years_are_the_packages_own() -> None:
    years = CAL.covered_years()
    assert 2025 in years and 2026 in years
    chinese_calendar.is_workday(date(years.stop - 1, 6, 1))  # the last covered year has data
    with pytest.raises(NotImplementedError):  # and the year after has none
        chinese_calendar.is_workday(date(years.stop, 6, 1))
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(years.start - 1, 6, 1))


def test_spring_festival_2025_and_its_makeup_days() -> None:
    for day in days(date(2025, 1, 28), date(2025, 2, 4)):  # 春节: 1月28日至2月4日放假
        assert not CAL.is_workday(day) and CAL.is_holiday(day) and CAL.holiday_name(day) == "春节"
    for makeup in (date(2025, 1, 26), date(2025, 2, 8)):  # 1月26日（周日）、2月8日（周六）上班
        assert makeup.weekday() >= 5
        assert CAL.is_workday(makeup) and not CAL.is_holiday(makeup)
        assert CAL.holiday_name(makeup) is None and CAL.makeup_for(makeup) == "春节"
    assert CAL.is_workday(date(2025, 2, 5))


def test_spring_festival_2026_and_the_makeup_saturday() -> None:
    for day in days(date(2026, 2, 15), date(2026, 2, 23)):  # 2月15日至23日放假
        assert CAL.holiday_name(day) == "春节" and not CAL.is_workday(day)
    saturday = date(2026, 2, 14)
    assert saturday.weekday() == 5 and CAL.is_workday(saturday) and CAL.makeup_for(saturday) == "春节"
    assert CAL.is_workday(date(2026, 2, 28))


def test_national_day_2025_with_mid_autumn_and_2026() -> None:
    names = {day: CAL.holiday_name(day) for day in days(date(2025, 10, 1), date(2025, 10, 8))}
    assert names[date(2025, 10, 6)] == "中秋"  # 2025: 国庆节、中秋节连休
    assert {name for day, name in names.items() if day != date(2025, 10, 6)} == {"国庆节"}
    assert not any(CAL.is_workday(day) for day in names)
    assert CAL.is_workday(date(2025, 9, 28)) and CAL.is_workday(date(2025, 10, 11))  # Sunday, Saturday
    for day in days(date(2026, 10, 1), date(2026, 10, 7)):
        assert CAL.holiday_name(day) == "国庆节"
    assert CAL.is_workday(date(2026, 10, 10)) and CAL.makeup_for(date(2026, 10, 10)) == "国庆节"


def test_a_plain_weekend_is_a_day_off_but_no_holiday() -> None:
    saturday = date(2026, 3, 7)
    assert CAL.is_day_off(saturday) and not CAL.is_holiday(saturday) and CAL.holiday_name(saturday) is None
    assert CAL.is_workday(date(2026, 3, 6)) and CAL.makeup_for(date(2026, 3, 6)) is None


# -- working time ----------------------------------------------------------------------------

def test_two_working_days_from_the_friday_before_spring_festival_2026() -> None:
    # Friday 13 → the 调休 Saturday 14 is day one; 15–23 off; Tuesday 24 is day two.
    assert CAL.add_working_days(at(2026, 2, 13, 10), 2) == at(2026, 2, 24, 10)
    assert CAL.add_working_days(at(2026, 2, 13, 10), 1) == at(2026, 2, 14, 10)


def test_three_working_days_from_the_friday_before_spring_festival_2025() -> None:
    # Friday 24 → Sunday 26 (调休) → Monday 27 → 28 Jan–4 Feb off → Wednesday 5 Feb.
    assert CAL.add_working_days(at(2025, 1, 24, 10), 3) == at(2025, 2, 5, 10)


def test_working_days_started_on_a_day_off_run_from_the_next_working_day() -> None:
    assert CAL.add_working_days(at(2026, 3, 7, 10), 1) == at(2026, 3, 10)  # the end of Monday 9 March
    assert CAL.add_working_days(at(2025, 10, 3, 15), 1) == at(2025, 10, 10)  # the end of Thursday 9 October


def test_working_hours_carry_over_to_the_makeup_saturday() -> None:
    start = at(2026, 2, 13, 16)  # 1.5 h left on Friday, then 08:30 on the 调休 Saturday
    assert CAL.add_working_time(start, timedelta(hours=8), workday_hours=OFFICE) == at(2026, 2, 14, 15)
    assert CAL.add_working_time(start, timedelta(hours=20), workday_hours=OFFICE) == at(2026, 2, 25, 9)


def test_a_deadline_at_closing_time_stays_at_closing_time() -> None:
    nine_hours = CAL.add_working_time(at(2026, 3, 6, 8, 30), timedelta(hours=9), workday_hours=OFFICE)
    assert nine_hours == at(2026, 3, 6, 17, 30)
    assert CAL.add_working_time(at(2026, 3, 6, 20), timedelta(hours=1), workday_hours=OFFICE) == at(2026, 3, 9, 9, 30)


def test_working_time_keeps_the_callers_timezone_and_rejects_naive_moments() -> None:
    start = datetime(2026, 2, 13, 2, tzinfo=timezone.utc)  # 10:00 in Shanghai
    result = CAL.add_working_days(start, 2)
    assert result.tzinfo is timezone.utc and result == at(2026, 2, 24, 10)
    local = CAL.add_working_time(at(2026, 2, 13, 10), timedelta(hours=1), workday_hours=OFFICE)
    assert local.tzinfo is TZ and local.hour == 11
    with pytest.raises(ValueError, match="timezone-aware"):
        CAL.add_working_days(datetime(2026, 2, 13, 10), 2)
    with pytest.raises(ValueError, match="workday_hours"):
        CAL.add_working_time(at(2026, 2, 13), timedelta(hours=1), workday_hours=(time(18), time(8)))


def test_next_working_moment_skips_the_holiday() -> None:
    assert CAL.next_working_moment(at(2026, 2, 15, 9), workday_hours=OFFICE) == at(2026, 2, 24, 8, 30)
    assert CAL.next_working_moment(at(2026, 2, 14, 9), workday_hours=OFFICE) == at(2026, 2, 14, 9)


# -- quiet hours over holidays ---------------------------------------------------------------

def test_quiet_hours_cover_holidays_only_when_asked() -> None:
    quiet = QuietHours(time(22), time(7))
    assert CAL.shift_out_of_quiet(at(2025, 10, 1, 10), quiet) == at(2025, 10, 1, 10)
    assert CAL.shift_out_of_quiet(at(2025, 10, 1, 10), quiet, holidays_quiet=True) == at(2025, 10, 9, 7)
    assert CAL.shift_out_of_quiet(at(2025, 9, 30, 23), quiet) == at(2025, 10, 1, 7)
    assert CAL.shift_out_of_quiet(at(2025, 9, 30, 23), quiet, holidays_quiet=True) == at(2025, 10, 9, 7)


def test_a_makeup_saturday_and_a_plain_weekend_are_not_quiet_days() -> None:
    quiet = QuietHours(time(22), time(7))
    assert CAL.shift_out_of_quiet(at(2025, 10, 11, 10), quiet, holidays_quiet=True) == at(2025, 10, 11, 10)
    assert CAL.shift_out_of_quiet(at(2026, 3, 7, 6), quiet, holidays_quiet=True) == at(2026, 3, 7, 7)


# -- a deployment's extra days ---------------------------------------------------------------

def test_extra_holidays_and_working_days_win_over_the_package() -> None:
    cal = WorkCalendar(extra_holidays={date(2026, 3, 11): "社区活动日"},
                       extra_workdays=[date(2026, 3, 15), date(2026, 10, 5)])
    assert not cal.is_workday(date(2026, 3, 11)) and cal.holiday_name(date(2026, 3, 11)) == "社区活动日"
    assert cal.is_workday(date(2026, 3, 15))  # a Sunday
    assert cal.is_workday(date(2026, 10, 5)) and cal.holiday_name(date(2026, 10, 5)) is None  # inside 国庆节
    # Tuesday 10:00 + 1 working day skips the extra Wednesday holiday.
    assert cal.add_working_days(at(2026, 3, 10, 10), 1) == at(2026, 3, 12, 10)
    assert CAL.add_working_days(at(2026, 3, 10, 10), 1) == at(2026, 3, 11, 10)
    with pytest.raises(ValueError, match="both"):
        WorkCalendar(extra_holidays=[date(2026, 3, 11)], extra_workdays=[date(2026, 3, 11)])


def test_beyond_the_data_weekdays_work_and_extra_days_apply() -> None:
    year = CAL.covered_years().stop
    monday = date(year, 1, 4) + timedelta(days=-date(year, 1, 4).weekday())
    assert CAL.is_workday(monday) and not CAL.is_workday(monday + timedelta(days=5))
    assert CAL.holiday_name(monday) is None
    cal = WorkCalendar(extra_holidays={monday: "春节"}, extra_workdays=[monday + timedelta(days=5)])
    assert not cal.is_workday(monday) and cal.holiday_name(monday) == "春节"
    assert cal.is_workday(monday + timedelta(days=5))


def test_coverage_warning_for_a_year_beyond_the_data() -> None:
    last = CAL.covered_years().stop - 1
    warning = CAL.coverage_warning(date(last + 1, 3, 1))
    assert warning is not None
    assert f"{last + 1} 年" in warning and "chinesecalendar" in warning and f"Holiday data ends in {last}" in warning
    assert CAL.coverage_warning(date(last, 3, 1)) is None
    december = CAL.coverage_warning(date(last, 12, 1))  # next year's deadlines are near
    assert december is not None and f"{last + 1} 年" in december
    assert CAL.coverage_warning(date(last - 1, 12, 1)) is None


# -- parsing plain data ----------------------------------------------------------------------

def test_parse_calendar_from_yaml() -> None:
    data = yaml.safe_load("""
extra_holidays:
  2027-02-06..2027-02-12: 春节
  2027-03-05: 社区活动日
  2027-03-08: null
extra_workdays: [2027-02-14, "2027-02-20"]
""")
    cal = parse_calendar(data)
    assert all(cal.holiday_name(day) == "春节" for day in days(date(2027, 2, 6), date(2027, 2, 12)))
    assert cal.holiday_name(date(2027, 3, 5)) == "社区活动日" and cal.holiday_name(date(2027, 3, 8)) == "休息日"
    assert cal.is_workday(date(2027, 2, 14)) and cal.is_workday(date(2027, 2, 20))
    listed = parse_calendar({"extra_holidays": ["2027-04-05", date(2027, 4, 6)]})
    assert not listed.is_workday(date(2027, 4, 5)) and not listed.is_workday(date(2027, 4, 6))
    assert parse_calendar(None).is_workday(date(2027, 4, 5))


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"extra_holidays": ["2027-02-30"]}, "calendar.extra_holidays[0]"),
        ({"extra_holidays": ["2027-02-06", "soon"]}, "calendar.extra_holidays[1]"),
        ({"extra_holidays": ["2027-02-12..2027-02-06"]}, "calendar.extra_holidays[0]"),
        ({"extra_holidays": {"2027-02-06": 5}}, "calendar.extra_holidays[2027-02-06]"),
        ({"extra_holidays": "2027-02-06"}, "calendar.extra_holidays"),
        ({"extra_workdays": [datetime(2027, 2, 14, 9)]}, "calendar.extra_workdays[0]"),
        ({"extra_workdays": "2027-02-14"}, "calendar.extra_workdays"),
        ({"holidays": []}, "calendar.holidays"),
        ({"extra_holidays": ["2027-02-14"], "extra_workdays": ["2027-02-14"]}, "calendar"),
        (["2027-02-14"], "calendar"),
    ],
)
def test_parse_calendar_names_the_bad_field(data: object, field: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_calendar(data)  # type: ignore[arg-type]
    assert str(caught.value).startswith(field + ":")
