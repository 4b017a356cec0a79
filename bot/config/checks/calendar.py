"""The calendar section: extra holidays and 调休 working days beyond the package's schedule, and quiet holidays."""

from __future__ import annotations

import dataclasses

from bot.config.checks.base import CheckerBase, line_of_path
from bot.config.schema import CalendarConfig, TicketConfig
from bot.config.yaml_lines import LinedDict
from bot.domain.calendar import WorkCalendar, parse_calendar


class CalendarChecks(CheckerBase):
    """Checks the calendar: section."""

    def check_calendar(self, data: LinedDict, timezone: str) -> CalendarConfig:
        line = self.line_of(data, "calendar")
        section = self.mapping(data.get("calendar"), line, "calendar")
        if section is None:
            return CalendarConfig(WorkCalendar(timezone=timezone))
        self.known_keys(section, ("extra_holidays", "extra_workdays", "holidays_quiet"), "calendar")
        quiet = section.get("holidays_quiet", False)
        if not isinstance(quiet, bool):
            self.error(self.line_of(section, "holidays_quiet"), f"calendar.holidays_quiet must be true or false, "
                       f"not {quiet!r}", "write holidays_quiet: true (holidays are quiet all day) or false")
            quiet = False
        days = {key: value for key, value in section.items() if key in ("extra_holidays", "extra_workdays")}
        try:
            calendar = parse_calendar(days, timezone=timezone)
        except ValueError as exc:
            self.error(line_of_path(section, line, str(exc)), str(exc),
                       "write days as 2027-02-10, ranges as 2027-02-06..2027-02-12; a day is either an extra "
                       "holiday or an extra working day, not both")
            calendar = WorkCalendar(timezone=timezone)
        return CalendarConfig(calendar, holidays_quiet=quiet)

    @staticmethod
    def with_calendar(tickets: TicketConfig, calendar: CalendarConfig) -> TicketConfig:
        """The tickets' deadlines counted on this calendar, quiet on holidays when it says so."""
        sla = dataclasses.replace(tickets.sla, calendar=calendar.calendar, holidays_quiet=calendar.holidays_quiet)
        return dataclasses.replace(tickets, sla=sla)
