"""Roles and people, and the warnings about role holders the bot could not recognise or reach."""

from __future__ import annotations

from typing import Any

from bot.config.checks.base import CheckerBase
from bot.config.schema import DEFAULT_ROLES
from bot.config.yaml_lines import LinedDict
from bot.domain.grid import GridTree, Person, RoleType
from bot.domain.reach import named_in_roster


class PeopleChecks(CheckerBase):
    """Checks roles: and people:, and warns of role holders the bot cannot recognise or reach."""

    def check_roles(self, data: LinedDict) -> tuple[RoleType, ...]:
        section = self.mapping(data.get("roles"), self.line_of(data, "roles"), "roles")
        if section is None:
            return DEFAULT_ROLES
        roles = {r.name: r for r in DEFAULT_ROLES}
        for name, spec in section.items():
            line = self.line_of(section, name)
            if spec is None:
                roles[name] = RoleType(name)
                continue
            spec_map = self.mapping(spec, line, f"roles.{name}")
            if spec_map is None:
                continue
            self.known_keys(spec_map, ("leads", "handles"), f"roles.{name}")
            flags = {}
            for flag in ("leads", "handles"):
                value = spec_map.get(flag, True)
                if not isinstance(value, bool):
                    self.error(self.line_of(spec_map, flag), f"roles.{name}.{flag} must be true or false",
                               f"write {flag}: true")
                    value = True
                flags[flag] = value
            roles[name] = RoleType(name, **flags)
        return tuple(roles.values())

    def check_people(self, data: LinedDict) -> dict[str, Person]:
        section = self.mapping(data.get("people"), self.line_of(data, "people"), "people")
        people: dict[str, Person] = {}
        if section is None:
            return people
        for key, spec in section.items():
            line = self.line_of(section, key)
            if isinstance(spec, str):
                people[key] = Person(key=key, name=spec.strip())
                continue
            spec_map = self.mapping(spec, line, f"people.{key}")
            if spec_map is None:
                self.error(line, f"person {key!r} has no details", "give at least name: or wechat_id:")
                continue
            self.known_keys(spec_map, ("name", "wechat_id", "phone"), f"people.{key}")
            name = self.string(spec_map, "name", f"people.{key}")
            wechat_id = self.string(spec_map, "wechat_id", f"people.{key}")
            phone = self.string(spec_map, "phone", f"people.{key}")
            if not name and not wechat_id:
                self.error(line, f"person {key!r} has neither a name nor a wechat_id",
                           "add name: (their WeChat display name) and/or wechat_id:")
                continue
            people[key] = Person(key=key, name=name or wechat_id or key, wechat_id=wechat_id, phone=phone)
        return people

    def warn_unidentified_role_holders(self, data: LinedDict, tree: GridTree, people: Any) -> None:
        """Only a WeChat id identifies a sender: name who holds a role but could not use it."""
        missing: dict[str, list[str]] = {}
        for node in tree:
            for role, keys in node.roles:
                for key in keys:
                    if key in people and not people[key].wechat_id:
                        missing.setdefault(key, []).append(f"{role}@{node.code}")
        if missing:
            names = "、".join(f"{people[key].name} ({key}: {', '.join(roles)})" for key, roles in sorted(missing.items()))
            self.warn(self.line_of(data, "people"),
                      f"{names} hold a role but have no wechat_id: the bot cannot recognise them, so their "
                      f"commands are refused; add wechat_id: under people:, or run `gridbot user bind KEY` "
                      f"and have them send the code to the bot privately")

    def warn_unreachable_handlers(self, data: LinedDict, tree: GridTree, people: Any,
                                  roles: tuple[RoleType, ...]) -> None:
        """A handler with no wechat_id and in no configured group's members cannot be told of a ticket."""
        handling = {r.name for r in roles if r.handles}
        rosters = [room.members for room in tree.rooms() if room.members]
        nowhere = sorted({key for node in tree for role, keys in node.roles if role in handling for key in keys
                          if key in people and not people[key].wechat_id
                          and not any(named_in_roster(people[key], members) for members in rosters)})
        if nowhere:
            names = "、".join(f"{people[key].name} ({key})" for key in nowhere)
            self.warn(self.line_of(data, "people"),
                      f"{names} handle tickets but can be reached nowhere (no wechat_id, and in no group's members): "
                      f"until the bot sees them in a group or they bind, their tickets go to the next handler up; "
                      f"add wechat_id: under people:, or list them in the members of their group")
