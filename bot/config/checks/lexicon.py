"""The lexicon section, checked by the parser's own Lexicon when the parser is installed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.config.checks.base import CheckerBase
from bot.config.yaml_lines import LinedDict, LinedList


class LexiconChecks(CheckerBase):
    """Checks the lexicon: section."""

    def check_lexicon(self, data: LinedDict) -> Mapping[str, Any] | None:
        value = data.get("lexicon")
        if value is None:
            return None
        section = self.mapping(value, self.line_of(data, "lexicon"), "lexicon")
        if section is None:
            return None
        try:
            from bot.domain.parsing import Lexicon, LexiconError
        except ImportError:  # the parser is optional for loading the tree
            return section
        try:
            Lexicon.from_mapping(section)
        except LexiconError as exc:
            self.error(_line_for_path(section, exc.path), f"{exc.path}: {exc.message}",
                       "see docs/lexicon.md for the shape of the lexicon section")
        return section


def _line_for_path(section: LinedDict, path: str) -> int | None:
    """The line of the deepest key of a dotted path like 'lexicon.categories.safty' that exists."""
    parts = path.split(".")
    if parts and parts[0] == "lexicon":
        parts = parts[1:]
    line: int | None = section.line
    node: Any = section
    for part in parts:
        if isinstance(node, LinedDict) and part in node:
            line = node.key_lines.get(part, line)
            node = node[part]
        elif isinstance(node, LinedList) and part.isdigit() and int(part) < len(node):
            line = node.item_lines[int(part)]
            node = node[int(part)]
        else:
            break
    return line
