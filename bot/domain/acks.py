"""Acknowledgement roll-ups for a notice: per group, per tier, by member and by household (pure).

"One household, one representative": a household is known from the group nickname ("3-201 王芳" → 3-201) or
the member config; a member whose nickname names no household counts as a household of their own, so in a group
without house numbers household figures equal member figures. A group's reply rate, and so whether it is
reminded, is counted by household; the members of a household that has replied are not chased.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

OTHER_TIER = "其他"


@dataclass(frozen=True, slots=True)
class RoomAcks:
    """One group that received a notice: who is in it and who has replied (bot and sender left out)."""

    room_key: str
    tier: str
    members: int
    acked: int
    households: int
    acked_households: int

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


def rooms_from_rows(rows: Iterable[dict[str, object]], tier_of: Callable[[str], str | None]) -> list[RoomAcks]:
    """RoomAcks from the repository's per-group counts; `tier_of(room_key)` names the group's tier."""
    return [RoomAcks(str(r["room_key"]), tier_of(str(r["room_key"])) or OTHER_TIER, int(r["members"]),  # type: ignore[call-overload]
                     int(r["acked"]), int(r["households"]), int(r["acked_households"]))  # type: ignore[call-overload]
            for r in rows]

