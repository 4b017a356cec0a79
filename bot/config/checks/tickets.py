"""The tickets section (windows, relay, routing, deadlines, quiet hours, safety advice) and review thresholds."""

from __future__ import annotations

from datetime import timedelta

from bot.config.checks.base import CheckerBase
from bot.config.schema import CATEGORIES, RELAY_SCOPES, ReviewConfig, TicketConfig
from bot.config.yaml_lines import LinedDict
from bot.domain.grid import RoleType
from bot.domain.reach import DEFAULT_SAFETY_ADVICE
from bot.domain.sla import DEFAULT_LIMITS, Limits, QuietHours, SlaPolicy, parse_working_days


class TicketChecks(CheckerBase):
    """Checks the tickets: and review: sections."""

    def check_tickets(self, data: LinedDict, timezone: str, roles: tuple[RoleType, ...]) -> TicketConfig:
        section = self.mapping(data.get("tickets"), self.line_of(data, "tickets"), "tickets")
        quiet_default = QuietHours(timezone=timezone)
        if section is None:
            return TicketConfig(sla=SlaPolicy(quiet=quiet_default))
        keys = ("first_number", "merge_window", "photo_window", "auto_close_after", "reopen_window",
                "withdraw_window", "me_too_window", "relay", "routing", "deadlines", "category_deadlines",
                "quiet_hours", "attachments_dir", "safety_advice", "escalation_batch")
        self.known_keys(section, keys, "tickets")
        first = self.integer(section, "first_number", "tickets", 1001, 1, 10_000_000)
        merge = self.duration(section, "merge_window", "tickets", timedelta(hours=12))
        photo = self.duration(section, "photo_window", "tickets", timedelta(minutes=5))
        auto_close = self.duration(section, "auto_close_after", "tickets", timedelta(days=3))
        reopen = self.duration(section, "reopen_window", "tickets", timedelta(days=3))
        withdraw = self.duration(section, "withdraw_window", "tickets", timedelta(hours=2))
        me_too = self.duration(section, "me_too_window", "tickets", timedelta(minutes=30))
        for key, value, most, fix in (("reopen_window", reopen, timedelta(days=30), "30d"),
                                      ("withdraw_window", withdraw, timedelta(days=2), "2d"),
                                      ("me_too_window", me_too, timedelta(hours=12), "12h")):
            if value > most:
                self.error(self.line_of(section, key), f"tickets.{key} is too long: {section.get(key)!r}",
                           f"write {key}: {fix} or less")
        relay = self.string(section, "relay", "tickets", default="all") or "all"
        if relay not in RELAY_SCOPES:
            self.error(self.line_of(section, "relay"), f"tickets.relay must be one of {', '.join(RELAY_SCOPES)}",
                       "write relay: all")
            relay = "all"
        routing: dict[str, str] = {}
        routing_map = self.mapping(section.get("routing"), self.line_of(section, "routing"), "tickets.routing")
        role_names = {r.name for r in roles}
        for category, role in (routing_map or {}).items():
            line = self.line_of(routing_map, category)
            if category not in CATEGORIES:
                self.error(line, f"unknown category {category!r} in tickets.routing",
                           f"use one of: {', '.join(CATEGORIES)}")
            elif str(role) not in role_names:
                self.error(line, f"tickets.routing.{category} names unknown role {role!r}",
                           "use a role defined under roles: (e.g. 民警)")
            else:
                routing[category] = str(role)
        limits = dict(DEFAULT_LIMITS)
        deadlines = self.mapping(section.get("deadlines"), self.line_of(section, "deadlines"), "tickets.deadlines")
        for urgency, spec in (deadlines or {}).items():
            line = self.line_of(deadlines, urgency)
            if urgency not in DEFAULT_LIMITS:
                self.error(line, f"unknown urgency {urgency!r} in tickets.deadlines", "use urgent, normal or low")
                continue
            spec_map = self.mapping(spec, line, f"tickets.deadlines.{urgency}")
            if spec_map is None:
                continue
            self.known_keys(spec_map, ("accept", "resolve"), f"tickets.deadlines.{urgency}")
            base = DEFAULT_LIMITS[urgency]
            limits[urgency] = Limits(self.deadline(spec_map, "accept", f"deadlines.{urgency}", base.accept),
                                     self.deadline(spec_map, "resolve", f"deadlines.{urgency}", base.resolve))
        by_category: dict[str, dict[str, timedelta]] = {}
        per_cat = self.mapping(section.get("category_deadlines"), self.line_of(section, "category_deadlines"),
                               "tickets.category_deadlines")
        for category, spec in (per_cat or {}).items():
            line = self.line_of(per_cat, category)
            if category not in CATEGORIES:
                self.error(line, f"unknown category {category!r} in tickets.category_deadlines",
                           f"use one of: {', '.join(CATEGORIES)}")
                continue
            spec_map = self.mapping(spec, line, f"tickets.category_deadlines.{category}")
            if spec_map is None:
                continue
            self.known_keys(spec_map, ("accept", "resolve"), f"tickets.category_deadlines.{category}")
            by_category[category] = {k: self.deadline(spec_map, k, f"category_deadlines.{category}", timedelta(1))
                                     for k in ("accept", "resolve") if k in spec_map}
        quiet = quiet_default
        if section.get("quiet_hours") is False:  # YAML reads a bare `off` / `no` as false
            section["quiet_hours"] = "off"
        quiet_text = self.string(section, "quiet_hours", "tickets")
        if quiet_text:
            try:
                quiet = QuietHours.parse(quiet_text, timezone)
            except ValueError:
                self.error(self.line_of(section, "quiet_hours"), f"tickets.quiet_hours is not a time window: "
                           f"{quiet_text!r}", "write e.g. quiet_hours: \"22:00-07:00\" (or off)")
        attachments = self.string(section, "attachments_dir", "tickets", default="data/attachments")
        advice = dict(DEFAULT_SAFETY_ADVICE)
        advice_map = self.mapping(section.get("safety_advice"), self.line_of(section, "safety_advice"),
                                  "tickets.safety_advice")
        for key, line in (advice_map or {}).items():
            if line is None or line is False or not str(line).strip():
                advice.pop(str(key), None)  # `燃气: ""` silences a default
            elif not isinstance(line, (str, int, float)):
                self.error(self.line_of(advice_map, key), f"tickets.safety_advice.{key} must be one short line",
                           "write e.g. 燃气: \"开窗通风，不要开关电器，打燃气抢修或119\"")
            else:
                advice[str(key)] = str(line).strip()[:80]
        if section.get("escalation_batch") in (0, False, "0", "off"):
            batch = timedelta(0)
        else:
            batch = self.duration(section, "escalation_batch", "tickets", timedelta(minutes=5))
        return TicketConfig(first_number=first, merge_window=merge, photo_window=photo, auto_close_after=auto_close,
                            reopen_window=reopen, withdraw_window=withdraw, me_too_window=me_too,
                            relay=relay, routing=routing, sla=SlaPolicy(limits, by_category, quiet),
                            attachments_dir=attachments or "data/attachments", safety_advice=advice,
                            escalation_batch=batch)

    def deadline(self, mapping: LinedDict, key: str, where: str, default: timedelta) -> timedelta:
        """A duration, or for a routine urgency or a category a number of working days (`2wd`, `2 工作日`).

        Urgent tickets run on the clock, nights and holidays too: a working-day limit there is refused."""
        working = parse_working_days(mapping.get(key))
        if working is None:
            return self.duration(mapping, key, where, default)
        if where == "deadlines.urgent":
            self.error(self.line_of(mapping, key), f"tickets.{where}.{key} is {mapping.get(key)!r}, but urgent "
                       "tickets cannot have a working-day deadline (they run through nights, weekends and "
                       "holidays)", f"write a duration on the clock, e.g. {key}: {'10m' if key == 'accept' else '4h'}; "
                       "working days (2wd, 2 工作日) are for normal and low tickets")
            return default
        if working.days < 1:
            self.error(self.line_of(mapping, key), f"tickets.{where}.{key} must be at least one working day",
                       "e.g. 2wd")
            return default
        return working

    def check_review(self, data: LinedDict) -> ReviewConfig:
        section = self.mapping(data.get("review"), self.line_of(data, "review"), "review")
        if section is None:
            return ReviewConfig()
        self.known_keys(section, ("ticket", "review", "urgent_review", "gather_every"), "review")
        default = ReviewConfig()
        ticket = self.fraction(section, "ticket", "review", default.ticket)
        review = self.fraction(section, "review", "review", default.review)
        urgent = self.fraction(section, "urgent_review", "review", default.urgent_review)
        if review > ticket:
            self.error(self.line_of(section, "review"), f"review.review ({review}) is above review.ticket ({ticket})",
                       "the review threshold must not be above the ticket threshold, e.g. ticket: 0.75, review: 0.35")
        return ReviewConfig(ticket=ticket, review=review, urgent_review=urgent,
                            gather_every=self.duration(section, "gather_every", "review", default.gather_every))
