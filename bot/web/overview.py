"""The console's overview (/console): what a secretary reads in ten seconds.

Urgent and overdue tickets first, then today and this week (the digest desk's figures), new vs resolved per day
over the last 14 days (an inline SVG drawn on the server), the 待确认 queue, and the notices still collecting
replies with their household reply rate as `#回执` counts it. Everything in the account's subtrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from bot.domain.digest import DigestFigures, calendar_period
from bot.domain.tickets import is_overdue
from bot.web.day_chart import DayChart, day_chart, local_days
from bot.web.keys import bot_of
from bot.web.notice_figures import NoticeView, notice_views
from bot.web.pages import render, require
from bot.work import Work, perform
from storage.models import ReviewRow, TicketRow
from storage.web_repository import WebRepository

CHART_DAYS = 14
FIRST = 20  # urgent / overdue tickets listed at most, each
OTHERS = 5  # other open tickets after them
REVIEWS = 3
NOTICES = 5


@dataclass(frozen=True, slots=True)
class Flagged:
    """An open ticket in the overview's list, with why it is listed where it is."""

    ticket: TicketRow
    urgent: bool
    overdue: bool

    @property
    def rank(self) -> int:
        return 0 if self.urgent and self.overdue else 1 if self.urgent else 2 if self.overdue else 3


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything the page shows (figures only for an account with a subtree)."""

    day: DigestFigures
    week: DigestFigures
    counts: tuple[int, int, int]  # open, urgent, overdue
    tickets: list[Flagged]
    chart: DayChart
    held: int
    latest_held: list[ReviewRow]


def first_things_first(urgent: list[TicketRow], late: list[TicketRow], recent: list[TicketRow], now: datetime
                       ) -> list[Flagged]:
    """One list: urgent and overdue first (both, then urgent, then overdue), then the others, each newest first."""
    seen: dict[int, Flagged] = {}
    for ticket in (*urgent, *late, *recent):
        if ticket.id not in seen:
            seen[ticket.id] = Flagged(ticket, ticket.urgency == "urgent",
                                      is_overdue(ticket.state, ticket.due_at, ticket.breached, now))
    flagged = sorted(seen.values(), key=lambda f: (f.rank, -f.ticket.created_at.timestamp(), -f.ticket.id))
    others = [f for f in flagged if f.rank == 3][:OTHERS]
    return [f for f in flagged if f.rank < 3] + others


def reply_rate(view: NoticeView) -> int | None:
    """The household reply rate in whole per cent, as `#回执`'s 合计 gives it (None: no household to count)."""
    t = view.totals
    return round(100 * t.acked_households / t.households) if t.households else None


async def overview(request: web.Request) -> web.Response:
    user, _ = await require(request)
    bot = bot_of(request)
    top = user.nodes[0] if user.nodes else None
    if top is None:
        return render(request, "overview.html", "概览", user, top=None)
    tz = bot.config.tz
    now = bot.clock.now()
    today = now.astimezone(tz).date()
    prefixes = user.path_prefixes(bot.config.tree)
    days = local_days(today, CHART_DAYS, tz)

    async def job(work: Work) -> Overview:
        day = await work.digests.figures(top, calendar_period("day", today, tz))
        week = await work.digests.figures(top, calendar_period("week", today, tz))
        repo = WebRepository(work.session)
        urgent = await repo.tickets(prefixes=prefixes, state="open", urgency="urgent", limit=FIRST)
        late = await repo.tickets(prefixes=prefixes, overdue_at=now, limit=FIRST)
        recent = await repo.tickets(prefixes=prefixes, state="open", limit=FIRST + OTHERS)
        flow = await repo.daily_flow(prefixes, [(start, end) for _, start, end in days])
        held, latest = await repo.review_queue(prefixes, limit=REVIEWS)
        return Overview(day, week, await repo.open_counts(prefixes, now),
                        first_things_first(urgent, late, recent, now),
                        day_chart([(d, n, r) for (d, _, _), (n, r) in zip(days, flow)]), held, latest)

    found = await perform(bot.services, job, what="overview")
    notices = await notice_views(bot, user, limit=30, since=now - bot.config.notices.ack_window, most=NOTICES)
    return render(request, "overview.html", "概览", user, top=top, o=found, day=found.day, week=found.week,
                  chart=found.chart, notices=[(v, reply_rate(v)) for v in notices], generated=now,
                  ack_days=window_label(bot.config.notices.ack_window))


def window_label(window: timedelta) -> str:
    """The acknowledgement window in words: "7 天", "36 小时"."""
    hours = int(window.total_seconds() // 3600)
    return f"{hours // 24} 天" if hours % 24 == 0 and hours else f"{max(1, hours)} 小时"
