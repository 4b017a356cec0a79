"""The polls (微议事) and satisfaction sections: a poll's default duration and who may start one; whether, when
and for how long a reporter is asked about a closed ticket."""

from __future__ import annotations

from bot.config.checks.base import CheckerBase
from bot.config.schema import PollConfig, SatisfactionConfig
from bot.config.yaml_lines import LinedDict
from bot.domain.grid import RoleType


class PollChecks(CheckerBase):
    """Checks the polls: and satisfaction: sections."""

    def check_polls(self, data: LinedDict, roles: tuple[RoleType, ...]) -> PollConfig:
        section = self.mapping(data.get("polls"), self.line_of(data, "polls"), "polls")
        if section is None:
            return PollConfig()
        self.known_keys(section, ("default_duration", "start_roles"), "polls")
        default = PollConfig()
        value = section.get("start_roles", [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.error(self.line_of(section, "start_roles"), "polls.start_roles must be a list of roles",
                       "write e.g. start_roles: [网格长, 微网格长] (or leave it out: every leading role)")
            value = []
        known = {r.name: r for r in roles}
        for role in value:
            if str(role) not in known:
                self.error(self.line_of(section, "start_roles"), f"polls.start_roles names unknown role {role!r}",
                           "use a role defined under roles: (e.g. 网格长, 微网格长, 楼道长)")
            elif not known[str(role)].leads:
                self.error(self.line_of(section, "start_roles"), f"polls.start_roles: role {role!r} does not lead",
                           f"only leading roles may start a poll; give {role} leads: true under roles: or drop it")
        return PollConfig(
            default_duration=self.duration(section, "default_duration", "polls", default.default_duration),
            start_roles=tuple(str(r) for r in value))

    def check_satisfaction(self, data: LinedDict) -> SatisfactionConfig:
        section = self.mapping(data.get("satisfaction"), self.line_of(data, "satisfaction"), "satisfaction")
        if section is None:
            return SatisfactionConfig()
        self.known_keys(section, ("enabled", "ask_after", "window"), "satisfaction")
        default = SatisfactionConfig()
        enabled = section.get("enabled", True)
        if not isinstance(enabled, bool):
            self.error(self.line_of(section, "enabled"), f"satisfaction.enabled must be true or false, not {enabled!r}",
                       "write enabled: true (or false to never ask)")
            enabled = True
        return SatisfactionConfig(
            enabled=enabled, ask_after=self.duration(section, "ask_after", "satisfaction", default.ask_after),
            window=self.duration(section, "window", "satisfaction", default.window))
