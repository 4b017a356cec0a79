"""The duty section (值班): per node, a weekly pattern of shifts and exceptions such as holiday shifts."""

from __future__ import annotations

from collections.abc import Collection

from bot.config.checks.base import CheckerBase, line_of_path
from bot.config.yaml_lines import LinedDict
from bot.domain.duty import Roster, parse_roster

_FIXES = (
    ("no person has the key", "use a person key from people: (e.g. chen_li), not a name"),
    ("no node has the code", "use a node code from nodes: (e.g. JQS-01)"),
    ("overlaps", "let one shift end where the next begins (e.g. 08:00–18:00 and 18:00–08:00)"),
    ("not a time", "write times in quotes as \"18:00\"; to: \"24:00\" ends at midnight"),
    ("not weekdays", "write days: \"1-5\" (Monday to Friday), \"6,7\" or 每天"),
)
_FIX = ("write e.g. duty: [{node: JQS-01, weekly: [{days: \"1-5\", from: \"18:00\", to: \"08:00\", person: chen_li}], "
        "exceptions: [{date: \"2027-02-06..2027-02-12\", from: \"00:00\", to: \"24:00\", person: zhou_qiang}]}]; "
        "nodes by code, people by key, shifts of one node must not overlap")


class DutyChecks(CheckerBase):
    """Checks the duty: section."""

    def check_duty(self, data: LinedDict, timezone: str, people: Collection[str], nodes: Collection[str]) -> Roster:
        line = self.line_of(data, "duty")
        section = data.get("duty")
        if section is None:
            return Roster(timezone=timezone)
        try:
            return parse_roster(section, timezone=timezone, people=people, nodes=nodes)
        except ValueError as exc:
            message = str(exc)
            fix = next((fix for words, fix in _FIXES if words in message), _FIX)
            self.error(line_of_path(section, line, message), message, fix)
            return Roster(timezone=timezone)
