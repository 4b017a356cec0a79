"""Signing in and out of the console (the login form, its rate limit, the session cookie)."""

from __future__ import annotations

from aiohttp import web

from bot.web import auth
from bot.web.forms import clean, local_path, read_form
from bot.web.keys import LIMITER, bot_of
from bot.web.pages import e, page
from storage.web_repository import WebRepository


def login_form(error: str, nxt: str) -> web.Response:
    body = (("<p class='error'>" + e(error) + "</p>" if error else "")
            + "<form method='post' action='/login' class='login'>"
            f"<input type='hidden' name='next' value='{e(nxt)}'>"
            "<label>用户名 <input name='username' autocomplete='username' required></label>"
            "<label>密码 <input name='password' type='password' autocomplete='current-password' required></label>"
            "<button>登录</button></form>")
    return page("登录", body)


async def login_page(request: web.Request) -> web.Response:
    return login_form(request.query.get("error", ""), local_path(request.query.get("next", "/console")))


async def login_post(request: web.Request) -> web.StreamResponse:
    bot = bot_of(request)
    form = await read_form(request)
    username, password = clean(str(form.get("username", "")))[:100], clean(str(form.get("password", "")))[:200]
    nxt = local_path(str(form.get("next", "/console")))
    result = await auth.login(bot, request.app[LIMITER], username, password, request.remote or "?")
    if isinstance(result, str):
        response = login_form(result, nxt)
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
        await bot.db.run(lambda s: WebRepository(s).end_session(auth.token_hash(token)), what="logout")
    response = web.HTTPFound("/login")
    response.del_cookie(auth.COOKIE, path="/")
    raise response


def setup(app: web.Application) -> None:
    app[LIMITER] = auth.LoginLimiter()
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login_post)
    app.router.add_post("/logout", logout)
