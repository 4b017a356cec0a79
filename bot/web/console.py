"""The console for secretaries and leaders (Chinese, server-rendered from autoescaped templates).

Pages: overview, the grid tree with counts, tickets (filters, detail, actions), digest preview, audit log; the
notice pages, exports, review queue and login live beside it (notice_pages, exports, review_pages, login).
Actions go through TicketDesk / NoticeDesk — the same code as the chat commands — so the same status messages
reach the same groups.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from bot.domain.digest import PERIOD_NAMES, DigestFigures, calendar_period
from bot.domain.tickets import CATEGORY_NAMES, URGENCY_NAMES
from bot.work import Work, perform
from bot.web.accounts import WebUser
from bot.web.actions import (ACTIONS, STATES, act_on_ticket, forbidden, person_name, query_tickets, state_name,
                             ticket_filters)
from bot.web.forms import bad_request, clean, whole_number
from bot.web.keys import bot_of
from bot.web.pages import audit, posted_form, render, require
from bot.web.review_pages import pending
from storage.models import MessageRow, TicketEventRow, TicketReporterRow, TicketRow
from storage.ticket_repository import TicketRepository
from storage.web_repository import WebRepository

if TYPE_CHECKING:
    from bot.app import GridBot
    from storage.session import Session

PAGE = 50


async def overview(request: web.Request) -> web.Response:

    user, _ = await require(request)
    bot = bot_of(request)
    top = user.nodes[0] if user.nodes else None
    if top is None:
        return render(request, "overview.html", "概览", user, top=None)
    today = bot.clock.now().astimezone(bot.config.tz).date()

    async def job(work: Work) -> tuple[DigestFigures, DigestFigures, list[TicketRow], list[TicketRow]]:
        day = await work.digests.figures(top, calendar_period("day", today, bot.config.tz))
        week = await work.digests.figures(top, calendar_period("week", today, bot.config.tz))
        repo = WebRepository(work.session)
        prefixes = user.path_prefixes(bot.config.tree)
        urgent = await repo.tickets(prefixes=prefixes, state="open", urgency="urgent", limit=20)
        late = await repo.tickets(prefixes=prefixes, overdue_at=bot.clock.now(), limit=20)
        return day, week, urgent, late

    day, week, urgent, late = await perform(bot.services, job, what="overview")

    held = await pending(bot, user, limit=5)
    return render(request, "overview.html", "概览", user, top=top, day=day, week=week, urgent=urgent, late=late,
                  held=held)


async def tree_page(request: web.Request) -> web.Response:
    user, _ = await require(request)
    bot = bot_of(request)
    tree = bot.config.tree
    counts = await bot.db.run(lambda s: WebRepository(s).node_counts(user.path_prefixes(tree), bot.clock.now()),
                              what="node counts")

    def subtree_total(code: str) -> tuple[int, int]:
        open_, late = 0, 0
        for node in tree.descendants(code):
            n, d = counts.get(node.code, (0, 0))
            open_, late = open_ + n, late + d
        return open_, late

    def item(code: str) -> dict[str, Any]:
        open_, late = subtree_total(code)
        return {"node": tree.node(code), "open": open_, "late": late,
                "children": [item(child) for child in tree.node(code).children]}

    return render(request, "tree.html", "网格树", user, items=[item(top) for top in user.nodes])


async def tickets_page(request: web.Request) -> web.Response:
    user, _ = await require(request)
    bot = bot_of(request)
    f = ticket_filters(request)
    offset = whole_number(request.query.get("offset", "0"))
    if offset is None:
        raise bad_request("offset 必须是整数。")
    tickets = await query_tickets(request, bot, user, limit=PAGE + 1, offset=offset)
    more = len(tickets) > PAGE
    states = [("open", "未办结"), *((s, state_name(s)) for s in STATES)]
    query = {k: v for k, v in f.items() if v}
    return render(request, "tickets.html", "工单", user, f=f, states=states, categories=list(CATEGORY_NAMES.items()),
                  urgencies=list(URGENCY_NAMES.items()), query=query, tickets=tickets[:PAGE],
                  prev_query={**query, "offset": max(0, offset - PAGE)} if offset else None,
                  next_query={**query, "offset": offset + PAGE} if more else None)


async def load_ticket(request: web.Request, bot: GridBot, user: WebUser) -> TicketRow:
    number = whole_number(request.match_info["number"])
    if number is None:
        raise web.HTTPNotFound(text="没有这张工单")
    ticket = await bot.db.run(lambda s: TicketRepository(s).find_by_number(number), what="ticket")
    if ticket is None:
        raise web.HTTPNotFound(text=f"没有工单 #{number}")
    if not user.can_see(bot.config.tree, ticket.node_code):
        await audit(request, user, "view", f"ticket:{number}", allowed=False)
        raise forbidden(f"工单 #{number} ")
    return ticket


async def ticket_page(request: web.Request) -> web.Response:
    user, csrf = await require(request)
    bot = bot_of(request)
    ticket = await load_ticket(request, bot, user)

    async def details(session: Session) -> tuple[list[TicketEventRow], list[TicketReporterRow], list[MessageRow]]:
        repo = TicketRepository(session)
        return (await repo.timeline(ticket.id), await repo.reporters(ticket.id),
                await WebRepository(session).messages_of(ticket.id))

    timeline, reporters, messages = await bot.db.run(details, what="ticket detail")
    return render(request, "ticket.html", f"工单 #{ticket.number}", user, ticket=ticket, csrf=csrf,
                  said=request.query.get("said", ""), node=bot.config.tree.node(ticket.node_code),
                  assignee=person_name(bot, ticket.assignee, "—"), reporters=reporters, messages=messages,
                  timeline=timeline, actions=[(key, label) for key, (label, _) in ACTIONS.items()])


async def ticket_post(request: web.Request) -> web.StreamResponse:
    user, bot, form = await posted_form(request)
    ticket = await load_ticket(request, bot, user)
    said = await act_on_ticket(bot, user, ticket.number, str(form.get("action", "")),
                               clean(str(form.get("note", ""))), clean(str(form.get("target", ""))))
    raise web.HTTPFound(f"/console/tickets/{ticket.number}?" + urlencode({"said": said}))


# -- digest preview, exports, audit ----------------------------------------------------------------------

async def digest_page(request: web.Request) -> web.Response:

    user, _ = await require(request)
    bot = bot_of(request)
    tree = bot.config.tree
    node = request.query.get("node") or (user.nodes[0] if user.nodes else "")
    if not user.can_see(tree, node):
        raise forbidden(f"节点 {node} ")
    kind = request.query.get("period", "day")
    kind = kind if kind in PERIOD_NAMES else "day"
    try:
        day = date.fromisoformat(request.query.get("at", ""))
    except ValueError:
        day = bot.clock.now().astimezone(bot.config.tz).date()
    period = calendar_period(kind, day, bot.config.tz)
    text, _ = await perform(bot.services, lambda work: work.digests.compose(node, period), what="digest preview")
    return render(request, "digest.html", "简报预览", user, node=node, kind=kind, day=day.isoformat(),
                  periods=list(PERIOD_NAMES.items()), text=text)


async def audit_page(request: web.Request) -> web.Response:
    user, _ = await require(request)
    if user.role != "secretary":
        raise forbidden("操作记录")
    bot = bot_of(request)
    rows = await bot.db.run(lambda s: WebRepository(s).audit_log(200), what="audit log")
    return render(request, "audit.html", "操作记录", user, rows=rows)


def setup(app: web.Application) -> None:
    app.router.add_get("/console", overview)
    app.router.add_get("/console/tree", tree_page)
    app.router.add_get("/console/tickets", tickets_page)
    app.router.add_get("/console/tickets/{number}", ticket_page)
    app.router.add_post("/console/tickets/{number}", ticket_post)
    app.router.add_get("/console/digest", digest_page)
    app.router.add_get("/console/audit", audit_page)
