"""The grid tree: tiers, nodes (iteratively, any depth), their rooms and who holds which role on each."""

from __future__ import annotations

import difflib
from typing import Any

from bot.config.checks.base import CheckerBase
from bot.config.schema import CODE_PATTERN, DEFAULT_TIERS, MAX_TIERS
from bot.config.yaml_lines import LinedDict, item_lines
from bot.domain.grid import GridNode, Person, RoleType, Room


class TreeChecks(CheckerBase):
    """Checks tiers: and nodes: (with each node's rooms: and roles:)."""

    def check_tiers(self, data: LinedDict) -> tuple[str, ...]:
        value = data.get("tiers")
        line = self.line_of(data, "tiers")
        if value is None:
            return DEFAULT_TIERS
        if not isinstance(value, list) or not value:
            self.error(line, "tiers must be a non-empty list of tier names, top first",
                       "write e.g. tiers: [社区, 网格, 微网格, 楼道, 房东群]")
            return DEFAULT_TIERS
        tiers = tuple(str(t).strip() for t in value)
        if len(tiers) > MAX_TIERS:
            self.error(line, f"{len(tiers)} tiers given; at most {MAX_TIERS} are supported",
                       "merge some tiers so the tree is at most 6 deep")
        seen: set[str] = set()
        for tier in tiers:
            if not tier:
                self.error(line, "a tier name is empty", "give every tier a name")
            elif tier in seen:
                self.error(line, f"tier {tier!r} is listed twice", "list each tier once, top first")
            seen.add(tier)
        return tiers

    def check_nodes(self, data: LinedDict, tiers: tuple[str, ...], roles: tuple[RoleType, ...],
                    people: dict[str, Person]) -> list[GridNode]:
        value = data.get("nodes")
        if value is None:
            self.error(data.line, "the config has no 'nodes': the grid tree is missing",
                       "add nodes: with the top node (e.g. your community) and its children")
            return []
        if not isinstance(value, list):
            self.error(self.line_of(data, "nodes"), "nodes must be a list ('- code: ...' items)",
                       "start each node with '- code:'")
            return []
        role_names = {r.name for r in roles}
        handling = {r.name for r in roles if r.handles}
        nodes: list[GridNode] = []
        code_lines: dict[str, int | None] = {}
        room_owner: dict[tuple[str, str], tuple[str, int | None]] = {}
        node_keys = ("code", "name", "tier", "rooms", "roles", "children")
        # iterative walk: (item, line, parent code, parent depth)
        stack: list[tuple[Any, int | None, str | None, int]] = [
            (item, line, None, -1) for item, line in reversed(list(zip(value, item_lines(value))))
        ]
        while stack:
            item, line, parent, parent_depth = stack.pop()
            node_map = self.mapping(item, line, "a node")
            if node_map is None:
                if item is None:
                    self.error(line, "empty node entry", "remove the lone '-' or fill in code/name/tier")
                continue
            self.known_keys(node_map, node_keys, "a node")
            code = self.string(node_map, "code", "node", required=True)
            where = f"node {code}" if code else "node"
            name = self.string(node_map, "name", where, required=True)
            tier = self.string(node_map, "tier", where, required=True)
            node_line = node_map.line
            if code:
                if not CODE_PATTERN.match(code):
                    self.error(self.line_of(node_map, "code"), f"node code {code!r} has characters codes may not use",
                               "use letters, digits, '-', '_' or '.', e.g. JQS-03-07")
                if code in code_lines:
                    self.error(self.line_of(node_map, "code"), f"duplicate node code {code!r} "
                               f"(first defined at line {code_lines[code]})", "give every node its own code")
                    code = None
                else:
                    code_lines[code] = node_line
            depth = parent_depth + 1
            if tier:
                if tier not in tiers:
                    self.error(self.line_of(node_map, "tier"), f"unknown tier {tier!r} on {where}",
                               f"use one of: {', '.join(tiers)}")
                else:
                    depth = tiers.index(tier)
                    if depth <= parent_depth:
                        self.error(self.line_of(node_map, "tier"),
                                   f"tier out of order: {where} is a {tier} under a {tiers[parent_depth]}",
                                   f"a child must be of a lower tier than its parent ({' → '.join(tiers)})")
            rooms = self.check_rooms(node_map, code or "?", where, room_owner)
            node_roles = self.check_node_roles(node_map, where, role_names, people)
            if code and name and tier and tier in tiers:
                nodes.append(GridNode(code=code, name=name, tier=tier, depth=depth, parent=parent,
                                      rooms=rooms, roles=node_roles))
                if not any(r in handling for r, holders in node_roles if holders) and parent is not None:
                    self.warn(node_line, f"nobody on {where} has a handling role; its parent answers for it")
            children = node_map.get("children")
            if children is not None:
                if not isinstance(children, list):
                    self.error(self.line_of(node_map, "children"), f"children of {where} must be a list",
                               "start each child with '- code:'")
                    continue
                stack.extend((child, cl, code, depth)
                             for child, cl in reversed(list(zip(children, item_lines(children)))))
        if not nodes and not self.issues:
            self.error(self.line_of(data, "nodes"), "nodes is empty", "add at least the top node")
        return nodes

    def check_rooms(self, node_map: LinedDict, code: str, where: str,
                    owner: dict[tuple[str, str], tuple[str, int | None]]) -> tuple[Room, ...]:
        value = node_map.get("rooms")
        if value is None:
            return ()
        if not isinstance(value, list):
            self.error(self.line_of(node_map, "rooms"), f"rooms of {where} must be a list",
                       "write '- topic: <group name>' items")
            return ()
        rooms: list[Room] = []
        for item, line in zip(value, item_lines(value)):
            if isinstance(item, str):
                item_map: LinedDict | None = LinedDict(topic=item)
                item_map.line, item_map.key_lines = line or 0, {"topic": line or 0}
            else:
                item_map = self.mapping(item, line, f"a room of {where}")
            if item_map is None:
                continue
            self.known_keys(item_map, ("topic", "id", "members"), f"a room of {where}")
            topic = self.string(item_map, "topic", f"room of {where}")
            room_id = self.string(item_map, "id", f"room of {where}")
            if not topic and not room_id:
                self.error(line, f"a room of {where} has neither topic nor id",
                           "give the group's name as topic: (and its id: if known)")
                continue
            for kind, key in (("topic", topic), ("id", room_id)):
                if not key:
                    continue
                if (kind, key) in owner:
                    first_code, first_line = owner[(kind, key)]
                    self.error(self.line_of(item_map, kind),
                               f"room {kind} {key!r} is claimed by {where} and by node {first_code} (line {first_line})",
                               "a WeChat group belongs to one node: remove it from one of them")
                else:
                    owner[(kind, key)] = (code, self.line_of(item_map, kind))
            members = item_map.get("members") or []
            if not isinstance(members, list) or not all(isinstance(m, (str, int)) for m in members):
                self.error(self.line_of(item_map, "members"), f"members of room {topic or room_id} must be a list of names",
                           "write members: [\"3-201 王芳\", \"3-302 李强\"]")
                members = []
            rooms.append(Room(node_code=code, topic=topic, id=room_id, members=tuple(str(m) for m in members)))
        return tuple(rooms)

    def check_node_roles(self, node_map: LinedDict, where: str, role_names: set[str],
                         people: dict[str, Person]) -> tuple[tuple[str, tuple[str, ...]], ...]:
        value = node_map.get("roles")
        if value is None:
            return ()
        section = self.mapping(value, self.line_of(node_map, "roles"), f"roles of {where}")
        if section is None:
            return ()
        result: list[tuple[str, tuple[str, ...]]] = []
        for role, holders in section.items():
            line = self.line_of(section, role)
            if role not in role_names:
                close = difflib.get_close_matches(role, sorted(role_names), n=1)
                self.error(line, f"unknown role {role!r} on {where}",
                           f"did you mean {close[0]!r}?" if close else "define it under roles: at the top level")
                continue
            keys = [holders] if isinstance(holders, str) else holders
            if not isinstance(keys, list):
                self.error(line, f"{role} of {where} must be a person key or a list of them",
                           f"write {role}: [person_key]")
                continue
            valid: list[str] = []
            for key in keys:
                key = str(key)
                if key not in people:
                    close = difflib.get_close_matches(key, list(people), n=1)
                    self.error(line, f"{role} of {where} names {key!r}, who is not defined under people:",
                               f"did you mean {close[0]!r}?" if close else f"add {key}: {{name: ...}} under people:")
                else:
                    valid.append(key)
            result.append((role, tuple(valid)))
        return tuple(result)
