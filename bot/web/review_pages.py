"""The console's 待确认 page: messages the bot held back as possible reports, for a leader to register or dismiss.

The same ReviewDesk as `#登记 N` / `#忽略 N` in chat: registering opens the ticket and answers the resident in
the group exactly as a confident report would; dismissing says nothing to the group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.messages import Address
from bot.web import flash
from bot.web.accounts import WebUser
from bot.web.actions import record, say_to_groups
from bot.work import Work, perform
from bot.web.keys import bot_of
from bot.web.pages import posted_form, render, require
from storage.models import ReviewRow
from storage.review_repository import ReviewRepository
from storage.web_repository import WebRepository

if TYPE_CHECKING:
    from bot.app import GridBot
    from storage.session import Session


def _scope(user: WebUser, bot: GridBot) -> list[str]:
    prefixes = user.path_prefixes(bot.config.tree)
    if prefixes is None:
        return [f"/{code}/" for code in bot.config.tree.roots]
    return prefixes


async def pending(bot: GridBot, user: WebUser, *, limit: int = 200) -> list[ReviewRow]:
    """Pending items in the account's subtrees, urgent first."""
    async def work(session: Session) -> list[ReviewRow]:
        repo = ReviewRepository(session)
        items = []
        for prefix in _scope(user, bot):
            items.extend(await repo.pending_in(prefix, limit=limit))
        return sorted(items, key=lambda i: (not i.urgent, i.id))[:limit]

    return await bot.db.run(work, what="review list")


async def review_page(request: web.Request) -> web.Response:
    user, csrf = await require(request)
    bot = bot_of(request)
    items = await pending(bot, user)
    return render(request, "review.html", "待确认", user, items=items, said=await flash.take(request),
                  csrf=csrf if user.can_act else None)


async def review_post(request: web.Request) -> web.StreamResponse:
    user, bot, form = await posted_form(request)
    try:
        item_id = int(request.match_info["item"])
    except ValueError:
        raise web.HTTPNotFound(text="没有这条待确认消息。") from None
    decision = str(form.get("decision", ""))
    if decision not in ("register", "dismiss"):
        raise web.HTTPBadRequest(text="请选择“登记为工单”或“忽略”。")
    if not user.can_act:
        await record(bot, user, f"review_{decision}", f"review:{item_id}", "refused", "这个账号只能查看")
        raise web.HTTPForbidden(text="这个账号不能处理待确认消息。")
    here = Address.contact(f"web:{user.username}")

    async def job(work: Work) -> str:
        outcome, replies = await work.review.decide(item_id, decision == "register", user.person, answer_to=here)
        said = say_to_groups(work, replies, here)
        await WebRepository(work.session).audit(at=work.now, username=user.username, action=f"review_{decision}",
                                                target=f"review:{item_id}", detail=outcome,
                                                allowed=outcome in ("registered", "dismissed"))
        return said

    said = await perform(bot.services, job, what="review decision", wake=True)
    await flash.put(request, said)
    raise web.HTTPFound("/console/review")


def setup(app: web.Application) -> None:
    app.router.add_get("/console/review", review_page)
    app.router.add_post("/console/review/{item}", review_post)
