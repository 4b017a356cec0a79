"""The console's notice pages: write a notice, follow its delivery and acknowledgements live, one notice in detail.

Posting goes through NoticeDesk, as `#通知` does; the figures are counted by the same code as `#回执`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from aiohttp import web

from bot.domain.acks import NoticeTotals, RoomAcks
from bot.web.accounts import WebUser
from bot.web.actions import post_notice
from bot.web.forms import clean, whole_number
from bot.web.keys import bot_of
from bot.web.pages import e, has_simulator, page, posted_form, require
from storage.models import NoticeRow

if TYPE_CHECKING:
    from bot.app import GridBot
    from storage.session import WorkSession

async def notice_views(bot: GridBot, user: WebUser, *, limit: int = 30, number: int | None = None
                       ) -> list[NoticeView]:
    """The notices an account follows, newest first, each with the groups in its view counted by the same
    code as `#回执` (NoticeDesk.room_acks → bot.domain.acks.count_room).

    A notice is followed in full when its origin is in the account's subtrees; otherwise the part of it that
    reached their subtrees (a grid leader follows the secretary's notice in their own grid only).
    """
    from bot.notices import NoticeDesk

    tree = bot.config.tree
    full = set(user.nodes) >= set(tree.roots)

    async def work(session: WorkSession) -> list[NoticeView]:
        desk = NoticeDesk(session, bot.config, bot.directory, bot.clock.now(), bot.transport.self_id)
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

    return await bot.db.run(work, what="notices")


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
    visible = await notice_views(bot, user)
    items = "".join(
        f"<tr><td><a href='/console/notices/{v.notice.number}'>#{v.notice.number}</a></td>"
        f"<td>{e(tree.node(v.notice.node_code).name if v.notice.node_code in tree else v.notice.node_code)}</td>"
        f"<td class='text'>{e(v.notice.text[:60])}</td><td class='progress' data-notice='{v.notice.number}'>"
        f"{e(v.progress())}</td></tr>"
        for v in visible)
    form = ""
    if user.can_act:
        nodes = "".join(f"<option value='{e(node.code)}'>{e(node.name)}（{e(node.code)}）</option>"
                        for top in user.nodes for node in tree.descendants(top) if node.children)
        tiers = "".join(f"<label><input type='checkbox' name='tier' value='{e(t)}'>{e(t)}</label>"
                        for t in tree.tiers[1:])
        form = (f"<h2>发通知</h2><form method='post' class='notice'><input type='hidden' name='csrf' value='{e(csrf)}'>"
                f"<label>发给 <select name='node'>{nodes}</select> 以下的群</label>"
                f"<div>只发这些层级（不选则全部）：{tiers}</div>"
                "<label>截止 <input name='deadline' placeholder='如 明天18点、12月20日'></label>"
                "<label><input type='checkbox' name='urgent' value='1'>紧急</label>"
                "<textarea name='text' required maxlength='2000' placeholder='通知内容'></textarea>"
                "<button>发送</button></form>")
    flash = request.query.get("said", "")
    body = (("<p class='flash'>" + e(flash) + "</p>") if flash else "") + form + (
        "<h2>最近的通知</h2><table class='notices'><tr><th>编号</th><th>范围</th><th>内容</th><th>进度</th></tr>"
        + items + "</table><p class='hint'>进度每 10 秒刷新。回执按户计：只数居民（群里的负责人和通知的发出人不计），"
        "房东群里的房东也计入。</p>"
        "<script src='/static/console.js'></script>")
    return page("通知", body, user, simulator=has_simulator(bot))


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
    n, t, tz = v.notice, v.totals, bot.config.tz
    head = (f"<h1>通知 #{n.number}</h1><p class='text'>{e(n.text)}</p>"
            f"<p>发出 {n.created_at.astimezone(tz):%m月%d日 %H:%M}"
            + (f"，截止 {n.deadline.astimezone(tz):%m月%d日 %H:%M}" if n.deadline else "") + "</p>"
            f"<p class='totals'>已送达 <b class='delivered'>{v.delivered}</b>/{v.groups} 个群"
            + (f"，失败 {v.failed} 个" if v.failed else "")
            + f"；已回复 <b class='households'>{t.acked_households}/{t.households}</b> 户、"
            f"<b class='members'>{t.acked}/{t.members}</b> 人"
            + ("（仅您负责的范围）" if v.within is not None else "") + "</p>")
    tiers = "".join(f"<tr><td>{e(a.tier)}</td><td>{a.rooms}</td><td>{a.complete_rooms}</td>"
                    f"<td>{a.acked_households}/{a.households}</td><td>{a.acked}/{a.members}</td></tr>"
                    for a in roll_up(v.rooms, tree.tiers))

    def room_label(key: str) -> str:
        room = tree.room(room_id=key, topic=key)
        return (room.topic or key) if room is not None else key

    groups = "".join(f"<tr><td>{e(room_label(r.room_key))}</td><td>{e(r.tier)}</td>"
                     f"<td>{r.acked_households}/{r.households}</td><td>{r.acked}/{r.members}</td></tr>"
                     for r in sorted(v.rooms, key=lambda r: (r.share, r.room_key)))
    missing = "".join(f"<tr><td>{e(room_label(r.room_key))}</td><td>{e(name)}</td></tr>"
                      for r in v.rooms for _, name in r.missing)
    body = (head + "<h2>按层级</h2><table class='tiers'><tr><th>层级</th><th>群</th><th>全部回复</th><th>户</th>"
            "<th>人</th></tr>" + tiers + "</table><h2>按群</h2><table class='groups'><tr><th>群</th><th>层级</th>"
            "<th>户</th><th>人</th></tr>" + groups + "</table><h2>未回复</h2><table class='missing'><tr><th>群</th>"
            "<th>群昵称</th></tr>" + missing + "</table>")
    return page(f"通知 #{n.number}", body, user, simulator=has_simulator(bot))


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
