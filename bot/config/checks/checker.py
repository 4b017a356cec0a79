"""Checker: every section check together, run in order, building the Config when there are no issues."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config.checks.base import kind_of
from bot.config.checks.calendar import CalendarChecks
from bot.config.checks.care import CareChecks
from bot.config.checks.database import DatabaseChecks
from bot.config.checks.digests import DigestChecks
from bot.config.checks.duty import DutyChecks
from bot.config.checks.lexicon import LexiconChecks
from bot.config.checks.notices import NoticeChecks
from bot.config.checks.people import PeopleChecks
from bot.config.checks.polls import PollChecks
from bot.config.checks.tickets import TicketChecks
from bot.config.checks.transport import TransportChecks
from bot.config.checks.tree import TreeChecks
from bot.config.checks.web import WebChecks
from bot.config.schema import Config, Prebuilt
from bot.config.yaml_lines import LinedDict
from bot.domain.grid import GridError, GridTree


_TOP_KEYS = ("deployment", "tiers", "roles", "people", "nodes", "database", "transport", "web", "lexicon", "tickets", "notices",
             "digests", "review", "calendar", "duty", "care",
             "polls", "satisfaction")


class Checker(TreeChecks, PeopleChecks, DatabaseChecks, TransportChecks, WebChecks, LexiconChecks,
              TicketChecks, NoticeChecks, DigestChecks, CalendarChecks, DutyChecks, CareChecks,
              PollChecks):
    """Walks the loaded YAML, collecting issues, and builds the Config when there are none."""

    def check(self, data: Any, *, prebuilt: Prebuilt | None = None) -> Config | None:
        """Validate every section; `prebuilt` supplies an already validated tree (from the cache)."""
        if data is None:
            self.error(1, "the config file is empty", "start from the sample config.yaml in the repository")
            return None
        if not isinstance(data, LinedDict):
            self.error(1, f"the config must be a mapping at the top level, not {kind_of(data)}",
                       "start from the sample config.yaml in the repository")
            return None
        self.known_keys(data, _TOP_KEYS, "the top level")
        self.no_secret_in_urls(data)
        name, timezone = self.check_deployment(data)
        if prebuilt is None:
            tiers = self.check_tiers(data)
            roles = self.check_roles(data)
            people = self.check_people(data)
            nodes = self.check_nodes(data, tiers, roles, people)
        else:
            tiers, roles, people, nodes = prebuilt.tiers, prebuilt.roles, prebuilt.people, prebuilt.nodes
            self.warnings.extend(prebuilt.warnings)
        database = self.check_database(data)
        transport = self.check_transport(data)
        web = self.check_web(data)
        lexicon = self.check_lexicon(data)
        tickets = self.check_tickets(data, timezone, roles)
        notices = self.check_notices(data, timezone)
        digests = self.check_digests(data, roles)
        review = self.check_review(data)
        calendar = self.check_calendar(data, timezone)
        tickets = self.with_calendar(tickets, calendar)
        duty = self.check_duty(data, timezone, people, [node.code for node in nodes])
        polls = self.check_polls(data, roles)
        satisfaction = self.check_satisfaction(data)
        if self.issues:
            return None
        try:
            tree = GridTree(tiers, nodes)
        except GridError as exc:  # checks above should have caught it; keep the message anyway
            self.error(self.line_of(data, "nodes"), str(exc), "fix the node tree")
            return None
        self.warn_unidentified_role_holders(data, tree, people)
        self.warn_unreachable_handlers(data, tree, people, roles)
        if digests.schedules:
            self.warn_unreachable_digest_readers(data, tree, people, digests)
        section = data.get("transport")
        for account in transport.accounts:
            for code in account.sim_nodes:
                if code not in tree:
                    self.error(self.line_of(section, "accounts"), f"account {account.name!r}: sim_nodes names "
                               f"unknown node {code!r}", "use node codes from nodes:")
        if self.issues:
            return None
        if digests.room and tree.room(topic=digests.room) is None and tree.room(room_id=digests.room) is None:
            section = data.get("digests")
            self.error(self.line_of(section, "room"), f"digests.room {digests.room!r} is not a group of any node",
                       "name a group listed under a node's rooms (its topic), e.g. the community's work group")
            return None
        care = self.check_care(data, tree, people, roles)
        if self.issues:
            return None
        return Config(
            path=self.file, name=name, timezone=timezone, tree=tree, people=people,
            roles={r.name: r for r in roles}, database=database, transport=transport, web=web,
            lexicon=lexicon, tickets=tickets, notices=notices, digests=digests,
            review=review, warnings=tuple(self.warnings), calendar=calendar, duty=duty, care=care, polls=polls,
            satisfaction=satisfaction,
        )

    def check_deployment(self, data: LinedDict) -> tuple[str, str]:
        section = self.mapping(data.get("deployment"), self.line_of(data, "deployment"), "deployment")
        if section is None:
            return "gridbot", "Asia/Shanghai"
        self.known_keys(section, ("name", "timezone"), "deployment")
        name = self.string(section, "name", "deployment", default="gridbot") or "gridbot"
        tz = self.string(section, "timezone", "deployment", default="Asia/Shanghai") or "Asia/Shanghai"
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            self.error(self.line_of(section, "timezone"), f"unknown time zone {tz!r}", "use e.g. Asia/Shanghai")
            tz = "Asia/Shanghai"
        return name, tz
