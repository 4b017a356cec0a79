"""CheckerBase: the issue list and the helpers every section check uses (typed values, lines, known keys)."""

from __future__ import annotations

import difflib
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.config.errors import ConfigIssue
from bot.config.yaml_lines import LinedDict, LinedList
from bot.domain.sla import parse_duration


class CheckerBase:
    """Collects issues and warnings for one file; section checks are mixins built on it."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.issues: list[ConfigIssue] = []
        self.warnings: list[str] = []

    # helpers
    def error(self, line: int | None, message: str, fix: str = "") -> None:
        self.issues.append(ConfigIssue(str(self.file), line, message, fix))

    def warn(self, line: int | None, message: str) -> None:
        where = f"{self.file}:{line}" if line else str(self.file)
        self.warnings.append(f"{where}: {message}")

    @staticmethod
    def line_of(mapping: Any, key: str | None = None) -> int | None:
        if isinstance(mapping, LinedDict):
            if key is not None and key in mapping.key_lines:
                return mapping.key_lines[key]
            return mapping.line
        if isinstance(mapping, LinedList):
            return mapping.line
        return None

    def known_keys(self, mapping: LinedDict, allowed: tuple[str, ...], where: str) -> None:
        for key in mapping:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"allowed keys here: {', '.join(allowed)}"
                self.error(self.line_of(mapping, key), f"unknown key {key!r} in {where}", hint)

    def mapping(self, value: Any, line: int | None, where: str) -> LinedDict | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.error(line, f"{where} must be a mapping (key: value lines), not {kind_of(value)}",
                       f"write {where} as indented 'key: value' lines")
            return None
        return value  # type: ignore[return-value]

    def string(self, mapping: LinedDict, key: str, where: str, *, required: bool = False,
               default: str | None = None) -> str | None:
        value = mapping.get(key)
        if value is None:
            if required:
                self.error(mapping.line, f"{where} needs {key!r}", f"add a line '{key}: ...'")
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.error(self.line_of(mapping, key), f"{where}.{key} must be text, not {kind_of(value)}",
                       "write a single value on this line")
            return default
        text = str(value).strip()
        if required and not text:
            self.error(self.line_of(mapping, key), f"{where}.{key} is empty", "give it a value")
            return default
        return text

    def integer(self, mapping: LinedDict, key: str, where: str, default: int, low: int, high: int) -> int:
        value = mapping.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.error(self.line_of(mapping, key), f"{where}.{key} must be a whole number from {low} to {high}, "
                       f"not {value!r}", f"set {key}: {default}")
            return default
        return value

    def duration(self, mapping: LinedDict, key: str, where: str, default: timedelta) -> timedelta:
        value = mapping.get(key)
        if value is None:
            return default
        try:
            result = parse_duration(value)
        except (ValueError, TypeError):  # a list or a mapping where a duration belongs, too
            self.error(self.line_of(mapping, key), f"{where}.{key} is not a duration: {value!r}",
                       "write a number with a unit: 10m, 4h, 3d")
            return default
        if result <= timedelta(0):
            self.error(self.line_of(mapping, key), f"{where}.{key} must be longer than zero", "e.g. 30m")
            return default
        return result

    def fraction(self, mapping: LinedDict, key: str, where: str, default: float) -> float:
        value = mapping.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            self.error(self.line_of(mapping, key), f"{where}.{key} must be a number from 0 to 1",
                       f"e.g. {key}: {default}")
            return default
        return float(value)


def kind_of(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


_PATH_STEP = re.compile(r"\.([^.\[\]:\s]+)|\[([^\]]*)\]")
_PATH_HEAD = re.compile(r"^[A-Za-z_]+((?:\.[^.\[\]:\s]+|\[[^\]]*\])*)")


def line_of_path(root: Any, line: int | None, message: str) -> int | None:
    """The line of the deepest item a domain error names at its start ("duty[0].weekly[1].person: …"), walking
    the loaded YAML from `root` (the section, found at `line`); `line` when the path leads nowhere known."""
    head = _PATH_HEAD.match(message)
    value, found = root, line
    for key, index in _PATH_STEP.findall(head.group(1) if head else ""):
        step = key or index
        if isinstance(value, LinedList) and step.isdigit() and int(step) < len(value):
            found, value = value.item_lines[int(step)] or found, value[int(step)]
        elif isinstance(value, LinedDict) and step in value:
            found, value = value.key_lines.get(step) or found, value[step]
        else:
            break
    return found
