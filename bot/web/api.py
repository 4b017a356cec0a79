"""JSON API under /api/v1 (token per account: `Authorization: Bearer <token>`), described at /api/v1/openapi.json.

The same queries and the same desks as the console; the same scope checks (403 outside the account's subtrees).
Residents' words (text, resolution, location, timeline notes) come masked unless the account reads the ticket in
full (`WebUser.reads_in_full`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.domain.digest import PERIOD_NAMES, calendar_period
from bot.domain.privacy import mask_optional
from bot.work import perform
from bot.web import auth
from bot.web.actions import ACTIONS, act_on_ticket, post_notice, query_tickets
from bot.web.forms import clean, whole_number
from bot.web.keys import bot_of
from bot.web.accounts import WebUser
from bot.web.notice_figures import NoticeView, notice_detail, notice_views
from bot.domain.acks import roll_up
from storage.models import TicketRow
from storage.ticket_repository import TicketRepository

if TYPE_CHECKING:
    from bot.app import GridBot

API = "/api/v1"


def error(status: int, message: str) -> web.Response:
    return auth.json_response({"error": message}, status=status)


async def _user(request: web.Request) -> WebUser:
    user = await auth.api_user(request, bot_of(request))
    if user is None:
        raise web.HTTPUnauthorized(text='{"error": "a valid Bearer token is required"}',
                                   content_type="application/json", headers={"WWW-Authenticate": "Bearer"})
    return user


def ticket_json(ticket: TicketRow, bot: GridBot, *, full: bool = True) -> dict[str, Any]:
    """A ticket as the API shows it; `full=False` masks phone and ID numbers in what residents wrote."""
    def when(value: datetime | None) -> str | None:
        return value.astimezone(bot.config.tz).isoformat() if value else None

    show = (lambda text: text) if full else mask_optional
    location = {k: show(v) if isinstance(v, str) else v for k, v in (ticket.location or {}).items()}
    return {"number": ticket.number, "state": ticket.state, "category": ticket.category, "urgency": ticket.urgency,
            "node": ticket.node_code, "text": show(ticket.text), "reporters": ticket.reporter_count,
            "assignee": ticket.assignee, "escalation_level": ticket.escalation_level, "escalated": ticket.escalated,
            "location": location, "due_at": when(ticket.due_at), "created_at": when(ticket.created_at),
            "accepted_at": when(ticket.accepted_at), "resolved_at": when(ticket.resolved_at),
            "closed_at": when(ticket.closed_at), "resolution": show(ticket.resolution)}


def _full(bot: GridBot, user: WebUser, ticket: TicketRow) -> bool:
    return bool(user.reads_in_full(bot.directory, ticket.node_code))


async def tickets(request: web.Request) -> web.Response:
    user = await _user(request)
    bot = bot_of(request)
    limit, offset = whole_number(request.query.get("limit", "50")), whole_number(request.query.get("offset", "0"))
    if limit is None or offset is None:
        return error(400, "limit and offset must be whole numbers")
    limit = min(500, max(1, limit))
    rows = await query_tickets(request, bot, user, limit=limit, offset=offset)
    return auth.json_response({"tickets": [ticket_json(t, bot, full=_full(bot, user, t)) for t in rows], "limit": limit, "offset": offset})


async def _ticket(request: web.Request, user: WebUser) -> TicketRow:
    bot = bot_of(request)
    number = whole_number(request.match_info["number"])
    if number is None:
        raise web.HTTPNotFound(text='{"error": "no such ticket"}', content_type="application/json")
    ticket = await bot.db.run(lambda s: TicketRepository(s).find_by_number(number), what="ticket")
    if ticket is None:
        raise web.HTTPNotFound(text='{"error": "no such ticket"}', content_type="application/json")
    if not user.can_see(bot.config.tree, ticket.node_code):
        raise web.HTTPForbidden(text='{"error": "outside your part of the tree"}', content_type="application/json")
    return ticket


async def ticket(request: web.Request) -> web.Response:
    user = await _user(request)
    bot = bot_of(request)
    found = await _ticket(request, user)
    timeline = await bot.db.run(lambda s: TicketRepository(s).timeline(found.id), what="timeline")
    full = _full(bot, user, found)
    body = ticket_json(found, bot, full=full)
    body["timeline"] = [{"at": ev.at.astimezone(bot.config.tz).isoformat(), "actor": ev.actor, "action": ev.action,
                         "from": ev.from_state, "to": ev.to_state, "note": ev.note if full else mask_optional(ev.note)}
                        for ev in timeline]
    return auth.json_response(body)


async def ticket_action(request: web.Request) -> web.Response:
    user = await _user(request)
    bot = bot_of(request)
    found = await _ticket(request, user)
    try:
        data = await request.json()
    except ValueError:
        return error(400, "the body must be JSON: {\"action\": ..., \"note\": ..., \"target\": ...}")
    action = data.get("action") if isinstance(data, dict) else None
    if not isinstance(action, str) or action not in ACTIONS:
        return error(400, f"action must be one of {', '.join(ACTIONS)}")
    note, target = data.get("note", ""), data.get("target", "")
    if not isinstance(note, str) or not isinstance(target, str):
        return error(400, "note and target must be strings")
    said = await act_on_ticket(bot, user, found.number, action, clean(note), clean(target))
    refreshed = await bot.db.run(lambda s: TicketRepository(s).by_number(found.number), what="ticket")
    return auth.json_response({"said": said, "ticket": ticket_json(refreshed, bot,
                                                                        full=_full(bot, user, refreshed))})


async def nodes(request: web.Request) -> web.Response:
    user = await _user(request)
    tree = bot_of(request).config.tree
    return auth.json_response({"nodes": [{"code": n.code, "name": n.name, "tier": n.tier, "parent": n.parent,
                                         "rooms": [r.topic or r.id for r in n.rooms]}
                                        for top in user.nodes for n in tree.descendants(top)]})


def _notice_json(bot: GridBot, view: NoticeView) -> dict[str, Any]:
    """A notice's figures as `#回执` and the console count them: households of residents, staff left out."""
    n, t = view.notice, view.totals
    return {"number": n.number, "node": n.node_code, "text": n.text, "scope": "all" if view.within is None else "part",
            "groups": view.groups, "delivered": view.delivered, "failed": view.failed,
            "households": t.households, "acknowledged": t.acked_households, "members": t.members, "replied": t.acked,
            "by_tier": [{"tier": a.tier, "groups": a.rooms, "complete_groups": a.complete_rooms,
                         "households": a.households, "acknowledged": a.acked_households, "members": a.members,
                         "replied": a.acked} for a in roll_up(view.rooms, bot.config.tree.tiers)],
            "created_at": n.created_at.astimezone(bot.config.tz).isoformat(),
            "deadline": n.deadline.astimezone(bot.config.tz).isoformat() if n.deadline else None}


async def notices(request: web.Request) -> web.Response:
    """The notices the account follows, newest first, with the figures of `#回执` in its view."""
    user = await _user(request)
    bot = bot_of(request)
    views = await notice_views(bot, user, limit=100)
    return auth.json_response({"notices": [_notice_json(bot, v) for v in views]})


async def notice(request: web.Request) -> web.Response:
    """One notice: its figures, by group, the reminders sent and the groups it could not reach (no names)."""
    user = await _user(request)
    bot = bot_of(request)
    number = whole_number(request.match_info["number"])
    detail = await notice_detail(bot, user, number) if number is not None else None
    if detail is None:
        return error(404, "no such notice in your part of the tree")
    tz = bot.config.tz
    return auth.json_response({
        **_notice_json(bot, detail.view), "failed": len(detail.failures),
        "groups_detail": [{"group": detail.name(r.room_key), "tier": r.tier, "households": r.households,
                           "acknowledged": r.acked_households, "members": r.members, "replied": r.acked}
                          for r in detail.view.rooms],
        "reminders": [{"group": detail.name(r.room_key), "at": r.at.astimezone(tz).isoformat(), "status": r.status,
                       "mentioned": r.mentioned, "messages": r.messages} for r in detail.reminders],
        "failures": [{"group": detail.name(f.room_key), "cause": f.cause, "attempts": f.attempts}
                     for f in detail.failures]})


async def notice_create(request: web.Request) -> web.Response:
    user = await _user(request)
    bot = bot_of(request)
    try:
        data = await request.json()
    except ValueError:
        return error(400, "the body must be JSON")
    if not isinstance(data, dict) or not data.get("text") or not data.get("node"):
        return error(400, "node and text are required")
    node, text, tiers = data["node"], data["text"], data.get("tiers") or []
    deadline, urgent = data.get("deadline") or "", data.get("urgent", False)
    if not isinstance(node, str) or not isinstance(text, str) or not isinstance(deadline, str):
        return error(400, "node, text and deadline must be strings")
    if not isinstance(tiers, list) or not all(isinstance(t, str) for t in tiers):
        return error(400, "tiers must be a list of strings")
    if not isinstance(urgent, bool):
        return error(400, "urgent must be true or false")
    if not text.strip():
        return error(400, "node and text are required")
    said = await post_notice(bot, user, clean(node), clean(text), tiers=[clean(t) for t in tiers],
                             deadline=clean(deadline), urgent=urgent)
    return auth.json_response({"said": said}, status=201)


async def digest(request: web.Request) -> web.Response:

    user = await _user(request)
    bot = bot_of(request)
    node = request.query.get("node") or (user.nodes[0] if user.nodes else "")
    if not user.can_see(bot.config.tree, node):
        return error(403, "outside your part of the tree")
    kind = request.query.get("period", "day")
    if kind not in PERIOD_NAMES:
        return error(400, "period must be day or week")
    try:
        day = date.fromisoformat(request.query["at"]) if "at" in request.query else (
            bot.clock.now().astimezone(bot.config.tz).date())
    except ValueError:
        return error(400, "at must be a date like 2026-11-22")
    period = calendar_period(kind, day, bot.config.tz)
    text, figures = await perform(bot.services, lambda work: work.digests.compose(node, period), what="digest")
    t = figures.tickets
    return auth.json_response({"node": node, "period": kind, "start": period.start.isoformat(),
                              "end": period.end.isoformat(), "text": text,
                              "tickets": {"new": t.new, "accepted": t.accepted, "resolved": t.resolved,
                                          "closed": t.closed, "open": t.open, "overdue": t.overdue,
                                          "own_level": t.own_level, "escalated": t.escalated,
                                          "on_time": t.on_time, "judged": t.judged,
                                          "accept_median_seconds": t.accept_median,
                                          "resolve_median_seconds": t.resolve_median,
                                          "by_category": dict(t.by_category)}})


def openapi_document(zone: str = "Asia/Shanghai") -> dict[str, Any]:
    """The OpenAPI 3 description; `zone` is the deployment's time zone, which every time and day is in."""
    ticket = {"type": "object", "properties": {
        "number": {"type": "integer"}, "state": {"type": "string"}, "category": {"type": "string"},
        "urgency": {"type": "string"}, "node": {"type": "string"}, "text": {"type": "string"},
        "reporters": {"type": "integer"}, "assignee": {"type": "string", "nullable": True},
        "escalation_level": {"type": "integer"}, "escalated": {"type": "boolean"}, "location": {"type": "object"},
        "due_at": {"type": "string", "format": "date-time", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"},
        "accepted_at": {"type": "string", "format": "date-time", "nullable": True},
        "resolved_at": {"type": "string", "format": "date-time", "nullable": True},
        "closed_at": {"type": "string", "format": "date-time", "nullable": True},
        "resolution": {"type": "string", "nullable": True}}}
    error_schema = {"type": "object", "properties": {"error": {"type": "string"}}}

    def answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": schema}}}

    errors = {"401": answer("no or bad token", error_schema), "403": answer("outside the account's subtree",
                                                                            error_schema)}
    query = [{"name": name, "in": "query", "required": False, "schema": {"type": kind}, "description": text}
             for name, kind, text in (("state", "string", "new, accepted, resolved, closed, reopened, cancelled, open"),
                                      ("category", "string", "safety, sanitation, repair, ..."),
                                      ("urgency", "string", "urgent, normal, low"),
                                      ("node", "string", "a node code: its subtree"),
                                      ("overdue", "string", "any value: only overdue"),
                                      ("q", "string", "text search"),
                                      ("from", "string", f"YYYY-MM-DD, a day in {zone}"),
                                      ("to", "string", f"YYYY-MM-DD, a day in {zone} (inclusive)"), ("limit", "integer", "1-500"),
                                      ("offset", "integer", "paging"))]
    number = {"name": "number", "in": "path", "required": True, "schema": {"type": "integer"}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "gridbot (微格助手) API", "version": "1",
                 "description": "Tickets, notices, nodes and digests of one deployment, within the account's subtree. "
                                f"Times are ISO 8601 with their UTC offset, in the deployment's time zone ({zone}; "
                                "Beijing time is +08:00); days (from, to, at) are calendar days in that zone.",
                 "x-time-zone": zone},
        "servers": [{"url": API}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                       "schemas": {"Ticket": ticket, "Error": error_schema}},
        "security": [{"bearer": []}],
        "paths": {
            "/tickets": {"get": {"summary": "tickets, newest first", "parameters": query, "responses": {
                "200": answer("tickets", {"type": "object", "properties": {
                    "tickets": {"type": "array", "items": {"$ref": "#/components/schemas/Ticket"}},
                    "limit": {"type": "integer"}, "offset": {"type": "integer"}}}), **errors}}},
            "/tickets/{number}": {"get": {"summary": "one ticket with its timeline", "parameters": [number],
                                          "responses": {"200": answer("the ticket", ticket), **errors,
                                                        "404": answer("no such ticket", error_schema)}}},
            "/tickets/{number}/actions": {"post": {
                "summary": "accept, resolve, reassign, escalate, close or reopen (as the chat commands do)",
                "parameters": [number], "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"type": "object", "required": ["action"], "properties": {
                        "action": {"type": "string", "enum": list(ACTIONS)}, "note": {"type": "string"},
                        "target": {"type": "string"}}}}}},
                "responses": {"200": answer("what the desk said, and the ticket now", {"type": "object"}),
                              "400": answer("bad request", error_schema), **errors}}},
            "/nodes": {"get": {"summary": "the nodes of the account's subtrees", "responses": {
                "200": answer("nodes", {"type": "object"}), **errors}}},
            "/notices": {
                "get": {"summary": "recent notices with delivery and acknowledgements (households of residents, "
                                   "staff left out: the figures of #回执), in the account's part of the tree",
                        "responses": {"200": answer("notices", {"type": "object"}), **errors}},
                "post": {"summary": "post a notice to a subtree (as #通知 does)",
                         "requestBody": {"required": True, "content": {"application/json": {"schema": {
                             "type": "object", "required": ["node", "text"], "properties": {
                                 "node": {"type": "string"}, "text": {"type": "string"},
                                 "tiers": {"type": "array", "items": {"type": "string"}},
                                 "deadline": {"type": "string"}, "urgent": {"type": "boolean"}}}}}},
                         "responses": {"201": answer("posted", {"type": "object"}),
                                       "400": answer("bad request", error_schema), **errors}}},
            "/notices/{number}": {"get": {
                "summary": "one notice: its figures, by group, the reminders sent and the groups not reached",
                "parameters": [number], "responses": {"200": answer("the notice", {"type": "object"}),
                                                      "404": answer("not found", error_schema), **errors}}},
            "/digest": {"get": {"summary": "a digest of a node for a day or week", "parameters": [
                {"name": "node", "in": "query", "schema": {"type": "string"}},
                {"name": "period", "in": "query", "schema": {"type": "string", "enum": ["day", "week"]}},
                {"name": "at", "in": "query", "schema": {"type": "string", "format": "date"}}],
                "responses": {"200": answer("the digest", {"type": "object"}),
                              "400": answer("bad request", error_schema), **errors}}},
        },
    }


async def openapi(request: web.Request) -> web.Response:
    return auth.json_response(openapi_document(bot_of(request).config.tz.key))


def setup(app: web.Application) -> None:
    app.router.add_get(f"{API}/openapi.json", openapi)
    app.router.add_get(f"{API}/tickets", tickets)
    app.router.add_get(f"{API}/tickets/{{number}}", ticket)
    app.router.add_post(f"{API}/tickets/{{number}}/actions", ticket_action)
    app.router.add_get(f"{API}/nodes", nodes)
    app.router.add_get(f"{API}/notices", notices)
    app.router.add_get(f"{API}/notices/{{number:\\d+}}", notice)
    app.router.add_post(f"{API}/notices", notice_create)
    app.router.add_get(f"{API}/digest", digest)
