"""Who is who: recognise a sender as a configured person and find who answers for a node."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.domain.grid import GridNode, GridTree, Person, RoleType

# "3-201 王芳", "1-1-101 王芳", "东头12号 陈老板", "5幢601-李", "301 小杨", "2楼 小吴"
_HOUSEHOLD = re.compile(
    r"^\s*((?:\d{1,4}-){0,2}\d{1,5}(?:室|号|楼)?|[\u4e00-\u9fff]{1,6}\d{1,4}号(?:\d{1,4}室?)?)[\s\-_—·.]+\S"
)


def household_of(display_name: str) -> str | None:
    """The household a group nickname names, e.g. '3-201 王芳' → '3-201'; None when it names none."""
    match = _HOUSEHOLD.match(display_name or "")
    return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class Holder:
    """A person holding a role on a node."""

    person: Person
    role: str
    node: GridNode


class Directory:
    """People by WeChat id and by display name, and their roles in the tree."""

    def __init__(self, tree: GridTree, people: Mapping[str, Person], roles: Mapping[str, RoleType]) -> None:
        self.tree = tree
        self.people = people
        self.roles = roles
        self._by_wechat = {p.wechat_id: p for p in people.values() if p.wechat_id}
        self._by_name: dict[str, Person] = {}
        for person in people.values():
            self._by_name.setdefault(person.name, person)
        self._positions: dict[str, list[tuple[str, str]]] = {}
        for node in tree:
            for role, keys in node.roles:
                for key in keys:
                    self._positions.setdefault(key, []).append((node.code, role))

    def identify(self, sender_id: str | None, sender_name: str | None) -> Person | None:
        """The configured person who sent a message: by WeChat id first, then by display name."""
        if sender_id and sender_id in self._by_wechat:
            return self._by_wechat[sender_id]
        if sender_id and sender_id in self.people:
            return self.people[sender_id]
        if sender_name:
            return self._by_name.get(sender_name.strip())
        return None

    def positions(self, person_key: str) -> list[tuple[str, str]]:
        """(node code, role) for every role the person holds."""
        return list(self._positions.get(person_key, ()))

    def leads(self, person_key: str, node_code: str) -> bool:
        """True when the person holds a leading role on `node_code` or one of its ancestors."""
        return any(self.roles[role].leads and self.tree.is_within(node_code, code)
                   for code, role in self._positions.get(person_key, ()) if role in self.roles)

    def handles(self, person_key: str, node_code: str) -> bool:
        """True when the person holds a handling role on `node_code` or one of its ancestors."""
        return any(self.roles[role].handles and self.tree.is_within(node_code, code)
                   for code, role in self._positions.get(person_key, ()) if role in self.roles)

    def leader(self, node_code: str, *, above: bool = False) -> Holder | None:
        """The nearest holder of a leading role on the node or its ancestors (`above`: from its parent up)."""
        lineage = self.tree.lineage(node_code)[1 if above else 0:]
        for node in lineage:
            for role, keys in node.roles:
                if keys and role in self.roles and self.roles[role].leads:
                    return Holder(self.people[keys[0]], role, node)
        return None

    def responsible(self, node_code: str, *, prefer_role: str | None = None) -> Holder | None:
        """The nearest holder of a handling role on the node or its ancestors (a preferred role first)."""
        lineage = self.tree.lineage(node_code)
        if prefer_role:
            for node in lineage:
                for key in node.people_with(prefer_role):
                    return Holder(self.people[key], prefer_role, node)
        for node in lineage:
            for role, keys in node.roles:
                if keys and role in self.roles and self.roles[role].handles:
                    return Holder(self.people[keys[0]], role, node)
        return None
