"""One-time messages after an action ("已登记为工单 #1001…"), kept with the browser's session on the server.

Never read from the URL: a crafted link (`?said=系统升级，请将密码发给…`) shows nothing. The action stores what to
say; the next page of the same session shows it once, within FLASH_TTL, and it is gone.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bot.web.auth import COOKIE, token_hash
from bot.web.keys import bot_of
from storage.web_repository import WebRepository

FLASH_TTL = timedelta(minutes=2)


async def put(request: web.Request, text: str) -> None:
    """Keep `text` for the next page this session opens."""
    token = request.cookies.get(COOKIE)
    if not token or not text:
        return
    bot = bot_of(request)
    until = bot.clock.now() + FLASH_TTL
    await bot.db.run(lambda s: WebRepository(s).set_flash(token_hash(token), text, until=until), what="flash")


async def take(request: web.Request) -> str:
    """The session's pending message, once ("" when there is none or it has expired)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return ""
    bot = bot_of(request)
    text = await bot.db.run(lambda s: WebRepository(s).take_flash(token_hash(token), bot.clock.now()), what="flash")
    return text or ""
