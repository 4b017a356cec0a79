"""Rows a unit of work has just written or read by plain statements, made the session's own objects cheaply."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key

T = TypeVar("T")


def as_read(session: AsyncSession, cls: type[T], values: dict[str, Any]) -> T:
    """An object for a row this unit of work has just written or read, every column known: in the session as if it
    had been loaded (nothing to flush, nothing expired). Its columns go straight into the object's dict, as the
    loader fills it from a fetched row: the constructor's attribute events cost more than the INSERT, on the bot's
    hottest path."""
    obj: T = cls.__mapper__.class_manager.new_instance()  # type: ignore[attr-defined]
    obj.__dict__.update(values)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def held_objects(session: AsyncSession, cls: type[T]) -> Iterator[T]:
    """The objects of `cls` the session holds (what this unit of work has read, written or changed), as they are now."""
    for obj in session.identity_map.values():
        if isinstance(obj, cls):
            yield obj


def own(session: AsyncSession, cls: type[T], values: dict[str, Any]) -> T:
    """The session's object for a row just read: the one it holds, as this unit of work has made it (a query through
    the session answers the same), else one made from `values` by `as_read`."""
    held = session.identity_map.get(identity_key(cls, values["id"]))
    return held if held is not None else as_read(session, cls, values)  # type: ignore[return-value]
