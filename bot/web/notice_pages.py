"""The console's notice pages: write a notice (shown what it will do, then confirmed), follow its delivery and
acknowledgements live, one notice in detail (and as an Excel file).

Posting goes through NoticeDesk, as `#通知` does; the figures are counted by the same code as `#回执`
(bot.web.notice_figures).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.notices import NoticePlan
from bot.web import flash
from bot.web.accounts import WebUser
from bot.web.actions import notice_words, post_notice
from bot.web.forms import clean, whole_number
from bot.web.keys import bot_of
from bot.web.notice_export import export_notice
from bot.web.notice_figures import STATUS_NAMES, NoticeView, notice_detail, notice_views
from bot.web.pages import posted_form, render, require
from bot.work import Work, perform

__all__ = ["NoticeView", "notice_views", "setup"]

HOUSEHOLDS_SHOWN = 500  # rows of the page's household table; the export has them all


async def notices_page(request: web.Request) -> web.Response:
    user, csrf = await require(request)
    bot = bot_of(request)
    tree = bot.config.tree
    nodes = [node for top in user.nodes for node in tree.descendants(top) if node.children]
    return render(request, "notices.html", "通知", user, csrf=csrf, said=await flash.take(request), nodes=nodes,
                  tiers=tree.tiers[1:], views=await notice_views(bot, user))


async def notice_page(request: web.Request) -> web.Response:
    """One notice: totals, by tier, by group, by household, who has not replied, reminders and failures."""
    user, _ = await require(request)
    bot = bot_of(request)
    number = whole_number(request.match_info["number"])
    if number is None:
        raise web.HTTPNotFound(text="没有这条通知。")
    detail = await notice_detail(bot, user, number)
    if detail is None:
        raise web.HTTPNotFound(text="没有找到这条通知，或它没有发到您负责的范围。")
    v = detail.view
    # unreplied households first: what a leader follows up
    households = sorted(detail.households, key=lambda h: bool(h.replied))
    return render(request, "notice.html", f"通知 #{v.notice.number}", user, v=v, n=v.notice, t=v.totals,
                  d=detail, tiers=detail.tiers, rooms=v.rooms, room_label=detail.name,
                  groups=sorted(v.rooms, key=lambda r: (r.share, r.room_key)),
                  households=households[:HOUSEHOLDS_SHOWN], more_households=max(0, len(households) - HOUSEHOLDS_SHOWN),
                  status_name=lambda s: STATUS_NAMES.get(s, s))


def _form_fields(form: Any) -> dict[str, Any]:
    return {"node": clean(str(form.get("node", ""))), "text": clean(str(form.get("text", ""))),
            "tiers": [clean(str(t)) for t in form.getall("tier", [])],
            "deadline": clean(str(form.get("deadline", ""))), "urgent": bool(form.get("urgent"))}


async def preview_notice(bot: Any, user: WebUser, fields: dict[str, Any]) -> tuple[NoticePlan | str, str]:
    """What the form's notice would do if sent now, and the time it takes (nothing is written or sent)."""
    rest = await notice_words(bot, user, fields["node"], fields["text"], tiers=fields["tiers"],
                              deadline=fields["deadline"], urgent=fields["urgent"])
    node = bot.config.tree.node(fields["node"])

    async def job(work: Work) -> tuple[NoticePlan | str, str]:
        plan = await work.notices.plan(user.person, node, rest, posted_in_origin=False)
        return plan, work.notices.estimate(plan) if isinstance(plan, NoticePlan) else ""

    return await perform(bot.services, job, what="planning a notice")


async def notice_post(request: web.Request) -> web.StreamResponse:
    """The form's first POST shows what the notice will do; only the confirmation's POST sends it."""
    user, bot, form = await posted_form(request)
    fields = _form_fields(form)
    if form.get("confirm") != "1":
        plan, estimate = await preview_notice(bot, user, fields)
        if isinstance(plan, str):
            await flash.put(request, plan)
            raise web.HTTPFound("/console/notices")
        _, csrf = await require(request)
        return render(request, "notice_confirm.html", "确认发送通知", user, csrf=csrf, plan=plan, estimate=estimate,
                      f=fields, node=bot.config.tree.node(fields["node"]))
    said = await post_notice(bot, user, fields["node"], fields["text"], tiers=fields["tiers"],
                             deadline=fields["deadline"], urgent=fields["urgent"])
    await flash.put(request, said)
    raise web.HTTPFound("/console/notices")


async def notices_progress(request: web.Request) -> web.Response:
    """JSON for the notices page's live progress (the same figures as the page and `#回执`)."""
    user, _ = await require(request)
    bot = bot_of(request)
    return web.json_response({str(v.notice.number): {
        "delivered": v.delivered, "groups": v.groups, "acknowledged": v.totals.acked_households,
        "households": v.totals.households, "members": v.totals.members, "replied": v.totals.acked,
        "text": v.progress()} for v in await notice_views(bot, user)})


def setup(app: web.Application) -> None:
    app.router.add_get("/console/notices", notices_page)
    app.router.add_post("/console/notices", notice_post)
    app.router.add_get("/console/notices/progress", notices_progress)
    app.router.add_get("/console/notices/{number:\\d+}", notice_page)
    app.router.add_get("/console/notices/{number:\\d+}/export.xlsx", export_notice)
