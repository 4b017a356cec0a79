"""Open311 GeoReport v2 under /open311/v2/ — for district platforms and existing 311 tools.

discovery, services, services/{code}, requests (GET and POST) and requests/{id}, each as .json or .xml.
Errors are [{code, description}] with 400 / 403 / 404. Our categories are the services; ticket states map to
open / closed, with status_notes in Chinese. Reading requests (GET, list and one) and filing one (POST) need the
api_key from GRIDBOT_OPEN311_API_KEY, unless `web.open311_public: true` opens a public feed: then GET answers
without a key, with phone and ID numbers masked and the reporter's name left out (with the key: in full). The new
request becomes a ticket through the same desk as a report in a group (node: the deepest node whose name or
group appears in `address_string`, else the top of the tree — said in the ticket's first step).
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo
from xml.sax.saxutils import escape as xml_escape

from aiohttp import web

from bot.web.auth import json_response, same_secret

from bot.domain.privacy import mask_personal
from bot.domain.tickets import CATEGORY_NAMES, OPEN_STATES, State, state_values
from bot.messages import Address
from bot.web.actions import say_to_groups, state_name
from bot.work import Work, perform
from bot.web.forms import clean, whole_number
from bot.web.keys import bot_of
from storage.ticket_repository import TicketRepository
from storage.models import TicketRow
from storage.web_repository import WebRepository

if TYPE_CHECKING:
    from bot.app import GridBot
    from bot.domain.grid import GridNode, GridTree
    from storage.session import Session

BASE = "/open311/v2"
KEY_ENV = "GRIDBOT_OPEN311_API_KEY"
DESCRIPTIONS = {
    "safety": "消防通道、燃气、电线、电动车充电等安全隐患", "sanitation": "垃圾、乱倒、卫生、虫害、污水",
    "repair": "公共设施损坏、停水停电、爆管、电梯、道路、门禁", "dispute": "邻里、房东租客纠纷：噪音、停车、宠物、违建、租金",
    "assistance": "独居老人、联系不上的老人、低保、残疾、代办", "security": "盗窃、可疑人员、诈骗、打架",
    "health": "急病、摔伤、疫情报告、疫苗登记", "inquiry": "政策和办事咨询", "other": "其他",
}
CLOSED = state_values(frozenset(State) - OPEN_STATES)  # Open311 "closed": resolved, closed, cancelled


def _xml(tag: str, value: Any) -> str:
    if isinstance(value, list):
        item = {"services": "service", "service_requests": "request", "errors": "error", "endpoints": "endpoint",
                "attributes": "attribute", "formats": "format", "keywords": "keyword"}.get(tag, "item")
        return f"<{tag}>" + "".join(_xml(item, v) for v in value) + f"</{tag}>"
    if isinstance(value, dict):
        return f"<{tag}>" + "".join(_xml(k, v) for k, v in value.items()) + f"</{tag}>"
    if value is None:
        return f"<{tag}/>"
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"<{tag}>{xml_escape(str(value))}</{tag}>"


def respond(fmt: str, root: str, body: Any, status: int = 200) -> web.Response:
    if fmt == "xml":
        return web.Response(text='<?xml version="1.0" encoding="utf-8"?>' + _xml(root, body), status=status,
                            content_type="text/xml", charset="utf-8")
    return json_response(body, status=status)


def fail(fmt: str, status: int, code: int, description: str) -> web.Response:
    return respond(fmt, "errors", [{"code": code, "description": description}], status)


def _fmt(request: web.Request) -> str | None:
    fmt = request.match_info.get("fmt", "json")
    return fmt if fmt in ("json", "xml") else None


def _time(value: datetime | None, tz: ZoneInfo) -> str | None:
    return value.astimezone(tz).isoformat(timespec="seconds") if value else None


def has_key(given: str) -> bool:
    """True when the deployment set an API key and `given` is it."""
    expected = os.environ.get(KEY_ENV, "")
    return bool(expected) and same_secret(expected, given)


def _reader(request: web.Request, fmt: str) -> bool | web.Response:
    """For GET: True to answer in full (valid key), False for the public feed, or the 403 to send."""
    if has_key(request.query.get("api_key", "")):
        return True
    if bot_of(request).config.web.open311_public:
        return False
    return fail(fmt, 403, 403, "a valid api_key is required")


def _public(text: str, ticket: TicketRow) -> str:
    """What the public feed may show of a resident's words: numbers masked, the reporter's name left out."""
    name = (getattr(ticket, "reporter_name", None) or "").strip()
    if len(name) >= 2:  # a one-character name would blank out ordinary words
        text = text.replace(name, "居民")
    return mask_personal(text)


def request_json(ticket: TicketRow, bot: GridBot, *, full: bool = True) -> dict[str, Any]:
    """One service request; `full=False` for the public feed (see `_public`)."""
    tz = bot.config.tz
    tree = bot.config.tree
    node = tree.node(ticket.node_code) if ticket.node_code in tree else None
    status = "closed" if ticket.state in CLOSED else "open"
    notes = state_name(ticket.state)
    if ticket.resolution:
        notes += f"：{ticket.resolution}"
    if ticket.escalation_level:
        notes += f"（已上报 {ticket.escalation_level} 级）"
    address = (ticket.location or {}).get("place") or (node.name if node else None)
    description = ticket.text
    if not full:
        description, notes = _public(description, ticket), _public(notes, ticket)
        address = _public(address, ticket) if address else address
    return {"service_request_id": str(ticket.number), "status": status, "status_notes": notes,
            "service_name": CATEGORY_NAMES.get(ticket.category, ticket.category), "service_code": ticket.category,
            "description": description, "agency_responsible": node.name if node else None, "service_notice": None,
            "requested_datetime": _time(ticket.created_at, tz), "updated_datetime": _time(ticket.updated_at, tz),
            "expected_datetime": _time(ticket.due_at, tz) if status == "open" else None, "address": address,
            "address_id": ticket.node_code, "zipcode": None, "lat": None, "long": None, "media_url": None}


async def discovery(request: web.Request) -> web.Response:
    fmt = _fmt(request)
    if fmt is None:
        return fail("json", 404, 404, "format must be json or xml")
    bot = bot_of(request)
    base = bot.config.web.base_url + BASE
    return respond(fmt, "discovery", {
        "changeset": "2026-11-22T00:00:00+08:00", "contact": bot.config.name,
        "key_service": f"API key from the deployment's IT contact ({KEY_ENV})",
        "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": base,
                       "changeset": "2026-11-22T00:00:00+08:00", "type": "production", "formats": [
                           "application/json", "text/xml"]}]})


async def services(request: web.Request) -> web.Response:
    fmt = _fmt(request)
    if fmt is None:
        return fail("json", 404, 404, "format must be json or xml")
    return respond(fmt, "services", [
        {"service_code": code, "service_name": name, "description": DESCRIPTIONS.get(code, name), "metadata": False,
         "type": "realtime", "keywords": code, "group": "社区网格"} for code, name in CATEGORY_NAMES.items()])


async def service_definition(request: web.Request) -> web.Response:
    fmt = _fmt(request)
    if fmt is None:
        return fail("json", 404, 404, "format must be json or xml")
    code = request.match_info["code"]
    if code not in CATEGORY_NAMES:
        return fail(fmt, 404, 404, f"no service {code!r}")
    return respond(fmt, "service_definition", {"service_code": code, "attributes": []})


def _parse_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


async def list_requests(request: web.Request) -> web.Response:
    fmt = _fmt(request)
    if fmt is None:
        return fail("json", 404, 404, "format must be json or xml")
    full = _reader(request, fmt)
    if isinstance(full, web.Response):
        return full
    bot = bot_of(request)
    q = request.query
    start = _parse_time(q["start_date"]) if q.get("start_date") else None
    end = _parse_time(q["end_date"]) if q.get("end_date") else None
    if (q.get("start_date") and start is None) or (q.get("end_date") and end is None):
        return fail(fmt, 400, 400, "start_date and end_date must be W3C date-times, e.g. 2026-11-22T00:00:00+08:00")
    status = q.get("status")
    if status and status not in ("open", "closed"):
        return fail(fmt, 400, 400, "status must be open or closed")
    code = q.get("service_code")
    if code and code not in CATEGORY_NAMES:
        return fail(fmt, 400, 400, f"no service {code!r}")
    numbers: list[int] = []
    for part in (q.get("service_request_id") or "").split(","):
        if part.strip():
            number = whole_number(part)
            if number is None:
                return fail(fmt, 400, 400, f"service_request_id {part.strip()!r} is not a request number")
            numbers.append(number)

    async def work(session: Session) -> list[TicketRow]:
        repo = WebRepository(session)
        if numbers:
            found: list[TicketRow] = []
            for number in numbers[:100]:
                found.extend(await repo.tickets(prefixes=None, number=number, limit=1))
            return found
        return await repo.tickets(prefixes=None, category=code, start=start, end=end, limit=1000)

    rows = await bot.db.run(work, what="open311 requests")
    if status:
        rows = [t for t in rows if (t.state in CLOSED) == (status == "closed")]
    return respond(fmt, "service_requests", [request_json(t, bot, full=full) for t in rows])


async def one_request(request: web.Request) -> web.Response:
    fmt = _fmt(request)
    if fmt is None:
        return fail("json", 404, 404, "format must be json or xml")
    full = _reader(request, fmt)
    if isinstance(full, web.Response):
        return full
    bot = bot_of(request)
    ident = request.match_info["id"]
    number = whole_number(ident)
    if number is None:
        return fail(fmt, 404, 404, f"no request {ident!r}")
    ticket = await bot.db.run(lambda s: TicketRepository(s).find_by_number(number), what="open311 request")
    if ticket is None:
        return fail(fmt, 404, 404, f"no request {ident}")
    return respond(fmt, "service_requests", [request_json(ticket, bot, full=full)])


def node_for_address(tree: GridTree, address: str) -> GridNode:
    """The deepest node whose name, code or group topic appears in the address; else the top of the tree."""
    best = None
    for node in tree:
        names = [node.name, node.code, *(room.topic for room in node.rooms if room.topic)]
        if any(name and name in address for name in names) and (best is None or node.depth > best.depth):
            best = node
    return best or tree.node(tree.roots[0])


def full_name(first: str, last: str) -> str:
    """Chinese names are not split: surname first, no space; other names as 'first last'."""
    if re.search(r"[\u4e00-\u9fff]", first + last):
        return (last + first).strip()
    return " ".join(p for p in (first, last) if p).strip()


async def create_request(request: web.Request) -> web.Response:
    from bot.tickets import Reporter

    fmt = _fmt(request)
    if fmt is None:
        return fail("json", 404, 404, "format must be json or xml")
    bot = bot_of(request)
    try:
        form = await request.post()
    except (ValueError, LookupError):
        return fail(fmt, 400, 400, "the body must be a form (application/x-www-form-urlencoded or multipart)")
    if not has_key(str(form.get("api_key", ""))):
        return fail(fmt, 403, 403, "a valid api_key is required")
    code = str(form.get("service_code", ""))
    if code not in CATEGORY_NAMES:
        return fail(fmt, 400, 400, "service_code is required and must be one of our services")
    address = clean(str(form.get("address_string", ""))).strip()[:300]
    lat, lon = str(form.get("lat", "")).strip(), str(form.get("long", "")).strip()
    if not address and not (lat and lon):
        return fail(fmt, 400, 400, "address_string or lat and long is required")
    if lat or lon:
        try:
            latitude, longitude = float(lat), float(lon)
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                raise ValueError
        except ValueError:
            return fail(fmt, 400, 400, "lat and long must be numbers in range")
    description = clean(str(form.get("description", ""))).strip()[:4000]
    if not description:
        return fail(fmt, 400, 400, "description is required")
    name = full_name(clean(str(form.get("first_name", ""))).strip()[:50],
                     clean(str(form.get("last_name", ""))).strip()[:50]) or "市民"
    phone = clean(str(form.get("phone", ""))).strip()[:30]
    tree = bot.config.tree
    node = node_for_address(tree, address)
    parsed = bot.parser(description + (" " + address if address else "")) if bot.parser else None
    text = description + (f"（地址：{address}）" if address else f"（坐标：{lat},{lon}）")
    reporter = Reporter(id=f"open311:{phone or name}", name=name, room_id=None, room_key=None, node=node,
                        message_row_id=None)

    class _Parse:  # the service code decides the category; the parser reads urgency and location
        category = code
        urgency = (parsed.urgency if parsed is not None and parsed.kind == "report" else None) or (
            "low" if code == "inquiry" else "normal")
        location = parsed.location if parsed is not None else None
        me_too = False

    async def job(work: Work) -> tuple[TicketRow, bool]:
        ticket, merged, replies = await work.tickets.report(reporter, _Parse(), text)
        say_to_groups(work, replies, Address.contact(reporter.id))  # the caller hears over HTTP
        await WebRepository(work.session).audit(at=work.now, username="open311", action="request",
                                                target=f"ticket:{ticket.number}",
                                                detail=f"{node.code}: {description[:200]}")
        return ticket, merged

    ticket, merged = await perform(bot.services, job, what="open311 request", wake=True)
    notice = (f"已并入工单 #{ticket.number}" if merged else f"已登记为工单 #{ticket.number}") + f"，由{node.name}处理。"
    return respond(fmt, "service_requests", [{"service_request_id": str(ticket.number), "service_notice": notice,
                                              "account_id": None}], 201)


def setup(app: web.Application) -> None:
    app.router.add_get(BASE + "/discovery.{fmt}", discovery)
    app.router.add_get(BASE + "/services.{fmt}", services)
    app.router.add_get(BASE + "/services/{code}.{fmt}", service_definition)
    app.router.add_get(BASE + "/requests.{fmt}", list_requests)
    app.router.add_post(BASE + "/requests.{fmt}", create_request)
    app.router.add_get(BASE + "/requests/{id}.{fmt}", one_request)
