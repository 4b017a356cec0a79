"""The console's 待确认 page: messages the bot held back as possible reports, for a leader to register or dismiss.

The same ReviewDesk as `#登记 N` / `#忽略 N` in chat: registering opens the ticket and answers the resident in
the group exactly as a confident report would; dismissing says nothing to the group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from aiohttp import web

from bot.messages import Address
from bot.web.actions import queue_for_groups
from bot.web.keys import bot_of
from bot.web.accounts import WebUser
from bot.web.pages import e, has_simulator, page, posted_form, require
from storage.models import ReviewRow
from storage.review_repository import ReviewRepository
from storage.web_repository import WebRepository

if TYPE_CHECKING:
    from bot.app import GridBot
    from storage.session import WorkSession


def _scope(user: WebUser, bot: GridBot) -> list[str]:
    prefixes = user.path_prefixes(bot.config.tree)
    if prefixes is None:
        return [f"/{code}/" for code in bot.config.tree.roots]
    return prefixes


async def pending(bot: GridBot, user: WebUser, *, limit: int = 200) -> list[ReviewRow]:
    """Pending items in the account's subtrees, urgent first."""
    async def work(session: WorkSession) -> list[ReviewRow]:
        repo = ReviewRepository(session)
        items = []
        for prefix in _scope(user, bot):
            items.extend(await repo.pending_in(prefix, limit=limit))
        return sorted(items, key=lambda i: (not i.urgent, i.id))[:limit]

    return await bot.db.run(work, what="review list")


def rows(items: list[ReviewRow], bot: GridBot, csrf: str | None) -> str:
    if not items:
        return "<p>没有待确认的消息。</p>"
    tz = bot.config.tz
    out = ["<table><tr><th>编号</th><th>时间</th><th>群/节点</th><th>发送人</th><th>内容</th><th>可能的类别</th>"
           + ("<th>处理</th>" if csrf else "") + "</tr>"]
    for item in items:
        node = bot.config.tree.node(item.node_code) if item.node_code in bot.config.tree else None
        cells = (f"<td>[{item.id}]{' <b class=late>可能紧急</b>' if item.urgent else ''}</td>"
                 f"<td>{e(item.created_at.astimezone(tz).strftime('%m-%d %H:%M'))}</td>"
                 f"<td>{e(node.name if node else item.node_code)}</td><td>{e(item.sender_name)}</td>"
                 f"<td class='text'>{e(item.text)}</td><td>{e(item.category or '')}</td>")
        if csrf:
            cells += (f"<td><form method='post' action='/console/review/{item.id}' class='inline'>"
                      f"<input type='hidden' name='csrf' value='{e(csrf)}'>"
                      "<button name='decision' value='register'>登记为工单</button>"
                      "<button name='decision' value='dismiss'>忽略</button></form></td>")
        out.append(f"<tr>{cells}</tr>")
    out.append("</table>")
    return "".join(out)


async def review_page(request: web.Request) -> web.Response:
    user, csrf = await require(request)
    bot = bot_of(request)
    items = await pending(bot, user)
    said = request.query.get("said", "")
    body = ((f"<p class='said'>{e(said)}</p>" if said else "")
            + "<p>机器人没有把握的消息：它们没有在群里得到回复。登记后居民会在群里收到工单号。</p>"
            + rows(items, bot, csrf if user.can_act else None))
    return page("待确认", body, user, simulator=has_simulator(bot))


async def review_post(request: web.Request) -> web.StreamResponse:
    from bot.review import ReviewDesk

    user, bot, form = await posted_form(request)
    try:
        item_id = int(request.match_info["item"])
    except ValueError:
        raise web.HTTPNotFound(text="没有这条待确认消息。") from None
    decision = str(form.get("decision", ""))
    if decision not in ("register", "dismiss"):
        raise web.HTTPBadRequest(text="请选择“登记为工单”或“忽略”。")
    if not user.can_act:
        raise web.HTTPForbidden(text="这个账号不能处理待确认消息。")
    here = Address.contact(f"web:{user.username}")

    async def work(session: WorkSession) -> str:
        outcome, replies = await ReviewDesk(session, bot.config, bot.directory, bot.clock.now()).decide(
            item_id, decision == "register", user.person, answer_to=here)
        said = await queue_for_groups(session, bot, replies, here)
        await WebRepository(session).audit(at=bot.clock.now(), username=user.username, action=f"review_{decision}",
                                           target=f"review:{item_id}", detail=outcome,
                                           allowed=outcome in ("registered", "dismissed"))
        return said

    said = await bot.db.run(work, what="review decision")
    bot.sender.wake()
    raise web.HTTPFound("/console/review?" + urlencode({"said": said}))


def setup(app: web.Application) -> None:
    app.router.add_get("/console/review", review_page)
    app.router.add_post("/console/review/{item}", review_post)
