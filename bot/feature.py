"""What a feature brings to the bot: its chat handlers, in their places in the order, and its periodic jobs.

Each feature module (handlers/tickets.py, handlers/notice.py, …) exports one `Feature`; `handlers/features.py`
lists them, and the app builds the router and schedules the jobs from that one list. Handlers are placed by
`Stage`, so a feature need not know its neighbours: within a stage, features keep the list's order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any, TypeVar

from bot.work import Services, Work, perform

T = TypeVar("T")


class Stage(IntEnum):
    """Where in the order a handler is offered a message (the first match wins)."""

    BIND = 0  # a binding code must never reach another handler (or be echoed as unknown)
    COMMAND = 10  # "#…" commands
    SURVEY = 18  # a reporter's answer to "满意吗？": before the follow-ups, which would take "还是不亮" as a bare reopen
    UNKNOWN_COMMAND = 19  # a "#…" nobody took
    FOLLOW_UP = 20  # answers to what the bot asked about a case: photos, confirmations, withdrawals
    VOTE = 22  # votes in a group's open poll: after follow-ups ("好了" confirms a ticket), before notice acks
    ACK = 25  # replies to a notice
    QUERY = 30  # questions about earlier cases
    PRIVATE = 40  # private chats: places and reports told to the bot alone
    DOUBT = 50  # messages the parser is unsure of go to a leader's review
    REPORT = 60  # new reports
    FALLBACK = 90  # whatever is left in a private chat


@dataclass(frozen=True)
class Job:
    """A periodic job: `run` does the work and returns how much (0: nothing to do); `hint` says when there is
    work at the earliest (so a virtual clock can jump there); leader-only jobs run in one process only."""

    name: str
    run: Callable[[Services], Awaitable[int]]
    every: float = 60.0  # seconds between looks on the wall clock
    hint: Callable[[Services], Awaitable[datetime | None]] | None = None
    leader_only: bool = True


@dataclass(frozen=True)
class Feature:
    """One feature: its handlers by stage, and its jobs."""

    name: str
    handlers: Mapping[Stage, Sequence[Any]] = field(default_factory=dict)  # Stage → handlers (handlers.base.Handler)
    jobs: Sequence[Job] = ()


def in_work(job: Callable[[Work], Awaitable[T]], what: str) -> Callable[[Services], Awaitable[T]]:
    """A job (or hint) that runs in one unit of work: what it says is queued and the sender woken."""

    async def run(services: Services) -> T:
        return await perform(services, job, what=what)

    return run


def looking(job: Callable[[Work], Awaitable[T]], what: str) -> Callable[[Services], Awaitable[T]]:
    """A job's hint: a read in its own unit of work that neither queues nor wakes anything."""

    async def look(services: Services) -> T:
        return await perform(services, job, what=what, wake=False)

    return look
