"""A scripted parser for ticket tests: ticket logic is tested apart from parsing accuracy.

Scenario tests through `gridbot replay` (test_scenarios.py) use the real parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.app import GridBot
from bot.transport.simulator import SimulatorTransport


@dataclass(frozen=True)
class Loc:
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    place: str | None = None

    def to_dict(self):
        return {"building": self.building, "unit": self.unit, "room": self.room, "place": self.place}


@dataclass(frozen=True)
class Parsed:
    kind: str
    category: str | None = None
    urgency: str | None = None
    location: Loc = field(default_factory=Loc)
    me_too: bool = False
    ticket_ref: str | None = None
    review: bool = False  # a likely report the parser is not sure of (held for a leader)
    confidence: float = 0.5
    explanation: tuple = ()

    def to_dict(self):
        return {"kind": self.kind, "category": self.category, "urgency": self.urgency,
                "location": self.location.to_dict(), "me_too": self.me_too, "ticket_ref": self.ticket_ref}


SCRIPT = {
    "3号楼楼道灯坏了": Parsed("report", "repair", "normal", Loc(building="3")),
    "3号楼楼道灯还是不亮": Parsed("report", "repair", "normal", Loc(building="3")),
    "5号楼楼道灯坏了": Parsed("report", "repair", "normal", Loc(building="5")),
    "+1 我家也是": Parsed("report", "other", "normal", me_too=True),
    "+1": Parsed("report", "other", "normal", me_too=True, review=True),
    "+1 电梯里还有人被困了": Parsed("report", "repair", "urgent", me_too=True),
    "3号楼电梯坏了": Parsed("report", "repair", "normal", Loc(building="3")),
    "燃气味很重 快来人": Parsed("report", "safety", "urgent"),
    "有人在撬电动车": Parsed("report", "security", "urgent"),
    "垃圾堆了好几天没人收": Parsed("report", "sanitation", "normal"),
    "我报的灯修了没": Parsed("query"),
    "查询 1001": Parsed("query", ticket_ref="1001"),
    "谢谢": Parsed("chat"),
    "还没修好": Parsed("report", "repair", "normal"),
    "好了": Parsed("chat"),
}


def scripted(text, **_):
    return SCRIPT.get(text, Parsed("chat"))


@pytest.fixture
async def ticket_bot(sample_config, db, clock):
    sim = SimulatorTransport.from_config(sample_config, clock)
    bot = GridBot(sample_config, sim, clock=clock, database=db, parser=scripted, scheduler=False)
    await bot.start()
    yield bot, sim
    await bot.stop()
