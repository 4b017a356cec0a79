"""What every console page needs: the signed-in account, templates with their helpers and security headers, the audit
log. Pages are Jinja2 files in bot/web/templates, autoescaped; no inline styles or scripts (the CSP forbids them)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.domain.tickets import CATEGORY_NAMES, URGENCY_NAMES, is_overdue
from bot.web import audit_view, auth
from bot.web.accounts import ROLE_NAMES, WebUser
from bot.web.actions import state_name
from bot.web.forms import read_form
from bot.web.keys import TEMPLATES_DIR, bot_of
from storage.models import TicketRow
from storage.web_repository import WebRepository

if TYPE_CHECKING:
    from multidict import MultiDictProxy

    from bot.app import GridBot

_BEIJING = {"Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "PRC"}
SECURITY_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:",
                    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"}


@jinja2.pass_context
def _local(context: jinja2.runtime.Context, moment: datetime, fmt: str) -> str:
    """A stored (UTC) time in the deployment's time zone."""
    return moment.astimezone(context["tz"]).strftime(fmt)


@jinja2.pass_context
def _node_name(context: jinja2.runtime.Context, code: str | None) -> str | None:
    tree = context["tree"]
    return tree.node(code).name if code is not None and code in tree else code


@jinja2.pass_context
def _overdue(context: jinja2.runtime.Context, ticket: TicketRow) -> bool:
    return is_overdue(ticket.state, ticket.due_at, ticket.breached, context["now"])


def setup_templates(app: web.Application) -> None:
    """Jinja2 for the console: autoescaped, None shown as nothing, helpers for names and local times."""
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
                               trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
                               finalize=lambda value: "" if value is None else value)
    env.filters.update(state_name=state_name, local=_local, urlencode=urlencode,
                       category_name=lambda code: CATEGORY_NAMES.get(code, code),
                       urgency_name=lambda code: URGENCY_NAMES.get(code, code), action_name=audit_view.action_name,
                       outcome_name=audit_view.outcome_name, target_label=audit_view.target_label)
    env.tests["refused"] = lambda row: audit_view.outcome(row) != "allowed"
    env.globals.update(node_name=_node_name, overdue=_overdue)


def zone_label(tz: ZoneInfo) -> str:
    """How pages name the deployment's time zone: 北京时间（Asia/Shanghai）."""
    return ("北京时间" if tz.key in _BEIJING else "当地时间") + f"（{tz.key}）"


def nav_links(user: WebUser, *, simulator: bool, care: bool = False) -> list[tuple[str, str]]:
    links = [("/console", "概览"), ("/console/tree", "网格树"), ("/console/tickets", "工单"),
             ("/console/review", "待确认"), ("/console/notices", "通知"), ("/console/digest", "简报")]
    links.append(("/console/households", "住户"))
    if care:  # the care ledger's link only for those who may read it (the page itself checks again)
        links.append(("/console/care", "关爱台账"))
    if simulator:
        links.append(("/simulator", "群聊模拟器"))
    if user.role == "secretary":
        links.append(("/console/audit", "操作记录"))
    return links


def render(request: web.Request, template: str, title: str, user: WebUser | None = None, **context: Any
           ) -> web.Response:
    """A console page from its template, with the navigation for `user` and the security headers."""
    bot = bot_of(request)
    values: dict[str, Any] = {
        "title": title, "heading": None, "user": user, "tz": bot.config.tz, "tz_label": zone_label(bot.config.tz),
        "deployment": bot.config.name, "path": request.path, "tree": bot.config.tree,
        "now": bot.clock.now(), "nav": nav_links(user, simulator=has_simulator(bot), care=_care_duty(bot, user))
        if user else [],
        "role_name": ROLE_NAMES.get(user.role, user.role) if user else "", **context}
    response = aiohttp_jinja2.render_template(template, request, values)
    response.headers.update(SECURITY_HEADERS)
    return response


def _care_duty(bot: GridBot, user: WebUser) -> bool:
    """The account's person holds a care duty somewhere it sees, and the deployment keeps a ledger."""
    if user.person is None or not bot.config.care.residents:
        return False
    roles = bot.config.care.duty_roles
    return any(role in roles and user.can_see(bot.config.tree, code)
               for code, role in bot.directory.positions(user.person.key))


def has_simulator(bot: GridBot) -> bool:
    return bot.transport.name == "simulator"


async def require(request: web.Request) -> tuple[WebUser, str]:
    found = await auth.current_user(request, bot_of(request))
    if found is None:
        raise web.HTTPFound("/login?" + urlencode({"next": request.path_qs}))
    return found


async def posted_form(request: web.Request) -> tuple[WebUser, GridBot, MultiDictProxy[Any]]:
    """A signed-in user's form, its CSRF token checked: (user, bot, form)."""
    user, csrf = await require(request)
    form = await read_form(request)
    auth.check_csrf(csrf, form.get("csrf"))
    return user, bot_of(request), form


async def audit(request: web.Request, user: WebUser, action: str, target: str | None, detail: str | None = None,
                *, allowed: bool = True) -> None:
    """One line of the audit log. A refusal met while loading what a POST acts on is logged as the attempt (the
    posted action, with its note), never as a view."""
    bot = bot_of(request)
    if action == "view" and request.method == "POST":
        form = await read_form(request)  # already read by the handler: aiohttp keeps it
        action = str(form.get("action") or form.get("decision") or "post")[:50]
        detail = detail or str(form.get("note") or form.get("text") or "")[:200] or None
    await bot.db.run(lambda s: WebRepository(s).audit(at=bot.clock.now(), username=user.username, action=action,
                                                      target=target, detail=detail, allowed=allowed), what="audit")
