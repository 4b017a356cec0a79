"""The console's notice pages: write a notice, follow its delivery and acknowledgements live, one notice in detail.

Posting goes through NoticeDesk, as `#通知` does; the figures are counted by the same code as `#回执`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from aiohttp import web

from bot.domain.acks import NoticeTotals, RoomAcks
from bot.work import Work, perform
from bot.web.accounts import WebUser
from bot.web.actions import post_notice
from bot.web.forms import clean, whole_number
from bot.web.keys import bot_of
from bot.web.pages import posted_form, render, require
from storage.models import NoticeRow

if TYPE_CHECKING:
    from bot.app import GridBot

async def notice_views(bot: GridBot, user: WebUser, *, limit: int = 30, number: int | None = None
                       ) -> list[NoticeView]:
    """The notices an account follows, newest first, each with the groups in its view counted by the same
    code as `#回执` (NoticeDesk.room_acks → bot.domain.acks.count_room).

    A notice is followed in full when its origin is in the account's subtrees; otherwise the part of it that
    reached their subtrees (a grid leader follows the secretary's notice in their own grid only).
    """
    tree = bot.config.tree
    full = set(user.nodes) >= set(tree.roots)

    async def job(work: Work) -> list[NoticeView]:
        desk = work.notices
        if number is None:
            notices = await desk.repo.recent(limit)
        else:
            found = await desk.repo.by_number(number)
            notices = [found] if found is not None else []
        views = []
        for notice in notices:
            within = None if full or user.can_see(tree, notice.node_code) else tuple(user.nodes)
            rooms = await desk.room_acks(notice, within)
            if within is not None and not rooms:
                continue
            counts = await desk.repo.delivery_counts(notice.id)
            views.append(NoticeView(notice, within, rooms, counts))
        return views

    return await perform(bot.services, job, what="notices")


class NoticeView:
    """One notice as an account sees it: the groups in its view and their figures."""

    def __init__(self, notice: NoticeRow, within: tuple[str, ...] | None, rooms: list[RoomAcks],
                 counts: dict[str, int]) -> None:
        self.notice = notice
        self.within = within
        self.rooms = rooms
        self.totals = NoticeTotals.of(rooms)
        self.delivered = counts.get("sent", 0) if within is None else len(rooms)
        self.groups = notice.room_count if within is None else len(rooms)
        self.failed = counts.get("failed", 0) if within is None else 0

    def progress(self) -> str:
        t = self.totals
        return (f"已送达 {self.delivered}/{self.groups} 群，回执 {t.acked_households}/{t.households} 户"
                f"（{t.acked}/{t.members} 人）" + ("，仅您负责的范围" if self.within is not None else ""))


async def notices_page(request: web.Request) -> web.Response:
    user, csrf = await require(request)
    bot = bot_of(request)
    tree = bot.config.tree
    nodes = [node for top in user.nodes for node in tree.descendants(top) if node.children]
    return render(request, "notices.html", "通知", user, csrf=csrf, said=request.query.get("said", ""), nodes=nodes,
                  tiers=tree.tiers[1:], views=await notice_views(bot, user))


async def notice_page(request: web.Request) -> web.Response:
    """One notice: totals, by tier, by group, and who has not replied — in the account's view."""
    from bot.domain.acks import roll_up

    user, _ = await require(request)
    bot = bot_of(request)
    tree = bot.config.tree
    number = whole_number(request.match_info["number"])
    if number is None:
        raise web.HTTPNotFound(text="没有这条通知。")
    views = await notice_views(bot, user, number=number)
    if not views:
        raise web.HTTPNotFound(text="没有找到这条通知，或它没有发到您负责的范围。")
    v = views[0]

    def room_label(key: str) -> str:
        room = tree.room(room_id=key, topic=key)
        return (room.topic or key) if room is not None else key

    return render(request, "notice.html", f"通知 #{v.notice.number}", user, v=v, n=v.notice, t=v.totals,
                  tiers=roll_up(v.rooms, tree.tiers), rooms=v.rooms, room_label=room_label,
                  groups=sorted(v.rooms, key=lambda r: (r.share, r.room_key)))


async def notice_post(request: web.Request) -> web.StreamResponse:
    user, bot, form = await posted_form(request)
    said = await post_notice(bot, user, clean(str(form.get("node", ""))), clean(str(form.get("text", ""))),
                             tiers=[clean(str(t)) for t in form.getall("tier", [])],
                             deadline=clean(str(form.get("deadline", ""))), urgent=bool(form.get("urgent")))
    raise web.HTTPFound("/console/notices?" + urlencode({"said": said}))


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
