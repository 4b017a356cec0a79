"""The digests section: schedules, who gets them, the chart, and who would get none."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.config.checks.base import CheckerBase
from bot.config.schema import DigestConfig
from bot.config.yaml_lines import LinedDict
from bot.domain.digest import Schedule
from bot.domain.grid import GridTree, RoleType


class DigestChecks(CheckerBase):
    """Checks the digests: section and warns of readers who would get none."""

    def check_digests(self, data: LinedDict, roles: tuple[RoleType, ...]) -> DigestConfig:
        section = self.mapping(data.get("digests"), self.line_of(data, "digests"), "digests")
        if section is None:
            return DigestConfig()
        self.known_keys(section, ("daily", "weekly", "grace", "secretary_roles", "leader_roles", "room", "chart",
                                  "charts_dir", "skip_empty"), "digests")
        defaults = DigestConfig()
        schedules = []
        for key, kind, example in (("daily", "day", '"18:00"'), ("weekly", "week", '"mon 08:00"')):
            value = section.get(key, "18:00" if kind == "day" else "mon 08:00")
            if value is False or str(value).strip().lower() in ("off", "none", ""):
                continue
            try:
                schedules.append(Schedule.parse(kind, str(value)))
            except ValueError:
                self.error(self.line_of(section, key), f"digests.{key} is not a schedule: {value!r}",
                           f"write e.g. {key}: {example} (or off)")
        role_names = {r.name for r in roles}
        chosen: dict[str, tuple[str, ...]] = {}
        for key in ("secretary_roles", "leader_roles"):
            value = section.get(key, list(getattr(defaults, key)))
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list):
                self.error(self.line_of(section, key), f"digests.{key} must be a list of roles",
                           f"write e.g. {key}: [网格长]")
                value = []
            for role in value:
                if str(role) not in role_names:
                    self.error(self.line_of(section, key), f"digests.{key} names unknown role {role!r}",
                               "use a role defined under roles: (e.g. 社区书记, 网格长)")
            chosen[key] = tuple(str(r) for r in value)
        room = self.string(section, "room", "digests")
        chart = section.get("chart", True)
        if not isinstance(chart, bool):
            self.error(self.line_of(section, "chart"), "digests.chart must be true or false", "write chart: true")
            chart = True
        skip_empty = section.get("skip_empty", True)
        if not isinstance(skip_empty, bool):
            self.error(self.line_of(section, "skip_empty"), "digests.skip_empty must be true or false",
                       "write skip_empty: true")
            skip_empty = True
        return DigestConfig(
            schedules=tuple(schedules), grace=self.duration(section, "grace", "digests", timedelta(hours=6)),
            secretary_roles=chosen["secretary_roles"], leader_roles=chosen["leader_roles"], room=room or None,
            chart=chart, charts_dir=self.string(section, "charts_dir", "digests", default="data/charts")
            or "data/charts", skip_empty=skip_empty)

    def warn_unreachable_digest_readers(self, data: LinedDict, tree: GridTree, people: Any,
                                        digests: DigestConfig) -> None:
        """Digests go to private chats by WeChat id: say who would get none."""
        roles = set(digests.leader_roles) | (set() if digests.room else set(digests.secretary_roles))
        missing = sorted({people[key].name for node in tree for role, keys in node.roles if role in roles
                          for key in keys if key in people and not people[key].wechat_id})
        if missing:
            self.warn(self.line_of(data, "digests") or self.line_of(data, "people"),
                      f"{'、'.join(missing)} will get no digest: digests go to private chats, which need a "
                      f"wechat_id under people:")
