"""YAML loading that keeps line numbers, refuses duplicate keys and bounds what a hostile file can cost.

LineLoader builds LinedDict / LinedList containers that remember the line of every key and item, so
each issue can name its line; the MAX_* limits keep a broken or hostile file from hanging or crashing it.
"""

from __future__ import annotations

from typing import Any

import yaml

# Limits that keep a hostile or broken file from hanging or crashing the loader. A real 11,473-group
# zone config is about 4 MB, some 20 levels deep, and uses a few aliases per node at most.
MAX_CONFIG_BYTES = 32 * 1024 * 1024
MAX_DEPTH = 100  # nested lists/mappings; libyaml's own composer overflows the C stack near 200,000
MAX_ALIAS_VALUES = 1_000_000  # values reached through *aliases, counted as if copied out ("billion laughs")
MAX_INT_DIGITS = 100


class LinedDict(dict):
    """A mapping that remembers its own line and each key's line (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class LinedList(list):
    """A list that remembers its own line and each item's line (1-based)."""

    line: int = 0
    item_lines: list[int]


class DuplicateKey(Exception):
    """A mapping has the same key twice; carries the key, its line and the first one's line."""

    def __init__(self, key: str, line: int, first: int) -> None:
        super().__init__(key)
        self.key, self.line, self.first = key, line, first


class Refused(Exception):
    """The loader stopped on a limit; carries the issue's line, message and fix."""

    def __init__(self, line: int | None, message: str, fix: str) -> None:
        super().__init__(message)
        self.line, self.message, self.fix = line, message, fix


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """SafeLoader that keeps line numbers, rejects duplicate keys and bounds depth and alias expansion.

    The node graph is composed here, without recursion, from libyaml's events: libyaml's composer
    recurses in C (deep nesting crashes the process) and knows no bound on what aliases expand to.
    """

    def get_single_node(self) -> yaml.Node | None:
        self.get_event()  # stream start
        document = None
        if not self.check_event(yaml.StreamEndEvent):
            document = self._compose_document()
        if not self.check_event(yaml.StreamEndEvent):
            event = self.get_event()
            raise yaml.composer.ComposerError("expected a single document in the stream", document.start_mark,
                                              "but found another document", event.start_mark)
        self.get_event()  # stream end
        return document

    def _compose_document(self) -> yaml.Node:
        self.get_event()  # document start
        anchors: dict[str, yaml.Node] = {}
        sizes: dict[int, int] = {}  # id(node) → how many values it stands for, aliases expanded
        stack: list[list[Any]] = []  # open collections: [node, pending mapping key, expanded size]
        through_aliases = 0
        while True:
            event = self.get_event()
            if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                node, _, size = stack.pop()
                node.end_mark = event.end_mark
                sizes[id(node)] = size
            elif isinstance(event, yaml.AliasEvent):
                node = anchors.get(event.anchor)  # type: ignore[arg-type]
                if node is None:
                    raise yaml.composer.ComposerError(None, None, f"found undefined alias {event.anchor!r}",
                                                      event.start_mark)
                if isinstance(node, yaml.CollectionNode) and id(node) not in sizes:
                    raise Refused(event.start_mark.line + 1, f"alias *{event.anchor} refers to a list or mapping "
                                  "it is part of", "write the values out instead of the alias")
                size = sizes.get(id(node), 1)
                through_aliases += size
                if through_aliases > MAX_ALIAS_VALUES:
                    raise Refused(event.start_mark.line + 1, f"aliases (*name) expand to more than "
                                  f"{MAX_ALIAS_VALUES:,} values; refusing what looks like a YAML alias bomb",
                                  "write the values out, or use far fewer nested aliases")
                self._attach(stack, node)
            else:
                node = self._start_node(event, anchors)
                self._attach(stack, node)
                if isinstance(node, yaml.CollectionNode):
                    if len(stack) >= MAX_DEPTH:
                        raise Refused(event.start_mark.line + 1, f"lists and mappings are nested more than "
                                      f"{MAX_DEPTH} deep", "flatten the structure; a config needs about 20 levels")
                    stack.append([node, None, 1])
                    continue
                size = 1
            if not stack:
                break
            stack[-1][2] += size
        self.get_event()  # document end
        return node

    def _start_node(self, event: yaml.Event, anchors: dict[str, yaml.Node]) -> yaml.Node:
        anchor = event.anchor  # type: ignore[attr-defined]
        if anchor is not None and anchor in anchors:
            raise yaml.composer.ComposerError(f"found duplicate anchor {anchor!r}; first occurrence",
                                              anchors[anchor].start_mark, "second occurrence", event.start_mark)
        tag = event.tag  # type: ignore[attr-defined]
        node: yaml.Node
        if isinstance(event, yaml.ScalarEvent):
            if tag is None or tag == "!":
                tag = self.resolve(yaml.ScalarNode, event.value, event.implicit)
            node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
        elif isinstance(event, yaml.SequenceStartEvent):
            if tag is None or tag == "!":
                tag = self.resolve(yaml.SequenceNode, None, event.implicit)
            node = yaml.SequenceNode(tag, [], event.start_mark, None, flow_style=event.flow_style)
        elif isinstance(event, yaml.MappingStartEvent):
            if tag is None or tag == "!":
                tag = self.resolve(yaml.MappingNode, None, event.implicit)
            node = yaml.MappingNode(tag, [], event.start_mark, None, flow_style=event.flow_style)
        else:
            raise yaml.composer.ComposerError(None, None, f"unexpected {type(event).__name__}", event.start_mark)
        if anchor is not None:
            anchors[anchor] = node
        return node

    @staticmethod
    def _attach(stack: list[list[Any]], node: yaml.Node) -> None:
        if not stack:
            return
        frame = stack[-1]
        parent = frame[0]
        if isinstance(parent, yaml.SequenceNode):
            parent.value.append(node)
        elif frame[1] is None:
            frame[1] = node
        else:
            parent.value.append((frame[1], node))
            frame[1] = None


def _construct_mapping(loader: LineLoader, node: yaml.MappingNode) -> LinedDict:
    loader.flatten_mapping(node)
    result = LinedDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        key = str(key) if not isinstance(key, str) else key
        line = key_node.start_mark.line + 1
        if key in result.key_lines:
            raise DuplicateKey(key, line, result.key_lines[key])
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_sequence(loader: LineLoader, node: yaml.SequenceNode) -> LinedList:
    result = LinedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _construct_int(loader: LineLoader, node: yaml.ScalarNode) -> int:
    """An integer of at most MAX_INT_DIGITS digits (Python refuses to read or print much longer ones)."""
    fix = "write a sensible number here, or quote it if it is text such as an id"
    line = node.start_mark.line + 1
    try:
        value = yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)
    except ValueError:
        raise Refused(line, f"a number of {sum(c.isdigit() for c in node.value):,} digits is far too long",
                      fix) from None
    if abs(value) >= 10 ** MAX_INT_DIGITS:
        raise Refused(line, f"a number of more than {MAX_INT_DIGITS} digits is far too long", fix)
    return value


LineLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def lined(value: Any) -> Any:
    """Plain JSON data → the line-aware containers the checker expects (lines unknown)."""
    if isinstance(value, dict):
        result = LinedDict((k, lined(v)) for k, v in value.items())
        result.line, result.key_lines = 0, {}
        return result
    if isinstance(value, list):
        items = LinedList(lined(v) for v in value)
        items.line, items.item_lines = 0, [0] * len(items)
        return items
    return value


def item_lines(items: list[Any]) -> list[int | None]:
    """The line of each item of a list (None for each when the list came without lines)."""
    if isinstance(items, LinedList):
        return list(items.item_lines)
    return [None] * len(items)

