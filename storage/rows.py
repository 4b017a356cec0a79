"""Rows a unit of work has just written or read by plain statements, made the session's own objects cheaply."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

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
