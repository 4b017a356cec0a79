"""The duty desk (值班): `#值班` answers who is on duty tonight for a node, anyone may ask.

The roster itself (config `duty:`) is read by bot.domain.duty; who gets escalations and urgent alerts while on
duty is the ticket audience's (bot.tickets.audience.Audience.on_duty).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot.config import Config
from bot.domain.duty import tonight_text
from bot.domain.grid import GridNode, Person
from bot.domain.people import Directory
from bot.messages import Address, Reply

MORNING = time(8, 0)  # before this, "tonight" is the night that began yesterday evening


class DutyDesk:
    """`#值班` for one unit of work."""

    def __init__(self, config: Config, directory: Directory, now: datetime) -> None:
        self.config = config
        self.directory = directory
        self.now = now
        self.tree = config.tree
        self.roster = config.duty

    def night(self) -> date:
        """The day whose evening the current night began on."""
        local = self.now.astimezone(self.config.tz)
        return local.date() - timedelta(days=1) if local.time() < MORNING else local.date()

    def tonight(self, node: GridNode | None, sender: Person | None, asked: str, reply_to: Address) -> list[Reply]:
        """Tonight's shifts for the node named, else the group's node, else (privately) the sender's own nodes."""
        if asked:
            named = self.find_node(asked)
            if named is None:
                return [Reply(reply_to, f"没有找到“{asked}”，请写网格的编码或名称，例如：#值班 JQS-01", kind="duty_answer")]
            codes = [named.code]
        elif node is not None:
            codes = [node.code]
        else:
            codes = [code for code, _ in self.directory.positions(sender.key)] if sender is not None else []
            codes = codes or list(self.roster.node_codes())
        lines = list(dict.fromkeys(self.line_for(code) for code in codes if code in self.tree))
        text = "\n".join(lines) if lines else "这里还没有安排值班。"
        return [Reply(reply_to, text, kind="duty_answer")]

    def line_for(self, code: str) -> str:
        """One node's answer: its own roster's or its nearest ancestor's shifts tonight."""
        roster_code = self.roster.nearest(code, self._parent_code)
        if roster_code is None:
            return f"{self.tree.node(code).name}没有安排值班。"
        day = self.night()
        slots = self.roster.tonight(roster_code, day, morning=MORNING)
        return tonight_text(slots, day, self._name_of, node_name=self.tree.node(roster_code).name)

    def find_node(self, asked: str) -> GridNode | None:
        """A node by its code or its name."""
        text = asked.strip()
        if text in self.tree:
            return self.tree.node(text)
        return next((node for node in self.tree if node.name == text), None)

    def _name_of(self, key: str) -> str:
        person = self.config.people.get(key)
        return person.name if person is not None else key

    def _parent_code(self, code: str) -> str | None:
        parent = self.tree.parent(code) if code in self.tree else None
        return parent.code if parent is not None else None
