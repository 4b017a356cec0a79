"""Answers a unit of work looks up again and again, kept for the rest of that unit of work.

A batch of group messages is handled in one unit of work, and several stages ask the same question of every message
in a group: is a poll open here, was a notice delivered here lately, is a satisfaction question waiting. The answer
is read once per group and unit of work and kept in `session.info`; whatever writes what it depends on forgets it
(`forget`), and a new unit of work (a new session) starts empty, so nothing outlives the transaction it was read in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

KEY = "memo"
GROUPS = "memo_groups"  # session.info: the groups whose messages this unit of work handles (`expect_groups`)
T = TypeVar("T")


def expect_groups(session: AsyncSession, room_keys: Iterable[str]) -> None:
    """The groups this unit of work's messages come from: a per-group answer (`remember_for_group`) missing for one
    of them is then read for all of them at once."""
    session.info[GROUPS] = frozenset(room_keys)


async def remember_for_group(session: AsyncSession, subject: tuple[Hashable, ...], room_key: str,
                             load: Callable[[list[str]], Awaitable[Mapping[str, T]]], default: T) -> T:
    """The answer about `subject` (a key's first elements, such as ("poll",)) for one group, read once in this unit
    of work — and, when it must be read, read for every expected group not yet read, in one statement:
    `load(room_keys)` maps each group to its answer (a group it leaves out gets `default`). `forget` drops them."""
    kept: dict[tuple[Hashable, ...], Any] = session.info.setdefault(KEY, {})
    key = (*subject, room_key)
    if key not in kept:
        wanted = _unread(session, kept, subject, room_key)
        found = await load(wanted)
        for group in wanted:
            kept[(*subject, group)] = found.get(group, default)
    return kept[key]  # type: ignore[no-any-return]


async def remember_since_for_group(session: AsyncSession, subject: tuple[Hashable, ...], room_key: str,
                                   since: datetime, load: Callable[[list[str], datetime], Awaitable[Mapping[str, T]]],
                                   default: T) -> T:
    """`remember_since` for one group, read with the other expected groups not yet read (as `remember_for_group`):
    messages come in order, so another group's later message asks from a later moment, which what was read covers;
    an earlier start than what was read reads this group afresh."""
    kept: dict[tuple[Hashable, ...], Any] = session.info.setdefault(KEY, {})
    key = (*subject, room_key)
    held: tuple[datetime, T] | None = kept.get(key)
    if held is None or since < held[0]:
        wanted = [room_key] if held is not None else _unread(session, kept, subject, room_key)
        found = await load(wanted, since)
        for group in wanted:
            kept[(*subject, group)] = (since, found.get(group, default))
    return kept[key][1]  # type: ignore[no-any-return]


def _unread(session: AsyncSession, kept: dict[tuple[Hashable, ...], Any], subject: tuple[Hashable, ...],
            room_key: str) -> list[str]:
    expected = session.info.get(GROUPS, ())
    return sorted({room_key, *(group for group in expected if (*subject, group) not in kept)})


async def remember(session: AsyncSession, key: tuple[Hashable, ...], load: Callable[[], Awaitable[T]]) -> T:
    """`load()`'s answer for `key`, read once in this unit of work."""
    kept: dict[tuple[Hashable, ...], Any] = session.info.setdefault(KEY, {})
    if key in kept:
        return kept[key]  # type: ignore[no-any-return]
    value = kept[key] = await load()
    return value


async def remember_since(session: AsyncSession, key: tuple[Hashable, ...], since: datetime,
                         load: Callable[[datetime], Awaitable[T]]) -> T:
    """`load(since)`'s answer for `key` — what happened since a moment — read once in this unit of work: what was
    read for a window starting at `since` covers every later start (each message of a batch asks from its own time;
    the caller sorts out what falls before its own `since`); an earlier start than what was read reads afresh."""
    kept: dict[tuple[Hashable, ...], Any] = session.info.setdefault(KEY, {})
    held: tuple[datetime, T] | None = kept.get(key)
    if held is None or since < held[0]:
        held = kept[key] = (since, await load(since))
    return held[1]


def forget(session: AsyncSession, subject: Hashable) -> None:
    """Drop every kept answer about `subject` (the first element of their keys)."""
    kept: dict[tuple[Hashable, ...], Any] | None = session.info.get(KEY)
    if kept:
        for key in [k for k in kept if k[0] == subject]:
            del kept[key]
