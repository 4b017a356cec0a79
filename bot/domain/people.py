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
    """People by stable contact id (config wechat_id or a binding), and their roles in the tree.

    Only a contact id identifies a sender: a display name is chosen by its owner and a person key is not an
    id WeChat ever gives anyone, so neither grants a role. `find()` looks a person up by key, id or name for
    what a leader *writes* (e.g. whom to reassign a ticket to), never for who is writing.
    """

    def __init__(self, tree: GridTree, people: Mapping[str, Person], roles: Mapping[str, RoleType],
                 bindings: Mapping[str, str] | None = None) -> None:
        self.tree = tree
        self.people = people
        self.roles = roles
        self._by_wechat = {p.wechat_id: p for p in people.values() if p.wechat_id}
        self._by_name: dict[str, Person] = {}
        for person in people.values():
            self._by_name.setdefault(person.name, person)
        self._bound: dict[str, Person] = {}
        self._stored: dict[str, str] = {}
        self._fixed: dict[str, str] = {}
        self.load_bindings(bindings or {})
        self._positions: dict[str, list[tuple[str, str]]] = {}
        for node in tree:
            for role, keys in node.roles:
                for key in keys:
                    self._positions.setdefault(key, []).append((node.code, role))

    def identify(self, sender_id: str | None, sender_name: str | None = None) -> Person | None:
        """The configured person who sent a message, by contact id only: config wechat_id, then a binding.

        `sender_name` is accepted for the callers' convenience and deliberately ignored."""
        if not sender_id:
            return None
        return self._by_wechat.get(sender_id) or self._bound.get(sender_id)

    def configured(self, contact_id: str | None) -> Person | None:
        """The person whose config wechat_id this is (bindings aside)."""
        return self._by_wechat.get(contact_id) if contact_id else None

    def find(self, text: str | None) -> Person | None:
        """A person a message or a command line names: by key, wechat id or display name (not an identity)."""
        text = (text or "").strip()
        if not text:
            return None
        return self.people.get(text) or self._by_wechat.get(text) or self._by_name.get(text)

    def load_bindings(self, bindings: Mapping[str, str], *, fixed: bool = False) -> None:
        """Contact id → person key: the stored bindings (replacing those loaded before), or with `fixed` the
        transport's own ids (the simulator's), which stay across reloads."""
        if fixed:
            self._fixed.update(bindings)
        else:
            self._stored = dict(bindings)
        merged = {**self._stored, **self._fixed}
        self._bound = {contact: self.people[key] for contact, key in merged.items()
                       if key in self.people and contact not in self._by_wechat}

    def bind(self, contact_id: str, person_key: str) -> None:
        """A binding just made: the person's earlier stored one gives way, as in the table."""
        stored = {c: k for c, k in self._stored.items() if k != person_key}
        stored[contact_id] = person_key
        self.load_bindings(stored)

    def contact_ids(self, person_key: str) -> list[str]:
        """Every contact id that identifies the person (config wechat_id first)."""
        person = self.people.get(person_key)
        ids = [person.wechat_id] if person is not None and person.wechat_id else []
        return ids + [c for c, p in self._bound.items() if p.key == person_key]

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
