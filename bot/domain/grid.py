"""The grid tree: community → grid → micro-grid → building → landlord group, immutable and fast to walk.

Every feature is a walk over this tree: a report climbs its ancestors to find who handles it, a notice
goes down its descendants, a digest sums a subtree. Descendants are a slice of the pre-order list, so a
subtree of any size is found in constant time; ancestors are precomputed per node.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType


class GridError(ValueError):
    """The nodes given do not form a tree."""


@dataclass(frozen=True, slots=True)
class Room:
    """A WeChat group attached to a node, known by its topic and/or its transport id."""

    node_code: str
    topic: str | None = None
    id: str | None = None
    members: tuple[str, ...] = ()  # display names of simulated/known members ("3-201 王芳")

    @property
    def key(self) -> str:
        """A stable identifier: the transport id when known, else the topic."""
        return self.id or self.topic or ""


def looks_like_room_id(text: str) -> bool:
    """A transport's id for a group ("1234567@chatroom", the simulator's "sim-…"), not a name for people."""
    return "@" in text or text.startswith("sim-")


@dataclass(frozen=True, slots=True)
class Person:
    """Someone with a role somewhere in the tree, known by WeChat id and/or display name."""

    key: str
    name: str
    wechat_id: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class RoleType:
    """What a role may do: lead (send notices, command) and/or handle tickets."""

    name: str
    leads: bool = True
    handles: bool = True


@dataclass(frozen=True, slots=True)
class GridNode:
    """One node of the tree; children and ancestors are codes, resolved through the tree."""

    code: str
    name: str
    tier: str
    depth: int  # index of `tier` in the deployment's tier list
    parent: str | None = None
    rooms: tuple[Room, ...] = ()
    roles: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (role name, person keys)
    children: tuple[str, ...] = field(default=())

    def people_with(self, role: str) -> tuple[str, ...]:
        """Person keys holding `role` on this node."""
        for name, people in self.roles:
            if name == role:
                return people
        return ()


class GridTree:
    """An immutable tree of GridNodes with constant-time subtree, ancestor and room lookups."""

    __slots__ = ("tiers", "_nodes", "_order", "_index", "_end", "_ancestors", "_by_room_id", "_by_topic", "roots",
                 "_room_keys")

    def __init__(self, tiers: Sequence[str], nodes: Iterable[GridNode]) -> None:
        self.tiers: tuple[str, ...] = tuple(tiers)
        given = list(nodes)
        by_code: dict[str, GridNode] = {}
        children: dict[str, list[str]] = {}
        roots: list[str] = []
        for node in given:
            if node.code in by_code:
                raise GridError(f"duplicate node code {node.code!r}")
            by_code[node.code] = node
            children[node.code] = []
        for node in given:
            if node.parent is None:
                roots.append(node.code)
            elif node.parent not in by_code:
                raise GridError(f"node {node.code!r} has unknown parent {node.parent!r}")
            else:
                children[node.parent].append(node.code)

        order: list[str] = []
        index: dict[str, int] = {}
        end: dict[str, int] = {}
        ancestors: dict[str, tuple[str, ...]] = {}
        stack: list[tuple[str, bool]] = [(code, False) for code in reversed(roots)]
        while stack:
            code, done = stack.pop()
            if done:
                end[code] = len(order)
                continue
            index[code] = len(order)
            order.append(code)
            parent = by_code[code].parent
            ancestors[code] = () if parent is None else (parent, *ancestors[parent])
            stack.append((code, True))
            stack.extend((child, False) for child in reversed(children[code]))
        if len(order) != len(by_code):
            raise GridError("the nodes contain a cycle")

        self._nodes = MappingProxyType(
            {code: _with_children(by_code[code], tuple(children[code])) for code in order}
        )
        self._order = tuple(order)
        self._index = MappingProxyType(index)
        self._end = MappingProxyType(end)
        self._ancestors = MappingProxyType(ancestors)
        self.roots: tuple[str, ...] = tuple(roots)
        by_room_id: dict[str, Room] = {}
        by_topic: dict[str, Room] = {}
        for code in order:
            for room in self._nodes[code].rooms:
                if room.id:
                    by_room_id[room.id] = room
                if room.topic:
                    by_topic[room.topic] = room
        self._by_room_id = MappingProxyType(by_room_id)
        self._by_topic = MappingProxyType(by_topic)

    # -- lookups -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, code: object) -> bool:
        return code in self._nodes

    def __iter__(self) -> Iterator[GridNode]:
        """Nodes in pre-order (a parent before its children)."""
        return (self._nodes[code] for code in self._order)

    @property
    def nodes(self) -> Mapping[str, GridNode]:
        return self._nodes

    def node(self, code: str) -> GridNode:
        """The node with `code`; KeyError if there is none."""
        return self._nodes[code]

    def parent(self, code: str) -> GridNode | None:
        parent = self._nodes[code].parent
        return None if parent is None else self._nodes[parent]

    def children(self, code: str) -> tuple[GridNode, ...]:
        return tuple(self._nodes[c] for c in self._nodes[code].children)

    def ancestors(self, code: str) -> tuple[GridNode, ...]:
        """Ancestors of `code`, nearest first, the root last."""
        return tuple(self._nodes[c] for c in self._ancestors[code])

    def ancestor_codes(self, code: str) -> tuple[str, ...]:
        return self._ancestors[code]

    def lineage(self, code: str) -> tuple[GridNode, ...]:
        """The node itself, then its ancestors up to the root."""
        return (self._nodes[code], *self.ancestors(code))

    def descendant_codes(self, code: str, *, include_self: bool = True) -> Sequence[str]:
        """Codes of the subtree under `code` in pre-order; a slice, so O(1) to find."""
        start = self._index[code]
        return self._order[start if include_self else start + 1 : self._end[code]]

    def descendants(self, code: str, *, include_self: bool = True) -> Iterator[GridNode]:
        return (self._nodes[c] for c in self.descendant_codes(code, include_self=include_self))

    def is_within(self, code: str, ancestor: str) -> bool:
        """True when `code` is `ancestor` or lies in its subtree."""
        return self._index[ancestor] <= self._index[code] < self._end[ancestor]

    def subtree_size(self, code: str) -> int:
        return self._end[code] - self._index[code]

    def room(self, *, room_id: str | None = None, topic: str | None = None) -> Room | None:
        """The configured room with this transport id, else with this topic."""
        if room_id is not None:
            found = self._by_room_id.get(room_id)
            if found is not None:
                return found
        if topic is not None:
            return self._by_topic.get(topic)
        return None

    def node_for_room(self, *, room_id: str | None = None, topic: str | None = None) -> GridNode | None:
        room = self.room(room_id=room_id, topic=topic)
        return None if room is None else self._nodes[room.node_code]

    def group_name(self, room_key: str, transport_topic: str | None = None) -> str:
        """A group as people know it, never a raw room id: the configured topic, else the transport's topic
        (`transport_topic`, as the account last listed it), else "<node>的群"; an unconfigured group with no
        known topic is named by its key only when that is not an id."""
        room = self.room(room_id=room_key, topic=room_key)
        if room is not None and room.topic:
            return room.topic
        if transport_topic and not looks_like_room_id(transport_topic):
            return transport_topic
        if room is not None:
            return f"{self._nodes[room.node_code].name}的群"
        return room_key if not looks_like_room_id(room_key) else "一个未登记的群"

    def rooms(self) -> Iterator[Room]:
        for code in self._order:
            yield from self._nodes[code].rooms

    def room_keys(self) -> frozenset[str]:
        """The keys of every configured group (worked out once: asked for every person a ticket reaches)."""
        try:
            return self._room_keys
        except AttributeError:
            self._room_keys: frozenset[str] = frozenset(room.key for room in self.rooms())
            return self._room_keys

    def tier_index(self, tier: str) -> int:
        return self.tiers.index(tier)

    def holders(self, code: str, roles: Iterable[str]) -> tuple[tuple[GridNode, str, str], ...]:
        """(node, role, person) for each holder of one of `roles`, from `code` up to the root."""
        wanted = tuple(roles)
        found: list[tuple[GridNode, str, str]] = []
        for node in self.lineage(code):
            for role, people in node.roles:
                if role in wanted:
                    found.extend((node, role, person) for person in people)
        return tuple(found)


def _with_children(node: GridNode, children: tuple[str, ...]) -> GridNode:
    if node.children == children:
        return node
    return GridNode(
        code=node.code,
        name=node.name,
        tier=node.tier,
        depth=node.depth,
        parent=node.parent,
        rooms=node.rooms,
        roles=node.roles,
        children=children,
    )


def node_path(tree: GridTree, code: str) -> str:
    """'/JQS/JQS-01/JQS-01-03/': a node's place in the tree; a subtree is every path with this prefix."""
    return "/" + "/".join(reversed([code, *tree.ancestor_codes(code)])) + "/"
