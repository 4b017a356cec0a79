"""The console for secretaries and leaders (Chinese, server-rendered from autoescaped templates).

Pages: the grid tree with counts, tickets (filters, detail, actions), digest preview, audit log; the
overview, notice pages, exports, review queue and login live beside it (overview, notice_pages, exports,
review_pages, login).
Actions go through TicketDesk / NoticeDesk — the same code as the chat commands — so the same status messages
reach the same groups.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.domain.digest import PERIOD_NAMES, calendar_period
from bot.domain.satisfaction import Score
from bot.domain.tickets import CATEGORY_NAMES, URGENCY_NAMES
from bot.tickets.timeline_wording import timeline_step
from bot.work import perform
from bot.web import flash
from bot.web.accounts import WebUser
from bot.web.actions import (STATES, BulkOutcome, UnknownNode, act_on_ticket, act_on_tickets, forbidden, node_filter,
                             offered_actions, person_name, query_tickets, state_name, ticket_filters, visible_nodes)
from bot.web.forms import bad_request, clean, whole_number
from bot.web.keys import bot_of
from bot.web.overview import overview
from bot.web.pages import audit, posted_form, render, require
from storage.models import MessageRow, SatisfactionRow, TicketEventRow, TicketReporterRow, TicketRow
from storage.satisfaction_repository import SatisfactionRepository
from storage.ticket_repository import TicketRepository
from storage.web_repository import WebRepository

if TYPE_CHECKING:
    from bot.app import GridBot
    from storage.session import Session

PAGE = 50


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


async def tickets_page(request: web.Request, outcomes: list[BulkOutcome] | None = None) -> web.Response:
    user, csrf = await require(request)
    bot = bot_of(request)
    f = ticket_filters(request)
    offset = whole_number(request.query.get("offset", "0"))
    if offset is None:
        raise bad_request("offset 必须是整数。")
    problem = ""
    tickets: list[TicketRow] = []
    try:
        if f["node"]:
            node_filter(bot.config.tree, user, f["node"])  # a name that fits no node: said on the page, not a 400
        tickets = await query_tickets(request, bot, user, limit=PAGE + 1, offset=offset)
    except UnknownNode as exc:
        problem = str(exc)
    more = len(tickets) > PAGE
    states = [("open", "未办结"), *((s, state_name(s)) for s in STATES)]
    query = {k: v for k, v in f.items() if v}
    assignees = {t.assignee: person_name(bot, t.assignee, "—") for t in tickets}
    return render(request, "tickets.html", "工单", user, f=f, states=states, categories=list(CATEGORY_NAMES.items()),
                  urgencies=list(URGENCY_NAMES.items()), query=query, tickets=tickets[:PAGE], problem=problem,
                  nodes=visible_nodes(bot.config.tree, user), assignees=assignees, csrf=csrf, outcomes=outcomes,
                  people=sorted({p.name for p in bot.config.people.values()}),
                  prev_query={**query, "offset": max(0, offset - PAGE)} if offset else None,
                  next_query={**query, "offset": offset + PAGE} if more else None)


async def tickets_bulk(request: web.Request) -> web.Response:
    """A leader's bulk 受理 / 转派 from the list's checkboxes; the list is shown again with a summary."""
    user, bot, form = await posted_form(request)
    numbers = [n for n in (whole_number(str(v)) for v in form.getall("number", [])) if n is not None]
    if not numbers:
        raise bad_request("请先勾选工单。")
    outcomes = await act_on_tickets(bot, user, numbers, str(form.get("action", "")),
                                    clean(str(form.get("target", ""))))
    return await tickets_page(request, outcomes)


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

    async def details(session: Session) -> tuple[list[TicketEventRow], list[TicketReporterRow], list[MessageRow],
                                                 list[SatisfactionRow]]:
        repo = TicketRepository(session)
        return (await repo.timeline(ticket.id), await repo.reporters(ticket.id),
                await WebRepository(session).messages_of(ticket.id),
                await SatisfactionRepository(session).for_ticket(ticket.id))

    events, reporters, messages, asked = await bot.db.run(details, what="ticket detail")
    satisfaction = [(row.reporter_name, Score(row.score).label if row.score else "未回复", row.answer or "")
                    for row in asked]
    handlers = {p.name for p in bot.config.people.values()}
    reporter_names = {r.reporter_name for r in reporters}
    timeline = [(ev, timeline_step(ev.actor, ev.action, ev.note, handlers, reporter_names)) for ev in events]
    photos = [m for m in messages if m.attachment and photo_file(bot, m.attachment) is not None]
    return render(request, "ticket.html", f"工单 #{ticket.number}", user, ticket=ticket, csrf=csrf,
                  said=await flash.take(request), node=bot.config.tree.node(ticket.node_code),
                  assignee=person_name(bot, ticket.assignee, "—"), reporters=reporters, messages=messages,
                  timeline=timeline, photos=photos, actions=offered_actions(ticket.state), satisfaction=satisfaction)


async def ticket_post(request: web.Request) -> web.StreamResponse:
    user, bot, form = await posted_form(request)
    ticket = await load_ticket(request, bot, user)
    said = await act_on_ticket(bot, user, ticket.number, str(form.get("action", "")),
                               clean(str(form.get("note", ""))), clean(str(form.get("target", ""))))
    await flash.put(request, said)
    raise web.HTTPFound(f"/console/tickets/{ticket.number}")


PHOTO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}


def photo_file(bot: GridBot, stored: str) -> Path | None:
    """The file of a stored attachment path, only when it is a picture inside tickets.attachments_dir (a path
    in the database is never trusted to stay there: '..' and links are resolved before the check)."""
    base_dir = Path(bot.config.base_dir)
    base = Path(bot.config.tickets.attachments_dir)
    base = (base if base.is_absolute() else base_dir / base).resolve()
    path = Path(stored)
    path = (path if path.is_absolute() else base_dir / path).resolve()
    if path.suffix.lower() not in PHOTO_TYPES or not path.is_relative_to(base) or not path.is_file():
        return None
    return path


async def ticket_photo(request: web.Request) -> web.StreamResponse:
    """A ticket's photo, for an account that may see the ticket (403 otherwise); never from a static path."""
    user, _ = await require(request)
    bot = bot_of(request)
    ticket = await load_ticket(request, bot, user)
    message_id = whole_number(request.match_info["message"])
    row = None
    if message_id is not None:
        row = await bot.db.run(lambda s: TicketRepository(s).attachment(ticket.id, message_id), what="ticket photo")
    path = photo_file(bot, row.attachment) if row is not None and row.attachment else None
    if path is None:
        raise web.HTTPNotFound(text="没有这张照片", content_type="text/plain")
    return web.FileResponse(path, headers={
        "Content-Type": PHOTO_TYPES[path.suffix.lower()], "Cache-Control": "private, max-age=3600",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'"})


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
    app.router.add_post("/console/tickets/bulk", tickets_bulk)
    app.router.add_get("/console/tickets/{number}", ticket_page)
    app.router.add_post("/console/tickets/{number}", ticket_post)
    app.router.add_get("/console/tickets/{number}/photos/{message}", ticket_photo)
    app.router.add_get("/console/digest", digest_page)
    app.router.add_get("/console/audit", audit_page)
