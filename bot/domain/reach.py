"""Reaching the right person: where a handler can be told, who must not handle a dispute, what to do first.

Pure: the caller brings the rooms a person is a member of (from the transport's member lists and from
config) and the parse of the report; nothing here reads storage or the clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from bot.domain.grid import GridTree, Person

# situation names the parser gives (bot/domain/parsing/situations.py) that a safety key stands for
SITUATION_ALIASES: Mapping[str, tuple[str, ...]] = {
    "有人倒地": ("有人倒下", "有人躺着不动", "有人摔伤", "中风迹象"),
    "打架": ("打斗",),
    "入室": ("入室或盗窃进行中", "有人试门"),
    "起火": ("浓烟", "充电处焦味"),
    "燃气": ("燃气味",),
}

DEFAULT_SAFETY_ADVICE: Mapping[str, str] = {
    "燃气": "开窗通风，不要开关电器，打燃气抢修或119",
    "有人倒地": "请先打120",
    "打架": "请先打110",
    "入室": "请先打110",
    "起火": "请先打119",
}

# a complaint about someone, whatever its category
_COMPLAINT = re.compile(r"投诉|举报|不退|不给|扣押金|押金|欺负|威胁|骂人|打人|刁难|赶我|赶人")


def _nickname_name(entry: str) -> str:
    """The name part of a group nickname: '东头12号 陈老板' → '陈老板'."""
    parts = re.split(r"[\s\-_—·.]+", entry.strip())
    return parts[-1] if parts else ""


@lru_cache(maxsize=4096)
def _roster(members: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """A configured member list as (entries, their names): asked for every ticket, split once."""
    return frozenset(members), frozenset(_nickname_name(entry) for entry in members)


def named_in_roster(person: Person, members: Iterable[str]) -> bool:
    """True when a configured member list names the person (by key, WeChat id, name or nickname)."""
    entries, names = _roster(members if isinstance(members, tuple) else tuple(members))
    return (person.key in entries or person.name in entries or person.name in names
            or (bool(person.wechat_id) and person.wechat_id in entries))


@lru_cache(maxsize=4096)
def config_rooms(tree: GridTree, person: Person) -> tuple[str, ...]:
    """Keys of the configured groups whose `members` list names the person (the tree and the person never change:
    worked out once, not for every ticket that reaches them)."""
    return tuple(room.key for room in tree.rooms() if room.members and named_in_roster(person, room.members))


def choose_room(tree: GridTree, member_rooms: Iterable[str], *, first: str | None = None,
                near: Sequence[str] = (), any_room: bool = True) -> str | None:
    """The group to reach a person in: `first` if they are in it, else the one nearest each of the `near`
    nodes in turn (walking up), else (with `any_room`) any group they are in; None when there is none."""
    rooms = set(member_rooms)
    if not rooms:
        return None
    if first is not None and first in rooms:
        return first
    for code in near:
        if code not in tree:
            continue
        for node in tree.lineage(code):
            for room in node.rooms:
                if room.key in rooms:
                    return room.key
    return sorted(rooms)[0] if any_room else None


def is_party(person: Person, role: str, *, category: str | None, text: str, mentions: Sequence[str],
             contact_ids: Sequence[str]) -> bool:
    """True when a report is a dispute with (or complaint about) the person who would handle it.

    The person is named (their name or the role they hold, e.g. “房东”) or @-ed in the report."""
    addressed = any(c in mentions for c in contact_ids) or person.name in text or (bool(role) and role in text)
    return addressed and (category == "dispute" or _COMPLAINT.search(text) is not None)


def safety_advice(advice: Mapping[str, str], *, category: str | None, category_name: str | None,
                  explanation: Sequence[str], text: str) -> str | None:
    """The first safety line whose key the report's situation, explanation, text or category names."""
    seen = " ".join(explanation) + " " + text
    for key, line in advice.items():
        names = (key, *SITUATION_ALIASES.get(key, ()))
        if any(n in seen for n in names) or key in (category, category_name):
            return line
    return None
