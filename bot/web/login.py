"""Signing in and out of the console (the login form, its rate limit, the session cookie)."""

from __future__ import annotations

from aiohttp import web

from bot.web import auth
from bot.web.forms import clean, local_path, read_form
from bot.web.keys import LIMITER, bot_of
from bot.web.pages import render
from storage.web_repository import WebRepository


def login_form(request: web.Request, error: str, nxt: str) -> web.Response:
    return render(request, "login.html", "登录", error=error, next=nxt)


async def login_page(request: web.Request) -> web.Response:
    # no error from the query string: a crafted link must not put words on the sign-in page
    return login_form(request, "", local_path(request.query.get("next", "/console")))


async def login_post(request: web.Request) -> web.StreamResponse:
    bot = bot_of(request)
    form = await read_form(request)
    username, password = clean(str(form.get("username", "")))[:100], clean(str(form.get("password", "")))[:200]
    nxt = local_path(str(form.get("next", "/console")))
    result = await auth.login(bot, request.app[LIMITER], username, password, request.remote or "?")
    if isinstance(result, str):
        response = login_form(request, result, nxt)
        response.set_status(429 if "太多" in result else 401)
        return response
    token, _ = result
    response = web.HTTPFound(nxt)
    auth.set_session_cookie(response, token, secure=bot.config.web.secure_cookies)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    bot = bot_of(request)
    token = request.cookies.get(auth.COOKIE)
    if token:
        found = await auth.current_user(request, bot)
        if found is not None:
            await bot.db.run(lambda s: WebRepository(s).audit(at=bot.clock.now(), username=found[0].username,
                                                              action="logout"), what="audit")
        await bot.db.run(lambda s: WebRepository(s).end_session(auth.token_hash(token)), what="logout")
    response = web.HTTPFound("/login")
    response.del_cookie(auth.COOKIE, path="/")
    raise response


def setup(app: web.Application) -> None:
    app[LIMITER] = auth.LoginLimiter()
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login_post)
    app.router.add_post("/logout", logout)
