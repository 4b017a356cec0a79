"""Acknowledgement roll-ups for a notice: per group, per tier, by member and by household (pure).

"One household, one representative": a household is known from the group nickname ("3-201 王芳" → 3-201) or
the member config; a member whose nickname names no household counts as a household of their own, so in a group
without house numbers household figures equal member figures. A group's reply rate, and so whether it is
reminded, is counted by household; the members of a household that has replied are not chased.

Audience, not staff: the people counted in a group are its residents. Whoever holds a leading or handling role
on the group's node or above (and the sender, and the bot) is staff there: neither counted nor reminded. In a
房东群 the landlord of that group is audience too (they pass the notice on to their tenants). `staff_ids` says
who is staff in a group and `count_room` makes every figure from the member list: `#回执`, reminders, the
digest and the console all count through these two functions.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from bot.domain.grid import GridTree

OTHER_TIER = "其他"
LANDLORD_ROLE = "房东"
LANDLORD_TIER = "房东群"


class _Directory(Protocol):  # bot.domain.people.Directory
    roles: Any
    def contact_ids(self, person_key: str) -> list[str]: ...


class Member(NamedTuple):
    """One active member of a group that received a notice, and whether they replied to it (a tuple: a zone
    has a hundred thousand of them)."""

    member_id: str
    name: str
    household: str | None
    acked: bool = False


@dataclass(frozen=True, slots=True)
class RoomAcks:
    """One group that received a notice: who is in it and who has replied (bot and sender left out)."""

    room_key: str
    tier: str
    members: int
    acked: int
    households: int
    acked_households: int
    missing: tuple[tuple[str, str], ...] = ()  # (member id, nickname) of audience whose household has not replied
    absent: int = 0  # registered households counted here that nobody in the group speaks for (none to @)

    @property
    def share(self) -> float:
        """Share of households that replied; an empty group counts as complete (nobody to chase)."""
        return self.acked_households / self.households if self.households else 1.0

    @property
    def complete(self) -> bool:
        return self.acked_households >= self.households


@dataclass(frozen=True, slots=True)
class TierAcks:
    """The groups of one tier added up."""

    tier: str
    rooms: int
    members: int
    acked: int
    households: int
    acked_households: int
    complete_rooms: int

    def line(self) -> str:
        return (f"· {self.tier}：{self.rooms} 个群（{self.complete_rooms} 个已全部回复），"
                f"{self.acked}/{self.members} 人、{self.acked_households}/{self.households} 户已回复")


def household_key(member_id: str, household: str | None) -> str:
    """What a member is counted under: their household, or themselves when none is known."""
    return household or f"member:{member_id}"


def roll_up(rooms: Iterable[RoomAcks], tiers: Sequence[str]) -> list[TierAcks]:
    """Per tier, in the tree's tier order (groups of no known tier last, as 其他)."""
    sums: dict[str, list[int]] = {}
    for room in rooms:
        tier = room.tier if room.tier in tiers else OTHER_TIER
        s = sums.setdefault(tier, [0, 0, 0, 0, 0, 0])
        s[0] += 1
        s[1] += room.members
        s[2] += room.acked
        s[3] += room.households
        s[4] += room.acked_households
        s[5] += 1 if room.complete else 0
    return [TierAcks(tier, *sums[tier]) for tier in [*tiers, OTHER_TIER] if tier in sums]


def lagging(rooms: Iterable[RoomAcks], limit: int) -> list[RoomAcks]:
    """The incomplete groups with the lowest reply rate first (ties: the bigger group first)."""
    behind = [r for r in rooms if not r.complete]
    return sorted(behind, key=lambda r: (r.share, -r.households, r.room_key))[:limit]


def to_remind(rooms: Iterable[RoomAcks], threshold: float) -> list[RoomAcks]:
    """Groups whose household reply rate is below the threshold (and that have someone to remind)."""
    return [r for r in rooms if r.households and r.share < threshold]


def staff_ids(tree: GridTree, directory: _Directory, node_code: str | None, *, sender_key: str | None = None,
              bot_id: str = "") -> frozenset[str]:
    """Contact ids that are staff in a group of `node_code`: leading or handling roles on the node or above,
    the sender and the bot. The landlord of a 房东群 node stays audience in their own group."""
    keys: set[str] = {sender_key} if sender_key else set()
    if node_code is not None and node_code in tree:
        own = tree.node(node_code)
        for node in tree.lineage(node_code):
            for role, holders in node.roles:
                kind = directory.roles.get(role)
                if kind is None or not (kind.leads or kind.handles):
                    continue
                if node is own and own.tier == LANDLORD_TIER and role == LANDLORD_ROLE:
                    continue
                keys.update(holders)
    ids = {bot_id} if bot_id else set()
    for key in keys:
        ids.update(directory.contact_ids(key) or [key])
    return frozenset(ids)


def count_room(room_key: str, tier: str | None, members: Iterable[Member], staff: Collection[str], *,
               absent: int = 0) -> RoomAcks:
    """The figures of one group: audience members and households, who replied, who is still missing.

    A household has replied when any of its audience members has; a member with no household in their nickname
    is a household of one. Staff replies are neither counted nor needed. `absent` registered households with
    nobody in the group are added to the households, unreplied (bot.domain.households).
    """
    audience = [m for m in members if m.member_id not in staff]
    replied = {household_key(m.member_id, m.household) for m in audience if m.acked}
    households = {household_key(m.member_id, m.household) for m in audience}
    missing = tuple((m.member_id, m.name) for m in audience
                    if household_key(m.member_id, m.household) not in replied)
    return RoomAcks(room_key, tier or OTHER_TIER, len(audience), sum(1 for m in audience if m.acked),
                    len(households) + absent, len(replied), missing, absent)


@dataclass(frozen=True, slots=True)
class NoticeTotals:
    """One notice's figures over the groups in view: what `#回执`, the digest and the console all show."""

    rooms: int
    members: int
    acked: int
    households: int
    acked_households: int

    @classmethod
    def of(cls, rooms: Sequence[RoomAcks]) -> "NoticeTotals":
        return cls(len(rooms), sum(r.members for r in rooms), sum(r.acked for r in rooms),
                   sum(r.households for r in rooms), sum(r.acked_households for r in rooms))

    def line(self) -> str:
        return (f"合计：{self.acked_households}/{self.households} 户、{self.acked}/{self.members} 人已回复"
                f"（{self.rooms} 个群）")


# what counts as a reply to a notice, on top of the parser's kind "ack" (pending notice)
_THANKS_ONLY = re.compile(r"^(谢谢|感谢|多谢|辛苦|辛苦了|谢啦|谢了|thanks?|thx)+(大家|各位|您|你们|你|老师|书记|网格长|啦|了|哈|呀|啊)*$",
                          re.IGNORECASE)
_ACK_HEAD = re.compile(r"^(收到|已收到|已阅|好的|知道了|明白|ok|已转发)[\s,，。!！~～]*", re.IGNORECASE)
_NOISE = re.compile(r"[\s,，。.!！~～🙏👍❤️]+")


def answers_notice(text: str) -> bool:
    """False for thanks that do not answer the notice ("谢谢大家", "辛苦了🙏"): the parser may call them "ack"."""
    return _THANKS_ONLY.match(_NOISE.sub("", text or "")) is None


def opens_with_ack(text: str) -> bool:
    """A report that starts by acknowledging ("收到，另外楼下垃圾三天没人收了"): a reply to the notice as well."""
    return _ACK_HEAD.match((text or "").strip()) is not None
