"""The router: one unit of work per message, offered to handlers in order; the first match wins."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.messages import IncomingMessage, Reply
from storage.errors import is_database_error
from handlers.base import Context, Handler

_LOGGER = logging.getLogger(__name__)

UNHANDLED = "unhandled"


@dataclass(frozen=True)
class RouteResult:
    """Which handler took the message (or 'unhandled' / 'error') and the replies it returned."""

    handler: str
    replies: list[Reply] = field(default_factory=list)
    error: str | None = None


class Router:
    """An ordered list of handlers and sub-routers (feature routers included into one root)."""

    def __init__(self, name: str = "root", handlers: Iterable[Handler[Any] | "Router"] = ()) -> None:
        self.name = name
        self._entries: list[Handler[Any] | Router] = list(handlers)

    def include(self, entry: "Handler[Any] | Router") -> "Router":
        self._entries.append(entry)
        return self

    async def find(self, msg: IncomingMessage, ctx: Context) -> tuple[Handler[Any], Any] | None:
        """The first handler that matches, with its typed input (a match may look things up: await it)."""
        for entry in self._entries:
            if isinstance(entry, Router):
                found = await entry.find(msg, ctx)
                if found is not None:
                    return found
                continue
            args = entry.match(msg, ctx)
            if args is None:  # a plain "not mine" (most handlers, for most messages)
                continue
            if inspect.isawaitable(args):
                args = await args
            if args is not None:
                return entry, args
        return None

    async def route(self, msg: IncomingMessage, ctx: Context) -> RouteResult:
        """Hand the message to the first matching handler.

        A handler that crashes raises HandlerFailed: the caller rolls the unit of work back (so nothing
        half-done stays) and stores the message on its own.
        """
        found = await self.find(msg, ctx)
        if found is None:
            return RouteResult(UNHANDLED)
        handler, args = found
        if ctx.message_row is not None:
            ctx.message_row.handler = handler.name  # known now, so the stored row needs no later UPDATE
        try:
            replies = await handler.handle(msg, args, ctx)
        except Exception as exc:
            if is_database_error(exc):
                raise  # the database's trouble, not the handler's: the whole unit of work is retried
            raise HandlerFailed(handler.name, exc) from exc
        return RouteResult(handler.name, list(replies))


class HandlerFailed(Exception):
    """A handler raised; the message must still be stored and the bot go on."""

    def __init__(self, handler: str, error: Exception) -> None:
        super().__init__(f"{handler}: {type(error).__name__}: {error}")
        self.handler = handler

