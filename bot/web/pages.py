"""What every console page needs: the signed-in account, the page frame with its security headers, the audit log."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from bot.web import auth
from bot.web.accounts import ROLE_NAMES, WebUser
from bot.web.forms import read_form
from bot.web.keys import bot_of
from storage.web_repository import WebRepository

if TYPE_CHECKING:
    from multidict import MultiDictProxy

    from bot.app import GridBot


def e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def page(title: str, body: str, user: WebUser | None = None, *, simulator: bool = False) -> web.Response:
    nav = ""
    if user is not None:
        links = [("/console", "概览"), ("/console/tree", "网格树"), ("/console/tickets", "工单"),
                 ("/console/review", "待确认"), ("/console/notices", "通知"), ("/console/digest", "简报")]
        if simulator:
            links.append(("/simulator", "群聊模拟器"))
        if user.role == "secretary":
            links.append(("/console/audit", "操作记录"))
        nav = ("<nav>" + "".join(f"<a href='{href}'>{label}</a>" for href, label in links)
               + f"<span class='who'>{e(user.username)}（{e(ROLE_NAMES.get(user.role, user.role))}）"
               "<form method='post' action='/logout' class='inline'><button>退出</button></form></span></nav>")
    html = (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{e(title)} · 微格助手</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<link rel='stylesheet' href='/static/console.css'></head>"
            f"<body>{nav}<main><h1>{e(title)}</h1>{body}</main></body></html>")
    return web.Response(text=html, content_type="text/html",
                        headers={"Content-Security-Policy": "default-src 'self'; img-src 'self' data:",
                                 "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"})


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
    bot = bot_of(request)
    await bot.db.run(lambda s: WebRepository(s).audit(at=bot.clock.now(), username=user.username, action=action,
                                                      target=target, detail=detail, allowed=allowed), what="audit")
