"""Answers a unit of work looks up again and again, kept for the rest of that unit of work.

A batch of group messages is handled in one unit of work, and several stages ask the same question of every message
in a group: is a poll open here, was a notice delivered here lately, is a satisfaction question waiting. The answer
is read once per group and unit of work and kept in `session.info`; whatever writes what it depends on forgets it
(`forget`), and a new unit of work (a new session) starts empty, so nothing outlives the transaction it was read in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

KEY = "memo"
T = TypeVar("T")


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
